// Owns the partitions this broker hosts. Follows the metadata image: opens (or creates) the log
// of every partition placed on this node, tracks leadership, and removes the logs of deleted
// topics. Handlers find partitions here; appends, high watermark moves and leadership or ISR
// changes wake whoever waits on a partition (fetch purgatory, the acks=all purgatory) through the
// listeners registered with `onAppend`, each run through the containment seam with the
// partition as its unit: a listener that fails never fails the append it follows.
// Replication (once `startReplication` is called): the image drives the replica fetcher manager
// (follower of a partition led elsewhere → fetched from its leader; leader → not fetched, and
// only after any follower append in progress has landed, so a new leader's epoch starts after
// everything it fetched); a periodic task lets leaders drop followers that fell behind
// (replica.lag.time.max.ms); ISR changes go to the active controller as AlterPartition.
import type { Logger } from 'pino';
import { type Scheduler, SystemScheduler } from '../../protocol/scheduler.ts';
import type { MetadataDelta } from '../../controller/metadata/delta.ts';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { Log } from '../../storage/log.ts';
import type { LogConfig } from '../../storage/log-config.ts';
import { ProducerStateManager } from '../../storage/producer-state.ts';
import { NodeConnections, type NodeConnectionsOptions } from '../../controller/network/node-connections.ts';
import type { AlterPartitionRequest } from '../../protocol/generated/message/alter-partition-request.ts';
import type { AlterPartitionResponse } from '../../protocol/generated/message/alter-partition-response.ts';
import type { TimerHandle } from '../../protocol/scheduler.ts';
import { DelayedProducePurgatory } from './delayed-produce.ts';
import { ReplicaFetcherManager } from './fetcher-manager.ts';
import type { AlterIsrRequest, AlterIsrResult } from './isr-state.ts';
import { type AppendListener, Partition, type PartitionReplication } from './partition.ts';
import type { BrokerConnections, FetcherConfig } from './replica-fetcher.ts';
import { ReplicationQuotas } from './replication-quota.ts';
import type { TransactionVerifier } from './append-validator.ts';

/** A COMMIT or ABORT marker written to a partition this broker leads, once acknowledged (acks=all). */
export interface TransactionMarkerEvent {
  topic: string;
  partition: number;
  producerId: bigint;
  committed: boolean;
  offset: number;
}
export type TransactionMarkerListener = (e: TransactionMarkerEvent) => void;

/** Where partition logs come from: the log manager, or a directory for tests. */
export interface LogProvider {
  getOrCreateLog(topic: string, partition: number, config: LogConfig): Promise<Log>;
  /** Closes and schedules the removal of a partition's log. */
  deleteLog(topic: string, partition: number): Promise<unknown>;
  /** Every partition log on disk (the log manager's); without it, stray logs are not looked for. */
  allLogs?(): readonly { topic: string; partition: number }[];
}

export interface ReplicaManagerOptions {
  nodeId: number;
  logs: LogProvider;
  logger: Logger;
  /** The storage config of a topic in an image (its overrides over the broker's defaults). */
  topicLogConfig(image: MetadataImage, topic: string): LogConfig;
  /** The containment seam; a wall-clock one when absent. */
  scheduler?: Scheduler;
  /**
   * Take no leadership until the image holds this broker's registration with the epoch
   * startReplication gives (Kafka publishes metadata to its replica manager only once the broker
   * has caught up past its registration). A restarted broker's replayed metadata may still name
   * it leader in an epoch whose log end it lost in the crash; its registration moves those
   * leaderships away, and acting on them before would let followers of that same epoch keep
   * records it no longer has, beside different ones it takes at the same offsets.
   */
  awaitRegistration?: boolean;
}

export interface ReplicationOptions {
  /** TLS and SASL of the inter-broker listener, when it is not PLAINTEXT. */
  security?: NodeConnectionsOptions['security'];
  /** Sends an AlterPartition to the active controller (the controller channel). */
  alterPartition(request: AlterPartitionRequest): Promise<AlterPartitionResponse>;
  /** This broker's epoch, from its registration. */
  brokerEpoch(): bigint;
  /** The latest published image: broker endpoints and states. */
  image(): MetadataImage;
  /** inter.broker.listener.name: where leaders are fetched from. */
  interBrokerListenerName: string;
  /** replica.lag.time.max.ms */
  replicaLagTimeMaxMs: number;
  fetcher: FetcherConfig;
  /** Backoff before reconnecting to a broker that could not be reached. */
  reconnectBackoffMs: number;
  /** How fetchers reach leaders; NodeConnections on the inter-broker listener when absent (a simulated network in broker/replica/sim). */
  connections?: BrokerConnections;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class ReplicaManager {
  private readonly opts: ReplicaManagerOptions;
  private readonly partitions = new Map<string, Partition>();
  private readonly appendListeners: AppendListener[] = [];
  private readonly scheduler: Scheduler;
  /** acks=all answers waiting for the high watermark. */
  readonly delayedProduce: DelayedProducePurgatory;
  private replication: ReplicationOptions | undefined;
  private fetchers: ReplicaFetcherManager | undefined;
  private brokerConnections: NodeConnections | undefined;
  private isrExpiration: TimerHandle | undefined;
  private readonly partitionReplication: PartitionReplication;
  /** Replication throttles of this broker as leader and as follower. */
  readonly replicationQuotas: ReplicationQuotas;
  private readonly markerListeners: TransactionMarkerListener[] = [];
  /** Set by the transaction coordinator: verifies a producer's first transactional batch (KIP-890). */
  transactionVerifier: TransactionVerifier | undefined;
  /** awaitRegistration: leadership is held back (the image does not yet hold this broker's registration). */
  private leadershipHeld = false;
  /** The last image applied, and the applications in order (startReplication adds one of its own). */
  private lastImage: MetadataImage | undefined;
  private applying: Promise<void> = Promise.resolve();

  constructor(opts: ReplicaManagerOptions) {
    this.opts = opts;
    this.scheduler = opts.scheduler ?? new SystemScheduler({ logger: opts.logger });
    this.delayedProduce = new DelayedProducePurgatory({ scheduler: this.scheduler });
    this.appendListeners.push((p) => this.delayedProduce.notify(p));
    this.replicationQuotas = new ReplicationQuotas(opts.nodeId, () => this.scheduler.now());
    this.partitionReplication = {
      now: () => this.scheduler.now(),
      alterIsr: (p, request) => this.alterIsr(p, request),
      isEligible: (brokerId, brokerEpoch) => {
        const b = this.replication?.image().brokers.get(brokerId);
        return b !== undefined && !b.fenced && !b.inControlledShutdown && (brokerEpoch < 0n || b.epoch === brokerEpoch);
      },
    };
  }

  /** Starts fetching as follower and managing ISRs as leader; partitions already hosted join at once. */
  async startReplication(opts: ReplicationOptions): Promise<void> {
    if (this.replication) return;
    this.replication = opts;
    const log = this.opts.logger;
    this.brokerConnections = new NodeConnections({
      endpointOf: (id) => {
        const ep = opts.image().brokers.get(id)?.endpoints.find((e) => e.name === opts.interBrokerListenerName);
        return ep ? { host: ep.host, port: ep.port } : undefined;
      },
      clientId: `samsa-replica-fetcher-${this.opts.nodeId}`,
      logger: log.child({ module: 'broker-connections' }),
      requestTimeoutMs: opts.fetcher.requestTimeoutMs,
      reconnectBackoffMs: opts.reconnectBackoffMs,
      ...(opts.security && { security: opts.security }),
    });
    this.fetchers = new ReplicaFetcherManager({
      nodeId: this.opts.nodeId,
      brokerEpoch: opts.brokerEpoch,
      connections: opts.connections ?? this.brokerConnections,
      scheduler: this.scheduler,
      logger: log.child({ module: 'replica-fetcher' }),
      config: opts.fetcher,
      quota: {
        shouldThrottle: (p) => this.replicationQuotas.followerShouldThrottle(opts.image(), p),
        record: (p, bytes) => this.replicationQuotas.recordFollower(p, bytes),
      },
    });
    const lag = opts.replicaLagTimeMaxMs;
    this.isrExpiration = this.scheduler.every(Math.max(10, Math.floor(lag / 2)), { unit: 'replica-manager', context: { task: 'isr-expiration' } }, () => {
      for (const p of this.partitions.values()) {
        if (p.isLeader) this.scheduler.run({ unit: 'partition', context: { topic: p.topic, partition: p.partition } }, () => p.maybeShrinkIsr(lag));
      }
    });
    for (const p of [...this.partitions.values()]) await this.syncFetcher(p);
    // Leadership held back for want of this broker's epoch: the image applied last may already
    // hold its registration (the broker heard it before replication started), and no later image
    // need change a topic, so the last one is applied again, whole.
    const again = this.applying.then(() => (this.leadershipHeld && this.lastImage ? this.apply(this.lastImage) : undefined));
    this.applying = again.catch(() => undefined);
    await again;
    await this.removeStrayLogs(opts.image());
  }

  /**
   * Kafka's stray replicas: logs on disk of partitions that the image, caught up once this broker
   * is unfenced, does not place here (reassigned away or deleted while it was down) are deleted.
   */
  private async removeStrayLogs(image: MetadataImage): Promise<void> {
    for (const l of this.opts.logs.allLogs?.() ?? []) {
      if (this.partitions.has(partitionKey(l.topic, l.partition))) continue;
      if (image.topicsByName.get(l.topic)?.partitions[l.partition]?.replicas.includes(this.opts.nodeId)) continue;
      this.opts.logger.info({ topic: l.topic, partition: l.partition, offset: String(image.offset) }, 'deleting a stray replica: its partition is not placed on this broker');
      await this.opts.logs.deleteLog(l.topic, l.partition);
    }
  }

  /** The fetcher that follows `p`'s leader, or none when this broker leads it or it has no leader. */
  private async syncFetcher(p: Partition): Promise<void> {
    if (!this.fetchers) return;
    if (p.leaderId >= 0 && p.leaderId !== this.opts.nodeId) await this.fetchers.follow(p, p.leaderId, p.leaderEpoch);
    else await this.fetchers.unfollow(p);
  }

  /** The broker `p` is fetched from, or -1 (tests and metrics). */
  fetchSourceOf(p: Partition): number {
    return this.fetchers?.sourceOf(p) ?? -1;
  }

  private async alterIsr(p: Partition, request: AlterIsrRequest): Promise<AlterIsrResult> {
    const replication = this.replication;
    if (!replication) throw new Error('replication has not started');
    const r = await replication.alterPartition({
      brokerId: this.opts.nodeId,
      brokerEpoch: replication.brokerEpoch(),
      topics: [
        {
          topicName: p.topic,
          topicId: p.topicId,
          partitions: [
            {
              partitionIndex: p.partition,
              leaderEpoch: request.leaderEpoch,
              newIsr: request.newIsr.map((m) => m.brokerId),
              newIsrWithEpochs: request.newIsr.map((m) => ({ brokerId: m.brokerId, brokerEpoch: m.brokerEpoch })),
              leaderRecoveryState: 0,
              partitionEpoch: request.partitionEpoch,
            },
          ],
        },
      ],
    });
    const a = r.topics[0]?.partitions[0];
    if (r.errorCode !== ErrorCode.NONE || !a) return { errorCode: r.errorCode !== ErrorCode.NONE ? r.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR, leaderEpoch: -1, partitionEpoch: -1, isr: [] };
    return { errorCode: a.errorCode, leaderEpoch: a.leaderEpoch, partitionEpoch: a.partitionEpoch, isr: a.isr };
  }

  get nodeId(): number {
    return this.opts.nodeId;
  }

  onAppend(listener: AppendListener): void {
    this.appendListeners.push(listener);
  }

  private notifyAppend = (p: Partition): void => {
    if (this.appendListeners.length === 0) return;
    const scope = { unit: 'partition', context: { topic: p.topic, partition: p.partition } };
    for (const l of this.appendListeners) this.scheduler.run(scope, () => l(p));
  };

  /** Hears of every transaction marker written here as leader (the group coordinator's offsets). */
  onTransactionMarker(listener: TransactionMarkerListener): void {
    this.markerListeners.push(listener);
  }

  notifyTransactionMarker(e: TransactionMarkerEvent): void {
    const scope = { unit: 'partition', context: { topic: e.topic, partition: e.partition } };
    for (const l of this.markerListeners) this.scheduler.run(scope, () => l(e));
  }

  getPartition(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  /** The partition if this broker leads it, else Kafka's error for the case. */
  leaderPartition(image: MetadataImage, topic: string, partition: number, currentLeaderEpoch = -1): Partition {
    const t = image.topicsByName.get(topic);
    if (!t || partition < 0 || partition >= t.partitions.length) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic-partition: ${topic}-${partition}`);
    }
    const p = this.getPartition(topic, partition);
    if (!p) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This broker does not host ${topic}-${partition}`);
    p.checkLeader(currentLeaderEpoch);
    return p;
  }

  allPartitions(): IterableIterator<Partition> {
    return this.partitions.values();
  }

  logConfigFor(image: MetadataImage, topic: string): LogConfig {
    return this.opts.topicLogConfig(image, topic);
  }

  /** Broker-level defaults changed (dynamic broker configs): every hosted log takes its new config. */
  refreshLogConfigs(image: MetadataImage): void {
    const byTopic = new Map<string, LogConfig>();
    for (const p of this.partitions.values()) {
      let c = byTopic.get(p.topic);
      if (!c) byTopic.set(p.topic, (c = this.logConfigFor(image, p.topic)));
      p.log.config = c;
    }
  }

  /** Brings hosted partitions in line with a new image (all of it when no delta is given). Applications run one at a time, in call order. */
  applyImage(image: MetadataImage, wholeOrDelta?: MetadataDelta): Promise<void> {
    const work = this.applying.then(() => this.apply(image, wholeOrDelta));
    this.applying = work.catch(() => undefined);
    return work;
  }

  private async apply(image: MetadataImage, wholeOrDelta?: MetadataDelta): Promise<void> {
    const log = this.opts.logger;
    this.lastImage = image;
    const held = this.opts.awaitRegistration === true && !(this.replication && image.brokers.get(this.opts.nodeId)?.epoch === this.replication.brokerEpoch());
    // Leadership released: every partition is looked at again, not just those the delta changed.
    const delta = this.leadershipHeld && !held ? undefined : wholeOrDelta;
    this.leadershipHeld = held;
    if (delta) {
      for (const [, topic] of delta.removedTopics) {
        for (const p of topic.partitions) await this.removePartition(topic.name, p.partition);
      }
    } else {
      // A whole image: hosted partitions of topics it no longer has were deleted meanwhile.
      for (const p of [...this.partitions.values()]) {
        if (image.topicsById.get(p.topicId)?.name !== p.topic) await this.removePartition(p.topic, p.partition);
      }
    }
    const topics = delta ? [...delta.changedTopics].map((id) => image.topicsById.get(id)).filter((t) => t !== undefined) : [...image.topicsByName.values()];
    for (const topic of topics) {
      const config = this.logConfigFor(image, topic.name);
      for (const p of topic.partitions) {
        const key = partitionKey(topic.name, p.partition);
        let part = this.partitions.get(key);
        if (!p.replicas.includes(this.opts.nodeId)) {
          if (part) await this.removePartition(topic.name, p.partition);
          continue;
        }
        if (!part) {
          const l = await this.opts.logs.getOrCreateLog(topic.name, p.partition, config);
          part = new Partition({
            topic: topic.name,
            partition: p.partition,
            topicId: topic.id,
            log: l,
            producerState: new ProducerStateManager(l.dir, log.child({ topic: topic.name, partition: p.partition })),
            nodeId: this.opts.nodeId,
            logger: log.child({ topic: topic.name, partition: p.partition }),
            onAppend: this.notifyAppend,
            replication: this.partitionReplication,
          });
          await part.loadProducerState();
          this.partitions.set(key, part);
        }
        part.topicId = topic.id;
        // A log loaded from disk at start was opened before any topic config was known.
        part.log.config = config;
        // A follower append still landing must not follow the new leader epoch's start.
        const leader = held && p.leader === this.opts.nodeId ? -1 : p.leader;
        if (leader === this.opts.nodeId && !part.isLeader) await this.fetchers?.unfollow(part);
        part.update(leader, p.leaderEpoch, p.partitionEpoch, p.replicas, p.isr);
        await this.syncFetcher(part);
      }
    }
    // Config changes of topics apply to their open logs.
    if (delta) {
      const changed = new Set(delta.changedConfigTopics);
      if (changed.size > 0) for (const p of this.partitions.values()) if (changed.has(p.topic)) p.log.config = this.logConfigFor(image, p.topic);
    }
  }

  private async removePartition(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const part = this.partitions.get(key);
    if (!part) return;
    // Waiters on it (acks=all, fetches) are answered now (NOT_LEADER_OR_FOLLOWER), not at their timeout.
    part.update(-1, part.leaderEpoch, part.partitionEpoch, [], []);
    this.partitions.delete(key);
    await this.fetchers?.unfollow(part);
    await this.opts.logs.deleteLog(topic, partition);
    this.opts.logger.info({ topic, partition }, 'removed a partition no longer placed on this broker (topic deleted or replica reassigned)');
  }

  /** Snapshots producer state of every partition; the log manager closes the logs afterwards. */
  async close(): Promise<void> {
    this.isrExpiration?.cancel();
    this.delayedProduce.shutdown();
    const fetchersStopped = this.fetchers?.stop();
    // Closing the connections cuts short the fetches in flight.
    await this.brokerConnections?.close();
    await fetchersStopped;
    for (const p of this.partitions.values()) await p.snapshotProducerState();
    this.partitions.clear();
  }
}
