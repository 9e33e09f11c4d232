import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { plainToken } from './plain.ts';
import { type SaslListenerConfig, SaslSession } from './sasl-session.ts';
import { ScramClient, scramCredential, scramMechanism } from './scram.ts';

const SHA512 = scramMechanism('SCRAM-SHA-512')!;
const alice = scramCredential(SHA512, 'alice-secret', 4096);

function config(over: Partial<SaslListenerConfig> = {}): SaslListenerConfig {
  let clock = 1_000;
  return {
    mechanisms: ['SCRAM-SHA-512', 'PLAIN'],
    plainUsers: new Map([['admin', 'admin-secret']]),
    scramCredential: (m, u) => (m === 'SCRAM-SHA-512' && u === 'alice' ? alice : undefined),
    maxReauthMs: 0,
    now: () => (clock += 10),
    ...over,
  };
}

describe('SaslSession', () => {
  it('serves only ApiVersions and the SASL APIs before authentication', () => {
    const s = new SaslSession(config());
    expect(s.refusal(ApiKey.ApiVersions)).toBeNull();
    expect(s.refusal(ApiKey.SaslHandshake)).toBeNull();
    expect(s.refusal(ApiKey.Metadata)).toMatch(/during SASL handshake/);
    expect(s.refusal(ApiKey.Produce)).not.toBeNull();
    expect(s.handshake('PLAIN', 1).errorCode).toBe(ErrorCode.NONE);
    expect(s.refusal(ApiKey.Metadata)).toMatch(/during SASL authentication/);
    const ok = s.authenticate(plainToken('admin', 'admin-secret'), 1);
    expect(ok.errorCode).toBe(ErrorCode.NONE);
    expect(s.principal).toBe('User:admin');
    expect(s.refusal(ApiKey.Metadata)).toBeNull();
    expect(s.closeRequested).toBeNull();
  });

  it('answers a wrong password with SASL_AUTHENTICATION_FAILED and asks to close', () => {
    const s = new SaslSession(config());
    s.handshake('PLAIN', 1);
    const r = s.authenticate(plainToken('admin', 'nope'), 2);
    expect(r.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(r.errorMessage).toBe('Authentication failed: Invalid username or password');
    expect(s.closeRequested).toMatch(/SASL authentication failed/);
    expect(s.refusal(ApiKey.ApiVersions)).not.toBeNull();
  });

  it('names the enabled mechanisms when one is not', () => {
    const s = new SaslSession(config());
    const r = s.handshake('GSSAPI', 1);
    expect(r).toEqual({ errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['SCRAM-SHA-512', 'PLAIN'] });
    expect(s.closeRequested).not.toBeNull();
  });

  it('runs SCRAM over raw tokens after a v0 handshake', () => {
    const s = new SaslSession(config());
    s.handshake('SCRAM-SHA-512', 0);
    expect(s.expectsRawToken).toBe(true);
    const client = new ScramClient(SHA512, 'alice', 'alice-secret');
    const first = s.rawToken(client.first())!;
    const last = s.rawToken(client.final(first))!;
    client.verify(last);
    expect(s.expectsRawToken).toBe(false);
    expect(s.principal).toBe('User:alice');
  });

  it('tells exactly connections.max.reauth.ms as the lifetime, however the clock moves while answering', () => {
    // The default clock of these tests advances 10 ms on every reading.
    const s = new SaslSession(config({ maxReauthMs: 1000 }));
    s.handshake('PLAIN', 1);
    expect(s.authenticate(plainToken('admin', 'admin-secret'), 2).sessionLifetimeMs).toBe(1000n);
  });

  it('tells v1 clients the session lifetime, expires sessions and re-authenticates (KIP-368)', () => {
    let now = 0;
    const s = new SaslSession(config({ maxReauthMs: 1000, now: () => now }));
    s.handshake('PLAIN', 1);
    expect(s.authenticate(plainToken('admin', 'admin-secret'), 1).sessionLifetimeMs).toBe(1000n);
    now = 999;
    expect(s.refusal(ApiKey.Metadata)).toBeNull();
    now = 1000;
    expect(s.refusal(ApiKey.Metadata)).toMatch(/expired/);
    expect(s.refusal(ApiKey.SaslHandshake)).toBeNull();
    expect(s.handshake('PLAIN', 1).errorCode).toBe(ErrorCode.NONE);
    expect(s.authenticate(plainToken('admin', 'admin-secret'), 1).errorCode).toBe(ErrorCode.NONE);
    expect(s.refusal(ApiKey.Metadata)).toBeNull();
    // A re-authentication as someone else fails.
    expect(s.handshake('PLAIN', 1).errorCode).toBe(ErrorCode.NONE);
    const other = new SaslSession(config({ plainUsers: new Map([['admin', 'a'], ['eve', 'e']]) }));
    other.handshake('PLAIN', 1);
    other.authenticate(plainToken('admin', 'a'), 1);
    other.handshake('PLAIN', 1);
    expect(other.authenticate(plainToken('eve', 'e'), 1).errorMessage).toMatch(/Cannot change principals/);
  });

  it('answers or asks to close on any sequence of requests and tokens, never throws', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('handshake' as const), mechanism: fc.constantFrom('PLAIN', 'SCRAM-SHA-512', 'SCRAM-SHA-256', 'GSSAPI', ''), version: fc.integer({ min: 0, max: 1 }) }),
      fc.record({ kind: fc.constant('auth' as const), token: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }).map((x) => new TextEncoder().encode(x)), fc.constantFrom('n,,n=alice,r=abc', 'n,,n=alice,r=abc,tokenauth=true', 'c=biws,r=zzz,p=AAAA', '\u0000admin\u0000admin-secret').map((x) => new TextEncoder().encode(x))), version: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ kind: fc.constant('request' as const), apiKey: fc.integer({ min: -1, max: 80 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        const s = new SaslSession(config({ maxReauthMs: 5 }));
        for (const st of steps) {
          if (s.state === 'failed') {
            expect(s.refusal(ApiKey.ApiVersions)).not.toBeNull();
            return;
          }
          if (st.kind === 'handshake') {
            const r = s.handshake(st.mechanism, st.version);
            if (r.errorCode !== ErrorCode.NONE) expect(s.closeRequested).not.toBeNull();
          } else if (st.kind === 'auth') {
            const token = Buffer.from(st.token);
            if (s.expectsRawToken) {
              const raw = s.rawToken(token);
              if (raw === null) expect(s.closeRequested).not.toBeNull();
            } else {
              const r = s.authenticate(token, st.version);
              if (r.errorCode !== ErrorCode.NONE) expect(s.closeRequested).not.toBeNull();
            }
          } else {
            const refusal = s.refusal(st.apiKey);
            if (s.state !== 'authenticated' && ![ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate].includes(st.apiKey as never)) expect(refusal).not.toBeNull();
          }
          s.closeRequested = null;
        }
      }),
      { numRuns: 500 },
    );
  });
});
