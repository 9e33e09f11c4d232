// BeginQuorumEpoch (key 53), v0-v1, on the controller listener: a newly elected leader tells
// this voter of its epoch (KIP-595), so it starts fetching from it without an election timeout.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica } from './quorum-handler.ts';

export function beginQuorumEpochHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.BeginQuorumEpoch,
    handle: (req, rc) => {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      return quorumReplica(ctx).handleBeginQuorumEpoch(req);
    },
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, topics: [] }),
  });
}
