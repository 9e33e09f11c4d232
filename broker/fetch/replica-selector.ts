// Fetching from the closest replica (KIP-392). A consumer that names its rack (Fetch v11+
// rackId, the client's `client.rack`) may be told by the partition leader to read from another
// replica (preferredReadReplica): `replica.selector.class` picks which. Kafka ships two
// selectors, and these are the two class names accepted:
//   - LeaderSelector: always the leader (the same as no selector);
//   - RackAwareReplicaSelector: a replica in the client's rack, the leader when it is one of them
//     or none is, otherwise the most caught-up of them.
// Candidates are the leader and the in-sync followers whose last fetch reached the consumer's
// fetch offset, as Kafka's ReplicaManager.findPreferredReadReplica has them (it also requires the
// follower's log start offset to be at or below the fetch offset; followers here do not report
// theirs, and a follower that cannot serve the offset answers OFFSET_OUT_OF_RANGE, after which
// the client returns to the leader, as KIP-392 has clients do).
import type { MetadataImage } from '../../controller/metadata/image.ts';
import type { Partition } from '../replica/partition.ts';

export const LEADER_SELECTOR = 'org.apache.kafka.common.replica.LeaderSelector';
export const RACK_AWARE_SELECTOR = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';
export const REPLICA_SELECTORS: readonly string[] = [LEADER_SELECTOR, RACK_AWARE_SELECTOR];

/** A replica as a selector sees it (Kafka's ReplicaView). */
export interface ReplicaView {
  id: number;
  rack: string | null;
  logEndOffset: number;
  timeSinceLastCaughtUpMs: number;
}

/** Picks the replica a consumer should read from; the leader is always among `replicas`. */
export type ReplicaSelector = (clientRack: string, leader: ReplicaView, replicas: readonly ReplicaView[]) => ReplicaView;

const leaderSelector: ReplicaSelector = (_rack, leader) => leader;

const rackAwareSelector: ReplicaSelector = (clientRack, leader, replicas) => {
  if (clientRack === '') return leader;
  const sameRack = replicas.filter((r) => r.rack === clientRack);
  if (sameRack.length === 0 || sameRack.includes(leader)) return leader;
  // Kafka's ReplicaView comparator: the larger log end offset, then the more recently caught up.
  return sameRack.reduce((best, r) =>
    r.logEndOffset > best.logEndOffset || (r.logEndOffset === best.logEndOffset && r.timeSinceLastCaughtUpMs < best.timeSinceLastCaughtUpMs) ? r : best,
  );
};

/** The selector a `replica.selector.class` value names, or null when none is configured. */
export function replicaSelectorFor(className: string | null): ReplicaSelector | null {
  if (className === null || className === '') return null;
  if (className === LEADER_SELECTOR) return leaderSelector;
  if (className === RACK_AWARE_SELECTOR) return rackAwareSelector;
  throw new TypeError(`unknown replica selector ${className}`);
}

/**
 * The replica a consumer fetching `fetchOffset` should read from instead of this leader, or -1
 * (read here). Only a leader redirects, and only consumers.
 */
export function preferredReadReplica(selector: ReplicaSelector, partition: Partition, image: MetadataImage, clientRack: string, fetchOffset: number, nowMs: number): number {
  if (!partition.isLeader) return -1;
  const rackOf = (id: number): string | null => image.brokers.get(id)?.rack ?? null;
  const leader: ReplicaView = { id: partition.leaderId, rack: rackOf(partition.leaderId), logEndOffset: partition.log.logEndOffset, timeSinceLastCaughtUpMs: 0 };
  const views: ReplicaView[] = [leader];
  for (const id of partition.isr) {
    if (id === partition.leaderId) continue;
    const s = partition.followers.get(id);
    const broker = image.brokers.get(id);
    if (!s || !broker || broker.fenced || s.logEndOffset < fetchOffset) continue;
    views.push({ id, rack: broker.rack, logEndOffset: s.logEndOffset, timeSinceLastCaughtUpMs: Math.max(0, nowMs - s.lastCaughtUpTimeMs) });
  }
  const chosen = selector(clientRack, leader, views);
  return chosen === leader ? -1 : chosen.id;
}
