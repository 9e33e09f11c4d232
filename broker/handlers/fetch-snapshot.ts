// FetchSnapshot (key 59), v0-v1, on the controller listener: a follower or observer whose fetch
// fell below the quorum leader's log start reads the leader's snapshot of `__cluster_metadata`
// in chunks (KIP-630). Only the leader serves it; others answer NOT_LEADER_OR_FOLLOWER with the
// leader they know, as Kafka does.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica } from './quorum-handler.ts';

export function fetchSnapshotHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.FetchSnapshot,
    handle: (req, rc) => {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      return quorumReplica(ctx).handleFetchSnapshot(req);
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, topics: [] }),
  });
}
