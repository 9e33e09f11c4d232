// A deterministic simulation of the metadata quorum in one process: several voters and an
// observer, each a RaftClient over an in-memory log and quorum-state store, on a virtual clock
// and a lossy, reordering, partitionable network, all driven by one seeded PRNG. Clients append
// to whoever leads; faults (crash losing unflushed data, restart, graceful leader shutdown,
// partitions, loss) arrive at random times. The run advances the clock one timer at a time,
// lets every async step settle, then checks the invariants (invariants.ts). At the end the
// network heals and every node restarts; a leader must then be elected within a bound, and every
// committed entry must reach every live voter. A failure names the seed and the last events.
// Each node's listener is a small state machine (every committed value by offset) that
// snapshots itself every few committed records; replicas keep two snapshots and drop the log
// below the older one, so a node that was down or cut off long enough catches up through
// FetchSnapshot, and a restart loads the newest snapshot before replaying the log.
import pino, { type Logger } from 'pino';
import { ManualScheduler } from '../../../protocol/scheduler.ts';
import { MemoryQuorumStateStore } from '../quorum-state.ts';
import { RaftClient } from '../raft-client.ts';
import type { RaftConfig } from '../raft-config.ts';
import { MemoryReplicatedLog } from '../replicated-log.ts';
import { encodeSnapshot } from '../snapshot-format.ts';
import type { VoterNode } from '../voter-set.ts';
import { InvariantChecker, InvariantError, type LifeRecord } from './invariants.ts';
import { NodeScheduler } from '../../../testing/sim/node-scheduler.ts';
import { Prng } from '../../../testing/sim/prng.ts';
import { SimTrace } from '../../../testing/sim/trace.ts';
import { SimNetwork } from './sim-network.ts';

export interface SimOptions {
  seed: number;
  /** Virtual time of the faulty part of the run. */
  durationMs?: number;
  /** Lines of trace kept for a failure report. */
  traceLines?: number;
  /** Echo every trace line to stdout as it happens. */
  verbose?: boolean;
}

export interface SimResult {
  seed: number;
  voters: number;
  /** A dynamic quorum (voters from the log, added and removed during the run). */
  dynamic: boolean;
  ok: boolean;
  events: number;
  messages: number;
  committed: number;
  acked: number;
  leaders: number;
  /** Snapshots written, and fetched from a leader with FetchSnapshot, over every node life. */
  snapshots: number;
  snapshotFetches: number;
  /** Dynamic quorums: voters added and removed (committed changes). */
  votersAdded: number;
  votersRemoved: number;
  virtualMs: number;
  error?: string;
  trace: string[];
}

/** Timings scaled down from Kafka's defaults (ratios kept) so a run covers many elections. */
export const SIM_RAFT_CONFIG: Partial<RaftConfig> = {
  electionTimeoutMs: 300,
  fetchTimeoutMs: 600,
  electionBackoffMaxMs: 300,
  requestTimeoutMs: 600,
  retryBackoffMs: 20,
  fetchMaxWaitMs: 200,
  fetchMaxBytes: 4096,
  fetchSnapshotMaxBytes: 512,
  shutdownTimeoutMs: 1500,
};

interface Life {
  client: RaftClient;
  sched: NodeScheduler;
  record: LifeRecord;
}

interface SimNode {
  id: number;
  /** A voter of the static quorum, or an initial voter of a dynamic one. */
  voter: boolean;
  log: MemoryReplicatedLog;
  store: MemoryQuorumStateStore;
  life?: Life;
  /** A graceful shutdown is under way: the node stops once close() returns. */
  stopping: boolean;
}

const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Simulation {
  readonly prng: Prng;
  readonly clock = new ManualScheduler({ startMs: 0 });
  readonly net: SimNetwork;
  readonly checker = new InvariantChecker();
  readonly nodes: SimNode[] = [];
  readonly voterIds: number[];
  private readonly trace: SimTrace;
  private readonly logger: Logger;
  private events = 0;
  private appends = 0;
  private failure: unknown;
  private startedOutsideTimer = false;
  /** Committed records between two snapshots of a node's state (per seed). */
  private readonly snapshotEvery: number;
  private readonly clients: RaftClient[] = [];
  /**
   * A dynamic quorum (KIP-853, half the seeds): a pool of five nodes, the first one or three
   * formatted as initial voters (a bootstrap checkpoint), the others empty and finding the quorum
   * through the initial voters as bootstrap servers; voters are added and removed at random.
   */
  readonly dynamic: boolean;
  private votersAdded = 0;
  private votersRemoved = 0;
  /** The voter set as the latest leader seen holds it (decides which crashes keep a majority up). */
  private currentVoters: number[];

  constructor(private readonly opts: SimOptions) {
    this.prng = new Prng(opts.seed);
    this.trace = new SimTrace(this.clock, opts.traceLines ?? 80, opts.verbose);
    const voterCount = this.prng.chance(0.5) ? 3 : 5;
    this.snapshotEvery = 3 + Math.floor(this.prng.next() * 18);
    this.dynamic = this.prng.chance(0.5);
    this.net = new SimNetwork(this.clock, this.prng.fork(), { minDelayMs: 0.5, maxDelayMs: 25 }, (l) => this.note(l));
    this.logger = pino({ level: 'info', base: null, timestamp: false }, { write: (s: string) => this.note(s.trimEnd()) });
    if (this.dynamic) {
      this.voterIds = Array.from({ length: voterCount === 3 ? 1 : 3 }, (_, i) => i + 1);
      for (let id = 1; id <= DYNAMIC_POOL; id++) this.nodes.push({ id, voter: id <= this.voterIds.length, log: new MemoryReplicatedLog(), store: new MemoryQuorumStateStore(), stopping: false });
    } else {
      this.voterIds = Array.from({ length: voterCount }, (_, i) => i + 1);
      const observerId = voterCount + 1;
      for (const id of [...this.voterIds, observerId]) {
        this.nodes.push({ id, voter: id !== observerId, log: new MemoryReplicatedLog(), store: new MemoryQuorumStateStore(), stopping: false });
      }
    }
    this.currentVoters = [...this.voterIds];
  }

  note(line: string): void {
    this.trace.note(line);
  }

  private boot(node: SimNode): void {
    const sched = new NodeScheduler(this.clock);
    const record = this.checker.newLife(node.id);
    const random = this.prng.fork();
    const client = new RaftClient({
      nodeId: node.id,
      voters: this.dynamic ? [] : this.voterIds,
      directoryId: simDirectoryId(node.id),
      bootstrapServers: this.dynamic ? this.voterIds : [],
      log: node.log,
      stateStore: node.store,
      logger: this.logger.child({ node: node.id }),
      scheduler: sched,
      random: () => random.next(),
      transport: this.net.transportFor(node.id, sched),
      config: SIM_RAFT_CONFIG,
      clusterId: 'sim',
    });
    let state = new Map<bigint, string>();
    let sinceSnapshot = 0;
    client.register({
      handleCommit: (batch) => {
        for (const r of batch.records) {
          this.guard(() => this.checker.onDelivered(record, r.offset, r.value.toString()));
          state.set(r.offset, r.value.toString());
        }
        sinceSnapshot += batch.records.length;
        if (sinceSnapshot < this.snapshotEvery) return;
        sinceSnapshot = 0;
        const id = { endOffset: batch.lastOffset + 1n, epoch: batch.epoch };
        const entries = [...state].map(([o, v]) => Buffer.from(`${o}=${v}`));
        // After this listener returns, once the batch counts as delivered.
        void Promise.resolve().then(() => {
          if (node.life?.client !== client) return;
          client.createSnapshot(id, entries, batch.timestamp).then(
            (written) => written && this.note(`SNAPSHOT node ${node.id} at ${id.endOffset}-${id.epoch} (log start ${node.log.startOffset()})`),
            (err: unknown) => (this.failure ??= err),
          );
        });
      },
      handleLoadSnapshot: (snapshot) => {
        state = new Map(
          snapshot.records.map((b) => {
            const text = b.toString();
            const eq = text.indexOf('=');
            return [BigInt(text.slice(0, eq)), text.slice(eq + 1)] as const;
          }),
        );
        sinceSnapshot = 0;
        this.note(`LOAD SNAPSHOT node ${node.id} ${snapshot.id.endOffset}-${snapshot.id.epoch} (${state.size} entries)`);
        this.guard(() => this.checker.onSnapshotLoaded(record, snapshot.id.endOffset, state));
      },
    });
    this.clients.push(client);
    node.life = { client, sched, record };
    this.net.attach(node.id, { client, life: sched });
    this.clock.watch({ unit: 'sim' }, client.start());
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.failure ??= err;
    }
  }

  private crash(node: SimNode): void {
    const life = node.life;
    if (!life) return;
    this.note(`CRASH node ${node.id} (log end ${node.log.endOffset()}, hw ${life.client.hw})`);
    life.sched.kill();
    node.log.crash();
    node.life = undefined;
    node.stopping = false;
    this.net.attach(node.id, undefined);
  }

  private restart(node: SimNode): void {
    this.note(`RESTART node ${node.id} (log end ${node.log.endOffset()})`);
    this.boot(node);
    this.startedOutsideTimer = true;
  }

  private shutdown(node: SimNode): void {
    const life = node.life;
    if (!life || node.stopping) return;
    this.note(`SHUTDOWN node ${node.id} (${life.client.role}, epoch ${life.client.currentEpoch})`);
    node.stopping = true;
    life.client.close().then(
      () => {
        if (node.life !== life) return;
        this.note(`STOPPED node ${node.id}`);
        life.sched.kill();
        node.life = undefined;
        node.stopping = false;
        this.net.attach(node.id, undefined);
      },
      (err: unknown) => (this.failure ??= err),
    );
  }

  private up(): SimNode[] {
    return this.nodes.filter((n) => n.life && !n.stopping);
  }

  private upVoters(): number {
    return this.nodes.filter((n) => this.currentVoters.includes(n.id) && n.life).length;
  }

  /** Adds a random non-voter or removes a random voter through the leader (dynamic quorums). */
  private changeVoters(): void {
    const leader = this.leaders()[0]?.life?.client;
    if (!leader) return;
    const set = leader.voterSet.map((v) => v.id);
    const outside = this.nodes.filter((n) => !set.includes(n.id)).map((n) => n.id);
    const add = outside.length > 0 && (set.length <= 1 || this.prng.chance(0.5));
    const id = add ? this.prng.pick(outside) : this.prng.pick(set);
    this.note(`${add ? 'ADD' : 'REMOVE'} VOTER ${id} via leader ${leader.nodeId} (voters ${set.join(',')})`);
    const change = add ? leader.voterChanges.addVoter(simVoter(id), 1000) : leader.voterChanges.removeVoter(id, simDirectoryId(id), 1000);
    change.then(
      (r) => {
        this.note(`${add ? 'ADD' : 'REMOVE'} VOTER ${id}: error ${r.errorCode}${r.errorMessage ? ` (${r.errorMessage})` : ''}`);
        if (r.errorCode !== 0) return;
        if (add) this.votersAdded++;
        else this.votersRemoved++;
      },
      (err: unknown) => (this.failure ??= err),
    );
  }

  private leaders(): SimNode[] {
    return this.nodes.filter((n) => n.life?.client.isLeader);
  }

  private append(): void {
    const leaders = this.leaders();
    if (leaders.length === 0) return;
    const node = this.prng.pick(leaders);
    const value = `s${this.opts.seed}-${this.appends++}`;
    node.life!.client.append([Buffer.from(value)]).then(
      (offset) => this.guard(() => this.checker.onAcked(offset, value)),
      () => undefined,
    );
  }

  private fault(): void {
    const r = this.prng.next();
    const majority = Math.floor(this.currentVoters.length / 2) + 1;
    const mayLoseVoter = this.upVoters() - 1 >= majority || this.prng.chance(0.1);
    const down = this.nodes.filter((n) => !n.life);
    if (r < 0.2) {
      const candidates = this.up().filter((n) => !this.currentVoters.includes(n.id) || mayLoseVoter);
      if (candidates.length > 0) this.crash(this.prng.pick(candidates));
    } else if (r < 0.4) {
      if (down.length > 0) this.restart(this.prng.pick(down));
    } else if (r < 0.5) {
      const leader = this.leaders()[0];
      if (leader && mayLoseVoter) this.shutdown(leader);
    } else if (r < 0.65) {
      const ids = this.nodes.map((n) => n.id);
      if (this.prng.chance(0.5)) {
        const alone = this.prng.pick(ids);
        this.net.partition([[alone], ids.filter((i) => i !== alone)]);
        this.note(`PARTITION ${alone} | rest`);
      } else {
        const a = ids.filter(() => this.prng.chance(0.5));
        this.net.partition([a, ids.filter((i) => !a.includes(i))]);
        this.note(`PARTITION ${a.join(',')} | rest`);
      }
    } else if (r < 0.85) {
      this.net.heal();
      this.note('HEAL');
    } else {
      this.net.lossRate = this.prng.pick([0, 0, 0.01, 0.05, 0.2]);
      this.note(`LOSS ${this.net.lossRate}`);
    }
  }

  /** Schedules `fn` again and again at random intervals averaging `meanMs`, until `until`. */
  private recurring(meanMs: number, until: number, fn: () => void): void {
    const next = (): void => {
      const delay = -Math.log(1 - this.prng.next()) * meanMs;
      if (this.clock.now() + delay >= until) return;
      this.clock.schedule(delay, { unit: 'sim' }, () => {
        fn();
        next();
      });
    };
    next();
  }

  /** Fires the next timer, lets everything settle, checks the invariants. */
  private async step(): Promise<boolean> {
    // Work started outside a timer (a restart) must schedule its timers before the clock moves.
    if (this.startedOutsideTimer) {
      this.startedOutsideTimer = false;
      await drain();
    }
    const next = this.clock.nextDeadline();
    if (next === undefined) return false;
    this.clock.advance(Math.max(0, next - this.clock.now()));
    if (this.clock.nextDeadline() === next) this.clock.advance(1e-6);
    await drain();
    this.events++;
    await this.checkAll();
    return true;
  }

  private async checkAll(): Promise<void> {
    if (this.failure) throw this.failure;
    const leader = this.leaders()[0]?.life?.client;
    if (leader) this.currentVoters = leader.voters.slice();
    if (this.clock.failures.length > 0) {
      const f = this.clock.failures[0]!;
      throw new InvariantError(`contained failure in ${f.scope.unit} ${JSON.stringify(f.scope.context ?? {})}: ${(f.err as Error)?.stack ?? String(f.err)}`);
    }
    for (const n of this.nodes) {
      if (!n.life) continue;
      this.checker.checkNode(n.life.record, n.life.client, n.log);
      await this.checker.checkLog(n.life.record, n.life.client, n.log);
    }
  }

  private async runUntil(t: number, done: () => boolean = () => false): Promise<void> {
    while (this.clock.now() < t && !done()) {
      if (!(await this.step())) this.clock.advance(t - this.clock.now());
    }
  }

  /** The stable end state: one leader, every live voter and observer following it, all caught up. */
  private converged(target: bigint): boolean {
    const leaders = this.leaders();
    if (leaders.length !== 1) return false;
    const leader = leaders[0]!.life!.client;
    if (leader.hw < target) return false;
    return this.nodes.every((n) => {
      const c = n.life?.client;
      if (!c) return true;
      return c.currentEpoch === leader.currentEpoch && c.currentLeader === leader.nodeId && c.hw === leader.hw && c.logEndOffset() === leader.logEndOffset();
    });
  }

  async run(): Promise<SimResult> {
    const duration = this.opts.durationMs ?? 10_000;
    const cfg = SIM_RAFT_CONFIG as RaftConfig;
    try {
      if (this.dynamic) {
        this.note(`SEED ${this.opts.seed}: dynamic quorum, initial voters ${this.voterIds.join(',')} of nodes 1-${DYNAMIC_POOL}`);
        // --initial-controllers formats the initial voters with a bootstrap checkpoint; the others start empty.
        const bootstrap = { endOffset: 0n, epoch: 0 };
        for (const n of this.nodes) if (n.voter) await n.log.snapshots.write(bootstrap, encodeSnapshot(bootstrap, [], 0, this.voterIds.map(simVoter)));
      } else {
        this.note(`SEED ${this.opts.seed}: ${this.voterIds.length} voters, observer ${this.nodes.at(-1)!.id}`);
      }
      for (const n of this.nodes) this.boot(n);
      await drain();
      this.recurring(60, duration, () => this.append());
      this.recurring(700, duration, () => this.fault());
      if (this.dynamic) this.recurring(400, duration, () => this.changeVoters());
      await this.runUntil(duration);

      // Healing: whole network, no loss, every node back; the quorum must settle.
      this.net.heal();
      this.net.lossRate = 0;
      for (const n of this.nodes) if (!n.life) this.restart(n);
      this.note('HEAL ALL');
      const healedAt = this.clock.now();
      // Nodes still shutting down finish (bounded by shutdownTimeoutMs), then come back.
      await this.runUntil(healedAt + cfg.shutdownTimeoutMs + 1, () => this.nodes.every((n) => !n.stopping));
      for (const n of this.nodes) if (!n.life) this.restart(n);
      const electionBound = cfg.shutdownTimeoutMs + cfg.fetchTimeoutMs * 2 + 10 * (2 * cfg.electionTimeoutMs + cfg.electionBackoffMaxMs);
      await this.runUntil(healedAt + electionBound, () => this.leaders().length === 1 && this.up().every((n) => n.life!.client.currentLeader === this.leaders()[0]!.id));
      if (this.leaders().length !== 1) {
        this.noteStates();
        throw new InvariantError(`no single leader ${electionBound} ms after healing`);
      }
      // One more append commits in the final epoch, carrying everything before it to everyone.
      let finalOffset = -1n;
      let finalPending = false;
      const tryFinal = (): void => {
        const leader = this.leaders()[0];
        if (!leader || finalPending || finalOffset >= 0n) return;
        finalPending = true;
        const value = `s${this.opts.seed}-final`;
        leader.life!.client.append([Buffer.from(value)]).then(
          (o) => {
            finalOffset = o;
            this.guard(() => this.checker.onAcked(o, value));
          },
          () => (finalPending = false),
        );
      };
      const settleBound = this.clock.now() + 10_000;
      await this.runUntil(settleBound, () => {
        tryFinal();
        return finalOffset >= 0n && this.converged(finalOffset + 1n);
      });
      if (!this.converged(finalOffset + 1n) || finalOffset < 0n) {
        this.noteStates();
        throw new InvariantError('the quorum did not converge within 10 s after a leader was elected');
      }
      await this.finalChecks();
    } catch (err) {
      return this.result(false, err instanceof Error ? err.message : String(err));
    }
    return this.result(true);
  }

  /** Each node's replica state, for the trace of a liveness failure. */
  private noteStates(): void {
    for (const n of this.nodes) {
      const c = n.life?.client;
      if (!c) {
        this.note(`STATE node ${n.id}: down (log end ${n.log.endOffset()})`);
        continue;
      }
      const sets = c.controlLog.history.describe();
      this.note(`STATE node ${n.id}: ${c.role} epoch ${c.currentEpoch} leader ${c.currentLeader}, log ${n.log.startOffset()}..${n.log.endOffset()} last epoch ${n.log.lastEpoch()}, hw ${c.hw}, voter sets ${sets}`);
    }
  }

  private async finalChecks(): Promise<void> {
    await this.checkAll();
    for (const n of this.nodes) {
      const life = n.life!;
      const hw = life.client.hw;
      for (const offset of this.checker.committed.keys()) {
        if (offset >= hw) throw new InvariantError(`node ${n.id} high watermark ${hw} is below committed offset ${offset}`);
      }
      // Each life delivers from its snapshot (complete below its end) or offset 0, in order, each
      // value checked: equal counts mean all of it.
      if (life.record.delivered !== this.checker.committed.size) {
        throw new InvariantError(`node ${n.id} delivered ${life.record.delivered} of ${this.checker.committed.size} committed records`);
      }
      if (life.record.checkedTo !== hw) throw new InvariantError(`node ${n.id} log checked to ${life.record.checkedTo}, high watermark ${hw}`);
    }
    for (const [offset, value] of this.checker.acked) {
      if (this.checker.committed.get(offset) !== value) throw new InvariantError(`acknowledged ${value} at ${offset} is not committed`);
    }
  }

  private result(ok: boolean, error?: string): SimResult {
    return {
      seed: this.opts.seed,
      voters: this.voterIds.length,
      dynamic: this.dynamic,
      ok,
      events: this.events,
      messages: this.net.messages,
      committed: this.checker.committed.size,
      acked: this.checker.acked.size,
      leaders: this.checker.leaderCount,
      snapshots: this.clients.reduce((n, c) => n + c.snapshots.created, 0),
      snapshotFetches: this.clients.reduce((n, c) => n + c.snapshots.installed, 0),
      votersAdded: this.votersAdded,
      votersRemoved: this.votersRemoved,
      virtualMs: Math.round(this.clock.now()),
      error,
      trace: this.trace.last(),
    };
  }
}

/** Nodes of a dynamic quorum's pool. */
const DYNAMIC_POOL = 5;

export function simDirectoryId(id: number): string {
  return `simdir${id}`.padEnd(22, 'A');
}

function simVoter(id: number): VoterNode {
  return { id, directoryId: simDirectoryId(id), endpoints: [{ name: 'CONTROLLER', host: `node${id}`, port: 9093 }], minKraftVersion: 0, maxKraftVersion: 1 };
}

export function runSeed(opts: SimOptions): Promise<SimResult> {
  return new Simulation(opts).run();
}

export function formatFailure(r: SimResult): string {
  return [`simulation seed ${r.seed} failed (${r.voters} voters, ${r.events} events, t=${r.virtualMs} ms): ${r.error}`, `replay: SIM_SEED=${r.seed} npx vitest run controller/raft/sim  or  npx tsx controller/raft/sim/main.ts --seed ${r.seed}`, 'last events:', ...r.trace].join('\n');
}
