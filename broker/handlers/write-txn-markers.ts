// WriteTxnMarkers (key 27), v0-v1, sent by transaction coordinators to partition leaders. For each
// marker and each of its partitions, a COMMIT or ABORT control batch (producerId, producerEpoch,
// coordinatorEpoch) is appended as leader and answered, as Kafka does, once the in-sync replicas
// have it (markers are written with acks=all, timing out after request.timeout.ms). Per-partition
// errors as Kafka's: UNKNOWN_TOPIC_OR_PARTITION for a partition this broker does not host,
// NOT_LEADER_OR_FOLLOWER when it does not lead it, INVALID_PRODUCER_EPOCH for a marker older than
// the producer's epoch, TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch,
// NOT_ENOUGH_REPLICAS(_AFTER_APPEND), REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR. A marker that was
// written and acknowledged is told to the replica manager's transaction-marker listeners (the
// group coordinator completes transactional offset commits with it).
// Difference from Kafka: no CLUSTER_ACTION authorization here (the listener's security decides).
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { WritableTxnMarkerPartitionResult, WritableTxnMarkerResult } from '../../protocol/generated/message/write-txn-markers-response.ts';
import { StorageError } from '../../storage/errors.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler, type RequestContext } from './api-handler.ts';

export function writeTxnMarkersHandler(ctx: BrokerContext) {
  function errorCodeOf(err: unknown, rc: RequestContext, tp: string): number {
    if (err instanceof KafkaError) {
      rc.logger.debug({ partition: tp, errorCode: err.errorCode }, err.message);
      return err.errorCode;
    }
    if (err instanceof StorageError) {
      rc.logger.error({ err, partition: tp }, 'transaction marker append failed in storage');
      return err.code === 'LOG_CLOSED' ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.KAFKA_STORAGE_ERROR;
    }
    rc.logger.error({ err, partition: tp }, 'unexpected error writing a transaction marker');
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }

  async function writeOne(topic: string, partitionIndex: number, m: { producerId: bigint; producerEpoch: number; transactionResult: boolean; coordinatorEpoch: number }, rc: RequestContext): Promise<WritableTxnMarkerPartitionResult> {
    const tp = `${topic}-${partitionIndex}`;
    try {
      const partition = ctx.replicaManager.getPartition(topic, partitionIndex);
      if (partition === undefined || !ctx.metadata.image.topicsByName.has(topic)) {
        return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      }
      const offset = await partition.appendTxnMarkerAsLeader(
        { producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.transactionResult, coordinatorEpoch: m.coordinatorEpoch },
        ctx.now(),
      );
      const errorCode = await ctx.replicaManager.delayedProduce.wait(partition, offset + 1, ctx.config.get('request.timeout.ms'));
      if (errorCode === ErrorCode.NONE) {
        ctx.replicaManager.notifyTransactionMarker({ topic, partition: partitionIndex, producerId: m.producerId, committed: m.transactionResult, offset });
      }
      return { partitionIndex, errorCode };
    } catch (err) {
      return { partitionIndex, errorCode: errorCodeOf(err, rc, tp) };
    }
  }

  return defineHandler({
    apiKey: ApiKey.WriteTxnMarkers,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      // Every append starts before the first await, in request order.
      const pending = req.markers.map((m) => ({
        producerId: m.producerId,
        topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => writeOne(t.name, p, m, rc)) })),
      }));
      const markers: WritableTxnMarkerResult[] = [];
      for (const m of pending) {
        const topics = [];
        for (const t of m.topics) topics.push({ name: t.name, partitions: await Promise.all(t.partitions) });
        markers.push({ producerId: m.producerId, topics });
      }
      return { markers };
    },
    errorResponse: (req, err) => ({
      markers: req.markers.map((m) => ({
        producerId: m.producerId,
        topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode: err.errorCode })) })),
      })),
    }),
  });
}
