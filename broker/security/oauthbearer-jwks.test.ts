import { generateKeyPairSync, type KeyObject, sign, constants, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { parseBrokerConfig } from '../config/broker-config.ts';
import { listenerSecurity } from './listener-security.ts';
import { DEFAULT_OAUTHBEARER_OPTIONS, InvalidToken, OAuthBearerServer, oauthBearerClientFirst } from './oauthbearer.ts';
import { JwksError, JwksSource, type JwtValidationOptions, type KeyResolver, parseJwks, parseScope, validateJwt } from './oauthbearer-jwks.ts';

const NOW = 1_700_000_000_000;
const S = NOW / 1000;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ec521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });

const jwk = (k: KeyObject, kid?: string, extra: Record<string, unknown> = {}) => ({ ...k.export({ format: 'jwk' }), ...(kid ? { kid } : {}), ...extra });
const jwks = (...keys: object[]): string => JSON.stringify({ keys });

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

function signJwt(alg: string, key: KeyObject, claims: Record<string, unknown>, kid?: string): string {
  const input = `${enc({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })}.${enc(claims)}`;
  const hash = HASH[alg.slice(2)]!;
  const opts =
    alg.startsWith('RS') ? { key, padding: constants.RSA_PKCS1_PADDING }
    : alg.startsWith('PS') ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : { key, dsaEncoding: 'ieee-p1363' as const };
  return `${input}.${sign(hash, Buffer.from(input), opts).toString('base64url')}`;
}

const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', iat: S, exp: S + 60, ...extra });
const resolver = (text: string): KeyResolver & { missed: string[] } => {
  const keys = parseJwks(text);
  const missed: string[] = [];
  return { keys: () => keys, missingKid: (kid) => void missed.push(kid), missed };
};
const OPTS: JwtValidationOptions = { expectedAudience: [], expectedIssuer: null, clockSkewMs: 30_000, scopeClaimName: 'scope', subClaimName: 'sub' };
const KEYS = resolver(jwks(jwk(rsa.publicKey, 'rsa'), jwk(ec256.publicKey, 'ec256'), jwk(ec384.publicKey, 'ec384'), jwk(ec521.publicKey, 'ec521')));

function refused(token: string, keys: KeyResolver = KEYS, opts = OPTS, now = NOW): string {
  try {
    validateJwt(token, keys, opts, now);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidToken);
    return (err as Error).message;
  }
  throw new Error('the token was accepted');
}

describe('signed OAUTHBEARER tokens (JWKS)', () => {
  it('accepts every RS, PS and ES algorithm with the key its kid names', () => {
    const cases: [string, KeyObject, string][] = [
      ['RS256', rsa.privateKey, 'rsa'], ['RS384', rsa.privateKey, 'rsa'], ['RS512', rsa.privateKey, 'rsa'],
      ['PS256', rsa.privateKey, 'rsa'], ['PS384', rsa.privateKey, 'rsa'], ['PS512', rsa.privateKey, 'rsa'],
      ['ES256', ec256.privateKey, 'ec256'], ['ES384', ec384.privateKey, 'ec384'], ['ES512', ec521.privateKey, 'ec521'],
    ];
    for (const [alg, key, kid] of cases) {
      const v = validateJwt(signJwt(alg, key, claims(), kid), KEYS, OPTS, NOW);
      expect(v, alg).toEqual({ principal: 'alice', expiresAtMs: NOW + 60_000, scope: [] });
    }
  });

  it('tries the keys of the right type when the token has no kid', () => {
    expect(validateJwt(signJwt('ES256', ec256.privateKey, claims()), KEYS, OPTS, NOW).principal).toBe('alice');
    expect(validateJwt(signJwt('RS256', rsa.privateKey, claims()), KEYS, OPTS, NOW).principal).toBe('alice');
    expect(refused(signJwt('RS256', rsa2.privateKey, claims()))).toBe('the token signature is not valid');
  });

  it('refuses a bad signature, a key of another type under the kid, and a tampered payload', () => {
    expect(refused(signJwt('RS256', rsa2.privateKey, claims(), 'rsa'))).toBe('the token signature is not valid');
    expect(refused(signJwt('ES256', ec256.privateKey, claims(), 'rsa'))).toBe('the token signature is not valid');
    expect(refused(signJwt('ES384', ec256.privateKey, claims(), 'ec256'))).toBe('the token signature is not valid');
    const [h, , s] = signJwt('RS256', rsa.privateKey, claims(), 'rsa').split('.');
    expect(refused(`${h}.${enc(claims({ sub: 'mallory' }))}.${s}`)).toBe('the token signature is not valid');
    const [eh, ep] = signJwt('ES256', ec256.privateKey, claims(), 'ec256').split('.');
    expect(refused(`${eh}.${ep}.AAAA`)).toBe('the token signature is not valid');
    expect(refused(`${h}.${enc(claims())}.`)).toBe('the token has no signature');
  });

  it('refuses an unknown kid and asks the key source for an early reload', () => {
    const keys = resolver(jwks(jwk(rsa.publicKey, 'rsa')));
    expect(refused(signJwt('RS256', rsa.privateKey, claims(), 'other'), keys)).toBe('no key with kid other in the JWKS');
    expect(keys.missed).toEqual(['other']);
  });

  it('refuses alg none and HS256, whatever the key set holds', () => {
    const none = `${enc({ alg: 'none' })}.${enc(claims())}.`;
    expect(refused(none)).toBe('the token\'s alg none is not accepted');
    const input = `${enc({ alg: 'HS256', kid: 'oct' })}.${enc(claims())}`;
    const hs = `${input}.${createHmac('sha256', 'secret').update(input).digest('base64url')}`;
    const withOct = resolver(jwks({ kty: 'oct', kid: 'oct', k: Buffer.from('secret').toString('base64url') }, jwk(rsa.publicKey, 'rsa')));
    expect(refused(hs, withOct)).toBe('the token\'s alg HS256 is not accepted');
    expect(withOct.keys()).toHaveLength(1);
  });

  it('checks exp, iat and nbf with the clock skew', () => {
    const t = (c: Record<string, unknown>) => signJwt('RS256', rsa.privateKey, c, 'rsa');
    expect(refused(t(claims({ exp: S - 31 })))).toBe('the token has expired');
    expect(validateJwt(t(claims({ exp: S - 29 })), KEYS, OPTS, NOW).principal).toBe('alice');
    expect(refused(t({ sub: 'alice', iat: S }))).toBe('the token has no numeric exp claim');
    expect(refused(t({ sub: 'alice', exp: S + 60 }))).toBe('the token has no numeric iat claim');
    expect(refused(t(claims({ iat: S + 31 })))).toBe('the token was issued in the future');
    expect(refused(t(claims({ nbf: S + 31 })))).toBe('the token is not valid yet');
    expect(validateJwt(t(claims({ nbf: S + 29 })), KEYS, OPTS, NOW).principal).toBe('alice');
    expect(refused(t(claims({ nbf: S + 1 })), KEYS, { ...OPTS, clockSkewMs: 0 })).toBe('the token is not valid yet');
  });

  it('checks the audience and issuer when they are expected', () => {
    const opts = { ...OPTS, expectedAudience: ['kafka', 'other'], expectedIssuer: 'https://idp.example' };
    const t = (c: Record<string, unknown>) => signJwt('ES256', ec256.privateKey, claims(c), 'ec256');
    expect(validateJwt(t({ aud: 'kafka', iss: 'https://idp.example' }), KEYS, opts, NOW).principal).toBe('alice');
    expect(validateJwt(t({ aud: ['x', 'other'], iss: 'https://idp.example' }), KEYS, opts, NOW).principal).toBe('alice');
    expect(refused(t({ aud: 'x', iss: 'https://idp.example' }), KEYS, opts)).toBe('the token audience is not expected');
    expect(refused(t({ iss: 'https://idp.example' }), KEYS, opts)).toBe('the token audience is not expected');
    expect(refused(t({ aud: 'kafka', iss: 'https://evil.example' }), KEYS, opts)).toBe('the token issuer is not expected');
    expect(validateJwt(t({ aud: 'x', iss: 'y' }), KEYS, OPTS, NOW).principal).toBe('alice');
  });

  it('names the principal with the sub claim name and parses scopes as Kafka does', () => {
    const opts = { ...OPTS, subClaimName: 'client_id', scopeClaimName: 'scp' };
    const t = (c: Record<string, unknown>) => signJwt('RS256', rsa.privateKey, claims(c), 'rsa');
    expect(validateJwt(t({ client_id: ' svc ', scp: [' read', 'write '] }), KEYS, opts, NOW)).toEqual({ principal: 'svc', expiresAtMs: NOW + 60_000, scope: ['read', 'write'] });
    // As in Kafka's validator, a string claim is one scope: it is not split on spaces.
    expect(validateJwt(t({ client_id: 'svc', scp: 'read write' }), KEYS, opts, NOW).scope).toEqual(['read write']);
    expect(validateJwt(t({ client_id: 'svc' }), KEYS, opts, NOW).scope).toEqual([]);
    expect(refused(t({ client_id: 'svc', scp: ['read', 'read'] }), KEYS, opts)).toBe('the token\'s scp holds read twice');
    expect(refused(t({ client_id: 'svc', scp: ['read', ' '] }), KEYS, opts)).toBe('the token\'s scp holds an empty value');
    expect(refused(t({}), KEYS, opts)).toBe('the token has no principal claim client_id');
    expect(refused(t({ client_id: '  ' }), KEYS, opts)).toBe('the token has no principal claim client_id');
    expect(parseScope(undefined)).toEqual([]);
    expect(parseScope(42)).toEqual([]);
  });

  it('answers a refused token with the invalid_token challenge of the OAUTHBEARER exchange', () => {
    const opts = { ...DEFAULT_OAUTHBEARER_OPTIONS, validate: (token: string, now: number) => validateJwt(token, KEYS, OPTS, now) };
    const ok = new OAuthBearerServer(opts, () => NOW).evaluate(oauthBearerClientFirst(signJwt('RS256', rsa.privateKey, claims(), 'rsa')));
    expect(ok.user).toBe('alice');
    const bad = new OAuthBearerServer(opts, () => NOW);
    expect(bad.evaluate(oauthBearerClientFirst(signJwt('RS256', rsa2.privateKey, claims(), 'rsa'))).challenge.toString()).toBe('{"status":"invalid_token"}');
    expect(() => bad.evaluate(Buffer.from('\x01'))).toThrow('{"status":"invalid_token"}');
  });
});

describe('JWKS source', () => {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-jwks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const logger = pino({ level: 'silent' });
  let n = 0;
  const file = (text: string): { path: string; url: string } => {
    const path = join(dir, `jwks-${n++}.json`);
    writeFileSync(path, text);
    return { path, url: pathToFileURL(path).href };
  };

  it('fails at start when the file cannot be read or is not a JWKS, and refuses other schemes', () => {
    const s = new ManualScheduler();
    expect(() => new JwksSource({ url: pathToFileURL(join(dir, 'missing.json')).href, refreshMs: 1000, retryBackoffMs: 100, retryBackoffMaxMs: 0 }, s, logger).start()).toThrow(JwksError);
    expect(() => new JwksSource({ url: file('{"nokeys":1}').url, refreshMs: 1000, retryBackoffMs: 100, retryBackoffMaxMs: 0 }, s, logger).start()).toThrow(/cannot be read: not a JWKS/);
    expect(() => new JwksSource({ url: 'http://idp.example/jwks', refreshMs: 1000, retryBackoffMs: 100, retryBackoffMaxMs: 0 }, s, logger)).toThrow(/https:\/\/ or file:\/\//);
  });

  it('reloads a file on the refresh interval, keeps the old keys when a reload fails, and reloads early for an unknown kid', async () => {
    const s = new ManualScheduler({ startMs: NOW });
    const f = file(jwks(jwk(rsa.publicKey, 'a')));
    const source = new JwksSource({ url: f.url, refreshMs: 60_000, retryBackoffMs: 100, retryBackoffMaxMs: 300 }, s, logger);
    source.start();
    const tokenB = signJwt('RS256', rsa2.privateKey, claims(), 'b');
    expect(source.keys().map((k) => k.kid)).toEqual(['a']);
    expect(refused(tokenB, source)).toBe('no key with kid b in the JWKS');
    // The early reload for kid b runs on that refusal, before the file changes; a second refusal
    // within the minute does not reload again: the interval picks the new key up.
    await vi.waitFor(() => expect((source as unknown as { refreshing: boolean }).refreshing).toBe(false));
    writeFileSync(f.path, jwks(jwk(rsa.publicKey, 'a'), jwk(rsa2.publicKey, 'b')));
    expect(refused(tokenB, source)).toBe('no key with kid b in the JWKS');
    await new Promise((r) => setTimeout(r, 50));
    expect(source.keys().map((k) => k.kid)).toEqual(['a']);
    s.advance(60_000);
    await vi.waitFor(() => expect(source.keys().map((k) => k.kid)).toEqual(['a', 'b']));
    expect(validateJwt(tokenB, source, OPTS, NOW).principal).toBe('alice');

    writeFileSync(f.path, 'not json');
    const reload = source.refresh();
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 10));
      s.advance(100);
    }
    await reload;
    expect(source.keys().map((k) => k.kid)).toEqual(['a', 'b']);
    source.stop();
    expect(s.pending).toBe(0);
  });

  it('starts with an https:// set it cannot fetch, logging the failure instead of failing', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const source = new JwksSource({ url: 'https://127.0.0.1:1/jwks', refreshMs: 0, retryBackoffMs: 100, retryBackoffMaxMs: 0 }, new ManualScheduler({ startMs: NOW }), log);
    source.start();
    await vi.waitFor(() => expect(lines.map((l) => l.msg)).toContain('JWKS could not be loaded; the previous keys are kept'), { timeout: 15_000 });
    expect(source.keys()).toEqual([]);
    expect(refused(signJwt('RS256', rsa.privateKey, claims(), 'k'), source)).toBe('no key with kid k in the JWKS');
  });

  it('reloads at once for a kid it has not seen, at most once a minute per kid', async () => {
    const s = new ManualScheduler({ startMs: NOW });
    const f = file(jwks(jwk(ec256.publicKey, 'old')));
    const source = new JwksSource({ url: f.url, refreshMs: 0, retryBackoffMs: 100, retryBackoffMaxMs: 0 }, s, logger);
    source.start();
    writeFileSync(f.path, jwks(jwk(ec256.publicKey, 'old'), jwk(ec384.publicKey, 'new')));
    const token = signJwt('ES384', ec384.privateKey, claims(), 'new');
    expect(refused(token, source)).toBe('no key with kid new in the JWKS');
    await vi.waitFor(() => expect(source.keys().map((k) => k.kid)).toEqual(['old', 'new']));
    expect(validateJwt(token, source, OPTS, NOW).principal).toBe('alice');
  });
});

describe('listener settings of OAuthBearerValidatorCallbackHandler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-jwks-listener-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'jwks.json');
  writeFileSync(path, jwks(jwk(rsa.publicKey, 'k1')));
  const base: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': '1@localhost:9093',
    'listeners': 'SASL_PLAINTEXT://:9092,CONTROLLER://:9093',
    'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'SASL_PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': dir,
    'sasl.enabled.mechanisms': 'OAUTHBEARER',
    'sasl.mechanism.inter.broker.protocol': 'OAUTHBEARER',
  };
  const HANDLER = 'listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class';
  const security = (extra: Record<string, string>) => {
    const config = parseBrokerConfig({ ...base, ...extra });
    return listenerSecurity(config, config.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!, { scramCredential: () => undefined, now: () => NOW, scheduler: new ManualScheduler({ startMs: NOW }), logger: pino({ level: 'silent' }) });
  };

  it('validates signed tokens with the listener-prefixed and broker-level settings (both class names)', () => {
    for (const cls of ['org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler', 'org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler']) {
      const sasl = security({ [HANDLER]: cls, 'listener.name.sasl_plaintext.oauthbearer.sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(path).href, 'sasl.oauthbearer.expected.audience': 'kafka' }).sasl!;
      const validate = sasl.oauthBearer!.validate!;
      expect(validate(signJwt('RS256', rsa.privateKey, claims({ aud: 'kafka' }), 'k1'), NOW).principal).toBe('alice');
      expect(() => validate(signJwt('RS256', rsa.privateKey, claims({ aud: 'x' }), 'k1'), NOW)).toThrow('the token audience is not expected');
      expect(() => validate(`${enc({ alg: 'none' })}.${enc(claims())}.`, NOW)).toThrow(InvalidToken);
    }
    expect(security({}).sasl!.oauthBearer!.validate).toBeUndefined();
  });

  it('refuses another handler class, a missing URL and an unreadable file', () => {
    expect(() => security({ [HANDLER]: 'com.example.Handler' })).toThrow(/com.example.Handler cannot be loaded/);
    expect(() => security({ [HANDLER]: 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler' })).toThrow(/jwks.endpoint.url must be set/);
    expect(() => security({ [HANDLER]: 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler', 'sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(join(dir, 'none.json')).href })).toThrow(/Listener SASL_PLAINTEXT .*OAUTHBEARER JWKS: the JWKS at file:.* cannot be read/);
  });
});
