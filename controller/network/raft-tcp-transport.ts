// The Raft transport over Kafka's wire protocol: each Raft request is sent to the other replica's
// controller listener as the Kafka API of the same name (Vote, BeginQuorumEpoch, EndQuorumEpoch,
// Fetch and FetchSnapshot on `__cluster_metadata-0`, DescribeQuorum), at the highest version both
// sides serve. Fetches have a lane of their own (they long-poll); their request timeout covers
// the wait the request asks for.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { RaftApi, RaftMessages, RaftTransport } from '../raft/raft-transport.ts';
import type { NodeConnections } from './node-connections.ts';

const API_KEYS: { [A in RaftApi]: ApiKey } = {
  vote: ApiKey.Vote,
  beginQuorumEpoch: ApiKey.BeginQuorumEpoch,
  endQuorumEpoch: ApiKey.EndQuorumEpoch,
  fetch: ApiKey.Fetch,
  fetchSnapshot: ApiKey.FetchSnapshot,
  describeQuorum: ApiKey.DescribeQuorum,
  updateRaftVoter: ApiKey.UpdateRaftVoter,
};

export class RaftTcpTransport implements RaftTransport {
  constructor(
    private readonly connections: NodeConnections,
    private readonly requestTimeoutMs: number,
  ) {}

  send<A extends RaftApi>(destination: number, api: A, request: RaftMessages[A]['request']): Promise<RaftMessages[A]['response']> {
    const fetching = api === 'fetch' || api === 'fetchSnapshot';
    const wait = api === 'fetch' ? Number((request as RaftMessages['fetch']['request']).maxWaitMs) : 0;
    return this.connections.send(destination, API_KEYS[api], request as never, {
      lane: fetching ? 'fetch' : 'control',
      timeoutMs: this.requestTimeoutMs + wait,
    }) as Promise<RaftMessages[A]['response']>;
  }
}
