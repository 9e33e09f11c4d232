// Signed-token validation for SASL/OAUTHBEARER, as Kafka's OAuthBearerValidatorCallbackHandler
// (KIP-768) does it: the token is a JWS in compact form signed with RS256/384/512,
// PS256/384/512 or ES256/384/512 by a key of the JSON Web Key Set at
// sasl.oauthbearer.jwks.endpoint.url (https:// or file://). `alg: none` and HS* (shared secrets)
// are refused. exp and iat are required, nbf honoured, all within
// sasl.oauthbearer.clock.skew.seconds; aud and iss are checked when expected values are set; the
// principal is the claim named by sasl.oauthbearer.sub.claim.name (trimmed), the scopes are read as
// Kafka reads them (parseScope).
// The key set is loaded at start (a file that cannot be read fails the start, as in Kafka), then
// reloaded every sasl.oauthbearer.jwks.endpoint.refresh.ms with retries backing off from
// retry.backoff.ms up to retry.backoff.max.ms in all; a failed reload keeps the old keys. Unlike
// Kafka, a file:// set is reloaded too, so keys can rotate without a restart. A token whose kid
// is not in the set is refused and triggers one early reload (once per kid a minute, as Kafka's
// RefreshingHttpsJwks does).
import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { type Scheduler, SystemScheduler, type TimerHandle } from '../../protocol/scheduler.ts';
import { decodePart, InvalidToken } from './oauthbearer.ts';

/** The class names that select this validator (3.4+, and 3.1-3.3's `secured` package). */
export const VALIDATOR_CALLBACK_HANDLER_CLASSES = [
  'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
  'org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler',
];

export interface JwtValidationOptions {
  expectedAudience: readonly string[];
  expectedIssuer: string | null;
  clockSkewMs: number;
  scopeClaimName: string;
  subClaimName: string;
}

export interface ValidJwt {
  principal: string;
  expiresAtMs: number;
  scope: string[];
}

export interface VerificationKey {
  kid: string | undefined;
  kty: string;
  alg: string | undefined;
  key: KeyObject;
}

/** Where a token's keys come from: the current set, and a hint that a kid was missing. */
export interface KeyResolver {
  keys(): readonly VerificationKey[];
  missingKid(kid: string): void;
}

interface AlgSpec {
  kty: 'RSA' | 'EC';
  hash: string;
  pss?: boolean;
  curve?: string;
}

const ALGS: Record<string, AlgSpec> = {
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
  ES256: { kty: 'EC', hash: 'sha256', curve: 'prime256v1' },
  ES384: { kty: 'EC', hash: 'sha384', curve: 'secp384r1' },
  ES512: { kty: 'EC', hash: 'sha512', curve: 'secp521r1' },
};

function signatureValid(spec: AlgSpec, k: VerificationKey, data: Buffer, sig: Buffer): boolean {
  if (k.key.asymmetricKeyType !== (spec.kty === 'RSA' ? 'rsa' : 'ec')) return false;
  if (spec.curve !== undefined && k.key.asymmetricKeyDetails?.namedCurve !== spec.curve) return false;
  const opts =
    spec.kty === 'EC' ? { key: k.key, dsaEncoding: 'ieee-p1363' as const }
    : spec.pss ? { key: k.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : { key: k.key, padding: constants.RSA_PKCS1_PADDING };
  try {
    return verify(spec.hash, data, opts, sig);
  } catch {
    // A signature of the wrong shape for the key (length, encoding) is just not valid.
    return false;
  }
}

/**
 * Scopes as Kafka's validator reads them: a string is one scope (Kafka does not split it), an
 * array is one scope per element; each is trimmed, and an empty or repeated one refuses the token.
 */
export function parseScope(raw: unknown, claimName = 'scope'): string[] {
  const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
  const out: string[] = [];
  for (const v of values) {
    const scope = typeof v === 'string' ? v.trim() : '';
    if (scope === '') throw new InvalidToken(`the token's ${claimName} holds an empty value`);
    if (out.includes(scope)) throw new InvalidToken(`the token's ${claimName} holds ${scope} twice`);
    out.push(scope);
  }
  return out;
}

/** Checks a signed JWT against the resolver's keys; throws InvalidToken with the reason. */
export function validateJwt(token: string, keys: KeyResolver, opts: JwtValidationOptions, nowMs: number): ValidJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidToken('the token is not a JWS of 3 parts');
  const header = decodePart(parts[0]!, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string') throw new InvalidToken('the token header has no alg');
  const spec = ALGS[alg];
  if (spec === undefined) throw new InvalidToken(`the token's alg ${alg} is not accepted`);
  const sig = Buffer.from(parts[2]!, 'base64url');
  if (sig.length === 0) throw new InvalidToken('the token has no signature');
  const data = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const all = keys.keys();
  const candidates = kid !== undefined ? all.filter((k) => k.kid === kid) : all.filter((k) => k.kty === spec.kty && (k.alg === undefined || k.alg === alg));
  if (candidates.length === 0) {
    if (kid !== undefined) keys.missingKid(kid);
    throw new InvalidToken(kid !== undefined ? `no key with kid ${kid} in the JWKS` : `no key for alg ${alg} in the JWKS`);
  }
  if (!candidates.some((k) => (k.alg === undefined || k.alg === alg) && signatureValid(spec, k, data, sig))) throw new InvalidToken('the token signature is not valid');
  const claims = decodePart(parts[1]!, 'payload');
  const skew = opts.clockSkewMs;
  const exp = claims.exp;
  if (typeof exp !== 'number') throw new InvalidToken('the token has no numeric exp claim');
  if (nowMs - skew >= exp * 1000) throw new InvalidToken('the token has expired');
  const iat = claims.iat;
  if (typeof iat !== 'number') throw new InvalidToken('the token has no numeric iat claim');
  if (iat * 1000 > nowMs + skew) throw new InvalidToken('the token was issued in the future');
  const nbf = claims.nbf;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf * 1000 > nowMs + skew)) throw new InvalidToken('the token is not valid yet');
  if (opts.expectedAudience.length > 0) {
    const aud = claims.aud;
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : [];
    if (!auds.some((a) => opts.expectedAudience.includes(a))) throw new InvalidToken('the token audience is not expected');
  }
  if (opts.expectedIssuer !== null && claims.iss !== opts.expectedIssuer) throw new InvalidToken('the token issuer is not expected');
  const scope = parseScope(claims[opts.scopeClaimName], opts.scopeClaimName);
  const sub = claims[opts.subClaimName];
  if (typeof sub !== 'string' || sub.trim() === '') throw new InvalidToken(`the token has no principal claim ${opts.subClaimName}`);
  return { principal: sub.trim(), expiresAtMs: exp * 1000, scope };
}

/** The signing keys of a JWKS document; keys of other types or uses are skipped. */
export function parseJwks(text: string): VerificationKey[] {
  const doc = JSON.parse(text) as { keys?: unknown };
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.keys)) throw new Error('not a JWKS: no "keys" array');
  const out: VerificationKey[] = [];
  for (const jwk of doc.keys as Record<string, unknown>[]) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as never, format: 'jwk' });
    } catch {
      continue;
    }
    out.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, kty: jwk.kty, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, key });
  }
  return out;
}

export interface JwksSourceOptions {
  url: string;
  refreshMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
}

const MISSING_KID_INTERVAL_MS = 60_000;
const MISSING_KID_MAX_ENTRIES = 16;
const MISSING_KID_MAX_LENGTH = 1000;
const FETCH_TIMEOUT_MS = 10_000;

export class JwksError extends Error {
  readonly code = 'JWKS_UNAVAILABLE';
}

/** A refreshing JWKS: file:// read at once (throws if it cannot be), https:// fetched in the background. */
export class JwksSource implements KeyResolver {
  private current: VerificationKey[] = [];
  private refreshing = false;
  private timer: TimerHandle | null = null;
  private readonly missing = new Map<string, number>();

  constructor(
    private readonly opts: JwksSourceOptions,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
  ) {
    if (!/^(https|file):\/\//i.test(opts.url)) throw new JwksError(`sasl.oauthbearer.jwks.endpoint.url must be an https:// or file:// URL: ${opts.url}`);
  }

  private get isFile(): boolean {
    return /^file:/i.test(this.opts.url);
  }

  /** Loads the set (synchronously for a file) and starts the periodic refresh. */
  start(): void {
    if (this.isFile) {
      try {
        this.current = parseJwks(readFileSync(fileURLToPath(this.opts.url), 'utf8'));
      } catch (err) {
        throw new JwksError(`the JWKS at ${this.opts.url} cannot be read: ${(err as Error).message}`, { cause: err });
      }
    } else this.scheduler.watch(this.scope(), this.refresh());
    if (this.opts.refreshMs > 0) this.timer = this.scheduler.every(this.opts.refreshMs, this.scope(), () => this.refresh());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  keys(): readonly VerificationKey[] {
    return this.current;
  }

  missingKid(kid: string): void {
    if (kid.length > MISSING_KID_MAX_LENGTH) return;
    const now = this.scheduler.now();
    const last = this.missing.get(kid);
    if (last !== undefined && now - last < MISSING_KID_INTERVAL_MS) return;
    this.missing.delete(kid);
    this.missing.set(kid, now);
    if (this.missing.size > MISSING_KID_MAX_ENTRIES) this.missing.delete(this.missing.keys().next().value!);
    this.scheduler.watch(this.scope(), this.refresh());
  }

  private scope() {
    return { unit: 'jwks-refresh', context: { url: this.opts.url } };
  }

  private async load(): Promise<VerificationKey[]> {
    if (this.isFile) return parseJwks(await readFile(fileURLToPath(this.opts.url), 'utf8'));
    const res = await fetch(this.opts.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!res.ok) throw new JwksError(`HTTP ${res.status}`);
    return parseJwks(await res.text());
  }

  /** One reload with retries; on failure the old keys stay. Never overlaps itself. */
  async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const start = this.scheduler.now();
      for (let attempt = 1; ; attempt++) {
        try {
          this.current = await this.load();
          this.logger.debug({ url: this.opts.url, keys: this.current.length }, 'loaded JWKS');
          return;
        } catch (err) {
          const left = start + this.opts.retryBackoffMaxMs - this.scheduler.now();
          if (left <= 0) {
            this.logger.warn({ err, url: this.opts.url, attempts: attempt }, 'JWKS could not be loaded; the previous keys are kept');
            return;
          }
          const wait = Math.min(Math.max(1, this.opts.retryBackoffMs * 2 ** (attempt - 1)), left);
          await new Promise<void>((resolve) => this.scheduler.schedule(wait, this.scope(), resolve));
        }
      }
    } finally {
      this.refreshing = false;
    }
  }
}

const shared = new Map<string, JwksSource>();

/**
 * One started source per URL and settings for the process: listener settings are rebuilt (dynamic
 * TLS, the console's authentication) and must not start a refresh each time.
 */
export function sharedJwksSource(opts: JwksSourceOptions, scheduler?: Scheduler, logger?: Logger): JwksSource {
  const key = JSON.stringify([opts.url, opts.refreshMs, opts.retryBackoffMs, opts.retryBackoffMaxMs]);
  let source = shared.get(key);
  if (source === undefined) {
    const log = (logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' })).child({ module: 'oauthbearer-jwks' });
    source = new JwksSource(opts, scheduler ?? new SystemScheduler({ logger: log }), log);
    source.start();
    shared.set(key, source);
  }
  return source;
}
