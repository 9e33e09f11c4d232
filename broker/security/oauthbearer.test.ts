import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { DEFAULT_OAUTHBEARER_OPTIONS, OAuthBearerServer, oauthBearerClientFirst, oauthBearerOptions, unsecuredToken, validateUnsecuredJws } from './oauthbearer.ts';
import { SaslSession } from './sasl-session.ts';

const NOW = 1_700_000_000_000;
const good = unsecuredToken({ sub: 'alice', exp: NOW / 1000 + 60, iat: NOW / 1000, scope: 'read write' });

describe('OAUTHBEARER (unsecured tokens)', () => {
  it('takes an unsecured token and names its subject', () => {
    const s = new OAuthBearerServer(DEFAULT_OAUTHBEARER_OPTIONS, () => NOW);
    const r = s.evaluate(oauthBearerClientFirst(good));
    expect(r.user).toBe('alice');
    expect(r.expiresAtMs).toBe(NOW + 60_000);
  });

  it('answers a bad token with an error challenge, then fails on the client\'s \\x01', () => {
    for (const token of [
      unsecuredToken({ sub: 'alice', exp: NOW / 1000 - 1 }),
      unsecuredToken({ exp: NOW / 1000 + 60 }),
      unsecuredToken({ sub: 'alice' }),
      unsecuredToken({ sub: 'alice', exp: NOW / 1000 + 60, iat: NOW / 1000 + 60 }),
      `${good}signature`,
      'not-a-jws',
      `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${good.split('.')[1]}.`,
    ]) {
      const s = new OAuthBearerServer(DEFAULT_OAUTHBEARER_OPTIONS, () => NOW);
      expect(s.evaluate(oauthBearerClientFirst(token)).challenge.toString()).toBe('{"status":"invalid_token"}');
      expect(() => s.evaluate(Buffer.from('\x01'))).toThrow('{"status":"invalid_token"}');
    }
  });

  it('reads the validator options of the JAAS config: principal claim, required scope, clock skew', () => {
    const opts = oauthBearerOptions(new Map([['unsecuredValidatorPrincipalClaimName', 'user'], ['unsecuredValidatorRequiredScope', 'write admin'], ['unsecuredValidatorAllowableClockSkewMs', '5000']]));
    expect(() => validateUnsecuredJws(unsecuredToken({ user: 'bob', exp: NOW / 1000, scope: 'write' }), opts, NOW)).toThrow(/required scope admin/);
    expect(validateUnsecuredJws(unsecuredToken({ user: 'bob', exp: NOW / 1000 - 1, scope: ['write', 'admin'] }), opts, NOW).principal).toBe('bob');
  });

  it('refuses a malformed first message and an authorization id other than the subject', () => {
    const s = () => new OAuthBearerServer(DEFAULT_OAUTHBEARER_OPTIONS, () => NOW);
    expect(() => s().evaluate(Buffer.from(`n,,auth=Bearer ${good}`))).toThrow(/Invalid OAUTHBEARER/);
    expect(() => s().evaluate(Buffer.from(`n,a=bob,\x01auth=Bearer ${good}\x01\x01`))).toThrow(/authorization id/);
  });

  it('bounds the session by the token expiry when re-authentication is on', () => {
    const session = new SaslSession({ mechanisms: ['OAUTHBEARER'], plainUsers: null, oauthBearer: DEFAULT_OAUTHBEARER_OPTIONS, scramCredential: () => undefined, maxReauthMs: 3_600_000, now: () => NOW });
    expect(session.handshake('OAUTHBEARER', 1).errorCode).toBe(ErrorCode.NONE);
    const r = session.authenticate(oauthBearerClientFirst(good), 2);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.sessionLifetimeMs).toBe(60_000n);
    expect(session.principal).toBe('User:alice');
  });
});
