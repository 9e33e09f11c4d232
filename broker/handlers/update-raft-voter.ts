// UpdateRaftVoter (key 82), v0 (KIP-853), on the controller listener only (as Kafka): a voter whose
// endpoints or supported kraft.version range changed states them to the quorum leader, which
// appends the updated VotersRecord (voter-changes.ts). Errors as Kafka: NOT_LEADER_OR_FOLLOWER
// with the leader known, FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH for another epoch,
// UNSUPPORTED_VERSION on a static quorum, REQUEST_TIMED_OUT while a change is in flight,
// VOTER_NOT_FOUND for a replica that is not a voter. The answer names the current leader.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { UpdateRaftVoterResponse } from '../../protocol/generated/message/update-raft-voter-response.ts';
import type { RaftClient } from '../../controller/raft/raft-client.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica } from './quorum-handler.ts';

const UPDATE_TIMEOUT_MS = 30_000;

function answer(raft: RaftClient, errorCode: number): UpdateRaftVoterResponse {
  const ep = raft.currentLeader >= 0 ? raft.endpointOf(raft.currentLeader) : undefined;
  return { throttleTimeMs: 0, errorCode, currentLeader: { leaderId: raft.currentLeader, leaderEpoch: raft.currentEpoch, host: ep?.host ?? '', port: ep?.port ?? -1 } };
}

export function updateRaftVoterHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.UpdateRaftVoter,
    async handle(req) {
      const raft = quorumReplica(ctx);
      if (req.clusterId && req.clusterId !== ctx.clusterId) return answer(raft, ErrorCode.INCONSISTENT_CLUSTER_ID);
      if (req.currentLeaderEpoch < raft.currentEpoch) return answer(raft, ErrorCode.FENCED_LEADER_EPOCH);
      if (req.currentLeaderEpoch > raft.currentEpoch) return answer(raft, ErrorCode.UNKNOWN_LEADER_EPOCH);
      const r = await raft.voterChanges.updateVoter(
        req.voterId,
        req.voterDirectoryId,
        req.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port })),
        { min: req.kRaftVersionFeature.minSupportedVersion, max: req.kRaftVersionFeature.maxSupportedVersion },
        UPDATE_TIMEOUT_MS,
      );
      return answer(raft, r.errorCode);
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode }),
  });
}
