// SASL/OAUTHBEARER (RFC 7628) with Kafka's default, unsecured token validation
// (OAuthBearerUnsecuredValidatorCallbackHandler): the client's initial response
// `n,[a=<authzid>],\x01auth=Bearer <token>\x01[key=value\x01...]\x01` carries an unsecured JWS
// (`{"alg":"none"}`, an empty signature) whose claims give the principal (`sub`, or the
// unsecuredValidatorPrincipalClaimName option of the listener's OAuthBearerLoginModule), an
// expiry `exp` (seconds) that must not have passed, an optional `iat` not in the future, and the
// scopes unsecuredValidatorRequiredScope asks for. A bad token is answered, as Kafka does, with an
// error challenge (`{"status":"invalid_token"}`); the client acknowledges with `\x01` and the
// exchange fails with that message. With OAuthBearerValidatorCallbackHandler configured, signed
// tokens are checked instead, against a JWKS (oauthbearer-jwks.ts), and answered the same way.
import { SaslAuthenticationError } from './scram.ts';

export interface OAuthBearerOptions {
  principalClaimName: string;
  scopeClaimName: string;
  requiredScope: readonly string[];
  allowableClockSkewMs: number;
  /**
   * A validator of signed tokens (OAuthBearerValidatorCallbackHandler, oauthbearer-jwks.ts) that
   * replaces the unsecured-token checks; throws InvalidToken.
   */
  validate?: (token: string, nowMs: number) => { principal: string; expiresAtMs: number };
}

export const DEFAULT_OAUTHBEARER_OPTIONS: OAuthBearerOptions = { principalClaimName: 'sub', scopeClaimName: 'scope', requiredScope: [], allowableClockSkewMs: 0 };

/** The validator options of an OAuthBearerLoginModule's JAAS options. */
export function oauthBearerOptions(options: ReadonlyMap<string, string>): OAuthBearerOptions {
  const skew = Number(options.get('unsecuredValidatorAllowableClockSkewMs') ?? 0);
  return {
    principalClaimName: options.get('unsecuredValidatorPrincipalClaimName')?.trim() || 'sub',
    scopeClaimName: options.get('unsecuredValidatorScopeClaimName')?.trim() || 'scope',
    requiredScope: (options.get('unsecuredValidatorRequiredScope') ?? '').split(/[\s,]+/).filter((s) => s !== ''),
    allowableClockSkewMs: Number.isFinite(skew) && skew >= 0 ? skew : 0,
  };
}

/** A token refused: answered with the invalid_token error challenge. */
export class InvalidToken extends Error {}

/** One base64url JSON part of a JWS (header or claims); anything else refuses the token. */
export function decodePart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidToken(`the token's ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidToken(`the token's ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Checks an unsecured JWS; returns the principal name and the expiry (ms since the epoch). */
export function validateUnsecuredJws(token: string, opts: OAuthBearerOptions, nowMs: number): { principal: string; expiresAtMs: number } {
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidToken('the token is not a JWS of 3 parts');
  if (parts[2] !== '') throw new InvalidToken('the token has a signature: only unsecured tokens are accepted');
  const header = decodePart(parts[0]!, 'header');
  if (header.alg !== 'none') throw new InvalidToken('the token header must have "alg":"none"');
  const claims = decodePart(parts[1]!, 'payload');
  const principal = claims[opts.principalClaimName];
  if (typeof principal !== 'string' || principal.trim() === '') throw new InvalidToken(`the token has no principal claim ${opts.principalClaimName}`);
  const exp = claims.exp;
  if (typeof exp !== 'number') throw new InvalidToken('the token has no numeric exp claim');
  const expiresAtMs = exp * 1000;
  if (nowMs - opts.allowableClockSkewMs >= expiresAtMs) throw new InvalidToken('the token has expired');
  const iat = claims.iat;
  if (iat !== undefined && (typeof iat !== 'number' || iat * 1000 > nowMs + opts.allowableClockSkewMs)) throw new InvalidToken('the token was issued in the future');
  if (opts.requiredScope.length > 0) {
    const raw = claims[opts.scopeClaimName];
    const scope = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(' ') : [];
    const missing = opts.requiredScope.filter((s) => !scope.includes(s));
    if (missing.length > 0) throw new InvalidToken(`the token lacks the required scope ${missing.join(' ')}`);
  }
  return { principal, expiresAtMs };
}

const CLIENT_FIRST = /^n,(?:a=([^,]*))?,\x01((?:[a-zA-Z]+=[\x21-\x7e \t]*\x01)*)\x01$/s;

export class OAuthBearerServer {
  private errorMessage: string | null = null;
  private done = false;

  constructor(
    private readonly opts: OAuthBearerOptions,
    private readonly now: () => number,
  ) {}

  evaluate(token: Buffer): { challenge: Buffer; user?: string; expiresAtMs?: number } {
    if (this.done) throw new SaslAuthenticationError('Unexpected OAUTHBEARER message after the exchange completed');
    if (this.errorMessage !== null) {
      // The client's \x01 after our error challenge ends the exchange, failed.
      throw new SaslAuthenticationError(this.errorMessage);
    }
    const text = token.toString('utf8');
    const m = CLIENT_FIRST.exec(text);
    if (!m) throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message');
    const fields = new Map<string, string>();
    for (const kv of m[2]!.split('\x01').filter((x) => x !== '')) fields.set(kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1));
    const auth = /^Bearer +(\S+)$/i.exec(fields.get('auth') ?? '');
    if (!auth) throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message: no auth=Bearer <token>');
    let valid: { principal: string; expiresAtMs: number };
    try {
      valid = this.opts.validate ? this.opts.validate(auth[1]!, this.now()) : validateUnsecuredJws(auth[1]!, this.opts, this.now());
    } catch (err) {
      if (!(err instanceof InvalidToken)) throw err;
      this.errorMessage = JSON.stringify({ status: 'invalid_token' });
      return { challenge: Buffer.from(this.errorMessage, 'utf8') };
    }
    const authzid = m[1];
    if (authzid !== undefined && authzid !== '' && authzid !== valid.principal) {
      throw new SaslAuthenticationError(`Authentication failed: Client requested an authorization id (${authzid}) that is different from the token's principal name (${valid.principal})`);
    }
    this.done = true;
    return { challenge: Buffer.alloc(0), user: valid.principal, expiresAtMs: valid.expiresAtMs };
  }
}

/** An unsecured token, as OAuthBearerUnsecuredLoginCallbackHandler makes them (tests, tools). */
export function unsecuredToken(claims: Record<string, unknown>): string {
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none' })}.${enc(claims)}.`;
}

export const oauthBearerClientFirst = (token: string): Buffer => Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`, 'utf8');
