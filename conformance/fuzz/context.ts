// What the fuzzer's lanes share: the broker's port and advertised versions, the stop signal, the
// action journal (the last actions, printed with the seed when the broker fails), the counters of
// the summary, and a little world state (topic ids, member ids, producer ids, fetch sessions) that
// lets one lane reuse what another learned.
// Invariants: lanes only draw from their own PRNG; the world state is read through a draw of that
// PRNG, so an empty or full pool changes what is sent, never how many draws are made.
import { API_SPECS, type ApiKey, type ApiMessages } from '../../protocol/generated/api-table.ts';
import type { ConnectionOptions } from 'node:tls';
import type { Prng } from './prng.ts';
import { Wire } from './wire.ts';

/** The fuzz broker's secured listeners and the credentials its users have (see secure.ts). */
export interface SecureEndpoints {
  saslPlaintextPort: number;
  saslSslPort: number;
  /** SSL with ssl.client.auth=requested. */
  sslPort: number;
  /** Trusts the broker's certificate (the run's CA). */
  tls: ConnectionOptions;
  /** A client certificate the SSL listener trusts. */
  clientCert: { cert: string; key: string };
  /** A self-signed client certificate no CA of the broker's vouches for. */
  untrustedCert: { cert: string; key: string };
  /** A user with SCRAM-SHA-256 and SCRAM-SHA-512 credentials. */
  scramUser: { username: string; password: string };
  /** Users of the PLAIN mechanism (the listeners' JAAS config). */
  plainUser: { username: string; password: string };
  otherPlainUser: { username: string; password: string };
}

export interface JournalEntry {
  atMs: number;
  lane: string;
  action: string;
}

/** The last `capacity` actions of every lane, in the order they were started. */
export class Journal {
  private readonly entries: JournalEntry[] = [];
  private next = 0;
  private readonly t0 = Date.now();
  total = 0;
  constructor(private readonly capacity: number) {}

  add(lane: string, action: string): void {
    const e = { atMs: Date.now() - this.t0, lane, action: action.length > 400 ? `${action.slice(0, 400)}...` : action };
    if (this.entries.length < this.capacity) this.entries.push(e);
    else this.entries[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
    this.total++;
  }

  last(): JournalEntry[] {
    return this.entries.length < this.capacity ? [...this.entries] : [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
  }

  format(): string {
    return this.last().map(line).join('\n');
  }

  /** Each lane's latest action: after a hang, what every lane was left waiting on. */
  latestPerLane(): string {
    const latest = new Map<string, JournalEntry>();
    for (const e of this.last()) {
      // Re-inserted so the map's order is that of each lane's latest action.
      latest.delete(e.lane);
      latest.set(e.lane, e);
    }
    return [...latest.values()].map(line).join('\n');
  }
}

function line(e: JournalEntry): string {
  return `${(e.atMs / 1000).toFixed(3).padStart(9)}s ${e.lane.padEnd(10)} ${e.action}`;
}

export interface Counters {
  connections: number;
  framesSent: number;
  bytesSent: number;
  responses: number;
  /** Requests that timed out or whose connection the broker closed (expected for bad input). */
  unanswered: number;
  /** Responses that did not decode at the version asked: a broker encoding fault. */
  undecodable: number;
  /** Rounds of the SASL and TLS lanes, and correct logins among them (SASL or TLS). */
  secureRounds: number;
  logins: number;
}

export type VersionRanges = Map<number, { min: number; max: number }>;

export class FuzzContext {
  readonly counters: Counters = { connections: 0, framesSent: 0, bytesSent: 0, responses: 0, unanswered: 0, undecodable: 0, secureRounds: 0, logins: 0 };
  readonly journal: Journal;
  /** Set once the run must end (deadline or a failure); every lane loop checks it. */
  stopped = false;
  readonly topicIds = new Map<string, string>();
  readonly memberIds = new Map<string, string[]>();
  readonly producerIds: { id: bigint; epoch: number }[] = [];
  readonly fetchSessions: { id: number; epoch: number }[] = [];
  /** Faults seen in answers (undecodable responses), with the action that drew them. */
  readonly anomalies: string[] = [];
  /** Faults of the fuzzer itself (its own bugs), counted so a test can insist there are none. */
  faults = 0;
  /**
   * Broken security guarantees: data served before authentication, a bad credential accepted, a
   * correct login or TLS client refused. Each one fails the run's checks.
   */
  violations = 0;
  /** The secured listeners, when the run has them. */
  secure: SecureEndpoints | undefined;
  private readonly wires = new Set<Wire>();

  constructor(
    readonly port: number,
    readonly versions: VersionRanges,
    readonly deadline: number,
    journalSize = 200,
    /** Kinds of input left out of this run (known faults awaiting a fix), by name. */
    readonly avoid: ReadonlySet<string> = new Set(),
  ) {
    this.journal = new Journal(journalSize);
  }

  get running(): boolean {
    return !this.stopped && Date.now() < this.deadline;
  }

  async open(): Promise<Wire> {
    const w = await Wire.open(this.port);
    this.counters.connections++;
    this.wires.add(w);
    return w;
  }

  /** A connection to another listener of the broker, over TLS when `tls` is given. */
  async openTo(port: number, tls?: ConnectionOptions): Promise<Wire> {
    const w = tls ? await Wire.openTls(port, tls) : await Wire.open(port);
    this.counters.connections++;
    this.wires.add(w);
    return w;
  }

  /** Adopts a wire opened elsewhere, so its counts reach the totals and closeAll ends it. */
  adopt(w: Wire): Wire {
    this.counters.connections++;
    this.wires.add(w);
    return w;
  }

  /** A broken security guarantee, kept for the report. */
  violation(lane: string, what: string): void {
    this.violations++;
    if (this.anomalies.length < 50) this.anomalies.push(`${lane}: VIOLATION: ${what}`);
  }

  /** Closes a wire and folds its counts into the totals. */
  close(w: Wire): void {
    w.destroy();
    if (!this.wires.delete(w)) return;
    this.counters.framesSent += w.stats.framesSent;
    this.counters.bytesSent += w.stats.bytesSent;
    this.counters.responses += w.stats.responses;
  }

  closeAll(): void {
    for (const w of [...this.wires]) this.close(w);
  }

  /** Frames sent so far, open wires included. */
  framesSent(): number {
    let n = this.counters.framesSent;
    for (const w of this.wires) n += w.stats.framesSent;
    return n;
  }

  /** A version the broker serves for the API, at least `atLeast`; undefined if none. */
  version(rng: Prng, apiKey: number, atLeast = 0, atMost = Infinity): number | undefined {
    const r = this.versions.get(apiKey);
    const draw = rng.u32();
    if (!r) return undefined;
    const lo = Math.max(r.min, atLeast);
    const hi = Math.min(r.max, atMost);
    if (lo > hi) return undefined;
    return lo + (draw % (hi - lo + 1));
  }

  remember<T>(pool: T[], item: T, max = 32): void {
    pool.push(item);
    if (pool.length > max) pool.shift();
  }

  /** One item of a pool, or `fallback` when it is empty; always one draw. */
  pickFrom<T>(rng: Prng, pool: readonly T[], fallback: T): T {
    const draw = rng.u32();
    return pool.length === 0 ? fallback : pool[draw % pool.length]!;
  }

  /** A fault of the fuzzer's own (a value it could not encode, say): kept for the report, the lane goes on. */
  fault(lane: string, err: Error): void {
    this.faults++;
    if (this.anomalies.length < 50) this.anomalies.push(`${lane}: fuzzer fault: ${err.stack ?? err.message}`);
  }

  /**
   * Sends a typed request and returns its answer, or undefined if it went unanswered or the
   * connection closed; both are expected for hostile input and only counted.
   */
  async call<K extends ApiKey>(
    lane: string,
    w: Wire,
    apiKey: K,
    version: number,
    body: ApiMessages[K]['request'],
    opts: { timeoutMs?: number; expectResponse?: boolean } = {},
  ): Promise<ApiMessages[K]['response'] | undefined> {
    try {
      return await w.request(apiKey, version, body, opts);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'WIRE_CLOSED' || code === 'WIRE_TIMEOUT') {
        this.counters.unanswered++;
        return undefined;
      }
      // A request the fuzzer could not encode is its own fault; an answer that does not decode is the broker's.
      if (code === 'WIRE_ENCODE') this.faults++;
      else this.counters.undecodable++;
      if (this.anomalies.length < 50) this.anomalies.push(`${lane}: ${API_SPECS[apiKey].name} v${version}: ${code === 'WIRE_ENCODE' ? 'fuzzer could not encode: ' : 'undecodable answer: '}${(err as Error).message}`);
      return undefined;
    }
  }
}

/** Waits `ms`, or less if the run ends first. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
