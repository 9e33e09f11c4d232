// Vote (key 52), v0-v1, on the controller listener: a candidate asks this voter for its vote in
// an epoch (KIP-595); the Raft replica decides and persists the vote before answering.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica } from './quorum-handler.ts';

export function voteHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.Vote,
    handle: (req, rc) => {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      return quorumReplica(ctx).handleVote(req);
    },
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, topics: [] }),
  });
}
