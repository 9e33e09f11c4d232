// SASL exchanges on the SASL_PLAINTEXT and SASL_SSL listeners: each round opens a connection and
// runs one scenario, drawn with all its values before the first byte is sent:
// - handshakes (v0, then raw-token framing; v1) naming enabled, unknown, empty, huge and invalid
//   UTF-8 mechanisms;
// - SCRAM client-first messages bent one way, and client-final messages with a wrong or cut nonce,
//   a wrong proof or channel binding, attributes missing or repeated (sasl-scram.ts), through
//   SaslAuthenticate v0-v2 or raw tokens;
// - a correct client-final replayed on a second connection and again after its own success;
// - steps out of order (SaslAuthenticate first, two handshakes, a Kafka request where a raw token
//   belongs and the reverse, requests pipelined behind an unfinished exchange);
// - tokens of 64 KB to 1 MB, size prefixes near socket.request.max.bytes with the body cut off,
//   and now and then a whole token of nearly that size;
// - PLAIN tokens without their NULs, with too many fields, an empty user or password; OAUTHBEARER
//   with a bent GS2 header or a bad unsecured JWS;
// - requests other than ApiVersions and SASL before authenticating;
// - SASL frames, ApiVersions and raw tokens mutated as the malformed-frames lane mutates;
// - and, as the positive control, correct SCRAM, PLAIN and OAUTHBEARER logins (sometimes
//   re-authenticating, KIP-368) followed by a Metadata request that must be answered.
// After every scenario that cannot have authenticated, a probe request must go unanswered (the
// broker closes the connection, as Kafka does). Data served before authentication, a bad
// credential accepted, or a correct login refused is a violation and fails the run.
import { ErrorCode } from '../../protocol/errors.ts';
import { API_SPECS, ApiKey } from '../../protocol/generated/api-table.ts';
import { encodeRequestFrame } from '../../protocol/headers.ts';
import { oauthBearerClientFirst, unsecuredToken } from '../../broker/security/oauthbearer.ts';
import { plainToken } from '../../broker/security/plain.ts';
import { ScramClient, scramMechanism } from '../../broker/security/scram.ts';
import type { FuzzContext, SecureEndpoints } from './context.ts';
import { sleep } from './context.ts';
import { mutate } from './mutate.ts';
import type { Prng } from './prng.ts';
import { finalPlan, malformedClientFirst, nonceOf, parseServerFirst, type ScramName } from './sasl-scram.ts';
import type { Wire } from './wire.ts';

/** Leaves out whole tokens of nearly socket.request.max.bytes (about 100 MB each way). */
export const HUGE_SASL_TOKENS = 'huge-sasl-tokens';

const ENABLED = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN', 'OAUTHBEARER'];
const SCRAM: readonly ScramName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];
const MAX_REQUEST = 104_857_600;
const STEP_MS = 5000;
const PROBE_MS = 3000;
/** Correlation ids of frames written raw, far from the small ids Wire gives typed requests. */
const PIPELINED_ID = 0x7e000001;
const PROBE_ID = 0x7eadbeef;
const PRE_AUTH_OK = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);
const OTHER_APIS = Object.keys(API_SPECS).map(Number).filter((k) => !PRE_AUTH_OK.has(k));

/** One connection's way of carrying tokens: raw after a v0 handshake, else SaslAuthenticate vN. */
interface Channel {
  w: Wire;
  raw: boolean;
  authVersion: number;
}

interface StepResult {
  answered: boolean;
  errorCode: number;
  bytes: Buffer;
  errorMessage?: string | null;
}

const NO_ANSWER: StepResult = { answered: false, errorCode: -1, bytes: Buffer.alloc(0) };

class SaslRound {
  constructor(
    private readonly ctx: FuzzContext,
    private readonly lane: string,
    private readonly sec: SecureEndpoints,
  ) {}

  async open(tls: boolean): Promise<Wire> {
    return tls ? this.ctx.openTo(this.sec.saslSslPort, this.sec.tls) : this.ctx.openTo(this.sec.saslPlaintextPort);
  }

  async handshake(w: Wire, version: number, mechanism: string): Promise<number | undefined> {
    const r = await this.ctx.call(this.lane, w, ApiKey.SaslHandshake, version, { mechanism }, { timeoutMs: STEP_MS });
    return r?.errorCode;
  }

  async step(ch: Channel, token: Buffer): Promise<StepResult> {
    if (ch.raw) {
      ch.w.sendToken(token);
      const bytes = await ch.w.nextUnmatched(STEP_MS);
      if (!bytes) {
        this.ctx.counters.unanswered++;
        return NO_ANSWER;
      }
      return { answered: true, errorCode: ErrorCode.NONE, bytes };
    }
    const r = await this.ctx.call(this.lane, ch.w, ApiKey.SaslAuthenticate, ch.authVersion, { authBytes: token }, { timeoutMs: STEP_MS });
    if (!r) return NO_ANSWER;
    return { answered: true, errorCode: r.errorCode, bytes: r.authBytes, errorMessage: r.errorMessage };
  }

  /** After an exchange that cannot have authenticated: a request beyond SASL must get no answer. */
  async probe(w: Wire, apiKey: number, why: string, waitMs = PROBE_MS): Promise<void> {
    if (w.closed) return;
    const spec = API_SPECS[apiKey as ApiKey];
    const version = apiKey === ApiKey.Metadata ? 1 : spec.minVersion;
    let frame: Buffer;
    try {
      frame = Buffer.concat(encodeRequestFrame(apiKey as never, version, PROBE_ID, 'fz-probe', {} as never));
    } catch {
      frame = Buffer.concat(encodeRequestFrame(ApiKey.Metadata, 1, PROBE_ID, 'fz-probe', { topics: null } as never));
    }
    w.sendRaw(frame);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      const answer = await w.nextUnmatched(deadline - Date.now());
      if (answer === null) return;
      if (answer.length >= 4 && answer.readInt32BE(0) === PROBE_ID) {
        this.ctx.violation(this.lane, `${spec.name} v${version} answered (${answer.length} bytes) ${why}`);
        return;
      }
    }
  }

  /** A correct login; a refusal is a violation, an answer that never comes only counted. */
  async login(ch: Channel, mechanism: string, user: { username: string; password: string }, what: string): Promise<boolean> {
    const refused = (why: string): false => {
      this.ctx.violation(this.lane, `correct ${mechanism} login refused (${what}): ${why}`);
      return false;
    };
    const expectOk = (r: StepResult, stepName: string): boolean => {
      // Unanswered in time on a busy machine is only counted; a close is a refusal.
      if (!r.answered) return ch.w.closed ? refused(`connection closed after ${stepName}`) : false;
      if (r.errorCode !== ErrorCode.NONE) return refused(`${stepName} answered error ${r.errorCode} ${r.errorMessage ?? ''}`);
      return true;
    };
    if (mechanism === 'PLAIN') return expectOk(await this.step(ch, plainToken(user.username, user.password)), 'PLAIN token');
    if (mechanism === 'OAUTHBEARER') {
      const token = unsecuredToken({ sub: 'fz-bearer', exp: Math.floor(Date.now() / 1000) + 600, iat: Math.floor(Date.now() / 1000) - 1 });
      return expectOk(await this.step(ch, oauthBearerClientFirst(token)), 'OAUTHBEARER token');
    }
    const scram = new ScramClient(scramMechanism(mechanism)!, user.username, user.password);
    const first = await this.step(ch, scram.first());
    if (!expectOk(first, 'client-first')) return false;
    let final: Buffer;
    try {
      final = scram.final(first.bytes);
    } catch (err) {
      return refused(`server-first not understood: ${(err as Error).message}`);
    }
    const last = await this.step(ch, final);
    if (!expectOk(last, 'client-final')) return false;
    try {
      scram.verify(last.bytes);
    } catch {
      return refused('wrong server signature');
    }
    return true;
  }

  /** After a correct login a Metadata request must be answered. */
  async served(w: Wire, what: string): Promise<void> {
    const r = await this.ctx.call(this.lane, w, ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { timeoutMs: STEP_MS });
    if (r) this.ctx.counters.logins++;
    else if (w.closed) this.ctx.violation(this.lane, `Metadata after a correct login (${what}) closed the connection`);
  }
}

/** A handshake frame whose mechanism name is raw bytes (invalid UTF-8 cannot go through the codec). */
function rawHandshake(version: number, mechanism: Buffer): Buffer {
  const client = Buffer.from('fz-sasl');
  const b = Buffer.alloc(4 + 10 + client.length + 2 + mechanism.length);
  let o = b.writeInt32BE(b.length - 4, 0);
  o = b.writeInt16BE(ApiKey.SaslHandshake, o);
  o = b.writeInt16BE(version, o);
  o = b.writeInt32BE(0x5a5a, o);
  o = b.writeInt16BE(client.length, o);
  o += client.copy(b, o);
  o = b.writeInt16BE(mechanism.length, o);
  mechanism.copy(b, o);
  return b;
}

function malformedPlain(rng: Prng, user: { username: string; password: string }): { kind: string; token: Buffer } {
  const { username: u, password: p } = user;
  const choice = rng.int(9);
  const t = (kind: string, s: string | Buffer): { kind: string; token: Buffer } => ({ kind, token: typeof s === 'string' ? Buffer.from(s, 'utf8') : s });
  switch (choice) {
    case 0: return t('no NULs', `${u}${p}`);
    case 1: return t('one NUL', `${u}\u0000${p}`);
    case 2: return t('four fields', `\u0000${u}\u0000${p}\u0000x`);
    case 3: return t('many fields', `\u0000${u}\u0000${p}${'\u0000'.repeat(50)}`);
    case 4: return t('empty user', `\u0000\u0000${p}`);
    case 5: return t('empty password', `\u0000${u}\u0000`);
    case 6: return t('other authzid', `fz-other\u0000${u}\u0000${p}`);
    case 7: return t('wrong password', `\u0000${u}\u0000${p}x`);
    default: return t('invalid UTF-8 user', Buffer.concat([Buffer.from([0, 0xff, 0xc0]), Buffer.from(`\u0000${p}`)]));
  }
}

function malformedBearer(rng: Prng): { kind: string; token: Buffer } {
  const now = Math.floor(Date.now() / 1000);
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const good = unsecuredToken({ sub: 'fz-bearer', exp: now + 600 });
  const choice = rng.int(16);
  const first = (jws: string): Buffer => oauthBearerClientFirst(jws);
  const t = (kind: string, s: string | Buffer): { kind: string; token: Buffer } => ({ kind, token: typeof s === 'string' ? Buffer.from(s, 'utf8') : s });
  switch (choice) {
    case 0: return t('gs2 flag y', `y,,\x01auth=Bearer ${good}\x01\x01`);
    case 1: return t('no gs2 header', `\x01auth=Bearer ${good}\x01\x01`);
    case 2: return t('gs2 without the closing comma', `n,\x01auth=Bearer ${good}\x01\x01`);
    case 3: return t('no final \\x01', `n,,\x01auth=Bearer ${good}\x01`);
    case 4: return t('no auth key', 'n,,\x01host=localhost\x01\x01');
    case 5: return t('auth=Basic', `n,,\x01auth=Basic ${good}\x01\x01`);
    case 6: return t('other authzid', `n,a=fz-other,\x01auth=Bearer ${good}\x01\x01`);
    case 7: return t('JWS of 2 parts', first(`${enc({ alg: 'none' })}.${enc({ sub: 'x', exp: now + 600 })}`));
    case 8: return t('JWS with a signature', first(`${good}c2ln`));
    case 9: return t('alg HS256', first(`${enc({ alg: 'HS256' })}.${enc({ sub: 'x', exp: now + 600 })}.`));
    case 10: return t('payload not base64 JSON', first(`${enc({ alg: 'none' })}.%%%.`));
    case 11: return t('payload a JSON array', first(`${enc({ alg: 'none' })}.${enc([1, 2])}.`));
    case 12: return t('no sub', first(unsecuredToken({ exp: now + 600 })));
    case 13: return t('expired', first(unsecuredToken({ sub: 'x', exp: now - 60 })));
    case 14: return t('issued in the future', first(unsecuredToken({ sub: 'x', exp: now + 600, iat: now + 3600 })));
    default: return t('deeply nested claims', first(`${enc({ alg: 'none' })}.${Buffer.from(`${'['.repeat(50_000)}${']'.repeat(50_000)}`).toString('base64url')}.`));
  }
}

type Scenario = 'handshake' | 'scram-first' | 'scram-final' | 'replay' | 'order' | 'oversized' | 'plain' | 'bearer' | 'pre-auth' | 'login' | 'mutated';

const MUTATION_TARGETS = ['SaslHandshake', 'SCRAM client-first in SaslAuthenticate', 'PLAIN token with a wrong password in SaslAuthenticate', 'ApiVersions', 'raw SCRAM client-first after a v0 handshake'] as const;

/** A frame (no size prefix) for the mutation scenario; none of them can authenticate, however bent. */
function mutationBase(target: number, authVersion: number, scram: string, user: string, nonce: string): Buffer {
  const frame = (chunks: Buffer[]): Buffer => Buffer.concat(chunks).subarray(4);
  switch (target) {
    case 0: return frame(encodeRequestFrame(ApiKey.SaslHandshake, authVersion % 2, PIPELINED_ID, 'fz-sasl', { mechanism: scram }));
    case 1: return frame(encodeRequestFrame(ApiKey.SaslAuthenticate, authVersion, PIPELINED_ID, 'fz-sasl', { authBytes: Buffer.from(`n,,n=${user},r=${nonce}`) }));
    case 2: return frame(encodeRequestFrame(ApiKey.SaslAuthenticate, authVersion, PIPELINED_ID, 'fz-sasl', { authBytes: plainToken(user, 'wrong-wrong-wrong-wrong') }));
    case 3: return frame(encodeRequestFrame(ApiKey.ApiVersions, 3, PIPELINED_ID, 'fz-sasl', { clientSoftwareName: 'samsa-fuzz', clientSoftwareVersion: '1' }));
    default: return Buffer.from(`n,,n=${user},r=${nonce}`);
  }
}

export async function runSasl(ctx: FuzzContext, rng: Prng, lane: string): Promise<void> {
  const sec = ctx.secure!;
  const round = new SaslRound(ctx, lane, sec);
  const log = (a: string): void => ctx.journal.add(lane, a);
  while (ctx.running) {
    // Every draw of the round happens here, before any answer is read.
    const tls = rng.chance(0.25);
    const scenario = rng.weighted<Scenario>([[3, 'handshake'], [4, 'scram-first'], [5, 'scram-final'], [1, 'replay'], [3, 'order'], [2, 'oversized'], [2, 'plain'], [2, 'bearer'], [2, 'pre-auth'], [3, 'login'], [3, 'mutated']]);
    const scram = rng.pick(SCRAM);
    const v0 = rng.chance(0.3);
    const authVersion = rng.range(0, 2);
    const probeApi = rng.chance(0.7) ? ApiKey.Metadata : rng.pick(OTHER_APIS);
    const variant = rng.int(8);
    const size = rng.weighted([[6, rng.range(64 * 1024, 1024 * 1024)], [3, MAX_REQUEST - rng.range(0, 4096)], [1, MAX_REQUEST + rng.range(1, 100)]] as const);
    const whole = rng.chance(0.05) && !ctx.avoid.has(HUGE_SASL_TOKENS);
    const noise = rng.bytes(256);
    const mech = rng.weighted([[4, rng.pick(ENABLED)], [2, rng.pick(['GSSAPI', 'SCRAM-SHA-1', 'plain', 'scram-sha-256', 'SCRAM-SHA-256 ', 'OAUTHBEARER\u0000'])], [1, ''], [1, 'M'.repeat(rng.range(1000, 32_000))], [1, '\uFFFD']] as const);
    const bentFirst = malformedClientFirst(rng, sec.scramUser.username);
    const bentFinal = finalPlan(rng);
    const bentPlain = malformedPlain(rng, sec.plainUser);
    const bentBearer = malformedBearer(rng);
    const afterBearer = rng.pick([Buffer.from([1]), Buffer.from('\x01\x01'), noise.subarray(0, 8), Buffer.alloc(0)]);
    // KIP-368 re-authentication is for clients that learnt a session lifetime: SaslAuthenticate v1+.
    const reauth = rng.chance(0.2) && !v0 && authVersion >= 1;
    // How a re-authentication goes wrong, if it does: another mechanism, or (PLAIN) another user.
    const reauthBent = rng.weighted([[3, 'none'], [1, 'mechanism'], [1, 'principal']] as const);
    const drawnMech = rng.weighted([[4, scram], [1, 'PLAIN'], [1, 'OAUTHBEARER']] as const);
    // Changing the principal is tried with PLAIN, which has a second user.
    const loginMech = reauth && reauthBent === 'principal' ? 'PLAIN' : drawnMech;
    const clientNonce = nonceOf(rng);
    const mutationTarget = variant % MUTATION_TARGETS.length;
    // Drawn only for this scenario; the scenario itself came from the stream, so replays agree.
    const mutated = scenario === 'mutated' ? mutate(mutationBase(mutationTarget, authVersion, mutationTarget === 2 ? 'PLAIN' : scram, mutationTarget === 2 ? sec.plainUser.username : sec.scramUser.username, clientNonce), rng) : undefined;
    const ch = (w: Wire): Channel => ({ w, raw: v0, authVersion });
    const tag = `${tls ? 'SASL_SSL' : 'SASL_PLAINTEXT'} ${v0 ? 'v0 raw' : `v1 auth v${authVersion}`}`;
    let w: Wire | undefined;
    try {
      ctx.counters.secureRounds++;
      switch (scenario) {
        case 'handshake': {
          const invalidUtf8 = variant === 0;
          log(`${tag}: SaslHandshake v${v0 ? 0 : 1} ${invalidUtf8 ? 'invalid UTF-8 mechanism' : `mechanism ${mech.length > 40 ? `${mech.slice(0, 12)}... (${mech.length} chars)` : JSON.stringify(mech)}`}${variant === 1 ? ', twice' : ''}`);
          w = await round.open(tls);
          if (invalidUtf8) {
            w.sendRaw(rawHandshake(v0 ? 0 : 1, Buffer.from([0x53, 0xc3, 0x28, 0xff, 0x41])));
            await w.nextUnmatched(STEP_MS);
          } else {
            const code = await round.handshake(w, v0 ? 0 : 1, mech);
            if (code === ErrorCode.NONE && !ENABLED.includes(mech)) ctx.violation(lane, `SaslHandshake accepted mechanism ${JSON.stringify(mech.slice(0, 40))}`);
            if (code !== undefined && code !== ErrorCode.NONE && ENABLED.includes(mech)) ctx.violation(lane, `SaslHandshake refused enabled mechanism ${mech} with error ${code}`);
            if (variant === 1) await round.handshake(w, 1, mech);
          }
          await round.probe(w, probeApi, 'after a handshake only');
          break;
        }
        case 'scram-first': {
          log(`${tag}: ${scram} client-first ${bentFirst.kind}`);
          w = await round.open(tls);
          if ((await round.handshake(w, v0 ? 0 : 1, scram)) !== ErrorCode.NONE) break;
          await round.step(ch(w), bentFirst.token);
          await round.probe(w, probeApi, `after a ${scram} client-first (${bentFirst.kind})`);
          break;
        }
        case 'scram-final': {
          log(`${tag}: ${scram} client-final ${bentFinal.kind}`);
          w = await round.open(tls);
          if ((await round.handshake(w, v0 ? 0 : 1, scram)) !== ErrorCode.NONE) break;
          const c = ch(w);
          const bare = `n=${sec.scramUser.username},r=${clientNonce}`;
          const first = await round.step(c, Buffer.from(`n,,${bare}`));
          const sf = first.answered && first.errorCode === ErrorCode.NONE ? parseServerFirst(first.bytes) : null;
          if (!sf) {
            if (first.answered) ctx.violation(lane, `correct ${scram} client-first refused: error ${first.errorCode} ${first.errorMessage ?? ''}`);
            break;
          }
          const final = await round.step(c, bentFinal.build(sf, bare, scram, sec.scramUser.password));
          if (bentFinal.mustFail) {
            if (final.answered && final.errorCode === ErrorCode.NONE) ctx.violation(lane, `${scram} client-final with ${bentFinal.kind} accepted`);
            await round.probe(w, probeApi, `after a ${scram} client-final with ${bentFinal.kind}`);
          }
          break;
        }
        case 'replay': {
          log(`${tag}: ${scram} correct client-final replayed on another connection${variant < 4 ? ' and on its own after success' : ''}`);
          w = await round.open(tls);
          if ((await round.handshake(w, 1, scram)) !== ErrorCode.NONE) break;
          const c = { w, raw: false, authVersion };
          const client = new ScramClient(scramMechanism(scram)!, sec.scramUser.username, sec.scramUser.password, clientNonce);
          const firstToken = client.first();
          const first = await round.step(c, firstToken);
          if (!first.answered || first.errorCode !== ErrorCode.NONE) break;
          const finalToken = client.final(first.bytes);
          const done = await round.step(c, finalToken);
          if (done.errorCode !== ErrorCode.NONE) break;
          if (variant < 4) {
            const again = await round.step(c, finalToken);
            if (again.answered && again.errorCode === ErrorCode.NONE) ctx.violation(lane, 'a SaslAuthenticate after a successful login was accepted');
          }
          ctx.close(w);
          w = await round.open(tls);
          if ((await round.handshake(w, 1, scram)) !== ErrorCode.NONE) break;
          const c2 = { w, raw: false, authVersion };
          const first2 = await round.step(c2, firstToken);
          if (!first2.answered || first2.errorCode !== ErrorCode.NONE) break;
          const replayed = await round.step(c2, finalToken);
          if (replayed.answered && replayed.errorCode === ErrorCode.NONE) ctx.violation(lane, `a replayed ${scram} client-final was accepted on a new connection`);
          await round.probe(w, probeApi, 'after a replayed client-final');
          break;
        }
        case 'order': {
          const kinds = ['SaslAuthenticate before the handshake', 'two handshakes', 'a Kafka request where a raw token belongs', 'a raw token where a request belongs', 'client-final first', 'Metadata pipelined behind an unfinished exchange', 'PLAIN login and Metadata pipelined', 'SaslHandshake after a failed step'];
          log(`${tag}: out of order: ${kinds[variant]}`);
          w = await round.open(tls);
          if (variant === 0) {
            const r = await round.step({ w, raw: false, authVersion }, plainToken(sec.plainUser.username, sec.plainUser.password));
            if (r.answered && r.errorCode === ErrorCode.NONE) ctx.violation(lane, 'SaslAuthenticate before any handshake was accepted');
          } else if (variant === 1) {
            await round.handshake(w, 1, scram);
            const code = await round.handshake(w, v0 ? 0 : 1, 'PLAIN');
            if (code === ErrorCode.NONE) ctx.violation(lane, 'a second SaslHandshake during authentication was accepted');
          } else if (variant === 2) {
            await round.handshake(w, 0, scram);
            // Read as a raw token: the frame's header bytes are no SCRAM message.
            await round.step({ w, raw: false, authVersion }, Buffer.from(`n,,n=${sec.scramUser.username},r=${clientNonce}`));
          } else if (variant === 3) {
            await round.handshake(w, 1, 'PLAIN');
            w.sendToken(plainToken(sec.plainUser.username, sec.plainUser.password));
            await w.nextUnmatched(STEP_MS);
          } else if (variant === 4) {
            await round.handshake(w, v0 ? 0 : 1, scram);
            await round.step(ch(w), Buffer.from(`c=biws,r=${clientNonce},p=${noise.subarray(0, 32).toString('base64')}`));
          } else if (variant === 5) {
            const frames = [
              ...encodeRequestFrame(ApiKey.SaslHandshake, 1, PIPELINED_ID, 'fz-sasl', { mechanism: scram }),
              ...encodeRequestFrame(ApiKey.SaslAuthenticate, authVersion, PIPELINED_ID + 1, 'fz-sasl', { authBytes: Buffer.from(`n,,n=${sec.scramUser.username},r=${clientNonce}`) }),
            ];
            w.sendRaw(Buffer.concat(frames));
          } else if (variant === 6) {
            const frames = [
              ...encodeRequestFrame(ApiKey.SaslHandshake, 1, PIPELINED_ID, 'fz-sasl', { mechanism: 'PLAIN' }),
              ...encodeRequestFrame(ApiKey.SaslAuthenticate, authVersion, PIPELINED_ID + 1, 'fz-sasl', { authBytes: plainToken(sec.plainUser.username, sec.plainUser.password) }),
            ];
            w.sendRaw(Buffer.concat(frames));
            await round.served(w, 'pipelined PLAIN');
            break;
          } else {
            await round.handshake(w, 1, scram);
            await round.step({ w, raw: false, authVersion }, noise.subarray(0, 16));
            const code = await round.handshake(w, 1, scram);
            if (code === ErrorCode.NONE) ctx.violation(lane, 'a SaslHandshake after a failed exchange was accepted');
          }
          await round.probe(w, probeApi, `after ${kinds[variant]}`);
          break;
        }
        case 'oversized': {
          const mechanism = ENABLED[variant % ENABLED.length]!;
          const honest = size < MAX_REQUEST - 4096 || (whole && size <= MAX_REQUEST);
          log(`${tag}: ${mechanism} token of ${size} bytes${honest ? '' : ' (size prefix only, body cut off)'}`);
          w = await round.open(tls);
          if ((await round.handshake(w, v0 ? 0 : 1, mechanism)) !== ErrorCode.NONE) break;
          if (honest) {
            // A structurally valid message with a huge field, so parsing goes past the first bytes.
            const prefix = mechanism.startsWith('SCRAM') ? `n,,n=${sec.scramUser.username},r=` : mechanism === 'PLAIN' ? `\u0000${sec.plainUser.username}\u0000` : 'n,,\x01auth=Bearer ';
            const token = Buffer.alloc(size, 0x41);
            token.write(prefix);
            await round.step(ch(w), token);
          } else {
            // The broker waits for the rest (or refuses the size at once); a probe would only join the body.
            const head = Buffer.alloc(4);
            head.writeInt32BE(size);
            w.sendRaw(Buffer.concat([head, noise]));
            await w.waitClose(200);
            break;
          }
          await round.probe(w, probeApi, `after a ${size}-byte ${mechanism} token`);
          break;
        }
        case 'plain': {
          log(`${tag}: PLAIN ${bentPlain.kind}`);
          w = await round.open(tls);
          if ((await round.handshake(w, v0 ? 0 : 1, 'PLAIN')) !== ErrorCode.NONE) break;
          const r = await round.step(ch(w), bentPlain.token);
          if (r.answered && r.errorCode === ErrorCode.NONE) ctx.violation(lane, `PLAIN token with ${bentPlain.kind} accepted`);
          await round.probe(w, probeApi, `after a PLAIN token with ${bentPlain.kind}`);
          break;
        }
        case 'bearer': {
          log(`${tag}: OAUTHBEARER ${bentBearer.kind}`);
          w = await round.open(tls);
          if ((await round.handshake(w, v0 ? 0 : 1, 'OAUTHBEARER')) !== ErrorCode.NONE) break;
          const c = ch(w);
          const r = await round.step(c, bentBearer.token);
          // A bad token is answered with an error challenge; the client's next message ends the exchange.
          if (r.answered && r.errorCode === ErrorCode.NONE && r.bytes.length > 0) {
            const end = await round.step(c, afterBearer);
            if (end.answered && end.errorCode === ErrorCode.NONE) ctx.violation(lane, `OAUTHBEARER ${bentBearer.kind}: the exchange after the error challenge succeeded`);
          } else if (r.answered && r.errorCode === ErrorCode.NONE) ctx.violation(lane, `OAUTHBEARER ${bentBearer.kind} accepted`);
          await round.probe(w, probeApi, `after an OAUTHBEARER token with ${bentBearer.kind}`);
          break;
        }
        case 'pre-auth': {
          const when = ['on a fresh connection', 'after ApiVersions', 'after the handshake', 'after the SCRAM client-first'][variant % 4]!;
          log(`${tag}: ${API_SPECS[probeApi as ApiKey].name} ${when}`);
          w = await round.open(tls);
          if (variant % 4 === 1) await ctx.call(lane, w, ApiKey.ApiVersions, 3, { clientSoftwareName: 'samsa-fuzz', clientSoftwareVersion: '1' }, { timeoutMs: STEP_MS });
          if (variant % 4 >= 2 && (await round.handshake(w, 1, scram)) !== ErrorCode.NONE) break;
          if (variant % 4 === 3) await round.step({ w, raw: false, authVersion }, Buffer.from(`n,,n=${sec.scramUser.username},r=${clientNonce}`));
          await round.probe(w, probeApi, when);
          break;
        }
        case 'mutated': {
          log(`${tag}: ${MUTATION_TARGETS[mutationTarget]} ${mutated!.kind}`);
          w = await round.open(tls);
          if (mutationTarget === 1 || mutationTarget === 2) {
            if ((await round.handshake(w, 1, mutationTarget === 2 ? 'PLAIN' : scram)) !== ErrorCode.NONE) break;
          } else if (mutationTarget === 4 && (await round.handshake(w, 0, scram)) !== ErrorCode.NONE) break;
          mutated!.chunks.forEach((c, i) => w!.sendRaw(c, i === 0));
          // A lying size prefix leaves the broker waiting for the rest, the probe's bytes included: short waits.
          await w.nextUnmatched(300);
          await round.probe(w, probeApi, `after a mutated ${MUTATION_TARGETS[mutationTarget]}`, 500);
          break;
        }
        case 'login': {
          const what = `${loginMech} ${v0 ? 'raw tokens' : `SaslAuthenticate v${authVersion}`}${reauth ? ', re-authenticating' : ''}`;
          log(`${tag}: correct login, ${what}`);
          w = await round.open(tls);
          const code = await round.handshake(w, v0 ? 0 : 1, loginMech);
          if (code === undefined) break;
          if (code !== ErrorCode.NONE) {
            ctx.violation(lane, `SaslHandshake refused ${loginMech} with error ${code}`);
            break;
          }
          const user = loginMech === 'PLAIN' ? sec.plainUser : sec.scramUser;
          if (!(await round.login(ch(w), loginMech, user, what))) break;
          await round.served(w, what);
          if (reauth && !w.closed && reauthBent === 'mechanism') {
            const other = loginMech === 'PLAIN' ? scram : 'PLAIN';
            log(`${tag}: re-authentication with ${other} after ${loginMech}`);
            const again = await round.handshake(w, 1, other);
            if (again === ErrorCode.NONE) ctx.violation(lane, `re-authentication with ${other} after a ${loginMech} login was accepted`);
            await round.probe(w, probeApi, 'after a re-authentication with another mechanism');
          } else if (reauth && !w.closed && reauthBent === 'principal' && loginMech === 'PLAIN') {
            log(`${tag}: re-authentication as ${sec.otherPlainUser.username} after ${sec.plainUser.username}`);
            if ((await round.handshake(w, 1, 'PLAIN')) !== ErrorCode.NONE) break;
            const r = await round.step({ w, raw: false, authVersion }, plainToken(sec.otherPlainUser.username, sec.otherPlainUser.password));
            if (r.answered && r.errorCode === ErrorCode.NONE) ctx.violation(lane, 'a connection re-authenticated as another principal');
            await round.probe(w, probeApi, 'after re-authenticating as another principal');
          } else if (reauth && !w.closed) {
            // KIP-368: the same mechanism again over SaslHandshake v1, then served as before.
            const again = await round.handshake(w, 1, loginMech);
            if (again === undefined) break;
            if (again !== ErrorCode.NONE) {
              ctx.violation(lane, `re-authentication with ${loginMech} refused: error ${again}`);
              break;
            }
            if (await round.login({ w, raw: false, authVersion: Math.max(1, authVersion) }, loginMech, user, `${what}, second login`)) await round.served(w, `${what}, second login`);
          }
          break;
        }
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'WIRE_CLOSED' && code !== 'WIRE_TIMEOUT' && code !== 'ECONNREFUSED' && code !== 'ECONNRESET' && code !== 'EPIPE') ctx.fault(lane, err as Error);
    } finally {
      if (w) ctx.close(w);
    }
    await sleep(rng.int(20));
  }
}
