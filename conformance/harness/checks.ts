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

export function checkTitle(id: CheckId): string {
  return CHECKS.find((c) => c.id === id)!.title;
}
