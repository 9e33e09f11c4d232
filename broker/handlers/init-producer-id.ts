// InitProducerId (key 22), v0-v5, for idempotent producers: a fresh producer id from the
// controller-allocated block, epoch 0, as Kafka answers every request without a transactional
// id (a producer id and epoch in the request only matter to a transaction coordinator).
// Transactional ids need a transaction coordinator, which this broker does not serve yet; such
// requests get UNSUPPORTED_VERSION, Kafka's answer for what a broker cannot do.
import { ErrorCode, type KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';

export function initProducerIdHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.InitProducerId,
    async handle(req, rc) {
      if (req.transactionalId !== null) {
        rc.logger.info({ transactionalId: req.transactionalId }, 'transactional producer refused: no transaction coordinator');
        return { throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_VERSION, producerId: -1n, producerEpoch: -1 };
      }
      const id = await ctx.producerIds.generate();
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: id, producerEpoch: 0 };
    },
    errorResponse: (_req, err: KafkaError) => ({ throttleTimeMs: 0, errorCode: err.errorCode, producerId: -1n, producerEpoch: -1 }),
  });
}
