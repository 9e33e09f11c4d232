// EndQuorumEpoch (key 54), v0-v1, on the controller listener: a leader that is shutting down
// resigns (KIP-595) and names its preferred successors, who start an election at once.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica } from './quorum-handler.ts';

export function endQuorumEpochHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.EndQuorumEpoch,
    handle: (req, rc) => {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      return quorumReplica(ctx).handleEndQuorumEpoch(req);
    },
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, topics: [] }),
  });
}
