// Produce (key 0), v0-v11. Per partition: leadership, validation (append-validator), the
// idempotent producer's sequence checks and the append; acks=0 gets no response, acks=1 an
// answer once the bytes are in the log, acks=-1 once the in-sync replicas have them (with the
// leader as the only replica, that is the same moment). Every partition's append is started
// before the first await, in request order, so one connection's batches keep their order.
// Transactional produce is refused with INVALID_TXN_STATE: no transaction can have been begun,
// as this broker serves no transaction coordinator.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { PartitionProduceResponse, ProduceResponse } from '../../protocol/generated/message/produce-response.ts';
import { TRANSACTIONAL_MASK } from '../../protocol/records/batch-header.ts';
import { StorageError } from '../../storage/errors.ts';
import type { BrokerContext } from '../broker-context.ts';
import { AppendValidationError, validateProducedRecords } from '../replica/append-validator.ts';
import { defineHandler, NO_RESPONSE, type RequestContext } from './api-handler.ts';

function errorPartition(index: number, errorCode: number, errorMessage: string | null = null): PartitionProduceResponse {
  return { index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage };
}

export function produceHandler(ctx: BrokerContext) {
  function toResponse(index: number, err: unknown, rc: RequestContext, tp: string): PartitionProduceResponse {
    if (err instanceof AppendValidationError) {
      rc.logger.debug({ partition: tp, errorCode: err.errorCode }, err.message);
      return { ...errorPartition(index, err.errorCode, err.message), recordErrors: err.recordErrors };
    }
    if (err instanceof KafkaError) return errorPartition(index, err.errorCode, err.message);
    if (err instanceof StorageError) {
      rc.logger.error({ err, partition: tp }, 'append failed in storage');
      return errorPartition(index, ErrorCode.KAFKA_STORAGE_ERROR, err.message);
    }
    rc.logger.error({ err, partition: tp }, 'unexpected error appending records');
    return errorPartition(index, ErrorCode.UNKNOWN_SERVER_ERROR, null);
  }

  return defineHandler({
    apiKey: ApiKey.Produce,
    async handle(req, rc) {
      const acks = req.acks;
      const image = ctx.metadata.image;
      const now = ctx.now();
      const responses: { name: string; partitionResponses: Promise<PartitionProduceResponse>[] }[] = [];
      for (const topic of req.topicData) {
        const parts: Promise<PartitionProduceResponse>[] = [];
        responses.push({ name: topic.name, partitionResponses: parts });
        for (const pd of topic.partitionData) {
          const tp = `${topic.name}-${pd.index}`;
          const start = (): Promise<PartitionProduceResponse> => {
            if (acks !== 0 && acks !== 1 && acks !== -1) {
              return Promise.resolve(errorPartition(pd.index, ErrorCode.INVALID_REQUIRED_ACKS, `Invalid required acks ${acks}`));
            }
            const partition = ctx.replicaManager.leaderPartition(image, topic.name, pd.index);
            const validated = validateProducedRecords(pd.records ?? Buffer.alloc(0), { apiVersion: rc.apiVersion, topicPartition: tp, config: partition.config, now });
            if (req.transactionalId != null || validated.batches.some((b) => (b.header.attributes & TRANSACTIONAL_MASK) !== 0)) {
              throw new KafkaError(ErrorCode.INVALID_TXN_STATE, `Transactional records for ${tp} are not part of a transaction begun on this broker`);
            }
            return partition.appendAsLeader(validated, acks).then((r) => ({
              index: pd.index,
              errorCode: ErrorCode.NONE,
              baseOffset: BigInt(r.baseOffset),
              logAppendTimeMs: BigInt(r.logAppendTime),
              logStartOffset: BigInt(r.logStartOffset),
              recordErrors: [],
              errorMessage: null,
            }));
          };
          let p: Promise<PartitionProduceResponse>;
          try {
            p = start();
          } catch (err) {
            p = Promise.resolve(toResponse(pd.index, err, rc, tp));
          }
          parts.push(p.catch((err: unknown) => toResponse(pd.index, err, rc, tp)));
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
