// ElectLeaders (key 43), v0-v2: preferred (type 0) or unclean (type 1) leader elections, decided
// by the active controller (controller/leader-election.ts); brokers forward the request there as
// it came, as Kafka's do. v0 has no election type (preferred) and no top-level error code. A null
// topic list elects every partition and leaves out those that need no election. The answer is
// given once this node's image shows the new leaders, within timeoutMs.
import { electLeaders, ElectionType } from '../../controller/leader-election.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { awaitPublished } from './publication-wait.ts';
import { onControllerListener } from './quorum-handler.ts';

export function electLeadersHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.ElectLeaders,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.ALTER);
      if (!onControllerListener(ctx, rc) && !ctx.controller.isActive) {
        const forwarded = await ctx.controllerChannel.forward(ApiKey.ElectLeaders, req, (r) => r.errorCode === ErrorCode.NOT_CONTROLLER);
        if (forwarded) {
          await awaitPublished(ctx, req.timeoutMs);
          return forwarded;
        }
      }
      const electionType = rc.apiVersion >= 1 ? (req.electionType ?? ElectionType.PREFERRED) : ElectionType.PREFERRED;
      const partitions = req.topicPartitions?.map((t) => ({ topic: t.topic, partitions: t.partitions })) ?? null;
      const outcome = await ctx.controller.run((image) => electLeaders(image, electionType, partitions));
      const elected = outcome.results.reduce((n, t) => n + t.partitionResult.filter((p) => p.errorCode === ErrorCode.NONE).length, 0);
      if (elected > 0) {
        rc.logger.info({ electionType, elected }, 'elected partition leaders');
        await awaitPublished(ctx, req.timeoutMs);
      }
      return { throttleTimeMs: 0, errorCode: outcome.errorCode, replicaElectionResults: outcome.results };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      errorCode: err.errorCode,
      replicaElectionResults: (req.topicPartitions ?? []).map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode: err.errorCode, errorMessage: err.message })),
      })),
    }),
  });
}
