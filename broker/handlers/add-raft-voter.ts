// AddRaftVoter (key 80), v0 (KIP-853): adds a controller to the metadata quorum's voters. Served on
// the controller listener by the quorum leader, with Kafka's checks (voter-changes.ts): kraft.version
// 1 (UNSUPPORTED_VERSION on a static quorum), the leader has committed in its epoch and no other
// change is in flight (REQUEST_TIMED_OUT), the id is not a voter already (DUPLICATE_VOTER), the new
// replica fetches from the leader with the same directory id and is caught up (REQUEST_TIMED_OUT);
// answered once the new VotersRecord is committed, or REQUEST_TIMED_OUT after timeoutMs. A
// controller that is not the leader, and a broker, pass the request to the leader, as Kafka's
// brokers forward it, so the CLI may name any of them.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica, toQuorumLeader } from './quorum-handler.ts';

export function addRaftVoterHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.AddRaftVoter,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.ALTER);
      const forwarded = await toQuorumLeader(ctx, ApiKey.AddRaftVoter, req, (r) => r.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER);
      if (forwarded) return forwarded;
      if (req.clusterId && req.clusterId !== ctx.clusterId) return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, errorMessage: null };
      const r = await quorumReplica(ctx).voterChanges.addVoter(
        {
          id: req.voterId,
          directoryId: req.voterDirectoryId,
          endpoints: req.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port })),
          minKraftVersion: 0,
          maxKraftVersion: 1,
        },
        req.timeoutMs,
      );
      return { throttleTimeMs: 0, ...r };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, errorMessage: err.message }),
  });
}
