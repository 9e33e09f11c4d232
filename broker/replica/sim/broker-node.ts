// One simulated broker: the real ReplicaManager (partitions, ISR management, the acks=all
// purgatory, replica fetchers) and the real Fetch, Produce and ListOffsets handlers, over real
// partition logs in a temporary directory, on the virtual clock of one node life. Around them,
// the broker's dealings with the controller: registration (a new incarnation per life),
// heartbeats, controlled shutdown, and the metadata images it is sent, applied in order.
// A crash ends the life at once: nothing it scheduled runs again, and every log is cut back to
// the offset it last fsynced (its recovery point), which is what a power loss leaves of the page
// cache; the checkpoints (high watermark, recovery point) hold what was last written to them.
import type { Logger } from 'pino';
import type { MetadataImage } from '../../../controller/metadata/image.ts';
import { EMPTY_IMAGE } from '../../../controller/metadata/image.ts';
import type { NodeScheduler } from '../../../testing/sim/node-scheduler.ts';
import { ErrorCode } from '../../../protocol/errors.ts';
import { ApiKey, type ApiMessages } from '../../../protocol/generated/api-table.ts';
import type { AlterPartitionRequest } from '../../../protocol/generated/message/alter-partition-request.ts';
import type { AlterPartitionResponse } from '../../../protocol/generated/message/alter-partition-response.ts';
import { Log } from '../../../storage/log.ts';
import { defaultLogConfig, type LogConfig } from '../../../storage/log-config.ts';
import type { BrokerContext } from '../../broker-context.ts';
import { DelayedFetchPurgatory } from '../../fetch/delayed-fetch.ts';
import { FetchSessionCache } from '../../fetch/fetch-session-cache.ts';
import type { ApiHandler, RequestContext } from '../../handlers/api-handler.ts';
import { NO_RESPONSE } from '../../handlers/api-handler.ts';
import { fetchHandler } from '../../handlers/fetch.ts';
import { listOffsetsHandler } from '../../handlers/list-offsets.ts';
import { produceHandler } from '../../handlers/produce.ts';
import type { FetcherConfig } from '../replica-fetcher.ts';
import { partitionKey, ReplicaManager } from '../replica-manager.ts';

/** Timings scaled down from Kafka's defaults by 20, ratios kept. */
export const SIM_TIMINGS = {
  heartbeatMs: 100, // broker.heartbeat.interval.ms 2000
  sessionTimeoutMs: 450, // broker.session.timeout.ms 9000
  replicaLagTimeMaxMs: 1500, // replica.lag.time.max.ms 30000
  controllerRequestTimeoutMs: 300,
  // Registration and heartbeats: Kafka 3.9 times them out at broker.session.timeout.ms / 2
  // (KAFKA-14392), so one lost heartbeat does not expire a session.
  lifecycleRequestTimeoutMs: 225,
  hwCheckpointMs: 250, // replica.high.watermark.checkpoint.interval.ms 5000
  fetcher: { maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20, partitionMaxBytes: 1 << 20, backoffMs: 50, requestTimeoutMs: 1500 } satisfies FetcherConfig,
};

export const MIN_INSYNC_REPLICAS = 2;
export const LISTENER = 'PLAINTEXT';

/** What survives a crash of a broker: its log directory and its checkpoint files. */
export interface BrokerDisk {
  dir: string;
  /** replication-offset-checkpoint, by partition key. */
  highWatermarks: Map<string, number>;
  /** recovery-point-offset-checkpoint, by partition key. */
  recoveryPoints: Map<string, number>;
}

export interface BrokerEnv {
  logger: Logger;
  /** Act on leadership from images before this life's registration (ReplicaManager without awaitRegistration). */
  staleLeadership: boolean;
  random(): number;
  /** Sends a request to the controller over the network; rejects on timeout. */
  toController<T>(life: NodeScheduler, label: string, call: () => T): Promise<T>;
  /** Sends a request to another broker's current life; rejects on timeout. */
  toBroker<K extends ApiKey>(life: NodeScheduler, to: number, apiKey: K, request: ApiMessages[K]['request'], timeoutMs: number): Promise<ApiMessages[K]['response']>;
  register(input: { brokerId: number; incarnationId: string }): { errorCode: number; brokerEpoch: bigint };
  heartbeat(input: { brokerId: number; brokerEpoch: bigint; currentMetadataOffset: bigint; wantFence: boolean; wantShutDown: boolean }): { errorCode: number; isFenced: boolean; shouldShutDown: boolean };
  alterPartition: (req: AlterPartitionRequest) => AlterPartitionResponse;
  /** A failure the simulation must report (a throw where none may happen). */
  fail(err: unknown): void;
  note(line: string): void;
}

const CONFIG: Record<string, unknown> = {
  'max.incremental.fetch.session.cache.slots': 1000,
  'min.incremental.fetch.session.eviction.ms': 120_000,
  'fetch.max.bytes': 55 * 1024 * 1024,
  'log.message.downconversion.enable': true,
  'replica.selector.class': null, // Kafka's default: consumers read from leaders
};

export const SIM_LOG_CONFIG: LogConfig = { ...defaultLogConfig, minInsyncReplicas: MIN_INSYNC_REPLICAS, segmentBytes: 16 * 1024 };

export class BrokerLife {
  readonly rm: ReplicaManager;
  readonly logs = new Map<string, Log>();
  image: MetadataImage = EMPTY_IMAGE;
  brokerEpoch = -1n;
  fenced = true;
  stopping = false;
  stopped = false;
  private applying: Promise<void> = Promise.resolve();
  private readonly handlers: Map<number, ApiHandler>;
  private readonly ctx: BrokerContext;

  constructor(
    readonly id: number,
    readonly incarnation: number,
    readonly sched: NodeScheduler,
    private readonly disk: BrokerDisk,
    private readonly env: BrokerEnv,
  ) {
    const logger = env.logger.child({ broker: id });
    this.rm = new ReplicaManager({
      nodeId: id,
      logger,
      scheduler: sched,
      topicLogConfig: () => SIM_LOG_CONFIG,
      awaitRegistration: !env.staleLeadership,
      logs: {
        getOrCreateLog: async (topic, partition, config) => {
          const key = partitionKey(topic, partition);
          const log = await Log.open({
            dir: `${disk.dir}/${key}`,
            topic,
            partition,
            config,
            logger: logger.child({ topic, partition }),
            clock: sched,
            scheduler: sched,
            random: env.random,
            recoveryPoint: disk.recoveryPoints.get(key) ?? 0,
            highWatermark: disk.highWatermarks.get(key) ?? 0,
          });
          this.logs.set(key, log);
          return log;
        },
        deleteLog: async () => undefined,
      },
    });
    const purgatory = new DelayedFetchPurgatory({ scheduler: sched });
    this.rm.onAppend((p) => purgatory.notify(partitionKey(p.topic, p.partition)));
    const self = this;
    this.ctx = {
      nodeId: id,
      clusterId: 'sim',
      config: { get: (k: string) => CONFIG[k] },
      logger,
      get metadata() {
        return { image: self.image };
      },
      replicaManager: this.rm,
      fetchSessions: new FetchSessionCache({ now: () => sched.now() }),
      fetchPurgatory: purgatory,
      scheduler: sched,
      now: () => sched.now(),
    } as unknown as BrokerContext;
    this.handlers = new Map<number, ApiHandler>([
      [ApiKey.Fetch, fetchHandler(this.ctx) as unknown as ApiHandler],
      [ApiKey.Produce, produceHandler(this.ctx) as unknown as ApiHandler],
      [ApiKey.ListOffsets, listOffsetsHandler(this.ctx) as unknown as ApiHandler],
    ]);
  }

  get alive(): boolean {
    return this.sched.alive && !this.stopped;
  }

  /** Registers, starts replication and heartbeats. */
  start(): void {
    const register = (): Promise<void> =>
      this.env.toController(this.sched, 'BrokerRegistration', () => this.env.register({ brokerId: this.id, incarnationId: `b${this.id}-life${this.incarnation}` })).then(
        async (r) => {
          if (r.errorCode !== ErrorCode.NONE) throw new Error(`registration refused: ${r.errorCode}`);
          this.brokerEpoch = r.brokerEpoch;
          this.env.note(`REGISTERED broker ${this.id} epoch ${r.brokerEpoch}`);
          await this.rm.startReplication({
            alterPartition: (req) => this.env.toController(this.sched, 'AlterPartition', () => this.env.alterPartition(req)),
            brokerEpoch: () => this.brokerEpoch,
            image: () => this.image,
            interBrokerListenerName: LISTENER,
            replicaLagTimeMaxMs: SIM_TIMINGS.replicaLagTimeMaxMs,
            fetcher: SIM_TIMINGS.fetcher,
            reconnectBackoffMs: 50,
            connections: { send: ((to: number, apiKey: ApiKey, request: unknown, options?: { timeoutMs?: number }) => this.sendToBroker(to, apiKey, request, options?.timeoutMs)) as never },
          });
          this.sched.every(SIM_TIMINGS.heartbeatMs, { unit: 'sim-broker', context: { task: 'heartbeat' } }, () => this.heartbeat());
          this.sched.every(SIM_TIMINGS.hwCheckpointMs, { unit: 'sim-broker', context: { task: 'hw-checkpoint' } }, () => this.checkpointHighWatermarks());
        },
        // Lost or timed out: ask again.
        () => register(),
      );
    this.sched.watch({ unit: 'sim-broker', context: { task: 'register' } }, register());
  }

  /** Requests to other brokers in flight; closing the connections fails them, as NodeConnections.close does. */
  private readonly inFlight = new Set<(err: Error) => void>();
  private connectionsClosed = false;

  private sendToBroker(to: number, apiKey: ApiKey, request: unknown, timeoutMs = SIM_TIMINGS.fetcher.requestTimeoutMs): Promise<unknown> {
    if (this.connectionsClosed) return Promise.reject(new Error('broker connections are closed'));
    return new Promise((resolve, reject) => {
      this.inFlight.add(reject);
      this.env.toBroker(this.sched, to, apiKey, request as never, timeoutMs).then(resolve, reject).finally(() => this.inFlight.delete(reject));
    });
  }

  private closeConnections(): void {
    this.connectionsClosed = true;
    for (const reject of [...this.inFlight]) reject(new Error('broker connections are closed'));
    this.inFlight.clear();
  }

  private heartbeat(): Promise<void> {
    const input = { brokerId: this.id, brokerEpoch: this.brokerEpoch, currentMetadataOffset: this.image.offset, wantFence: false, wantShutDown: this.stopping };
    return this.env.toController(this.sched, 'BrokerHeartbeat', () => this.env.heartbeat(input)).then(
      (r) => {
        if (r.errorCode !== ErrorCode.NONE) return;
        if (this.fenced !== r.isFenced) this.env.note(`broker ${this.id} ${r.isFenced ? 'fenced' : 'unfenced'}`);
        this.fenced = r.isFenced;
        if (r.shouldShutDown && this.stopping) void this.finishShutdown();
      },
      () => undefined,
    );
  }

  private checkpointHighWatermarks(): void {
    for (const p of this.rm.allPartitions()) this.disk.highWatermarks.set(partitionKey(p.topic, p.partition), p.log.highWatermark);
  }

  /** A newer image arrived from the controller: applied after the ones before it. */
  receiveImage(image: MetadataImage): void {
    if (image.offset <= this.image.offset || !this.alive) return;
    this.image = image;
    const work = this.applying.then(() => (this.sched.alive ? this.rm.applyImage(image) : undefined));
    this.applying = work.catch(() => undefined);
    this.sched.watch({ unit: 'sim-broker', context: { task: 'apply-image', offset: String(image.offset) } }, work);
  }

  /** Serves a request that reached this life. */
  async serve(apiKey: ApiKey, request: unknown): Promise<unknown> {
    const handler = this.handlers.get(apiKey);
    if (!handler) throw new Error(`no handler for api ${apiKey}`);
    const version = apiKey === ApiKey.Fetch ? 16 : apiKey === ApiKey.Produce ? 9 : 7;
    const rc: RequestContext = { apiKey, apiVersion: version, correlationId: 0, clientId: 'sim', clientAddress: 'sim', listenerName: LISTENER, logger: this.ctx.logger };
    const r = await handler.handle(request as never, rc);
    if (r === NO_RESPONSE) throw new Error('no response');
    return r;
  }

  /** Periodic fsync of every log (the OS writing back; the crash model keeps only this). */
  async flushAll(): Promise<void> {
    for (const [key, log] of this.logs) {
      if (log.isClosed) continue;
      await log.flush();
      this.disk.recoveryPoints.set(key, log.recoveryPoint);
    }
  }

  /** Controlled shutdown: ask the controller to move leaderships away, then stop cleanly. */
  beginShutdown(): void {
    this.stopping = true;
    // Without an answer in time (controller unreachable) the broker stops anyway, as Kafka's does.
    this.sched.schedule(SIM_TIMINGS.sessionTimeoutMs * 2, { unit: 'sim-broker', context: { task: 'shutdown-timeout' } }, () => this.finishShutdown());
  }

  private shutdownDone: Promise<void> | undefined;
  onStopped: (() => void) | undefined;

  finishShutdown(): Promise<void> {
    this.shutdownDone ??= (async () => {
      this.env.note(`STOPPING broker ${this.id}`);
      await this.applying;
      this.env.note(`STOPPING broker ${this.id}: images applied`);
      // The replica manager closes its connections to cut fetches in flight short; these are they.
      this.closeConnections();
      await this.rm.close();
      this.env.note(`STOPPING broker ${this.id}: replica manager closed`);
      for (const [key, log] of this.logs) {
        await log.close();
        this.env.note(`STOPPING broker ${this.id}: ${key} closed`);
        this.disk.recoveryPoints.set(key, log.recoveryPoint);
        this.disk.highWatermarks.set(key, log.highWatermark);
      }
      this.stopped = true;
      this.sched.kill();
      this.onStopped?.();
    })().catch((err: unknown) => this.env.fail(err));
    return this.shutdownDone;
  }

  /** Power loss: nothing of this life runs again; every log keeps what it fsynced. */
  async crash(): Promise<void> {
    this.sched.kill();
    this.stopped = true;
    // Both are queued at once, so no append of the dead life lands between them.
    const work: Promise<unknown>[] = [];
    for (const log of this.logs.values()) {
      if (log.isClosed) continue;
      work.push(log.truncateTo(log.recoveryPoint).catch(() => undefined), log.closeHandles());
    }
    await Promise.all(work);
  }
}
