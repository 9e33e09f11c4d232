// RemoveRaftVoter (key 81), v0 (KIP-853): removes replica (voterId, voterDirectoryId) from the
// metadata quorum's voters. Served by the quorum leader with Kafka's checks (voter-changes.ts):
// UNSUPPORTED_VERSION on a static quorum, REQUEST_TIMED_OUT while the leader has not committed in
// its epoch or another change is in flight, VOTER_NOT_FOUND for a replica that is not a voter;
// answered once the new VotersRecord is committed. A leader that removes itself resigns then.
// Others pass it to the leader, as AddRaftVoter.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica, toQuorumLeader } from './quorum-handler.ts';

/** How long a removal waits for its commit (the request carries no timeout). */
const REMOVE_TIMEOUT_MS = 30_000;

export function removeRaftVoterHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.RemoveRaftVoter,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.ALTER);
      const forwarded = await toQuorumLeader(ctx, ApiKey.RemoveRaftVoter, req, (r) => r.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER);
      if (forwarded) return forwarded;
      if (req.clusterId && req.clusterId !== ctx.clusterId) return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, errorMessage: null };
      const r = await quorumReplica(ctx).voterChanges.removeVoter(req.voterId, req.voterDirectoryId, REMOVE_TIMEOUT_MS);
      return { throttleTimeMs: 0, ...r };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, errorMessage: err.message }),
  });
}
