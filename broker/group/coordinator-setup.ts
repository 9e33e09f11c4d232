// Binds the group coordinator to this broker: its configuration from the broker's offsets.* and
// group.* settings, `__consumer_offsets` through the replica manager, creation of that topic on
// first use (through the controller: offsets.topic.num.partitions partitions, replication factor
// min(offsets.topic.replication.factor, live brokers), compacted), and leadership: every published
// metadata image elects the coordinator for the partitions this broker now leads (loading them)
// and resigns it from those it stopped leading.
import type { Logger } from 'pino';
import { liveBrokers, type MetadataImage } from '../../controller/metadata/image.ts';
import type { ControllerChannel } from '../controller-channel.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { type Scheduler, SystemScheduler } from '../../protocol/scheduler.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { MetadataPublisher } from '../metadata/metadata-publisher.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import { GroupCoordinator, type GroupCoordinatorConfig } from './group-coordinator.ts';
import { GROUP_METADATA_TOPIC_NAME } from './offsets-topic.ts';
import { ReplicaCoordinatorLog } from './replica-coordinator-log.ts';

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
  const { config, metadata, controllerChannel, nodeId } = deps;
  const logger = deps.logger.child({ module: 'group-coordinator' });
  const scheduler = deps.scheduler ?? new SystemScheduler({ logger });
  let creating: Promise<void> | null = null;

  const ensureOffsetsTopic = (): Promise<void> => {
    if (metadata.image.topicsByName.has(GROUP_METADATA_TOPIC_NAME)) return Promise.resolve();
    creating ??= (async () => {
      const live = liveBrokers(metadata.image).length;
      const rf = Math.max(1, Math.min(config.get('offsets.topic.replication.factor'), live));
      const [result] = await controllerChannel.createTopics(
        [
          {
            name: GROUP_METADATA_TOPIC_NAME,
            numPartitions: config.get('offsets.topic.num.partitions'),
            replicationFactor: rf,
            assignments: [],
            configs: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'compression.type', value: 'producer' },
              { name: 'segment.bytes', value: String(config.get('offsets.topic.segment.bytes')) },
            ],
          },
        ],
        false,
      );
      if (result && result.errorCode !== ErrorCode.NONE && result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
        throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `could not create ${GROUP_METADATA_TOPIC_NAME}: ${result.errorMessage}`);
      }
      logger.info({ partitions: config.get('offsets.topic.num.partitions'), replicationFactor: rf }, `created ${GROUP_METADATA_TOPIC_NAME}`);
      await metadata.waitFor(await controllerChannel.committedOffset());
    })().finally(() => {
      creating = null;
    });
    return creating;
  };

  const coordinator = new GroupCoordinator({
    config: groupCoordinatorConfig(config),
    log: new ReplicaCoordinatorLog({
      replicaManager: deps.replicaManager,
      metadata,
      compressionCodec: config.get('offsets.topic.compression.codec'),
      loadBufferSize: config.get('offsets.load.buffer.size'),
      commitTimeoutMs: config.get('offsets.commit.timeout.ms'),
      now: () => scheduler.now(),
      logger,
    }),
    scheduler,
    logger,
    ensureOffsetsTopic,
  });

  const follow = (image: MetadataImage): void => {
    const topic = image.topicsByName.get(GROUP_METADATA_TOPIC_NAME);
    const led = new Map<number, number>();
    if (topic) {
      coordinator.setPartitionCount(topic.partitions.length);
      for (const p of topic.partitions) if (p.leader === nodeId) led.set(p.partition, p.leaderEpoch);
    }
    for (const p of [...coordinator.ownedPartitions().keys()]) if (!led.has(p)) coordinator.onResignation(p);
    for (const [p, epoch] of led) coordinator.elect(p, epoch);
  };
  // An image listener runs outside any request: a failure is logged, and the next image (which
  // carries the same leadership) tries again.
  const contained = scheduler.wrap({ unit: 'group-coordinator', context: { task: 'leadership' } }, follow);
  metadata.onPublish(contained);
  contained(metadata.image);
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
