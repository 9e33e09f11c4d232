// EndTxn (key 26), v0-v4: commits or aborts the producer's transaction. Answered once the
// PrepareCommit/PrepareAbort record is committed in `__transaction_state`; the markers are then
// written on every partition of the transaction and the transaction completes (until then other
// calls on it get CONCURRENT_TRANSACTIONS). Clients before v2 get INVALID_PRODUCER_EPOCH for
// PRODUCER_FENCED.
import { ErrorCode, type KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireTransactionalId } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyTxnCoordinator } from '../txn/txn-setup.ts';
import { defineHandler } from './api-handler.ts';

export function endTxnHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.EndTxn,
    async handle(req, rc) {
      requireTransactionalId(ctx, rc, AclOperation.WRITE, req.transactionalId);
      const coordinator = await readyTxnCoordinator(ctx);
      let errorCode = await coordinator.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed);
      if (errorCode === ErrorCode.PRODUCER_FENCED && rc.apiVersion < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
      return { throttleTimeMs: 0, errorCode };
    },
    errorResponse: (_req, err: KafkaError) => ({ throttleTimeMs: 0, errorCode: err.errorCode }),
  });
}
