// The seam between a Raft replica and the network: requests go to another replica by node id
// and come back as the generated response data, so a TCP transport is only encode, send,
// decode, and the simulation's in-memory network is the same interface with faults in it.
// The replica enforces `controller.quorum.request.timeout.ms` itself; a transport may reject
// (unreachable node, closed connection) and the replica treats that as a failed request.
// Requests and responses carry the one partition `__cluster_metadata-0`; the helpers here
// build and read that shape.
import type { BeginQuorumEpochRequest } from '../../protocol/generated/message/begin-quorum-epoch-request.ts';
import type { BeginQuorumEpochResponse } from '../../protocol/generated/message/begin-quorum-epoch-response.ts';
import type { DescribeQuorumRequest } from '../../protocol/generated/message/describe-quorum-request.ts';
import type { DescribeQuorumResponse } from '../../protocol/generated/message/describe-quorum-response.ts';
import type { EndQuorumEpochRequest } from '../../protocol/generated/message/end-quorum-epoch-request.ts';
import type { EndQuorumEpochResponse } from '../../protocol/generated/message/end-quorum-epoch-response.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import type { FetchSnapshotRequest } from '../../protocol/generated/message/fetch-snapshot-request.ts';
import type { FetchSnapshotResponse } from '../../protocol/generated/message/fetch-snapshot-response.ts';
import type { VoteRequest } from '../../protocol/generated/message/vote-request.ts';
import type { VoteResponse } from '../../protocol/generated/message/vote-response.ts';
import type { UpdateRaftVoterRequest } from '../../protocol/generated/message/update-raft-voter-request.ts';
import type { UpdateRaftVoterResponse } from '../../protocol/generated/message/update-raft-voter-response.ts';
import { METADATA_TOPIC_UUID } from '../../protocol/uuid.ts';

export const METADATA_TOPIC = '__cluster_metadata';
export const METADATA_PARTITION = 0;
export { METADATA_TOPIC_UUID };

/** Request and response data of each API a replica sends to another. */
export interface RaftMessages {
  vote: { request: VoteRequest; response: VoteResponse };
  beginQuorumEpoch: { request: BeginQuorumEpochRequest; response: BeginQuorumEpochResponse };
  endQuorumEpoch: { request: EndQuorumEpochRequest; response: EndQuorumEpochResponse };
  fetch: { request: FetchRequest; response: FetchResponse };
  fetchSnapshot: { request: FetchSnapshotRequest; response: FetchSnapshotResponse };
  describeQuorum: { request: DescribeQuorumRequest; response: DescribeQuorumResponse };
  updateRaftVoter: { request: UpdateRaftVoterRequest; response: UpdateRaftVoterResponse };
}

export type RaftApi = keyof RaftMessages;

export interface RaftTransport {
  /** Sends `request` to replica `destination`; resolves with its answer or rejects when it cannot be had. */
  send<A extends RaftApi>(destination: number, api: A, request: RaftMessages[A]['request']): Promise<RaftMessages[A]['response']>;
}

/** A transport for a replica that has no one to talk to (a single voter): every send fails. */
export const NO_TRANSPORT: RaftTransport = {
  send: (destination) => Promise.reject(new Error(`no transport to reach replica ${destination}`)),
};

/** The one partition of a request or response of `__cluster_metadata`, or undefined if absent. */
export function metadataPartition<P>(topics: readonly { partitions: readonly P[] }[] | undefined): P | undefined {
  return topics?.[0]?.partitions[0];
}
