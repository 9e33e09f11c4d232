// The quorum controller: the one writer of cluster metadata, active on the node that leads the
// metadata quorum. Operations run one at a time against the latest committed image; the records
// each produces are committed through Raft and replayed into the next image before its answer is
// given, so an answer never describes state that could still be lost. On every node (voter or
// observer) it replays the committed log into images for subscribers (the broker's metadata
// publisher). Elsewhere than on the active controller, operations fail with NOT_CONTROLLER.
// Leadership: once this node's leadership is announced (after everything before its epoch is
// replayed) it writes the bootstrap records of a new cluster if they are missing and starts
// every broker's session; a broker whose session runs out is fenced and its partitions move.
// Snapshots: a loaded snapshot (at start-up or fetched from the leader) replaces the image; the
// snapshot generator snapshots committed images as its policy says.
import type { Logger } from 'pino';
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { type Scheduler, SystemScheduler, type TimerHandle } from '../protocol/scheduler.ts';
import { BrokerSessions, sessionCheckIntervalMs } from './broker-sessions.ts';
import type { ControllerResult } from './controller-result.ts';
import { allocateProducerIds, alterConfigs, bootstrapRecords, brokerHeartbeat, type ConfigChange, fenceBroker, type HeartbeatInput, registerBroker, type RegisterBrokerInput } from './cluster-control.ts';
import { type LeaderRebalanceSettings, rebalanceLeaders } from './leader-election.ts';
import { MetadataDelta } from './metadata/delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from './metadata/image.ts';
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from './metadata/record-serde.ts';
import { SnapshotGenerator, type SnapshotPolicy } from './metadata/snapshot-generator.ts';
import { type CommittedBatch, type LoadedSnapshot, NotLeaderError, type RaftClient } from './raft/raft-client.ts';
import { completeReassignments, hasCompletableReassignment } from './reassignment.ts';
import { createPartitions, type CreatePartitionsInput, createTopics, type CreateTopicInput, deleteTopics, type DeleteTopicInput, type TopicDefaults } from './topic-control.ts';

export type ImageListener = (image: MetadataImage, delta: MetadataDelta) => void;

export interface QuorumControllerOptions {
  raft: RaftClient;
  /** Records of the bootstrap metadata file (SCRAM users of storage format --add-scram), written with the new cluster's features. */
  bootstrapMetadata?: readonly MetadataRecord[];
  logger: Logger;
  /** Image listeners run through it, each contained on its own; a wall-clock one when absent. */
  scheduler?: Scheduler;
  topicDefaults: TopicDefaults;
  deleteTopicEnable: boolean;
  /** broker.session.timeout.ms: a broker without a heartbeat this long is fenced. */
  brokerSessionTimeoutMs?: number;
  /** unclean.leader.election.enable of the server's properties (topic and dynamic settings win). */
  uncleanLeaderElectionEnable?: boolean;
  /** When to snapshot the committed image; Kafka's defaults when absent. */
  snapshotPolicy?: SnapshotPolicy;
  /** Preferred elections the active controller runs on its own; off when absent. */
  leaderRebalance?: LeaderRebalanceSettings;
}

export class QuorumController {
  private readonly opts: QuorumControllerOptions;
  private currentImage: MetadataImage = EMPTY_IMAGE;
  private readonly listeners: ImageListener[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly scheduler: Scheduler;
  private readonly sessions: BrokerSessions;
  private readonly sessionTimeoutMs: number;
  private readonly uncleanDefault: boolean;
  /** The epoch this node leads in once its leadership is announced; -1 when not active. */
  private activeEpoch = -1;
  private sessionTimer: TimerHandle | undefined;
  private rebalanceTimer: TimerHandle | undefined;
  /** A run completing reassignments is queued (one at a time is enough: it reads the latest image). */
  private completingReassignments = false;
  readonly snapshots: SnapshotGenerator;

  constructor(opts: QuorumControllerOptions) {
    this.opts = opts;
    this.scheduler = opts.scheduler ?? new SystemScheduler({ logger: opts.logger });
    this.sessionTimeoutMs = opts.brokerSessionTimeoutMs ?? 9000;
    this.uncleanDefault = opts.uncleanLeaderElectionEnable ?? false;
    this.sessions = new BrokerSessions(this.sessionTimeoutMs);
    this.snapshots = new SnapshotGenerator(opts.raft, this.scheduler, opts.logger, opts.snapshotPolicy);
    opts.raft.register({
      handleCommit: (batch) => this.replay(batch),
      handleLoadSnapshot: (snapshot) => this.loadSnapshot(snapshot),
      handleLeaderChange: (leaderId, epoch) => this.onLeaderChange(leaderId, epoch),
    });
  }

  /** True while this node is the active controller (it leads the quorum and has replayed all before). */
  get isActive(): boolean {
    return this.activeEpoch >= 0 && this.opts.raft.isLeader && this.opts.raft.currentEpoch === this.activeEpoch;
  }

  private onLeaderChange(leaderId: number, epoch: number): void {
    const log = this.opts.logger;
    if (leaderId !== this.opts.raft.nodeId) {
      if (this.activeEpoch >= 0) log.info({ leaderId, epoch }, 'no longer the active controller');
      this.activeEpoch = -1;
      this.sessions.deactivate();
      this.sessionTimer?.cancel();
      this.sessionTimer = undefined;
      this.rebalanceTimer?.cancel();
      this.rebalanceTimer = undefined;
      return;
    }
    this.activeEpoch = epoch;
    this.sessions.activate(this.currentImage.brokers.keys(), this.scheduler.now());
    log.info({ epoch, offset: String(this.currentImage.offset) }, 'became the active controller');
    const scope = { unit: 'controller', context: { task: 'activation', epoch } };
    this.scheduler.watch(
      scope,
      this.run((image) => (image.features.has('metadata.version') ? { records: [], response: undefined } : { records: [...bootstrapRecords(), ...(this.opts.bootstrapMetadata ?? [])], response: undefined })).catch((err: unknown) => {
        if (!(err instanceof KafkaError && err.errorCode === ErrorCode.NOT_CONTROLLER)) throw err;
      }),
    );
    // A reassignment a former controller left ready to complete completes now.
    this.maybeCompleteReassignments(this.currentImage.topicsById.keys());
    this.sessionTimer?.cancel();
    this.sessionTimer = this.scheduler.every(sessionCheckIntervalMs(this.sessionTimeoutMs), { unit: 'controller', context: { task: 'broker-sessions' } }, () => this.fenceExpiredBrokers());
    this.rebalanceTimer?.cancel();
    const rebalance = this.opts.leaderRebalance;
    if (rebalance?.enable) {
      this.rebalanceTimer = this.scheduler.every(rebalance.checkIntervalMs, { unit: 'controller', context: { task: 'leader-rebalance' } }, () => this.rebalanceLeaders(rebalance.imbalancePercentage));
    }
  }

  /** Moves leadership back to preferred replicas where a broker's imbalance is too high. */
  private async rebalanceLeaders(imbalancePercentage: number): Promise<void> {
    if (!this.isActive) return;
    const { elected } = await this.run((image) => rebalanceLeaders(image, imbalancePercentage));
    if (elected > 0) this.opts.logger.info({ elected }, 'elected preferred leaders to balance leadership');
  }

  /** Fences the unfenced brokers whose session ran out (their partitions move or go offline). */
  private async fenceExpiredBrokers(): Promise<void> {
    if (!this.isActive) return;
    const unfenced = [...this.currentImage.brokers.values()].filter((b) => !b.fenced).map((b) => b.id);
    const expired = this.sessions.expired(unfenced, this.scheduler.now());
    for (const id of expired) {
      const fenced = await this.run((image) => {
        // A heartbeat may have arrived while this waited in the queue.
        if (!this.sessions.isExpired(id, this.scheduler.now())) return { records: [], response: false };
        this.opts.logger.warn({ brokerId: id, sessionTimeoutMs: this.sessionTimeoutMs }, 'fencing broker: no heartbeat within its session');
        return { records: fenceBroker(image, id, this.uncleanDefault), response: true };
      });
      if (fenced) this.sessions.forget(id);
    }
  }

  get image(): MetadataImage {
    return this.currentImage;
  }

  get raft(): RaftClient {
    return this.opts.raft;
  }

  subscribe(listener: ImageListener): void {
    this.listeners.push(listener);
  }

  private replay(batch: CommittedBatch): void {
    const delta = new MetadataDelta(this.currentImage);
    for (const r of batch.records) delta.replay(decodeMetadataRecord(r.value), r.offset, batch.epoch);
    this.currentImage = delta.apply();
    this.publish(delta);
    this.maybeCompleteReassignments(delta.changedTopics);
    let bytes = 0;
    for (const r of batch.records) bytes += r.value.length;
    this.snapshots.onCommit(this.currentImage, bytes, batch.timestamp);
  }

  /** Reassignments whose target replicas are all in the ISR now complete (Kafka does it as the ISR grows). */
  private maybeCompleteReassignments(topicIds: Iterable<string>): void {
    if (this.completingReassignments || !this.isActive) return;
    if (!hasCompletableReassignment(this.currentImage, topicIds)) return;
    this.completingReassignments = true;
    const done = this.run((image) => {
      // Commits from here on are not in this image: they may queue another run.
      this.completingReassignments = false;
      return completeReassignments(image);
    }).then(
      (completed) => {
        if (completed > 0) this.opts.logger.info({ completed }, 'completed partition reassignments');
      },
      (err: unknown) => {
        this.completingReassignments = false;
        if (!(err instanceof KafkaError && err.errorCode === ErrorCode.NOT_CONTROLLER)) throw err;
      },
    );
    this.scheduler.watch({ unit: 'controller', context: { task: 'complete-reassignments' } }, done);
  }

  private publish(delta: MetadataDelta): void {
    const image = this.currentImage;
    const scope = { unit: 'metadata-listener', context: { offset: String(image.offset) } };
    for (const l of this.listeners) this.scheduler.run(scope, () => l(image, delta));
  }

  /** A snapshot replaces the image; listeners get it whole (its delta starts from the empty image). */
  private loadSnapshot(snapshot: LoadedSnapshot): void {
    const delta = new MetadataDelta(EMPTY_IMAGE);
    const last = snapshot.id.endOffset - 1n;
    for (const v of snapshot.records) delta.replay(decodeMetadataRecord(v), last, snapshot.id.epoch);
    for (const [id, t] of this.currentImage.topicsById) if (!delta.changedTopics.has(id)) delta.removedTopics.set(id, t);
    this.currentImage = Object.freeze({ ...delta.apply(), offset: last, epoch: snapshot.id.epoch });
    this.snapshots.onSnapshotLoaded();
    this.opts.logger.info({ offset: String(last), records: snapshot.records.length, topics: this.currentImage.topicsByName.size }, 'metadata image loaded from a snapshot');
    this.publish(delta);
  }

  /**
   * Starts the quorum replica (replaying the log). A single voter leads at once, and start
   * resolves once the bootstrap records of a new cluster are written; with several voters the
   * election runs in the background.
   */
  async start(): Promise<void> {
    await this.opts.raft.start();
    await this.queue;
  }

  /**
   * Runs one operation after all earlier ones, committing its records before answering.
   * Anywhere but on the active controller it fails with NOT_CONTROLLER.
   */
  run<T>(op: (image: MetadataImage) => ControllerResult<T>): Promise<T> {
    const task = async (): Promise<T> => {
      if (!this.isActive) throw notController(this.opts.raft);
      const result = op(this.currentImage);
      if (result.records.length > 0) {
        try {
          await this.opts.raft.append(result.records.map(encodeMetadataRecord));
        } catch (err) {
          if (err instanceof NotLeaderError) throw notController(this.opts.raft);
          throw err;
        }
      }
      return result.response;
    };
    const p = this.queue.then(task, task);
    this.queue = p.catch(() => undefined);
    return p;
  }

  createTopics(topics: CreateTopicInput[], validateOnly: boolean) {
    return this.run((image) => createTopics(image, topics, this.opts.topicDefaults, validateOnly));
  }

  createPartitions(topics: CreatePartitionsInput[], validateOnly: boolean) {
    return this.run((image) => createPartitions(image, topics, validateOnly, this.opts.topicDefaults.random));
  }

  deleteTopics(topics: DeleteTopicInput[]) {
    return this.run((image) => deleteTopics(image, topics, this.opts.deleteTopicEnable));
  }

  registerBroker(input: RegisterBrokerInput) {
    return this.run((image) => {
      this.sessions.touch(input.brokerId, this.scheduler.now());
      return registerBroker(image, input, this.opts.raft.logEndOffset(), this.uncleanDefault);
    });
  }

  brokerHeartbeat(input: HeartbeatInput) {
    // Alive as of its arrival, however long the writes queued before it take to commit.
    const known = this.currentImage.brokers.get(input.brokerId);
    if (this.isActive && known && known.epoch === input.brokerEpoch && !known.fenced) this.sessions.touch(input.brokerId, this.scheduler.now());
    return this.run((image) => {
      const b = image.brokers.get(input.brokerId);
      if (b && b.epoch === input.brokerEpoch) this.sessions.touch(input.brokerId, this.scheduler.now());
      // Caught up means: has every committed metadata record. The image's offset is that of
      // the last one; the high watermark may be past it by control records (a new leader's
      // LeaderChange), which no broker's image ever shows.
      return brokerHeartbeat(image, input, image.offset, this.uncleanDefault);
    });
  }

  allocateProducerIds(brokerId: number, brokerEpoch: bigint) {
    return this.run((image) => allocateProducerIds(image, brokerId, brokerEpoch));
  }

  alterConfigs(changes: ConfigChange[]) {
    return this.run(() => alterConfigs(changes));
  }

  /** `resign: false` leaves the quorum without resigning (a halt that looks like a crash). */
  async close(opts: { resign?: boolean } = {}): Promise<void> {
    this.sessionTimer?.cancel();
    this.rebalanceTimer?.cancel();
    await this.queue;
    await this.opts.raft.close(opts);
  }
}

function notController(raft: RaftClient): KafkaError {
  const leader = raft.currentLeader;
  return new KafkaError(ErrorCode.NOT_CONTROLLER, leader >= 0 ? `This node is not the active controller; the active controller is ${leader}` : 'This node is not the active controller; no controller is elected yet');
}
