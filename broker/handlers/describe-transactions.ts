// DescribeTransactions (key 65), v0: the state of each transactional id this broker coordinates
// (NOT_COORDINATOR for the others, COORDINATOR_LOAD_IN_PROGRESS while its partition loads,
// TRANSACTIONAL_ID_NOT_FOUND for unknown ids): state name, timeout, start time (-1 before the
// first transaction), producer id and epoch, and the partitions of the current transaction.
import { ErrorCode, type KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTransactionalId } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';

function missing(transactionalId: string, errorCode: number) {
  return { errorCode, transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [] };
}

export function describeTransactionsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeTransactions,
    handle(req, rc) {
      const c = ctx.txnCoordinator;
      const transactionStates = req.transactionalIds.map((id) => (!allowedOnTransactionalId(ctx, rc, AclOperation.DESCRIBE, id) ? missing(id, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) : c ? c.describe(id) : missing(id, ErrorCode.COORDINATOR_NOT_AVAILABLE)));
      return { throttleTimeMs: 0, transactionStates };
    },
    errorResponse: (req, err: KafkaError) => ({ throttleTimeMs: 0, transactionStates: req.transactionalIds.map((id) => missing(id, err.errorCode)) }),
  });
}
