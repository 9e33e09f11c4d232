// A deterministic simulation of partition replication in one process, driven by one seed:
// three brokers running the real replica code (broker-node.ts) over real logs in a temporary
// directory, the real controller logic for partitions (controller-model.ts), a producer, and a
// lossy, reordering network whose links can be cut (sim-network.ts), all on one virtual clock
// (ManualScheduler) with file I/O serialized in call order (disk.ts). Faults arrive at random
// times: crash (unflushed data lost) and restart, controlled shutdown, one broker cut off, a
// leader cut off from its followers (and maybe the controller) but not from the producer,
// message loss. One fault at a time: a new one starts only when every broker is up, the network
// whole and lossless, and every partition's ISR full again. The driver fires one timer at a time,
// lets everything settle, and checks the invariants (invariants.ts). At the end the faults
// heal; every partition must then take an acks=all write and reach a full ISR with every
// replica equal, within a bound of virtual time.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import { MetadataRecordType } from '../../../protocol/generated/metadata-records.ts';
import { record } from '../../../controller/metadata/record-serde.ts';
import type { MetadataImage } from '../../../controller/metadata/image.ts';
import { NodeScheduler } from '../../../testing/sim/node-scheduler.ts';
import { Prng } from '../../../testing/sim/prng.ts';
import { SimTrace } from '../../../testing/sim/trace.ts';
import { ErrorCode } from '../../../protocol/errors.ts';
import { ApiKey, type ApiMessages } from '../../../protocol/generated/api-table.ts';
import type { ProduceResponse } from '../../../protocol/generated/message/produce-response.ts';
import type { ProduceRequest } from '../../../protocol/generated/message/produce-request.ts';
import { encodeRecordBatch } from '../../../protocol/records/record-batch.ts';
import { ManualScheduler } from '../../../protocol/scheduler.ts';
import { partitionKey } from '../replica-manager.ts';
import { BrokerLife, type BrokerDisk, type BrokerEnv, LISTENER, MIN_INSYNC_REPLICAS, SIM_TIMINGS } from './broker-node.ts';
import { CONTROLLER_ID, ControllerModel } from './controller-model.ts';
import { diskIdle, installDiskSerializer, uninstallDiskSerializer } from './disk.ts';
import { InvariantError, ReplicaInvariants } from './invariants.ts';
import { SimNetwork } from './sim-network.ts';

export interface SimOptions {
  seed: number;
  /** Virtual time of the faulty part of the run. */
  durationMs?: number;
  traceLines?: number;
  verbose?: boolean;
  /** Brokers act on leadership before their registration is in their image (no awaitRegistration). */
  staleLeadership?: boolean;
  /** Where the brokers' log directories go (a fresh temporary directory by default). */
  baseDir?: string;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  events: number;
  messages: number;
  produced: number;
  acked: number;
  committed: number;
  faults: number;
  crashes: number;
  virtualMs: number;
  /** Virtual time from healing to a converged cluster. */
  convergeMs: number;
  error?: string;
  trace: string[];
}

export const TOPIC = 'sim';
const TOPIC_ID = 'c2ltdWxhdGlvbi10b3BpYw';
export const PARTITIONS = 3;
const BROKERS = [1, 2, 3];
const PRODUCER_ID = 100;
const SCOPE = { unit: 'sim' };
/** After healing: every partition leads with a full ISR, takes a write and converges within this. */
export const CONVERGE_BOUND_MS = 20_000;

interface SimBroker {
  id: number;
  disk: BrokerDisk;
  life?: BrokerLife;
  lives: number;
  crashes: number;
  /** Log end offsets by partition when a controlled shutdown stopped the broker (closed clean, so on disk); until it boots again. */
  stoppedEnds?: Map<string, number>;
  /** Periodic fsync interval of this broker (drawn per seed). */
  flushEveryMs: number;
}

type Failure = { kind: 'crash' | 'shutdown' | 'isolated' | 'cut-leader' | 'loss'; broker: number };

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** libuv work still in flight (file requests, including closes the serializer does not see). */
function ioInFlight(): boolean {
  return process.getActiveResourcesInfo().some((r) => r.endsWith('Req') || r.startsWith('FSReq'));
}

/** Lets every promise and file operation settle. */
async function settle(): Promise<void> {
  for (let quiet = 0; quiet < 2; ) {
    await tick();
    quiet = diskIdle() && !ioInFlight() ? quiet + 1 : 0;
  }
}

export class Simulation {
  readonly prng: Prng;
  readonly clock = new ManualScheduler({ startMs: 0 });
  readonly net: SimNetwork;
  readonly controller: ControllerModel;
  readonly checker = new ReplicaInvariants(PARTITIONS);
  private readonly controllerLife: NodeScheduler;
  private readonly producerLife: NodeScheduler;
  private producerImage: MetadataImage | undefined;
  private readonly brokers: SimBroker[];
  private readonly trace: SimTrace;
  private readonly logger: Logger;
  private readonly baseDir: string;
  private failure: unknown;
  private failed: Failure | undefined;
  private events = 0;
  private produced = 0;
  private faults = 0;
  private startedOutsideTimer = false;
  private producing = true;
  private readonly random: Prng;

  constructor(private readonly opts: SimOptions) {
    this.prng = new Prng(opts.seed);
    this.trace = new SimTrace(this.clock, opts.traceLines ?? 100, opts.verbose);
    this.random = this.prng.fork();
    this.net = new SimNetwork(this.clock, this.prng.fork(), { minMs: 0.5, maxMs: 10 }, (l) => this.note(l));
    this.logger = pino({ level: 'info', base: null, timestamp: false }, { write: (s: string) => this.note(s.trimEnd()) });
    this.controllerLife = new NodeScheduler(this.clock);
    this.producerLife = new NodeScheduler(this.clock);
    this.net.attach(CONTROLLER_ID, this.controllerLife);
    this.net.attach(PRODUCER_ID, this.producerLife);
    this.controller = new ControllerModel(this.clock, SIM_TIMINGS.sessionTimeoutMs, (l) => this.note(l));
    this.baseDir = opts.baseDir ?? fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'samsa-replica-sim-'));
    this.brokers = BROKERS.map((id) => ({
      id,
      disk: { dir: path.join(this.baseDir, `broker-${id}`), highWatermarks: new Map(), recoveryPoints: new Map() },
      lives: 0,
      crashes: 0,
      flushEveryMs: this.prng.pick([100, 300, 1000, 5000]),
    }));
    this.controller.onCommit((image) => {
      for (const t of image.topicsById.values()) for (const p of t.partitions) this.guard(() => this.checker.onControllerEpoch(p.partition, p.leaderEpoch));
      for (const id of [...BROKERS, PRODUCER_ID]) this.pushImage(id, image);
    });
  }

  note(line: string): void {
    this.trace.note(line);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.failure ??= err;
    }
  }

  // ---- metadata delivery ---------------------------------------------------------------------

  /** The controller sends `image` to `node` (delayed, lossy, cut links drop it). */
  private pushImage(node: number, image: MetadataImage): void {
    this.net.send(CONTROLLER_ID, this.controllerLife, node, `metadata@${image.offset}`, () => {
      if (node === PRODUCER_ID) {
        if (!this.producerImage || image.offset > this.producerImage.offset) this.producerImage = image;
      } else {
        this.brokers[node - 1]!.life?.receiveImage(image);
      }
    });
  }

  /** Brokers fetch metadata continually; a lost push is made up by the next one. */
  private repushImages(): void {
    const image = this.controller.image;
    for (const b of this.brokers) if (b.life && b.life.image.offset < image.offset) this.pushImage(b.id, image);
    if (!this.producerImage || this.producerImage.offset < image.offset) this.pushImage(PRODUCER_ID, image);
  }

  // ---- brokers -----------------------------------------------------------------------------

  private env(id: number): BrokerEnv {
    return {
      logger: this.logger,
      staleLeadership: this.opts.staleLeadership === true,
      random: () => this.random.next(),
      toController: <T>(life: NodeScheduler, label: string, call: () => T) =>
        this.net.request(id, life, CONTROLLER_ID, label, label === 'AlterPartition' ? SIM_TIMINGS.controllerRequestTimeoutMs : SIM_TIMINGS.lifecycleRequestTimeoutMs, async () => call()),
      toBroker: <K extends ApiKey>(life: NodeScheduler, to: number, apiKey: K, request: ApiMessages[K]['request'], timeoutMs: number) =>
        this.net.request(id, life, to, `api${apiKey}`, timeoutMs, (dest) => this.serveOn(to, dest, apiKey, request)) as Promise<ApiMessages[K]['response']>,
      register: (input) => this.controller.registerBroker({ ...input, endpoints: [{ name: LISTENER, host: `broker-${input.brokerId}`, port: 9092, securityProtocol: 0 }], rack: null, logDirs: [], features: [] }),
      heartbeat: (input) => this.controller.brokerHeartbeat(input),
      alterPartition: (req) => this.controller.alterPartition(req),
      fail: (err) => (this.failure ??= err),
      note: (l) => this.note(l),
    };
  }

  /** A request that reached broker `id`: served by the life it arrived at. */
  private async serveOn(id: number, dest: NodeScheduler, apiKey: ApiKey, request: unknown): Promise<unknown> {
    const life = this.brokers[id - 1]!.life;
    if (!life || life.sched !== dest || !life.alive) return new Promise(() => undefined);
    if (apiKey !== ApiKey.Produce) return life.serve(apiKey, request);
    const crashesBefore = this.brokers.map((b) => b.crashes);
    const response = (await life.serve(apiKey, request)) as ProduceResponse;
    const req = request as ProduceRequest;
    if (req.acks === -1) this.guard(() => this.checkAcksAll(id, req, response, crashesBefore));
    return response;
  }

  /** An acks=all answer of NONE: at least min.insync.replicas brokers hold the write (or crashed since). */
  private checkAcksAll(leader: number, req: ProduceRequest, response: ProduceResponse, crashesBefore: number[]): void {
    const pr = response.responses[0]?.partitionResponses[0];
    const partition = req.topicData[0]!.partitionData[0]!.index;
    if (!pr || pr.errorCode !== ErrorCode.NONE) return;
    const count = (req.topicData[0]!.partitionData[0]!.records as Buffer).readInt32BE(57);
    const last = Number(pr.baseOffset) + count - 1;
    let holders = 0;
    for (const b of this.brokers) {
      const log = b.life?.alive ? b.life.logs.get(partitionKey(TOPIC, partition)) : undefined;
      // A broker stopped by a controlled shutdown closed its logs clean: what they held is on its disk.
      const stoppedEnd = b.life ? undefined : b.stoppedEnds?.get(partitionKey(TOPIC, partition));
      if ((log && !log.isClosed && log.logEndOffset > last) || b.crashes > crashesBefore[b.id - 1]! || (stoppedEnd !== undefined && stoppedEnd > last)) holders++;
    }
    if (holders < MIN_INSYNC_REPLICAS) throw new InvariantError(`broker ${leader} acknowledged offsets ${pr.baseOffset}-${last} of partition ${partition} with acks=all held by ${holders} replica(s)`);
  }

  private boot(b: SimBroker): void {
    const sched = new NodeScheduler(this.clock);
    b.lives++;
    b.stoppedEnds = undefined;
    const life = new BrokerLife(b.id, b.lives, sched, b.disk, this.env(b.id));
    b.life = life;
    this.net.attach(b.id, sched);
    life.start();
    life.receiveImage(this.controller.image);
    sched.every(b.flushEveryMs, { unit: 'sim-broker', context: { broker: b.id, task: 'flush' } }, () => life.flushAll());
    life.onStopped = () => {
      if (b.life !== life) return;
      this.note(`STOPPED broker ${b.id}`);
      b.stoppedEnds = new Map([...life.logs].map(([k, l]) => [k, l.logEndOffset]));
      b.life = undefined;
      this.net.attach(b.id, undefined);
    };
    this.startedOutsideTimer = true;
  }

  private crash(b: SimBroker): void {
    const life = b.life;
    if (!life) return;
    const ends = [...life.logs].map(([k, l]) => `${k}: end ${l.logEndOffset} hw ${l.highWatermark} flushed ${l.recoveryPoint}`);
    this.note(`CRASH broker ${b.id} (${ends.join('; ')})`);
    b.crashes++;
    b.life = undefined;
    this.net.attach(b.id, undefined);
    this.clock.watch(SCOPE, life.crash());
  }

  private restart(b: SimBroker): void {
    this.note(`RESTART broker ${b.id}`);
    this.boot(b);
  }

  // ---- producer ----------------------------------------------------------------------------

  private produce(partition: number, acks: number, onAcked?: () => void): void {
    const p = this.producerImage?.topicsByName.get(TOPIC)?.partitions[partition];
    if (!p || p.leader < 0) return;
    const n = this.prng.int(1, 3);
    const values = Array.from({ length: n }, (_, i) => `s${this.opts.seed}-p${partition}-${this.produced}-${i}`);
    this.produced++;
    const records = encodeRecordBatch({ baseTimestamp: BigInt(Math.floor(this.clock.now())), records: values.map((v, i) => ({ timestampDelta: 0, offsetDelta: i, key: null, value: Buffer.from(v) })) });
    const request = { transactionalId: null, acks, timeoutMs: 1500, topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }] };
    this.net.request(PRODUCER_ID, this.producerLife, p.leader, `produce p${partition} acks=${acks}`, 3000, (dest) => this.serveOn(p.leader, dest, ApiKey.Produce, request)).then(
      (r) => {
        const pr = (r as ProduceResponse).responses[0]?.partitionResponses[0];
        if (!pr) return;
        this.note(`ACK p${partition} acks=${acks} from ${p.leader}: error ${pr.errorCode} offset ${pr.baseOffset} [${values.join(',')}]`);
        if (pr.errorCode !== ErrorCode.NONE || acks !== -1) return;
        this.guard(() => this.checker.onAcked(partition, Number(pr.baseOffset), values));
        onAcked?.();
      },
      () => undefined,
    );
  }

  // ---- faults ------------------------------------------------------------------------------

  /** Every broker up and in every ISR: a new fault may begin (one failed broker at a time). */
  private healthy(): boolean {
    if (this.failed || !this.net.whole) return false;
    if (this.brokers.some((b) => !b.life || b.life.stopping)) return false;
    const t = this.controller.image.topicsByName.get(TOPIC);
    return t !== undefined && t.partitions.every((p) => p.isr.length === BROKERS.length && p.leader >= 0);
  }

  private fault(): void {
    const r = this.prng.next();
    const f = this.failed;
    if (r < 0.5) {
      if (!this.healthy()) return;
      const b = this.prng.pick(this.brokers);
      const kind = this.prng.pick(['crash', 'crash', 'shutdown', 'isolated', 'cut-leader'] as const);
      this.faults++;
      if (kind === 'crash') this.crash(b);
      else if (kind === 'shutdown') {
        this.note(`SHUTDOWN broker ${b.id}`);
        b.life!.beginShutdown();
      } else if (kind === 'isolated') {
        for (const other of [CONTROLLER_ID, PRODUCER_ID, ...BROKERS]) if (other !== b.id) this.net.cutLink(b.id, other);
        this.note(`ISOLATE broker ${b.id}`);
      } else {
        const leaders = this.controller.image.topicsByName.get(TOPIC)!.partitions.map((p) => p.leader);
        const leader = this.prng.pick(leaders);
        for (const other of BROKERS) if (other !== leader) this.net.cutLink(leader, other);
        const alsoController = this.prng.chance(0.5);
        if (alsoController) this.net.cutLink(leader, CONTROLLER_ID);
        this.note(`CUT leader ${leader} from its followers${alsoController ? ' and the controller' : ''} (producer still reaches it)`);
        this.failed = { kind, broker: leader };
        return;
      }
      this.failed = { kind, broker: b.id };
    } else if (r < 0.8) {
      if (!f) return;
      if (f.kind === 'loss') {
        this.net.lossRate = 0;
        this.note('LOSS 0');
        this.failed = undefined;
        return;
      }
      const b = this.brokers[f.broker - 1]!;
      if (f.kind === 'crash' || f.kind === 'shutdown') {
        if (b.life) return; // still shutting down
        this.restart(b);
      } else {
        this.net.heal();
        this.note('HEAL');
      }
      this.failed = undefined;
    } else {
      // Loss is a fault of its own: enough of it expires sessions, and the controller then fences
      // live brokers, a failure of several at once (seed 159 of the first fault model: a leader
      // crashed losing its unflushed tail, loss fenced both followers, the ISR shrank to the
      // crashed leader alone and it came back leading without what they had committed).
      if (!this.healthy()) return;
      this.faults++;
      this.net.lossRate = this.prng.pick([0.01, 0.05, 0.2]);
      this.failed = { kind: 'loss', broker: 0 };
      this.note(`LOSS ${this.net.lossRate}`);
    }
  }

  /** Schedules `fn` at random intervals averaging `meanMs`, until `until`. */
  private recurring(meanMs: number, until: () => number, fn: () => void): void {
    const next = (): void => {
      const delay = -Math.log(1 - this.prng.next()) * meanMs;
      if (this.clock.now() + delay >= until()) return;
      this.clock.schedule(delay, SCOPE, () => {
        fn();
        next();
      });
    };
    next();
  }

  // ---- driver ------------------------------------------------------------------------------

  private async step(): Promise<boolean> {
    if (this.startedOutsideTimer) {
      this.startedOutsideTimer = false;
      await settle();
    }
    const next = this.clock.nextDeadline();
    if (next === undefined) return false;
    this.clock.advance(Math.max(0, next - this.clock.now()));
    await settle();
    this.events++;
    await this.checkAll();
    return true;
  }

  private async checkAll(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.clock.failures.length > 0) {
      const f = this.clock.failures[0]!;
      throw new InvariantError(`contained failure in ${f.scope.unit} ${JSON.stringify(f.scope.context ?? {})}: ${(f.err as Error)?.stack ?? String(f.err)}`);
    }
    for (const b of this.brokers) {
      const life = b.life;
      if (!life || !life.alive) continue;
      for (const p of life.rm.allPartitions()) {
        this.checker.onBrokerEpoch(b.id, p.partition, p.leaderEpoch);
        if (!p.log.isClosed) await this.checker.checkLog(b.id, p.partition, p.log);
      }
    }
  }

  private async runUntil(t: number, done: () => boolean = () => false): Promise<void> {
    while (this.clock.now() < t && !done()) {
      if (!(await this.step())) this.clock.advance(t - this.clock.now());
    }
  }

  /** Every partition: a leader, a full ISR, every broker following that epoch, every replica equal and committed. */
  private converged(): boolean {
    const t = this.controller.image.topicsByName.get(TOPIC);
    if (!t) return false;
    return t.partitions.every((pi) => {
      if (pi.leader < 0 || pi.isr.length !== BROKERS.length) return false;
      let end = -1;
      for (const b of this.brokers) {
        const p = b.life?.rm.getPartition(TOPIC, pi.partition);
        if (!p || p.leaderEpoch !== pi.leaderEpoch || p.leaderId !== pi.leader) return false;
        if (end < 0) end = p.log.logEndOffset;
        if (p.log.logEndOffset !== end || p.log.highWatermark !== end) return false;
      }
      return this.checker.committedEnd(pi.partition) === end;
    });
  }

  async run(): Promise<SimResult> {
    const duration = this.opts.durationMs ?? 6_000;
    let convergeMs = -1;
    await installDiskSerializer();
    try {
      this.note(`SEED ${this.opts.seed}: flush every ${this.brokers.map((b) => b.flushEveryMs).join('/')} ms`);
      this.clock.every(100, SCOPE, () => this.repushImages());
      this.clock.every(50, SCOPE, () => this.controller.fenceExpired());
      for (const b of this.brokers) this.boot(b);
      await this.runUntil(2_000, () => [...this.controller.image.brokers.values()].filter((b) => !b.fenced).length === BROKERS.length);
      if ([...this.controller.image.brokers.values()].filter((b) => !b.fenced).length !== BROKERS.length) throw new InvariantError('the brokers did not register and unfence within 2 s');
      this.createTopic();
      const start = this.clock.now();
      const faultsEnd = start + duration;
      this.recurring(25, () => (this.producing ? faultsEnd : 0), () => this.produce(this.prng.int(0, PARTITIONS - 1), this.prng.chance(0.85) ? -1 : 1));
      this.recurring(300, () => faultsEnd, () => this.fault());
      await this.runUntil(faultsEnd);

      // Healing: whole network, no loss, every broker back.
      this.producing = false;
      this.net.heal();
      this.net.lossRate = 0;
      this.failed = undefined;
      const healedAt = this.clock.now();
      this.note('HEAL ALL');
      await this.runUntil(healedAt + SIM_TIMINGS.sessionTimeoutMs * 2 + 1, () => this.brokers.every((b) => !b.life?.stopping));
      for (const b of this.brokers) if (!b.life) this.restart(b);
      // Each partition must take an acks=all write after healing (a stall is a failure too).
      const written = new Set<number>();
      this.recurring(
        50,
        () => healedAt + CONVERGE_BOUND_MS,
        () => {
          // A broker whose controlled shutdown ended after the healing began comes back now.
          for (const b of this.brokers) if (!b.life) this.restart(b);
          for (let p = 0; p < PARTITIONS; p++) if (!written.has(p)) this.produce(p, -1, () => written.add(p));
        },
      );
      await this.runUntil(healedAt + CONVERGE_BOUND_MS, () => written.size === PARTITIONS && this.converged());
      if (written.size !== PARTITIONS) throw new InvariantError(`partitions ${[...Array(PARTITIONS).keys()].filter((p) => !written.has(p)).join(',')} took no acks=all write within ${CONVERGE_BOUND_MS} ms of healing`);
      if (!this.converged()) throw new InvariantError(`replicas did not converge (leader, full ISR, equal logs) within ${CONVERGE_BOUND_MS} ms of healing: ${this.describeState()}`);
      convergeMs = Math.round(this.clock.now() - healedAt);
      await this.checkAll();
      this.checker.checkAllAckedCommitted();
    } catch (err) {
      return this.result(false, convergeMs, err instanceof Error ? err.message : String(err));
    } finally {
      await this.close();
    }
    return this.result(true, convergeMs);
  }

  private createTopic(): void {
    const records = [
      record(MetadataRecordType.TopicRecord, { name: TOPIC, topicId: TOPIC_ID }),
      ...Array.from({ length: PARTITIONS }, (_, i) => {
        const replicas = BROKERS.map((_, j) => BROKERS[(i + j) % BROKERS.length]!);
        return record(MetadataRecordType.PartitionRecord, {
          partitionId: i,
          topicId: TOPIC_ID,
          replicas,
          isr: replicas,
          removingReplicas: [],
          addingReplicas: [],
          leader: replicas[0]!,
          leaderRecoveryState: 0,
          leaderEpoch: 0,
          partitionEpoch: 0,
          directories: [],
        });
      }),
    ];
    this.controller.commit(records, 'create topic');
  }

  private describeState(): string {
    const t = this.controller.image.topicsByName.get(TOPIC);
    return (t?.partitions ?? [])
      .map((pi) => {
        const reps = this.brokers.map((b) => {
          const p = b.life?.rm.getPartition(TOPIC, pi.partition);
          return p ? `b${b.id}(epoch ${p.leaderEpoch} end ${p.log.logEndOffset} hw ${p.log.highWatermark})` : `b${b.id}(-)`;
        });
        return `p${pi.partition} leader ${pi.leader} epoch ${pi.leaderEpoch} isr [${pi.isr.join(',')}] ${reps.join(' ')}`;
      })
      .join('; ');
  }

  private async close(): Promise<void> {
    for (const b of this.brokers) {
      const life = b.life;
      b.life = undefined;
      if (life) await life.crash().catch(() => undefined);
    }
    await settle();
    uninstallDiskSerializer();
    if (!this.opts.baseDir) fs.rmSync(this.baseDir, { recursive: true, force: true });
  }

  private result(ok: boolean, convergeMs: number, error?: string): SimResult {
    return {
      seed: this.opts.seed,
      ok,
      events: this.events,
      messages: this.net.messages,
      produced: this.produced,
      acked: this.checker.ackedCount,
      committed: Array.from({ length: PARTITIONS }, (_, p) => this.checker.committedEnd(p)).reduce((a, b) => a + b, 0),
      faults: this.faults,
      crashes: this.brokers.reduce((n, b) => n + b.crashes, 0),
      virtualMs: Math.round(this.clock.now()),
      convergeMs,
      error,
      trace: this.trace.last(),
    };
  }
}

export function runSeed(opts: SimOptions): Promise<SimResult> {
  return new Simulation(opts).run();
}

export function formatFailure(r: SimResult): string {
  return [
    `replication simulation seed ${r.seed} failed (${r.events} events, t=${r.virtualMs} ms): ${r.error}`,
    `replay: SIM_SEED=${r.seed} npx vitest run broker/replica/sim  or  npx tsx broker/replica/sim/main.ts --seed ${r.seed} [--verbose]`,
    'last events:',
    ...r.trace,
  ].join('\n');
}
