// Internal topics of coordinators on this broker: created on first use through the controller
// (replication factor min(configured, live brokers), compacted), and leadership followed from
// the published metadata images, electing the runtime's shards for the partitions this broker
// leads and resigning those it stopped leading.
import type { Logger } from 'pino';
import { liveBrokers, type MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { Scheduler } from '../../protocol/scheduler.ts';
import type { ControllerChannel } from '../controller-channel.ts';
import type { MetadataPublisher } from '../metadata/metadata-publisher.ts';

export interface InternalTopicSpec {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  /** Topic configs beyond cleanup.policy=compact. */
  configs: Record<string, string>;
}

/** A function that makes sure the topic exists, creating it once (concurrent callers share the creation). */
export function internalTopicCreator(spec: () => InternalTopicSpec, deps: { metadata: MetadataPublisher; controllerChannel: ControllerChannel; logger: Logger }): () => Promise<void> {
  const { metadata, controllerChannel, logger } = deps;
  let creating: Promise<void> | null = null;
  return () => {
    const s = spec();
    if (metadata.image.topicsByName.has(s.name)) return Promise.resolve();
    creating ??= (async () => {
      const live = liveBrokers(metadata.image).length;
      const rf = Math.max(1, Math.min(s.replicationFactor, live));
      const [result] = await controllerChannel.createTopics(
        [
          {
            name: s.name,
            numPartitions: s.numPartitions,
            replicationFactor: rf,
            assignments: [],
            configs: [{ name: 'cleanup.policy', value: 'compact' }, ...Object.entries(s.configs).map(([name, value]) => ({ name, value }))],
          },
        ],
        false,
      );
      if (result && result.errorCode !== ErrorCode.NONE && result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
        throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `could not create ${s.name}: ${result.errorMessage}`);
      }
      logger.info({ partitions: s.numPartitions, replicationFactor: rf }, `created ${s.name}`);
      await metadata.waitFor(await controllerChannel.committedOffset());
    })().finally(() => {
      creating = null;
    });
    return creating;
  };
}

export interface LeadershipTarget {
  elect(partition: number, epoch: number): unknown;
  resign(partition: number, epoch?: number): void;
  partitions(): ReadonlyMap<number, unknown>;
  /** The topic's partition count, once it exists. */
  setPartitionCount?(n: number): void;
}

/** Elects and resigns `target`'s shards as images show this node leading partitions of `topic`. */
export function followLeadership(topic: string, nodeId: number, metadata: MetadataPublisher, scheduler: Scheduler, target: LeadershipTarget): void {
  const follow = (image: MetadataImage): void => {
    const t = image.topicsByName.get(topic);
    const led = new Map<number, number>();
    if (t) {
      target.setPartitionCount?.(t.partitions.length);
      for (const p of t.partitions) if (p.leader === nodeId) led.set(p.partition, p.leaderEpoch);
    }
    for (const p of [...target.partitions().keys()]) if (!led.has(p)) target.resign(p);
    for (const [p, epoch] of led) target.elect(p, epoch);
  };
  // An image listener runs outside any request: a failure is logged, and the next image (which
  // carries the same leadership) tries again.
  const contained = scheduler.wrap({ unit: 'coordinator-leadership', context: { topic } }, follow);
  metadata.onPublish(contained);
  contained(metadata.image);
}
