// EndQuorumEpoch (key 54), v0-v1, on the controller listener: a leader that is shutting down
// resigns (KIP-595) and names its preferred successors, who start an election at once.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica } from './quorum-handler.ts';

export function endQuorumEpochHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.EndQuorumEpoch,
    handle: (req) => quorumReplica(ctx).handleEndQuorumEpoch(req),
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, topics: [] }),
  });
}
