// Binds the group coordinator to this broker: its configuration from the broker's offsets.* and
// group.* settings, `__consumer_offsets` through the replica manager (the coordinator runtime's
// partition log), creation of that topic on first use (through the controller:
// offsets.topic.num.partitions partitions, replication factor min(offsets.topic.replication.factor,
// live brokers), compacted), leadership followed from the metadata images (electing the shards of
// the partitions this broker leads, resigning the others), and transaction markers replayed into
// the shard of the partition they land on.
import type { Logger } from 'pino';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { type Scheduler, SystemScheduler } from '../../protocol/scheduler.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { ControllerChannel } from '../controller-channel.ts';
import { followLeadership, internalTopicCreator } from '../coordinator/internal-topic.ts';
import { ReplicaPartitionLog } from '../coordinator/replica-partition-log.ts';
import type { MetadataPublisher } from '../metadata/metadata-publisher.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import { GroupCoordinator, type GroupCoordinatorConfig } from './group-coordinator.ts';
import { GROUP_METADATA_TOPIC_NAME } from './offsets-topic.ts';

export interface GroupCoordinatorDeps {
  nodeId: number;
  config: BrokerConfig;
  logger: Logger;
  metadata: MetadataPublisher;
  /** Where `__consumer_offsets` is created: the active controller, in this process or not. */
  controllerChannel: ControllerChannel;
  replicaManager: ReplicaManager;
  /** The broker's scheduler; the coordinator's timers and write completions run through it. */
  scheduler?: Scheduler;
}

export function groupCoordinatorConfig(config: BrokerConfig): GroupCoordinatorConfig {
  return {
    offsetsTopicNumPartitions: config.get('offsets.topic.num.partitions'),
    groupMinSessionTimeoutMs: config.get('group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: config.get('group.max.session.timeout.ms'),
    groupInitialRebalanceDelayMs: config.get('group.initial.rebalance.delay.ms'),
    groupMaxSize: config.get('group.max.size'),
    offsetsRetentionMs: config.get('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: Number(config.get('offsets.retention.check.interval.ms')),
    offsetMetadataMaxBytes: config.get('offset.metadata.max.bytes'),
  };
}

export function createGroupCoordinator(deps: GroupCoordinatorDeps): GroupCoordinator {
  const { config, metadata, nodeId } = deps;
  const logger = deps.logger.child({ module: 'group-coordinator' });
  const scheduler = deps.scheduler ?? new SystemScheduler({ logger });
  const ensureOffsetsTopic = internalTopicCreator(
    () => ({
      name: GROUP_METADATA_TOPIC_NAME,
      numPartitions: config.get('offsets.topic.num.partitions'),
      replicationFactor: config.get('offsets.topic.replication.factor'),
      configs: { 'compression.type': 'producer', 'segment.bytes': String(config.get('offsets.topic.segment.bytes')) },
    }),
    { metadata, controllerChannel: deps.controllerChannel, logger },
  );
  const coordinator = new GroupCoordinator({
    config: groupCoordinatorConfig(config),
    log: new ReplicaPartitionLog({
      topic: GROUP_METADATA_TOPIC_NAME,
      replicaManager: deps.replicaManager,
      metadata,
      compressionCodec: config.get('offsets.topic.compression.codec'),
      loadBufferSize: config.get('offsets.load.buffer.size'),
      commitTimeoutMs: config.get('offsets.commit.timeout.ms'),
      now: () => scheduler.now(),
    }),
    scheduler,
    logger,
    ensureOffsetsTopic,
  });
  followLeadership(GROUP_METADATA_TOPIC_NAME, nodeId, metadata, scheduler, coordinator);
  // Transactional offsets complete when their producer's marker lands on the group's partition.
  deps.replicaManager.onTransactionMarker((e) => {
    if (e.topic === GROUP_METADATA_TOPIC_NAME) coordinator.onTransactionMarker(e.partition, e.producerId, e.committed, e.offset);
  });
  return coordinator;
}

/**
 * The coordinator for a group API request, once `__consumer_offsets` exists (created on first
 * use). Throws COORDINATOR_NOT_AVAILABLE when there is none or the topic cannot be created.
 */
export async function readyGroupCoordinator(ctx: { groupCoordinator?: GroupCoordinator; logger: Logger }): Promise<GroupCoordinator> {
  const c = ctx.groupCoordinator;
  if (!c) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'This broker runs no group coordinator');
  try {
    await c.ensureOffsetsTopic();
  } catch (err) {
    if (err instanceof KafkaError) throw err;
    ctx.logger.warn({ err }, `could not create ${GROUP_METADATA_TOPIC_NAME}`);
    throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${GROUP_METADATA_TOPIC_NAME} is not available yet`);
  }
  return c;
}
