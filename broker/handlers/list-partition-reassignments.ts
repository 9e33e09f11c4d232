// ListPartitionReassignments (key 46), v0 (all Kafka 3.9 serves): the reassignments going on, as
// the active controller's committed image shows them (brokers forward the request there as it
// came, as Kafka's do). Null topics list every one; named partitions that are not being
// reassigned, and unknown topics, are left out, as Kafka's ReplicationControlManager does.
import { listPartitionReassignments } from '../../controller/reassignment.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { onControllerListener } from './quorum-handler.ts';

export function listPartitionReassignmentsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.ListPartitionReassignments,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.DESCRIBE);
      if (!onControllerListener(ctx, rc) && !ctx.controller.isActive) {
        const forwarded = await ctx.controllerChannel.forward(ApiKey.ListPartitionReassignments, req, (r) => r.errorCode === ErrorCode.NOT_CONTROLLER);
        if (forwarded) return forwarded;
      }
      // Through the controller's queue, so the answer reflects every change committed before it.
      const topics = await ctx.controller.run((image) => ({ records: [], response: listPartitionReassignments(image, req.topics) }));
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, errorMessage: err.message, topics: [] }),
  });
}
