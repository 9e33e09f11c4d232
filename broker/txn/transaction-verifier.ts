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
// Remote checks are batched per coordinator node as Kafka batches them: one request in flight
// per node; checks asked meanwhile (or in the same turn) wait and go together in the next one,
// one entry per transactional id. When a transactional id is asked again with another producer
// id or epoch before its entry was sent, the older ask is answered with the retriable error and
// dropped, as Kafka's manager does.
import { ConfigResourceType, type MetadataImage } from '../../controller/metadata/image.ts';
import type { NodeConnections } from '../../controller/network/node-connections.ts';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { AddPartitionsToTxnTransaction } from '../../protocol/generated/message/add-partitions-to-txn-request.ts';
import type { AddPartitionsToTxnResponse } from '../../protocol/generated/message/add-partitions-to-txn-response.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import { resourceConfigs } from '../handlers/config-resources.ts';
import type { TransactionVerifier } from '../replica/append-validator.ts';
import type { TransactionCoordinator } from './transaction-coordinator.ts';
import { TRANSACTION_STATE_TOPIC_NAME } from './transaction-log.ts';

export interface TransactionVerifierOptions {
  nodeId: number;
  coordinator: Pick<TransactionCoordinator, 'partitionFor' | 'verifyPartitions'>;
  image(): MetadataImage;
  connections: Pick<NodeConnections, 'send'>;
}

const VERIFICATION_KEY = 'transaction.partition.verification.enable';

/**
 * transaction.partition.verification.enable in force (dynamic, cluster-wide in Kafka): this
 * broker's dynamic value, else the cluster default's, else server.properties'.
 */
export function partitionVerificationEnabled(config: BrokerConfig, image: MetadataImage): boolean {
  const v = resourceConfigs(image, ConfigResourceType.Broker, String(config.nodeId)).get(VERIFICATION_KEY) ?? resourceConfigs(image, ConfigResourceType.Broker, '').get(VERIFICATION_KEY);
  return v === undefined ? config.get(VERIFICATION_KEY) : v.trim().toLowerCase() === 'true';
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

interface Ask {
  topic: string;
  partition: number;
  resolve(code: number): void;
}

interface Entry {
  producerId: bigint;
  producerEpoch: number;
  asks: Ask[];
}

/** The checks waiting for one coordinator node, and whether a request to it is in flight. */
interface NodeQueue {
  pending: Map<string, Entry>;
  inFlight: boolean;
}

export function createTransactionVerifier(opts: TransactionVerifierOptions): TransactionVerifier {
  const queues = new Map<number, NodeQueue>();

  function answerAll(entries: Iterable<Entry>, code: number): void {
    for (const e of entries) for (const a of e.asks) a.resolve(code);
  }

  function answer(batch: Map<string, Entry>, res: AddPartitionsToTxnResponse): void {
    if (res.errorCode !== undefined && res.errorCode !== ErrorCode.NONE) {
      // The whole request refused: a broker not allowed to ask (CLUSTER_AUTHORIZATION_FAILED)
      // must not let the batch in unverified.
      answerAll(batch.values(), res.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED ? ErrorCode.INVALID_TXN_STATE : producerErrorOfVerification(res.errorCode));
      return;
    }
    const codes = new Map<string, number>();
    for (const t of res.resultsByTransaction ?? []) {
      for (const tr of t.topicResults) for (const p of tr.resultsByPartition) codes.set(`${t.transactionalId}\u0000${tr.name}\u0000${p.partitionIndex}`, p.partitionErrorCode);
    }
    for (const [id, e] of batch) {
      for (const a of e.asks) a.resolve(producerErrorOfVerification(codes.get(`${id}\u0000${a.topic}\u0000${a.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR));
    }
  }

  /** Sends what waits for `node`, then again while more arrived meanwhile. Never rejects. */
  async function drain(node: number, q: NodeQueue): Promise<void> {
    q.inFlight = true;
    try {
      // Checks asked in the same turn (every partition of one Produce request) share a request.
      await Promise.resolve();
      while (q.pending.size > 0) {
        const batch = q.pending;
        q.pending = new Map();
        const transactions: AddPartitionsToTxnTransaction[] = [...batch].map(([transactionalId, e]) => {
          const byTopic = new Map<string, number[]>();
          for (const a of e.asks) {
            const ps = byTopic.get(a.topic) ?? [];
            if (!ps.includes(a.partition)) ps.push(a.partition);
            byTopic.set(a.topic, ps);
          }
          return { transactionalId, producerId: e.producerId, producerEpoch: e.producerEpoch, verifyOnly: true, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
        });
        try {
          answer(batch, await opts.connections.send(node, ApiKey.AddPartitionsToTxn, { transactions }, { lane: 'txn-verification', version: 4 }));
        } catch (err) {
          answerAll(batch.values(), errorCodeOf(err) === ErrorCode.UNSUPPORTED_VERSION ? ErrorCode.NONE : producerErrorOfVerification(ErrorCode.NETWORK_EXCEPTION));
        }
      }
    } finally {
      q.inFlight = false;
      if (q.pending.size > 0) void drain(node, q);
      else queues.delete(node);
    }
  }

  return {
    verify(r) {
      const partition = opts.coordinator.partitionFor(r.transactionalId);
      const leader = opts.image().topicsByName.get(TRANSACTION_STATE_TOPIC_NAME)?.partitions[partition]?.leader ?? -1;
      const tp = [{ topic: r.topic, partition: r.partition }];
      if (leader === opts.nodeId) return Promise.resolve(producerErrorOfVerification(opts.coordinator.verifyPartitions(r.transactionalId, r.producerId, r.producerEpoch, tp)[0]!));
      if (leader < 0) return Promise.resolve(producerErrorOfVerification(ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return new Promise<number>((resolve) => {
        let q = queues.get(leader);
        if (!q) {
          q = { pending: new Map(), inFlight: false };
          queues.set(leader, q);
        }
        let e = q.pending.get(r.transactionalId);
        if (e && (e.producerId !== r.producerId || e.producerEpoch !== r.producerEpoch)) {
          answerAll([e], producerErrorOfVerification(ErrorCode.NETWORK_EXCEPTION));
          e = undefined;
        }
        if (!e) {
          e = { producerId: r.producerId, producerEpoch: r.producerEpoch, asks: [] };
          q.pending.set(r.transactionalId, e);
        }
        e.asks.push({ topic: r.topic, partition: r.partition, resolve });
        if (!q.inFlight) void drain(leader, q);
      });
    },
  };
}
