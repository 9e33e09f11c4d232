// KIP-890 part 1 on the partition leader (Kafka's AddPartitionsToTxnManager): before a
// producer's first transactional batch of a transaction is appended, ask the transactional id's
// coordinator (the leader of its `__transaction_state` partition, this broker or another over the
// inter-broker listener) with AddPartitionsToTxn v4 verifyOnly whether the partition is in the
// producer's ongoing transaction. The answer is translated as Kafka's leader does for producers:
// PRODUCER_FENCED → INVALID_PRODUCER_EPOCH, TRANSACTION_ABORTABLE → INVALID_TXN_STATE (Produce
// up to v11), and the retriable coordinator errors (CONCURRENT_TRANSACTIONS, NETWORK_EXCEPTION,
// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR) → NOT_ENOUGH_REPLICAS,
// which every client retries without a metadata refresh. A coordinator that does not serve
// verifyOnly (UNSUPPORTED_VERSION) lets the batch through, as Kafka does.
import type { MetadataImage } from '../../controller/metadata/image.ts';
import type { NodeConnections } from '../../controller/network/node-connections.ts';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { TransactionVerifier } from '../replica/append-validator.ts';
import type { TransactionCoordinator } from './transaction-coordinator.ts';
import { TRANSACTION_STATE_TOPIC_NAME } from './transaction-log.ts';

export interface TransactionVerifierOptions {
  nodeId: number;
  coordinator: Pick<TransactionCoordinator, 'partitionFor' | 'verifyPartitions'>;
  image(): MetadataImage;
  connections: Pick<NodeConnections, 'send'>;
}

/** Kafka's translation of a verification answer into the error a producer gets. */
export function producerErrorOfVerification(code: number): number {
  switch (code) {
    case ErrorCode.PRODUCER_FENCED:
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    case ErrorCode.TRANSACTION_ABORTABLE:
      return ErrorCode.INVALID_TXN_STATE;
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.NETWORK_EXCEPTION:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    default:
      return code;
  }
}

export function createTransactionVerifier(opts: TransactionVerifierOptions): TransactionVerifier {
  return {
    async verify(r) {
      const partition = opts.coordinator.partitionFor(r.transactionalId);
      const leader = opts.image().topicsByName.get(TRANSACTION_STATE_TOPIC_NAME)?.partitions[partition]?.leader ?? -1;
      const tp = [{ topic: r.topic, partition: r.partition }];
      if (leader === opts.nodeId) return producerErrorOfVerification(opts.coordinator.verifyPartitions(r.transactionalId, r.producerId, r.producerEpoch, tp)[0]!);
      if (leader < 0) return producerErrorOfVerification(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      try {
        const res = await opts.connections.send(
          leader,
          ApiKey.AddPartitionsToTxn,
          {
            transactions: [{ transactionalId: r.transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch, verifyOnly: true, topics: [{ name: r.topic, partitions: [r.partition] }] }],
          },
          { lane: 'txn-verification', version: 4 },
        );
        if (res.errorCode !== undefined && res.errorCode !== ErrorCode.NONE) {
          return res.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED ? ErrorCode.INVALID_TXN_STATE : producerErrorOfVerification(res.errorCode);
        }
        const code = res.resultsByTransaction?.[0]?.topicResults[0]?.resultsByPartition[0]?.partitionErrorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        return producerErrorOfVerification(code);
      } catch (err) {
        const code = errorCodeOf(err);
        if (code === ErrorCode.UNSUPPORTED_VERSION) return ErrorCode.NONE;
        return producerErrorOfVerification(ErrorCode.NETWORK_EXCEPTION);
      }
    },
  };
}
