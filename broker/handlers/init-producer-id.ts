// InitProducerId (key 22), v0-v5. Without a transactional id: a fresh producer id from the
// controller-allocated block, epoch 0, as Kafka answers every idempotent producer. With one: the
// transaction coordinator (broker/txn) bumps the id's epoch, fences an older producer (aborting
// its ongoing transaction first: CONCURRENT_TRANSACTIONS until done), recovers a producer that
// names its id and epoch (v3+, KIP-360) and rotates the producer id once the epoch is exhausted.
// A producer id without an epoch (or the reverse) is INVALID_REQUEST; clients before v4 get
// INVALID_PRODUCER_EPOCH where newer ones get PRODUCER_FENCED, as Kafka answers.
import { ErrorCode, type KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { requireProducerIdAccess } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyTxnCoordinator } from '../txn/txn-setup.ts';
import { defineHandler } from './api-handler.ts';

export function initProducerIdHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.InitProducerId,
    async handle(req, rc) {
      requireProducerIdAccess(ctx, rc, req.transactionalId);
      if (req.transactionalId !== null) {
        const pid = rc.apiVersion >= 3 ? (req.producerId ?? -1n) : -1n;
        const epoch = rc.apiVersion >= 3 ? (req.producerEpoch ?? -1) : -1;
        if ((pid === -1n) !== (epoch === -1)) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 };
        const coordinator = await readyTxnCoordinator(ctx);
        const out = await coordinator.initProducerId(req.transactionalId, req.transactionTimeoutMs, pid === -1n ? null : { producerId: pid, producerEpoch: epoch });
        const errorCode = out.errorCode === ErrorCode.PRODUCER_FENCED && rc.apiVersion < 4 ? ErrorCode.INVALID_PRODUCER_EPOCH : out.errorCode;
        if (errorCode !== ErrorCode.NONE) rc.logger.debug({ transactionalId: req.transactionalId, errorCode }, 'InitProducerId refused');
        return { throttleTimeMs: 0, errorCode, producerId: out.producerId, producerEpoch: out.producerEpoch };
      }
      const id = await ctx.producerIds.generate();
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: id, producerEpoch: 0 };
    },
    errorResponse: (_req, err: KafkaError) => ({ throttleTimeMs: 0, errorCode: err.errorCode, producerId: -1n, producerEpoch: -1 }),
  });
}
