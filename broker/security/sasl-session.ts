// The SASL state of one connection on a SASL_PLAINTEXT or SASL_SSL listener, as Kafka's
// SaslServerAuthenticator keeps it:
//   initial --SaslHandshake(enabled mechanism)--> authenticating --SaslAuthenticate...--> authenticated
// Before authentication only ApiVersions, SaslHandshake and SaslAuthenticate are served; any
// other request closes the connection. After a v0 handshake the client sends raw SASL tokens
// (size-prefixed, no Kafka header) and gets raw answers, until the exchange completes.
// A failed exchange is answered (SASL_AUTHENTICATION_FAILED with the reason) and the connection
// closed after that answer. With connections.max.reauth.ms the session has a lifetime (told to
// v1+ clients, KIP-368); a client re-authenticates with the same mechanism and principal, and
// once it has expired any request but SaslHandshake closes the connection.
// Nothing here throws at the connection: every outcome is an answer or a close.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { OAuthBearerServer, type OAuthBearerOptions } from './oauthbearer.ts';
import { PlainServer } from './plain.ts';
import { SaslAuthenticationError, type ScramCredential, ScramServer, scramMechanism } from './scram.ts';

export interface SaslListenerConfig {
  /** sasl.enabled.mechanisms of the listener, in order. */
  mechanisms: readonly string[];
  /** PLAIN's users (from the listener's PlainLoginModule), or null when PLAIN has no JAAS config. */
  plainUsers: ReadonlyMap<string, string> | null;
  /** A user's SCRAM credential for a mechanism, from the metadata image. */
  scramCredential(mechanism: string, user: string): ScramCredential | undefined;
  /** OAUTHBEARER's unsecured-token validation options, or null when OAUTHBEARER is not enabled. */
  oauthBearer?: OAuthBearerOptions | null;
  /** connections.max.reauth.ms; 0 disables session expiry. */
  maxReauthMs: number;
  /** sasl.server.max.receive.size: the largest request before and during initial authentication. */
  maxReceiveSize?: number;
  now(): number;
}

interface Mechanism {
  /** `expiresAtMs`: when the credential (an OAUTHBEARER token) expires, bounding the session. */
  evaluate(token: Buffer): { challenge: Buffer; user?: string; expiresAtMs?: number };
}

export type SaslState = 'initial' | 'authenticating' | 'authenticated' | 'failed';

export interface HandshakeAnswer {
  errorCode: number;
  mechanisms: string[];
}

export interface AuthenticateAnswer {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  sessionLifetimeMs: bigint;
}

const PRE_AUTH_APIS = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

export class SaslSession {
  private stateValue: SaslState = 'initial';
  private mechanismName: string | null = null;
  private mechanism: Mechanism | null = null;
  private raw = false;
  private principalValue: string | null = null;
  private reauthenticating = false;
  private expiresAt: number | null = null;
  /** When the last exchange completed: the session lifetime told is counted from it, as Kafka does. */
  private authenticatedAt = 0;
  /** Set when the answer being written must be the connection's last. */
  closeRequested: string | null = null;

  constructor(private readonly config: SaslListenerConfig) {}

  get state(): SaslState {
    return this.stateValue;
  }

  /** `User:<name>` once authenticated. */
  get principal(): string | null {
    return this.principalValue;
  }

  get mechanismInUse(): string | null {
    return this.mechanismName;
  }

  /**
   * The largest request the connection may send now: sasl.server.max.receive.size until the first
   * authentication succeeds (as Kafka's SaslServerAuthenticator, so an unauthenticated client
   * cannot make the broker buffer socket.request.max.bytes), none of its own after that.
   */
  get maxReceiveSize(): number | null {
    return this.stateValue === 'authenticated' ? null : (this.config.maxReceiveSize ?? null);
  }

  /** True while the next frame is a raw SASL token (after a v0 handshake). */
  get expectsRawToken(): boolean {
    return this.raw;
  }

  /** Why a request of `apiKey` must close the connection instead of being served, or null. */
  refusal(apiKey: number): string | null {
    if (this.stateValue === 'failed') return 'request after failed SASL authentication';
    if (this.stateValue === 'authenticated' && !this.reauthenticating) {
      if (this.expiresAt !== null && this.config.now() >= this.expiresAt && apiKey !== ApiKey.SaslHandshake) return 'SASL session expired (connections.max.reauth.ms) without re-authentication';
      return null;
    }
    if (this.reauthenticating) return null;
    if (!PRE_AUTH_APIS.has(apiKey)) return `unexpected request of API key ${apiKey} during SASL ${this.stateValue === 'initial' ? 'handshake' : 'authentication'}`;
    if (this.stateValue === 'authenticating' && apiKey !== ApiKey.SaslAuthenticate) return `unexpected request of API key ${apiKey} during SASL authentication`;
    return null;
  }

  handshake(mechanism: string, version: number): HandshakeAnswer {
    const enabled = [...this.config.mechanisms];
    if (this.stateValue === 'authenticated') {
      // KIP-368: a new handshake on an authenticated connection starts re-authentication.
      if (version === 0 || mechanism !== this.mechanismName) {
        this.closeRequested = `re-authentication must use SASL mechanism ${this.mechanismName} over SaslHandshake v1+`;
        return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: enabled };
      }
      this.reauthenticating = true;
      this.mechanism = this.newMechanism(mechanism);
      return { errorCode: ErrorCode.NONE, mechanisms: enabled };
    }
    if (this.stateValue !== 'initial') {
      this.stateValue = 'failed';
      this.closeRequested = 'SaslHandshake received during SASL authentication';
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: enabled };
    }
    const m = enabled.includes(mechanism) ? this.newMechanism(mechanism) : null;
    if (m === null) {
      this.stateValue = 'failed';
      this.closeRequested = `unsupported SASL mechanism ${mechanism} (enabled: ${enabled.join(', ')})`;
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled };
    }
    this.mechanismName = mechanism;
    this.mechanism = m;
    this.stateValue = 'authenticating';
    this.raw = version === 0;
    return { errorCode: ErrorCode.NONE, mechanisms: enabled };
  }

  private newMechanism(name: string): Mechanism | null {
    if (name === 'PLAIN') return this.config.plainUsers ? new PlainServer(this.config.plainUsers) : null;
    if (name === 'OAUTHBEARER') return this.config.oauthBearer ? new OAuthBearerServer(this.config.oauthBearer, this.config.now) : null;
    const scram = scramMechanism(name);
    if (scram) return new ScramServer(scram, (user) => this.config.scramCredential(scram.name, user));
    return null;
  }

  /** One SaslAuthenticate request (v0-v2). */
  authenticate(authBytes: Buffer, version: number): AuthenticateAnswer {
    const answer = (errorCode: number, errorMessage: string | null, bytes: Buffer = Buffer.alloc(0), lifetime = 0n): AuthenticateAnswer => ({ errorCode, errorMessage, authBytes: bytes, sessionLifetimeMs: lifetime });
    if (!this.mechanism || (this.stateValue !== 'authenticating' && !this.reauthenticating)) {
      const message = this.stateValue === 'authenticated' ? 'SaslAuthenticate request received after successful authentication' : `Unexpected SaslAuthenticate request with SASL state ${this.stateValue}`;
      this.stateValue = 'failed';
      this.closeRequested = message;
      return answer(ErrorCode.ILLEGAL_SASL_STATE, message);
    }
    const outcome = this.evaluate(authBytes);
    if ('error' in outcome) return answer(ErrorCode.SASL_AUTHENTICATION_FAILED, outcome.error);
    if (!outcome.done) return answer(ErrorCode.NONE, null, outcome.challenge);
    // Only v1+ clients can re-authenticate, but every session expires (Kafka closes the others).
    const lifetime = this.expiresAt !== null && version >= 1 ? BigInt(Math.max(0, this.expiresAt - this.authenticatedAt)) : 0n;
    return answer(ErrorCode.NONE, null, outcome.challenge, lifetime);
  }

  /** One raw token (after a v0 handshake): the raw answer, or null with closeRequested set. */
  rawToken(token: Buffer): Buffer | null {
    const outcome = this.evaluate(token);
    if ('error' in outcome) return null;
    if (outcome.done) this.raw = false;
    return outcome.challenge;
  }

  private evaluate(token: Buffer): { challenge: Buffer; done: boolean } | { error: string } {
    let result: { challenge: Buffer; user?: string; expiresAtMs?: number };
    try {
      result = this.mechanism!.evaluate(token);
    } catch (err) {
      const message = err instanceof SaslAuthenticationError ? err.message : `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanismName}`;
      this.stateValue = 'failed';
      this.reauthenticating = false;
      this.raw = false;
      this.closeRequested = `SASL authentication failed: ${message}`;
      return { error: message };
    }
    if (result.user === undefined) return { challenge: result.challenge, done: false };
    const principal = `User:${result.user}`;
    if (this.reauthenticating && principal !== this.principalValue) {
      const message = `Cannot change principals during re-authentication from ${this.principalValue}: ${principal}`;
      this.stateValue = 'failed';
      this.reauthenticating = false;
      this.closeRequested = message;
      return { error: message };
    }
    this.principalValue = principal;
    this.stateValue = 'authenticated';
    this.reauthenticating = false;
    this.mechanism = null;
    // As Kafka: the session ends at connections.max.reauth.ms or when the credential expires, whichever is first.
    this.authenticatedAt = this.config.now();
    this.expiresAt = this.config.maxReauthMs > 0 ? Math.min(this.authenticatedAt + this.config.maxReauthMs, result.expiresAtMs ?? Infinity) : null;
    return { challenge: result.challenge, done: true };
  }
}
