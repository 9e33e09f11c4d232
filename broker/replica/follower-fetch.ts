// The leader's side of a follower's Fetch (Kafka's Partition.updateFollowerFetchState, called
// from the fetch path): a follower's fetch offset is its log end offset, so each read for a
// follower records that position and whether it was caught up (against the leader's log end
// when the read began), which may move the high watermark and bring the follower back into
// the ISR. Only fetches whose offset lies in the log count (recorded before the file read, so
// acks=all answers need not wait for it): an error or a diverging-epoch answer says nothing
// about the follower's position. The Fetch handler stays the same for clients.
import type { Partition } from './partition.ts';

export interface FollowerRead {
  replicaId: number;
  /** The broker epoch the follower named (ReplicaState, v15+), or -1. */
  replicaEpoch: bigint;
  fetchOffset: number;
  /** The leader's log end offset when the read began. */
  leaderEndOffset: number;
}

export function recordFollowerFetch(partition: Partition, read: FollowerRead): void {
  partition.updateFollowerFetchState(read.replicaId, read.fetchOffset, read.leaderEndOffset, read.replicaEpoch);
}
