// AddOffsetsToTxn (key 25), v0-v4: adds the group's `__consumer_offsets` partition to the
// transaction, so the transaction's markers reach the group coordinator and its TxnOffsetCommit
// offsets become visible (commit) or are dropped (abort). The topic is created if it does not
// exist yet. Clients before v2 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED.
import { ErrorCode, type KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireGroup, requireTransactionalId } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { GROUP_METADATA_TOPIC_NAME } from '../group/offsets-topic.ts';
import { readyTxnCoordinator } from '../txn/txn-setup.ts';
import { defineHandler } from './api-handler.ts';

export function addOffsetsToTxnHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.AddOffsetsToTxn,
    async handle(req, rc) {
      requireTransactionalId(ctx, rc, AclOperation.WRITE, req.transactionalId);
      requireGroup(ctx, rc, AclOperation.READ, req.groupId);
      const groups = await readyGroupCoordinator(ctx);
      const coordinator = await readyTxnCoordinator(ctx);
      const partition = groups.partitionFor(req.groupId);
      let errorCode = await coordinator.addPartitions(req.transactionalId, req.producerId, req.producerEpoch, [{ topic: GROUP_METADATA_TOPIC_NAME, partition }]);
      if (errorCode === ErrorCode.PRODUCER_FENCED && rc.apiVersion < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
      return { throttleTimeMs: 0, errorCode };
    },
    errorResponse: (_req, err: KafkaError) => ({ throttleTimeMs: 0, errorCode: err.errorCode }),
  });
}
