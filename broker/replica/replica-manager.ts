// Owns the partitions this broker hosts. Follows the metadata image: opens (or creates) the log
// of every partition placed on this node, tracks leadership, and removes the logs of deleted
// topics. Handlers find partitions here; appends wake whoever waits on a partition (fetch
// purgatory) through the listeners registered with `onAppend`, each run through the containment
// seam with the partition as its unit: a listener that fails never fails the append it follows.
import type { Logger } from 'pino';
import { type Scheduler, SystemScheduler } from '../../protocol/scheduler.ts';
import type { MetadataDelta } from '../../controller/metadata/delta.ts';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { Log } from '../../storage/log.ts';
import type { LogConfig } from '../../storage/log-config.ts';
import { ProducerStateManager } from '../../storage/producer-state.ts';
import { type AppendListener, Partition } from './partition.ts';

/** Where partition logs come from: the log manager, or a directory for tests. */
export interface LogProvider {
  getOrCreateLog(topic: string, partition: number, config: LogConfig): Promise<Log>;
  /** Closes and schedules the removal of a partition's log. */
  deleteLog(topic: string, partition: number): Promise<unknown>;
}

export interface ReplicaManagerOptions {
  nodeId: number;
  logs: LogProvider;
  logger: Logger;
  /** The storage config of a topic in an image (its overrides over the broker's defaults). */
  topicLogConfig(image: MetadataImage, topic: string): LogConfig;
  /** The containment seam; a wall-clock one when absent. */
  scheduler?: Scheduler;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class ReplicaManager {
  private readonly opts: ReplicaManagerOptions;
  private readonly partitions = new Map<string, Partition>();
  private readonly appendListeners: AppendListener[] = [];
  private readonly scheduler: Scheduler;

  constructor(opts: ReplicaManagerOptions) {
    this.opts = opts;
    this.scheduler = opts.scheduler ?? new SystemScheduler({ logger: opts.logger });
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

  /** Brings hosted partitions in line with a new image (all of it when no delta is given). */
  async applyImage(image: MetadataImage, delta?: MetadataDelta): Promise<void> {
    const log = this.opts.logger;
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
          });
          await part.loadProducerState();
          this.partitions.set(key, part);
        }
        part.topicId = topic.id;
        // A log loaded from disk at start was opened before any topic config was known.
        part.log.config = config;
        part.update(p.leader, p.leaderEpoch, p.partitionEpoch, p.replicas, p.isr);
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
    if (!this.partitions.has(key)) return;
    this.partitions.delete(key);
    await this.opts.logs.deleteLog(topic, partition);
    this.opts.logger.info({ topic, partition }, 'removed partition of a deleted topic');
  }

  /** Snapshots producer state of every partition; the log manager closes the logs afterwards. */
  async close(): Promise<void> {
    for (const p of this.partitions.values()) await p.snapshotProducerState();
    this.partitions.clear();
  }
}
