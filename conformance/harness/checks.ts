// The checks every client is held to, in the order the matrix lists them. A client that lacks
// the feature behind a check gets "n/a" for it; the ids are stable because result files and the
// rendered matrix refer to them.

export const CHECKS = [
  { id: 'metadata', title: 'Metadata (brokers, topic partitions)' },
  { id: 'create-topics', title: 'Admin: create topics' },
  { id: 'describe-topics', title: 'Admin: describe topics' },
  { id: 'delete-topics', title: 'Admin: delete topics' },
  { id: 'produce-acks-0', title: 'Produce acks=0' },
  { id: 'produce-acks-1', title: 'Produce acks=1' },
  { id: 'produce-acks-all', title: 'Produce acks=all' },
  { id: 'consume-in-order', title: 'Consume keyed records with headers, in order per partition' },
  { id: 'gzip', title: 'Compression: gzip' },
  { id: 'snappy', title: 'Compression: snappy' },
  { id: 'lz4', title: 'Compression: lz4' },
  { id: 'zstd', title: 'Compression: zstd' },
  { id: 'offsets-for-times', title: 'Offsets by timestamp' },
  { id: 'idempotent', title: 'Idempotent producer' },
  { id: 'restart-sigterm', title: 'Broker restart (SIGTERM): everything read again' },
  { id: 'restart-sigkill', title: 'Broker crash (SIGKILL): every acknowledged record kept' },
  { id: 'consumer-group', title: 'Consumer group (subscribe, join, consume)' },
] as const;

export type CheckId = (typeof CHECKS)[number]['id'];

/**
 * Consumer-group scenarios (conformance/groups/), a matrix of their own: several members of one
 * client, each in its own process, against one broker process that is restarted and crashed.
 */
export const GROUP_CHECKS = [
  { id: 'group-failover', title: 'Three members share 6 partitions; a killed member\'s partitions move; every record processed, none again after its commit' },
  { id: 'group-cooperative', title: 'Cooperative-sticky: after a kill only the dead member\'s partitions are newly assigned; survivors revoke nothing' },
  { id: 'group-resume', title: 'A consumer restarted in its group resumes at the committed offsets' },
  { id: 'group-broker-sigterm', title: 'Broker restart (SIGTERM) keeps the group and every committed offset' },
  { id: 'group-broker-sigkill', title: 'Broker crash (SIGKILL) keeps the group and every committed offset' },
  { id: 'group-static-member', title: 'Static members (group.instance.id) killed and restarted within the session timeout, a follower then the leader, get their partitions back; the others see no rebalance' },
  { id: 'group-describe-lag', title: '`samsa consumer-groups --describe` shows the active member, and each partition\'s committed offset, end offset and lag' },
] as const;

export type GroupCheckId = (typeof GROUP_CHECKS)[number]['id'];

/** Which matrix a result file belongs to: per-client checks, or group scenarios. */
export type MatrixKind = 'clients' | 'groups';

export type AnyCheckId = CheckId | GroupCheckId;

export function checksOf(matrix: MatrixKind): ReadonlyArray<{ id: AnyCheckId; title: string }> {
  return matrix === 'groups' ? GROUP_CHECKS : CHECKS;
}

export function checkTitle(id: AnyCheckId): string {
  return [...CHECKS, ...GROUP_CHECKS].find((c) => c.id === id)!.title;
}
