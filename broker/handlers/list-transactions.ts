// ListTransactions (key 66), v0-v1: the transactions of the `__transaction_state` partitions this
// broker coordinates, filtered by state names (unknown names are returned in
// unknownStateFilters), producer ids and, from v1, a minimum running time (durationFilter >= 0).
// COORDINATOR_LOAD_IN_PROGRESS (and no transactions) while a partition loads, as Kafka answers.
import { ErrorCode, type KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTransactionalId } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';

export function listTransactionsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.ListTransactions,
    handle(req, rc) {
      const c = ctx.txnCoordinator;
      if (!c) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, unknownStateFilters: [], transactionStates: [] };
      const duration = rc.apiVersion >= 1 ? Number(req.durationFilter ?? -1n) : -1;
      const out = c.list(req.stateFilters, req.producerIdFilters, duration);
      return { throttleTimeMs: 0, errorCode: out.errorCode, unknownStateFilters: out.unknownStateFilters, transactionStates: out.transactions.filter((t) => allowedOnTransactionalId(ctx, rc, AclOperation.DESCRIBE, t.transactionalId)) };
    },
    errorResponse: (_req, err: KafkaError) => ({ throttleTimeMs: 0, errorCode: err.errorCode, unknownStateFilters: [], transactionStates: [] }),
  });
}
