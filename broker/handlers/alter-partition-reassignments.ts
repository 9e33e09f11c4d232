// AlterPartitionReassignments (key 45), v0 (all Kafka 3.9 serves): starts, changes or cancels
// (null replicas) partition reassignments, decided by the active controller
// (controller/reassignment.ts); brokers forward the request there as it came, as Kafka's do.
// The answer is given once the change is committed, not once the reassignment completes
// (ListPartitionReassignments follows that). Per-partition errors as Kafka's; the top-level
// error is set only when the whole request fails (NOT_CONTROLLER and the like).
import { alterPartitionReassignments } from '../../controller/reassignment.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { awaitPublished } from './publication-wait.ts';
import { onControllerListener } from './quorum-handler.ts';

export function alterPartitionReassignmentsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.AlterPartitionReassignments,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.ALTER);
      if (!onControllerListener(ctx, rc) && !ctx.controller.isActive) {
        const forwarded = await ctx.controllerChannel.forward(ApiKey.AlterPartitionReassignments, req, (r) => r.errorCode === ErrorCode.NOT_CONTROLLER);
        if (forwarded) {
          await awaitPublished(ctx, Math.min(req.timeoutMs, 30_000));
          return forwarded;
        }
      }
      const topics = req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, replicas: p.replicas })) }));
      const results = await ctx.controller.run((image) => alterPartitionReassignments(image, topics));
      const changed = results.reduce((n, t) => n + t.partitions.filter((p) => p.errorCode === ErrorCode.NONE).length, 0);
      if (changed > 0) {
        rc.logger.info({ partitions: changed }, 'partition reassignments changed');
        await awaitPublished(ctx, Math.min(req.timeoutMs, 30_000));
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses: results };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      errorCode: err.errorCode,
      errorMessage: err.message,
      responses: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: err.errorCode, errorMessage: err.message })) })),
    }),
  });
}
