// Produce (key 0), v0-v11. Per partition: leadership, validation (append-validator), the
// idempotent producer's sequence checks and the append; acks=0 gets no response, acks=1 an
// answer once the bytes are in the log, acks=-1 once the high watermark passes the batch
// (broker/replica/delayed-produce.ts): refused before the append with NOT_ENOUGH_REPLICAS when
// the ISR is below min.insync.replicas, answered NOT_ENOUGH_REPLICAS_AFTER_APPEND when it shrank
// below it meanwhile, REQUEST_TIMED_OUT past the request's timeoutMs. Every partition's append is started
// before the first await, in request order, so one connection's batches keep their order.
// Transactional batches need the request's transactionalId (else the whole request fails with
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka answers); a producer's first transactional
// batch on a partition is first verified with its transaction coordinator when one is wired
// (KIP-890 part 1, ReplicaManager.transactionVerifier, unless
// transaction.partition.verification.enable, a dynamic config, is false), which delays that
// partition's append until the answer; producer state refuses a non-transactional batch inside
// an open transaction (INVALID_TXN_STATE) and applies the idempotence rules to both kinds.
// A failed partition is answered as Kafka's ReplicaManager answers it: a batch refused for its
// records carries one record error per offending record and the validator's summary message
// (record_errors and error_message exist from v8; the codec leaves them out of older versions);
// any other error carries no message, and the log start offset is sent except for the errors
// Kafka answers before looking at the log (unknown partition, not leader, too large, corrupt,
// storage).
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { PartitionProduceResponse, ProduceResponse } from '../../protocol/generated/message/produce-response.ts';
import { ATTRIBUTES_OFFSET, MAGIC_OFFSET, RECORD_BATCH_OVERHEAD, TRANSACTIONAL_MASK } from '../../protocol/records/batch-header.ts';
import { StorageError } from '../../storage/errors.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTopic, requireTransactionalId } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { AppendValidationError, validateProducedRecords } from '../replica/append-validator.ts';
import type { Partition } from '../replica/partition.ts';
import { partitionVerificationEnabled } from '../txn/transaction-verifier.ts';
import { defineHandler, inPurgatory, NO_RESPONSE, type RequestContext } from './api-handler.ts';

function errorPartition(index: number, errorCode: number, errorMessage: string | null = null, logStartOffset = -1n): PartitionProduceResponse {
  return { index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset, recordErrors: [], errorMessage };
}

/** Errors Kafka answers with log start offset -1: raised before the partition's log is involved. */
const WITHOUT_LOG_START_OFFSET: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.RECORD_LIST_TOO_LARGE,
  ErrorCode.CORRUPT_MESSAGE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  ErrorCode.INVALID_REQUIRED_ACKS,
]);

/** Kafka's ProduceRequest.hasTransactionalRecords: a partition's first batch carries the flag. */
function firstBatchIsTransactional(records: Buffer | null | undefined): boolean {
  if (!records || records.length < RECORD_BATCH_OVERHEAD || records.readInt8(MAGIC_OFFSET) !== 2) return false;
  return (records.readInt16BE(ATTRIBUTES_OFFSET) & TRANSACTIONAL_MASK) !== 0;
}

export function produceHandler(ctx: BrokerContext) {
  function toResponse(index: number, err: unknown, rc: RequestContext, tp: string, partition: Partition | undefined): PartitionProduceResponse {
    const failed = (errorCode: number, errorMessage: string | null = null): PartitionProduceResponse =>
      errorPartition(index, errorCode, errorMessage, partition && !WITHOUT_LOG_START_OFFSET.has(errorCode) ? BigInt(partition.log.logStartOffset) : -1n);
    if (err instanceof AppendValidationError) {
      rc.logger.debug({ partition: tp, errorCode: err.errorCode, recordErrors: err.recordErrors.length }, err.message);
      // Kafka sends its message only with record errors (a RecordValidationException).
      if (err.recordErrors.length === 0) return failed(err.errorCode);
      return { ...failed(err.errorCode, err.message), recordErrors: err.recordErrors };
    }
    if (err instanceof KafkaError) {
      rc.logger.debug({ partition: tp, errorCode: err.errorCode }, err.message);
      return failed(err.errorCode);
    }
    if (err instanceof StorageError) {
      rc.logger.error({ err, partition: tp }, 'append failed in storage');
      return failed(ErrorCode.KAFKA_STORAGE_ERROR);
    }
    rc.logger.error({ err, partition: tp }, 'unexpected error appending records');
    return failed(ErrorCode.UNKNOWN_SERVER_ERROR);
  }

  return defineHandler({
    apiKey: ApiKey.Produce,
    async handle(req, rc) {
      const acks = req.acks;
      if (req.transactionalId == null && req.topicData.some((t) => t.partitionData.some((p) => firstBatchIsTransactional(p.records)))) {
        throw new KafkaError(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional records need a transactional id');
      }
      if (req.transactionalId != null && req.topicData.some((t) => t.partitionData.some((p) => firstBatchIsTransactional(p.records)))) requireTransactionalId(ctx, rc, AclOperation.WRITE, req.transactionalId);
      const image = ctx.metadata.image;
      const now = ctx.now();
      const responses: { name: string; partitionResponses: Promise<PartitionProduceResponse>[] }[] = [];
      for (const topic of req.topicData) {
        const parts: Promise<PartitionProduceResponse>[] = [];
        responses.push({ name: topic.name, partitionResponses: parts });
        for (const pd of topic.partitionData) {
          const tp = `${topic.name}-${pd.index}`;
          let partition: Partition | undefined;
          const start = (): Promise<PartitionProduceResponse> => {
            if (acks !== 0 && acks !== 1 && acks !== -1) {
              return Promise.resolve(errorPartition(pd.index, ErrorCode.INVALID_REQUIRED_ACKS));
            }
            if (!allowedOnTopic(ctx, rc, AclOperation.WRITE, topic.name)) return Promise.resolve(errorPartition(pd.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
            partition = ctx.replicaManager.leaderPartition(image, topic.name, pd.index);
            const validated = validateProducedRecords(pd.records ?? Buffer.alloc(0), { apiVersion: rc.apiVersion, topicPartition: tp, config: partition.config, now });
            const leader = partition;
            const append = (): Promise<PartitionProduceResponse> => leader.appendAsLeader(validated, acks).then(async (r) => ({
              index: pd.index,
              // acks=all: answered once the in-sync replicas have the batch (or the wait ends).
              errorCode: acks === -1 ? await inPurgatory(rc, ctx.replicaManager.delayedProduce.wait(leader, r.lastOffset + 1, req.timeoutMs, r.leaderEpoch)) : ErrorCode.NONE,
              baseOffset: BigInt(r.baseOffset),
              logAppendTimeMs: BigInt(r.logAppendTime),
              logStartOffset: BigInt(r.logStartOffset),
              recordErrors: [],
              errorMessage: null,
            }));
            const txn = validated.batches.find((b) => (b.header.attributes & TRANSACTIONAL_MASK) !== 0);
            if (txn === undefined || req.transactionalId == null || leader.producerState.hasOngoingTransaction(txn.header.producerId)) return append();
            const verifier = partitionVerificationEnabled(ctx.config, image) ? ctx.replicaManager.transactionVerifier : undefined;
            if (verifier === undefined) return append();
            const h = txn.header;
            const token = leader.producerState.verificationToken(h.producerId);
            return verifier.verify({ transactionalId: req.transactionalId, producerId: h.producerId, producerEpoch: h.producerEpoch, topic: topic.name, partition: pd.index }).then((code) => {
              if (code !== ErrorCode.NONE) throw new KafkaError(code as ErrorCode, `Partition ${tp} is not in the ongoing transaction of ${req.transactionalId}`);
              // A marker written meanwhile ended the transaction the batch was verified for.
              if (leader.producerState.verificationToken(h.producerId) !== token) throw new KafkaError(ErrorCode.INVALID_TXN_STATE, `The transaction of producer ${h.producerId} ended while ${tp} was verified`);
              return append();
            });
          };
          let p: Promise<PartitionProduceResponse>;
          try {
            p = start();
          } catch (err) {
            p = Promise.resolve(toResponse(pd.index, err, rc, tp, partition));
          }
          parts.push(p.catch((err: unknown) => toResponse(pd.index, err, rc, tp, partition)));
        }
      }
      if (acks === 0) {
        // No response is sent; errors are only logged (Kafka would close the connection).
        void Promise.all(responses.flatMap((t) => t.partitionResponses)).then((all) => {
          const failed = all.filter((r) => r.errorCode !== ErrorCode.NONE);
          if (failed.length > 0) rc.logger.debug({ failed: failed.length }, 'acks=0 produce had failed partitions');
        });
        return NO_RESPONSE;
      }
      const out: ProduceResponse = { responses: [], throttleTimeMs: 0 };
      for (const t of responses) out.responses.push({ name: t.name, partitionResponses: await Promise.all(t.partitionResponses) });
      return out;
    },
    errorResponse: (req, err) => ({
      responses: req.topicData.map((t) => ({ name: t.name, partitionResponses: t.partitionData.map((p) => errorPartition(p.index, err.errorCode, err.message)) })),
      throttleTimeMs: 0,
    }),
  });
}
