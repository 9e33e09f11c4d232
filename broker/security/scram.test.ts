import { describe, expect, it } from 'vitest';
import { SaslAuthenticationError, ScramClient, ScramServer, decodeSaslName, encodeSaslName, scramCredential, scramMechanism } from './scram.ts';

const SHA256 = scramMechanism('SCRAM-SHA-256')!;
const SHA512 = scramMechanism('SCRAM-SHA-512')!;

// RFC 7677 section 3: user "user", password "pencil".
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const SERVER_FIRST = `r=${CLIENT_NONCE}${SERVER_NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`;
const CLIENT_FINAL = `c=biws,r=${CLIENT_NONCE}${SERVER_NONCE},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('SCRAM', () => {
  const cred = scramCredential(SHA256, 'pencil', 4096, SALT);

  it('serves the RFC 7677 SCRAM-SHA-256 exchange byte for byte', () => {
    const server = new ScramServer(SHA256, (u) => (u === 'user' ? cred : undefined), () => SERVER_NONCE);
    expect(server.evaluate(Buffer.from(`n,,n=user,r=${CLIENT_NONCE}`)).challenge.toString()).toBe(SERVER_FIRST);
    const done = server.evaluate(Buffer.from(CLIENT_FINAL));
    expect(done.challenge.toString()).toBe(SERVER_FINAL);
    expect(done.user).toBe('user');
    expect(server.complete).toBe(true);
  });

  it('writes the RFC 7677 client messages and checks the server signature', () => {
    const client = new ScramClient(SHA256, 'user', 'pencil', CLIENT_NONCE);
    expect(client.first().toString()).toBe(`n,,n=user,r=${CLIENT_NONCE}`);
    expect(client.final(Buffer.from(SERVER_FIRST)).toString()).toBe(CLIENT_FINAL);
    expect(() => client.verify(Buffer.from(SERVER_FINAL))).not.toThrow();
    expect(() => client.verify(Buffer.from('v=AAAA'))).toThrow(SaslAuthenticationError);
  });

  it('authenticates SCRAM-SHA-512 end to end and refuses a wrong password', () => {
    const c512 = scramCredential(SHA512, 'alice-secret', 8192);
    const run = (password: string) => {
      const server = new ScramServer(SHA512, (u) => (u === 'alice' ? c512 : undefined));
      const client = new ScramClient(SHA512, 'alice', password);
      const first = server.evaluate(client.first());
      const last = server.evaluate(client.final(first.challenge));
      client.verify(last.challenge);
      return last.user;
    };
    expect(run('alice-secret')).toBe('alice');
    expect(() => run('wrong')).toThrow(/invalid credentials with SASL mechanism SCRAM-SHA-512/);
  });

  it('refuses unknown users, a changed nonce, tokenauth and a different authorization id', () => {
    const server = () => new ScramServer(SHA256, (u) => (u === 'user' ? cred : undefined), () => SERVER_NONCE);
    expect(() => server().evaluate(Buffer.from('n,,n=bob,r=abc'))).toThrow('Authentication failed: Invalid user credentials');
    expect(() => server().evaluate(Buffer.from('n,,n=user,r=abc,tokenauth=true'))).toThrow(/delegation tokens/);
    expect(() => server().evaluate(Buffer.from('n,a=admin,n=user,r=abc'))).toThrow(/authorization id/);
    const s = server();
    s.evaluate(Buffer.from(`n,,n=user,r=${CLIENT_NONCE}`));
    expect(() => s.evaluate(Buffer.from(CLIENT_FINAL.replace('k0,p=', 'k1,p=')))).toThrow('Invalid client nonce in the final client message.');
    // As Kafka: the final nonce need only end with the combined nonce (librdkafka repeats the client part).
    const lenient = server();
    lenient.evaluate(Buffer.from(`n,,n=user,r=${CLIENT_NONCE}`));
    const c = new ScramClient(SHA256, 'user', 'pencil', CLIENT_NONCE);
    c.first();
    const final = c.final(Buffer.from(SERVER_FIRST)).toString();
    expect(() => lenient.evaluate(Buffer.from(final.replace(`r=${CLIENT_NONCE}`, 'r=prefix' + CLIENT_NONCE)))).toThrow(/invalid credentials/);
    // A failed exchange stays failed.
    expect(() => s.evaluate(Buffer.from(CLIENT_FINAL))).toThrow(SaslAuthenticationError);
  });

  it('encodes user names as RFC 5802 saslname', () => {
    expect(encodeSaslName('a,b=c')).toBe('a=2Cb=3Dc');
    expect(decodeSaslName('a=2Cb=3Dc')).toBe('a,b=c');
    expect(() => decodeSaslName('a=41')).toThrow(SaslAuthenticationError);
  });
});
