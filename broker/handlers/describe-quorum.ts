// DescribeQuorum (key 55), v0-v2: the leader's view of the quorum: epoch, high watermark, each
// voter's and observer's log end offset and last fetch and caught-up times. On a controller
// listener a non-leader answers NOT_LEADER_OR_FOLLOWER for the partition, as Kafka does; on a
// broker listener the request is forwarded to the active controller, as Kafka's brokers do.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { onControllerListener, quorumReplica } from './quorum-handler.ts';

export function describeQuorumHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeQuorum,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.DESCRIBE);
      if (!onControllerListener(ctx, rc) && !ctx.controller.isActive) {
        const forwarded = await ctx.controllerChannel.forward(ApiKey.DescribeQuorum, req, (r) => r.topics[0]?.partitions[0]?.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER);
        if (forwarded) return forwarded;
      }
      return quorumReplica(ctx).handleDescribeQuorum(req);
    },
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, errorMessage: err.message, topics: [], nodes: [] }),
  });
}
