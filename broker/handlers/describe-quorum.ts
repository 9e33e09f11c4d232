// DescribeQuorum (key 55), v0-v2, on the controller listener (and forwarded from brokers in
// Kafka): the leader's view of the quorum: epoch, high watermark, each voter's and observer's
// log end offset and last fetch and caught-up times. A non-leader answers NOT_LEADER_OR_FOLLOWER
// for the partition, as Kafka does.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica } from './quorum-handler.ts';

export function describeQuorumHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeQuorum,
    handle: (req) => quorumReplica(ctx).handleDescribeQuorum(req),
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, errorMessage: err.message, topics: [], nodes: [] }),
  });
}
