// UpdateRaftVoter (key 82), v0 (KIP-853), on the controller listener only (as Kafka): a voter whose
// endpoints or supported kraft.version range changed states them to the quorum leader, which
// appends the updated VotersRecord (voter-changes.ts). Errors as Kafka: NOT_LEADER_OR_FOLLOWER
// with the leader known, FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH for another epoch,
// UNSUPPORTED_VERSION on a static quorum, REQUEST_TIMED_OUT while a change is in flight,
// VOTER_NOT_FOUND for a replica that is not a voter. The answer names the current leader.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica } from './quorum-handler.ts';

export function updateRaftVoterHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.UpdateRaftVoter,
    handle: (req, rc) => {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      return quorumReplica(ctx).voterChanges.handleUpdateRequest(req);
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode }),
  });
}
