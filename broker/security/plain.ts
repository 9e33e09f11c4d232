// SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer: one token `authzid NUL authcid NUL passwd`,
// checked against the `user_<name>="<password>"` options of the listener's PlainLoginModule.
// An authorization id other than the user name is refused.
import { timingSafeEqual } from 'node:crypto';
import { SaslAuthenticationError } from './scram.ts';

export class PlainServer {
  private done = false;
  constructor(private readonly users: ReadonlyMap<string, string>) {}

  evaluate(token: Buffer): { challenge: Buffer; user?: string } {
    if (this.done) throw new SaslAuthenticationError('Unexpected PLAIN token after the exchange completed');
    const parts = token.toString('utf8').split('\u0000');
    if (parts.length !== 3) throw new SaslAuthenticationError('Invalid SASL/PLAIN response: expected 3 tokens, got ' + parts.length);
    const [authzid, user, password] = parts as [string, string, string];
    if (user === '') throw new SaslAuthenticationError('Authentication failed: username not specified');
    if (password === '') throw new SaslAuthenticationError('Authentication failed: password not specified');
    if (authzid !== '' && authzid !== user) throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    const expected = this.users.get(user);
    const given = Buffer.from(password, 'utf8');
    if (expected === undefined || Buffer.byteLength(expected) !== given.length || !timingSafeEqual(Buffer.from(expected, 'utf8'), given)) {
      throw new SaslAuthenticationError('Authentication failed: Invalid username or password');
    }
    this.done = true;
    return { challenge: Buffer.alloc(0), user };
  }
}

export const plainToken = (user: string, password: string): Buffer => Buffer.from(`\u0000${user}\u0000${password}`, 'utf8');
