// Binds the transaction coordinator to this broker: its settings from transaction.*,
// `__transaction_state` through the replica manager (created on first use through the controller:
// transaction.state.log.num.partitions partitions, replication factor
// min(transaction.state.log.replication.factor, live brokers), min.insync.replicas
// transaction.state.log.min.isr, segment.bytes transaction.state.log.segment.bytes, compacted,
// uncompressed), leadership followed from the metadata images, and WriteTxnMarkers sent to
// partition leaders on their inter-broker listener. The replica manager gets the coordinator's
// verifier (KIP-890 part 1), which the Produce handler consults unless
// transaction.partition.verification.enable is false.
import type { Logger } from 'pino';
import { NodeConnections } from '../../controller/network/node-connections.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { Scheduler } from '../../protocol/scheduler.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { ControllerChannel } from '../controller-channel.ts';
import { followLeadership, internalTopicCreator } from '../coordinator/internal-topic.ts';
import { ReplicaPartitionLog } from '../coordinator/replica-partition-log.ts';
import type { MetadataPublisher } from '../metadata/metadata-publisher.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import { TransactionCoordinator } from './transaction-coordinator.ts';
import { TRANSACTION_STATE_TOPIC_NAME } from './transaction-log.ts';
import { NetworkMarkerSender } from './transaction-markers.ts';
import { createTransactionVerifier } from './transaction-verifier.ts';
import type { TxnCoordinatorConfig } from './transaction-shard.ts';

export interface TransactionCoordinatorDeps {
  nodeId: number;
  config: BrokerConfig;
  logger: Logger;
  metadata: MetadataPublisher;
  controllerChannel: ControllerChannel;
  replicaManager: ReplicaManager;
  producerIds: { generate(): Promise<bigint> };
  scheduler: Scheduler;
}

export function txnCoordinatorConfig(config: BrokerConfig): TxnCoordinatorConfig {
  return {
    transactionMaxTimeoutMs: config.get('transaction.max.timeout.ms'),
    transactionalIdExpirationMs: config.get('transactional.id.expiration.ms'),
    abortTimedOutTransactionsIntervalMs: config.get('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
    removeExpiredTransactionalIdsIntervalMs: config.get('transaction.remove.expired.transaction.cleanup.interval.ms'),
    retryBackoffMs: 100,
  };
}

export function createTransactionCoordinator(deps: TransactionCoordinatorDeps): TransactionCoordinator {
  const { config, metadata, scheduler, nodeId } = deps;
  const logger = deps.logger.child({ module: 'txn-coordinator' });
  const connections = new NodeConnections({
    endpointOf: (id) => {
      const ep = metadata.image.brokers.get(id)?.endpoints.find((e) => e.name === config.interBrokerListenerName);
      return ep ? { host: ep.host, port: ep.port } : undefined;
    },
    clientId: `samsa-txn-markers-${nodeId}`,
    logger: logger.child({ module: 'txn-marker-connections' }),
    requestTimeoutMs: config.get('request.timeout.ms'),
    reconnectBackoffMs: 100,
  });
  const ensureTopic = internalTopicCreator(
    () => ({
      name: TRANSACTION_STATE_TOPIC_NAME,
      numPartitions: config.get('transaction.state.log.num.partitions'),
      replicationFactor: config.get('transaction.state.log.replication.factor'),
      configs: {
        'compression.type': 'uncompressed',
        'min.insync.replicas': String(config.get('transaction.state.log.min.isr')),
        'segment.bytes': String(config.get('transaction.state.log.segment.bytes')),
        'unclean.leader.election.enable': 'false',
      },
    }),
    { metadata, controllerChannel: deps.controllerChannel, logger },
  );
  const coordinator = new TransactionCoordinator({
    config: txnCoordinatorConfig(config),
    partitionCount: config.get('transaction.state.log.num.partitions'),
    log: new ReplicaPartitionLog({
      topic: TRANSACTION_STATE_TOPIC_NAME,
      replicaManager: deps.replicaManager,
      metadata,
      compressionCodec: 0,
      loadBufferSize: config.get('transaction.state.log.load.buffer.size'),
      commitTimeoutMs: config.get('request.timeout.ms'),
      now: () => scheduler.now(),
    }),
    markers: new NetworkMarkerSender({ connections, image: () => metadata.image, scheduler, logger, retryBackoffMs: 100 }),
    producerIds: deps.producerIds,
    scheduler,
    logger,
    ensureTopic,
    onShutdown: () => connections.close(),
  });
  followLeadership(TRANSACTION_STATE_TOPIC_NAME, nodeId, metadata, scheduler, coordinator);
  deps.replicaManager.transactionVerifier = createTransactionVerifier({ nodeId, coordinator, image: () => metadata.image, connections });
  return coordinator;
}

/**
 * The transaction coordinator for a request, once `__transaction_state` exists (created on first
 * use). Throws COORDINATOR_NOT_AVAILABLE when there is none or the topic cannot be created.
 */
export async function readyTxnCoordinator(ctx: { txnCoordinator?: TransactionCoordinator; logger: Logger }): Promise<TransactionCoordinator> {
  const c = ctx.txnCoordinator;
  if (!c) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'This broker runs no transaction coordinator');
  try {
    await c.ensureTopic();
  } catch (err) {
    if (err instanceof KafkaError) throw err;
    ctx.logger.warn({ err }, `could not create ${TRANSACTION_STATE_TOPIC_NAME}`);
    throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${TRANSACTION_STATE_TOPIC_NAME} is not available yet`);
  }
  return c;
}
