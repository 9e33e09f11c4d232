// The broker's config definitions: Kafka 3.9's names, types, defaults, validators, importance and
// dynamic-update modes (read-only unless DynamicBrokerConfig lists the key as per-broker or
// cluster-wide), with one-line documentation. Keys Kafka defines but Samsa cannot honour
// (ZooKeeper mode, remote storage, Java plug-in classes) are refused in broker-config.ts,
// not here. The table's value types give BrokerConfig.get() its typed results.
import type { ConfigTypeName, DynamicUpdateMode, Importance, Validator } from './config-def.ts';
import { JAVA_DOUBLE_MAX, JAVA_INT_MAX, JAVA_LONG_MAX } from './config-def.ts';

type DefaultFor<T extends ConfigTypeName> = T extends 'boolean'
  ? boolean | null
  : T extends 'int' | 'short' | 'long' | 'double'
    ? number | null
    : T extends 'list'
      ? readonly string[]
      : string | null;

type BaseValue<T extends ConfigTypeName> = T extends 'boolean'
  ? boolean
  : T extends 'int' | 'short' | 'long' | 'double'
    ? number
    : T extends 'list'
      ? readonly string[]
      : string;

export interface TypedDef<T extends ConfigTypeName, D> {
  readonly type: T;
  readonly default: D;
  readonly importance: Importance;
  readonly doc: string;
  readonly validator?: Validator;
  readonly dynamic: DynamicUpdateMode;
}

export type ValueOfDef<X> = X extends TypedDef<infer T, infer D> ? BaseValue<T> | (null extends D ? null : never) : never;

export interface More {
  v?: Validator;
  dyn?: DynamicUpdateMode;
}

export function def<T extends ConfigTypeName, const D extends DefaultFor<T>>(
  type: T, dflt: D, importance: Importance, doc: string, more: More = {},
): TypedDef<T, D> {
  return { type, default: dflt, importance, doc, dynamic: more.dyn ?? 'read-only', ...(more.v ? { validator: more.v } : {}) };
}

export const atLeast = (min: number): Validator => ({ kind: 'range', min });
export const between = (min: number, max: number): Validator => ({ kind: 'range', min, max });
export const oneOf = (...values: string[]): Validator => ({ kind: 'in', values });
export const listOf = (...values: string[]): Validator => ({ kind: 'list-in', values });

export const COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'];
export const TIMESTAMP_TYPES = ['CreateTime', 'LogAppendTime'];
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
/** gzip accepts Deflater.DEFAULT_COMPRESSION (-1) or 1..9. */
export const GZIP_LEVEL: Validator = {
  kind: 'check',
  describe: '[1,...,9] or -1',
  check: (v) => (v === -1 || ((v as number) >= 1 && (v as number) <= 9) ? null : 'Value must be between 1 and 9, or -1'),
};

const CW: More = { dyn: 'cluster-wide' };
const PB: More = { dyn: 'per-broker' };
const cw = (v: Validator): More => ({ v, dyn: 'cluster-wide' });

export const BROKER_CONFIG_TABLE = {
  // KRaft
  'process.roles': def('list', [], 'high', 'The roles this node plays: broker, controller, or both.', { v: listOf('broker', 'controller') }),
  'node.id': def('int', -1, 'high', 'The node id of this server (broker and/or controller).'),
  'controller.quorum.voters': def('list', [], 'high', 'Static quorum voters as id@host:port, comma-separated.'),
  'controller.quorum.bootstrap.servers': def('list', [], 'high', 'host:port of controllers to discover the quorum from.'),
  'controller.listener.names': def('string', null, 'high', 'Comma-separated listener names used by the controller.'),
  'controller.quorum.election.timeout.ms': def('int', 1000, 'high', 'Max time without a fetch from the leader before an election.'),
  'controller.quorum.fetch.timeout.ms': def('int', 2000, 'high', 'Max time without a successful fetch before a voter becomes a candidate.'),
  'controller.quorum.election.backoff.max.ms': def('int', 1000, 'high', 'Max backoff before starting a new election.'),
  'controller.quorum.append.linger.ms': def('int', 25, 'medium', 'How long the leader lingers before flushing appends to disk.'),
  'controller.quorum.request.timeout.ms': def('int', 2000, 'medium', 'Quorum request timeout.'),
  'controller.quorum.retry.backoff.ms': def('int', 20, 'low', 'Backoff before retrying a failed quorum request.'),
  'controller.socket.timeout.ms': def('int', 30000, 'medium', 'Socket timeout for controller-to-broker channels.'),
  'broker.heartbeat.interval.ms': def('int', 2000, 'medium', 'Milliseconds between broker heartbeats.'),
  'broker.session.timeout.ms': def('int', 9000, 'medium', 'Lease length of a broker without heartbeats.'),
  'initial.broker.registration.timeout.ms': def('int', 60000, 'medium', 'Time to wait for the first broker registration.'),
  'metadata.log.dir': def('string', null, 'high', 'Directory of the metadata log; defaults to the first log dir.'),
  'metadata.log.segment.bytes': def('int', 1073741824, 'high', 'Max size of one metadata log segment.', { v: atLeast(12) }),
  'metadata.log.segment.ms': def('long', 604800000, 'high', 'Max time before rolling a metadata log segment.'),
  'metadata.max.retention.bytes': def('long', 104857600, 'high', 'Max combined size of metadata log and snapshots before old ones are deleted.'),
  'metadata.max.retention.ms': def('long', 604800000, 'high', 'Retention of metadata log files and snapshots.'),
  'metadata.log.max.record.bytes.between.snapshots': def('long', 20971520, 'high', 'Bytes of new metadata records before a new snapshot.', { v: atLeast(1) }),
  'metadata.log.max.snapshot.interval.ms': def('long', 3600000, 'high', 'Max time between snapshots; 0 disables the time trigger.', { v: atLeast(0) }),
  'metadata.max.idle.interval.ms': def('int', 500, 'low', 'How often the active controller appends a no-op record.', { v: atLeast(0) }),
  'unstable.api.versions.enable': def('boolean', false, 'high', 'Advertise API versions that are still in development.'),
  'unstable.feature.versions.enable': def('boolean', false, 'high', 'Allow feature versions that are still in development.'),
  'early.start.listeners': def('string', null, 'high', 'Listeners started before the authorizer is ready.'),

  // Listeners and network
  'listeners': def('string', 'PLAINTEXT://:9092', 'high', 'Listener URIs NAME://host:port the server binds.', PB),
  'advertised.listeners': def('string', null, 'high', 'Listener URIs published to clients; default listeners.', PB),
  'listener.security.protocol.map': def('string', 'SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT', 'low', 'Listener name to security protocol.', PB),
  'inter.broker.listener.name': def('string', null, 'medium', 'Listener used between brokers.'),
  'security.inter.broker.protocol': def('string', 'PLAINTEXT', 'medium', 'Security protocol between brokers.', { v: oneOf(...SECURITY_PROTOCOLS) }),
  'socket.send.buffer.bytes': def('int', 102400, 'high', 'SO_SNDBUF of server sockets; -1 for the OS default.'),
  'socket.receive.buffer.bytes': def('int', 102400, 'high', 'SO_RCVBUF of server sockets; -1 for the OS default.'),
  'socket.request.max.bytes': def('int', 104857600, 'high', 'Max bytes in one request.', { v: atLeast(1) }),
  'socket.listen.backlog.size': def('int', 50, 'medium', 'Max pending connections on a listen socket.', { v: atLeast(1) }),
  'connections.max.idle.ms': def('long', 600000, 'medium', 'Idle connections are closed after this long.'),
  'connections.max.reauth.ms': def('long', 0, 'medium', 'Max session lifetime before re-authentication; 0 disables.'),
  'sasl.server.max.receive.size': def('int', 524288, 'medium', 'Max request size before and during initial SASL authentication.', { v: atLeast(1) }),
  'max.connections': def('int', JAVA_INT_MAX, 'medium', 'Max connections on the broker at any time.', cw(atLeast(0))),
  'max.connections.per.ip': def('int', JAVA_INT_MAX, 'medium', 'Max connections from one IP address.', cw(atLeast(0))),
  'max.connections.per.ip.overrides': def('string', '', 'medium', 'Per-IP or hostname overrides: host:count,...', CW),
  'max.connection.creation.rate': def('int', JAVA_INT_MAX, 'medium', 'Max new connections per second on the broker.', cw(atLeast(0))),
  'queued.max.requests': def('int', 500, 'high', 'Requests queued before network threads stop reading.', { v: atLeast(1) }),
  'queued.max.request.bytes': def('long', -1, 'medium', 'Bytes of queued requests before reads stop; -1 for no limit.'),
  'num.network.threads': def('int', 3, 'high', 'Threads receiving requests and sending responses.', cw(atLeast(1))),
  'num.io.threads': def('int', 8, 'high', 'Threads processing requests.', cw(atLeast(1))),
  'background.threads': def('int', 10, 'high', 'Threads for background tasks.', cw(atLeast(1))),
  'request.timeout.ms': def('int', 30000, 'medium', 'Timeout of requests the broker sends.'),

  // Logs
  'log.dirs': def('string', null, 'high', 'Comma-separated directories holding log data; overrides log.dir.'),
  'log.dir': def('string', '/tmp/kafka-logs', 'high', 'Directory holding log data, when log.dirs is not set.'),
  'num.partitions': def('int', 1, 'medium', 'Default number of partitions per topic.', { v: atLeast(1) }),
  'default.replication.factor': def('int', 1, 'medium', 'Default replication factor of automatically created topics.'),
  'min.insync.replicas': def('int', 1, 'high', 'Min in-sync replicas for acks=all writes to succeed.', cw(atLeast(1))),
  'auto.create.topics.enable': def('boolean', true, 'high', 'Create a topic when a client asks for metadata of an unknown one.'),
  'delete.topic.enable': def('boolean', true, 'high', 'Allow topics to be deleted.'),
  'message.max.bytes': def('int', 1048588, 'high', 'Largest record batch size allowed.', cw(atLeast(0))),
  'log.segment.bytes': def('int', 1073741824, 'high', 'Max size of one log segment.', cw(atLeast(14))),
  'log.roll.ms': def('long', null, 'high', 'Max age of a segment before rolling; overrides log.roll.hours.', CW),
  'log.roll.hours': def('int', 168, 'high', 'Max age of a segment before rolling, in hours.', cw(atLeast(1))),
  'log.roll.jitter.ms': def('long', null, 'high', 'Max jitter subtracted from the roll time; overrides hours.', CW),
  'log.roll.jitter.hours': def('int', 0, 'high', 'Max jitter subtracted from the roll time, in hours.', cw(atLeast(0))),
  'log.retention.ms': def('long', null, 'high', 'Time to keep a log before deleting it; -1 keeps it forever.', CW),
  'log.retention.minutes': def('int', null, 'high', 'Time to keep a log, in minutes; below log.retention.ms.', CW),
  'log.retention.hours': def('int', 168, 'high', 'Time to keep a log, in hours; below minutes and ms.', CW),
  'log.retention.bytes': def('long', -1, 'high', 'Max size of a partition log before deleting old segments.', CW),
  'log.retention.check.interval.ms': def('long', 300000, 'medium', 'How often the retention check runs.', { v: atLeast(1) }),
  'log.cleanup.policy': def('list', ['delete'], 'medium', 'Default cleanup policy: delete and/or compact.', cw(listOf('compact', 'delete'))),
  'log.cleaner.enable': def('boolean', true, 'medium', 'Run the log cleaner (needed for compacted topics).'),
  'log.cleaner.threads': def('int', 1, 'medium', 'Number of log cleaner threads.', cw(atLeast(0))),
  'log.cleaner.dedupe.buffer.size': def('long', 134217728, 'medium', 'Memory for deduplication across all cleaner threads.', CW),
  'log.cleaner.io.buffer.size': def('int', 524288, 'medium', 'I/O buffer memory across all cleaner threads.', cw(atLeast(0))),
  'log.cleaner.io.buffer.load.factor': def('double', 0.9, 'medium', 'Load factor of the dedupe buffer.', CW),
  'log.cleaner.io.max.bytes.per.second': def('double', JAVA_DOUBLE_MAX, 'medium', 'I/O throttle of the log cleaner.', CW),
  'log.cleaner.backoff.ms': def('long', 15000, 'medium', 'Sleep when there is nothing to clean.', cw(atLeast(0))),
  'log.cleaner.min.cleanable.ratio': def('double', 0.5, 'medium', 'Min dirty ratio for a log to be cleaned.', cw(between(0, 1))),
  'log.cleaner.delete.retention.ms': def('long', 86400000, 'medium', 'How long tombstones are kept in compacted logs.', cw(atLeast(0))),
  'log.cleaner.min.compaction.lag.ms': def('long', 0, 'medium', 'Min age of a record before it can be compacted.', cw(atLeast(0))),
  'log.cleaner.max.compaction.lag.ms': def('long', JAVA_LONG_MAX, 'medium', 'Max age of a record before it must be compacted.', cw(atLeast(1))),
  'log.index.interval.bytes': def('int', 4096, 'medium', 'Bytes between offset index entries.', cw(atLeast(0))),
  'log.index.size.max.bytes': def('int', 10485760, 'medium', 'Max size of an offset index file.', cw(atLeast(4))),
  'log.flush.interval.messages': def('long', JAVA_LONG_MAX, 'high', 'Messages accumulated before a flush to disk.', cw(atLeast(1))),
  'log.flush.interval.ms': def('long', null, 'high', 'Max time a message stays unflushed; defaults to the scheduler interval.', CW),
  'log.flush.scheduler.interval.ms': def('long', JAVA_LONG_MAX, 'high', 'How often the flusher checks for logs to flush.'),
  'log.flush.offset.checkpoint.interval.ms': def('int', 60000, 'high', 'How often the recovery point checkpoint is written.', { v: atLeast(0) }),
  'log.flush.start.offset.checkpoint.interval.ms': def('int', 60000, 'high', 'How often the log start offset checkpoint is written.', { v: atLeast(0) }),
  'log.preallocate': def('boolean', false, 'medium', 'Preallocate segment files.', CW),
  'log.message.timestamp.type': def('string', 'CreateTime', 'medium', 'Timestamp of messages: CreateTime or LogAppendTime.', cw(oneOf(...TIMESTAMP_TYPES))),
  'log.message.timestamp.difference.max.ms': def('long', JAVA_LONG_MAX, 'medium', 'Deprecated: max timestamp distance from broker time.', cw(atLeast(0))),
  'log.message.timestamp.before.max.ms': def('long', JAVA_LONG_MAX, 'medium', 'Max age of a message timestamp behind broker time.', cw(atLeast(0))),
  'log.message.timestamp.after.max.ms': def('long', JAVA_LONG_MAX, 'medium', 'Max distance of a message timestamp ahead of broker time.', cw(atLeast(0))),
  'log.message.downconversion.enable': def('boolean', true, 'low', 'Down-convert messages for old consumers.', CW),
  'log.message.format.version': def('string', '3.0-IV1', 'medium', 'Deprecated: ignored since 3.0.'),
  'log.segment.delete.delay.ms': def('long', 60000, 'high', 'Delay before a deleted segment is removed from disk.', cw(atLeast(0))),
  'log.local.retention.ms': def('long', -2, 'medium', 'Local retention with tiered storage; -2 follows log.retention.ms.', cw(atLeast(-2))),
  'log.local.retention.bytes': def('long', -2, 'medium', 'Local size limit with tiered storage; -2 follows log.retention.bytes.', cw(atLeast(-2))),
  'remote.log.storage.system.enable': def('boolean', false, 'medium', 'Enable tiered storage (not supported).'),
  'num.recovery.threads.per.data.dir': def('int', 1, 'high', 'Threads per data dir for recovery at startup and flush at shutdown.', cw(atLeast(1))),
  'compression.type': def('string', 'producer', 'high', 'Final compression of topics: producer keeps the producer\'s codec.', cw(oneOf(...COMPRESSION_TYPES))),
  'compression.gzip.level': def('int', -1, 'medium', 'gzip level when compression.type is gzip.', cw(GZIP_LEVEL)),
  'compression.lz4.level': def('int', 9, 'medium', 'lz4 level when compression.type is lz4.', cw(between(1, 17))),
  'compression.zstd.level': def('int', 3, 'medium', 'zstd level when compression.type is zstd.', cw(between(-131072, 22))),
  'fetch.max.bytes': def('int', 57671680, 'medium', 'Max bytes returned for one fetch request.', { v: atLeast(1024) }),
  'max.incremental.fetch.session.cache.slots': def('int', 1000, 'medium', 'Max number of incremental fetch sessions kept.', { v: atLeast(0) }),
  'min.incremental.fetch.session.eviction.ms': def('int', 120000, 'medium', 'Min age of a fetch session before a less valuable one may evict it.', { v: atLeast(0) }),
  'fetch.purgatory.purge.interval.requests': def('int', 1000, 'medium', 'Purge interval of the fetch purgatory.'),
  'producer.purgatory.purge.interval.requests': def('int', 1000, 'medium', 'Purge interval of the produce purgatory.'),
  'delete.records.purgatory.purge.interval.requests': def('int', 1, 'medium', 'Purge interval of the delete-records purgatory.'),

  // Replication
  'num.replica.fetchers': def('int', 1, 'high', 'Fetcher threads per source broker.', CW),
  'replica.lag.time.max.ms': def('long', 30000, 'high', 'A follower not caught up for this long leaves the ISR.'),
  'replica.fetch.max.bytes': def('int', 1048576, 'medium', 'Bytes fetched per partition by followers.', { v: atLeast(0) }),
  'replica.fetch.response.max.bytes': def('int', 10485760, 'medium', 'Max bytes of a follower fetch response.', { v: atLeast(0) }),
  'replica.fetch.wait.max.ms': def('int', 500, 'medium', 'Max wait of a follower fetch request.'),
  'replica.fetch.min.bytes': def('int', 1, 'medium', 'Min bytes of a follower fetch response.'),
  'replica.fetch.backoff.ms': def('int', 1000, 'medium', 'Sleep after a follower fetch error.', { v: atLeast(0) }),
  // Replication throttles (dynamic only in Kafka: set per broker or as the cluster default).
  'leader.replication.throttled.rate': def('long', JAVA_LONG_MAX, 'medium', 'Bytes/s this broker sends to followers of throttled replicas.', cw(atLeast(0))),
  'follower.replication.throttled.rate': def('long', JAVA_LONG_MAX, 'medium', 'Bytes/s this broker fetches for throttled replicas.', cw(atLeast(0))),
  'replica.alter.log.dirs.io.max.bytes.per.second': def('long', JAVA_LONG_MAX, 'medium', 'Bytes/s of moves between log dirs (accepted; no moves between dirs).', cw(atLeast(0))),
  'replica.socket.timeout.ms': def('int', 30000, 'high', 'Socket timeout of follower fetches.'),
  'replica.socket.receive.buffer.bytes': def('int', 65536, 'high', 'Receive buffer of follower fetch sockets.'),
  'replica.high.watermark.checkpoint.interval.ms': def('long', 5000, 'high', 'How often the high watermark is checkpointed.'),
  'replica.selector.class': def('string', null, 'medium', 'Replica selector for consumers fetching from the closest replica (KIP-392): org.apache.kafka.common.replica.RackAwareReplicaSelector or LeaderSelector; unset: leaders only.'),
  'unclean.leader.election.enable': def('boolean', false, 'high', 'Allow out-of-sync replicas to become leader.', CW),
  'auto.leader.rebalance.enable': def('boolean', true, 'high', 'Move leadership back to preferred replicas.'),
  'leader.imbalance.check.interval.seconds': def('long', 300, 'high', 'How often leader balance is checked.', { v: atLeast(1) }),
  'leader.imbalance.per.broker.percentage': def('int', 10, 'high', 'Leader imbalance allowed per broker, in percent.'),
  'broker.rack': def('string', null, 'medium', 'Rack of the broker, for rack-aware replica placement.'),

  // Group coordinator
  'offsets.topic.num.partitions': def('int', 50, 'high', 'Partitions of __consumer_offsets.', { v: atLeast(1) }),
  'offsets.topic.replication.factor': def('short', 3, 'high', 'Replication factor of __consumer_offsets.', { v: atLeast(1) }),
  'offsets.topic.segment.bytes': def('int', 104857600, 'high', 'Segment size of __consumer_offsets.', { v: atLeast(1) }),
  'offsets.topic.compression.codec': def('int', 0, 'high', 'Compression codec of __consumer_offsets.'),
  'offsets.load.buffer.size': def('int', 5242880, 'high', 'Batch size for reading offsets segments into the cache.', { v: atLeast(1) }),
  'offsets.retention.minutes': def('int', 10080, 'high', 'Committed offsets of empty groups are kept this long.', { v: atLeast(1) }),
  'offsets.retention.check.interval.ms': def('long', 600000, 'high', 'How often stale offsets are checked.', { v: atLeast(1) }),
  'offsets.commit.timeout.ms': def('int', 5000, 'high', 'Offset commit wait for replication.', { v: atLeast(1) }),
  'offsets.commit.required.acks': def('short', -1, 'high', 'Deprecated: acks required for offset commits.'),
  'offset.metadata.max.bytes': def('int', 4096, 'high', 'Max size of the metadata of an offset commit.'),
  'group.initial.rebalance.delay.ms': def('int', 3000, 'medium', 'Delay of the first rebalance of a new group.'),
  'group.min.session.timeout.ms': def('int', 6000, 'medium', 'Min session timeout of group members.'),
  'group.max.session.timeout.ms': def('int', 1800000, 'medium', 'Max session timeout of group members.'),
  'group.max.size': def('int', JAVA_INT_MAX, 'medium', 'Max members of one consumer group.', { v: atLeast(1) }),
  'group.coordinator.rebalance.protocols': def('list', ['classic'], 'medium', 'Rebalance protocols the group coordinator serves.', { v: listOf('classic', 'consumer') }),
  'group.consumer.session.timeout.ms': def('int', 45000, 'medium', 'Session timeout of consumer-protocol members.', { v: atLeast(1) }),
  'group.consumer.heartbeat.interval.ms': def('int', 5000, 'medium', 'Heartbeat interval of consumer-protocol members.', { v: atLeast(1) }),
  'group.consumer.max.size': def('int', JAVA_INT_MAX, 'medium', 'Max members of one consumer-protocol group.', { v: atLeast(1) }),

  // Transactions and producer state
  'transaction.state.log.num.partitions': def('int', 50, 'high', 'Partitions of __transaction_state.', { v: atLeast(1) }),
  'transaction.state.log.replication.factor': def('short', 3, 'high', 'Replication factor of __transaction_state.', { v: atLeast(1) }),
  'transaction.state.log.min.isr': def('int', 2, 'high', 'min.insync.replicas of __transaction_state.', { v: atLeast(1) }),
  'transaction.state.log.segment.bytes': def('int', 104857600, 'high', 'Segment size of __transaction_state.', { v: atLeast(1) }),
  'transaction.state.log.load.buffer.size': def('int', 5242880, 'low', 'Batch size for loading transaction state.', { v: atLeast(1) }),
  'transactional.id.expiration.ms': def('int', 604800000, 'high', 'A transactional id idle for this long expires.', { v: atLeast(1) }),
  'transaction.max.timeout.ms': def('int', 900000, 'high', 'Max transaction timeout a producer may ask for.', { v: atLeast(1) }),
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': def('int', 10000, 'low', 'How often timed-out transactions are aborted.', { v: atLeast(1) }),
  'transaction.remove.expired.transaction.cleanup.interval.ms': def('int', 3600000, 'low', 'How often expired transactional ids are removed.', { v: atLeast(1) }),
  'transaction.partition.verification.enable': def('boolean', true, 'low', 'Verify a partition is in the transaction before appending.', CW),
  'producer.id.expiration.ms': def('int', 86400000, 'low', 'Producer ids idle for this long expire.', cw(atLeast(1))),
  'producer.id.expiration.check.interval.ms': def('int', 600000, 'low', 'How often expired producer ids are removed.', { v: atLeast(1) }),

  // Security, quotas, metrics
  'authorizer.class.name': def('string', '', 'low', 'Authorizer: org.apache.kafka.metadata.authorizer.StandardAuthorizer turns ACLs on; empty, none.'),
  'super.users': def('string', null, 'low', 'Principals allowed every operation, separated by semicolons (User:admin;User:broker).'),
  'allow.everyone.if.no.acl.found': def('boolean', false, 'low', 'Whether a resource no ACL covers is open to everyone (otherwise only to super users).'),
  'principal.builder.class': def('class', 'org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder', 'medium', 'KafkaPrincipalBuilder class.', PB),
  'create.topic.policy.class.name': def('class', null, 'low', 'CreateTopicPolicy class (not supported).'),
  'alter.config.policy.class.name': def('class', null, 'low', 'AlterConfigPolicy class (not supported).'),
  'sasl.enabled.mechanisms': def('list', ['GSSAPI'], 'medium', 'SASL mechanisms enabled on the server.', PB),
  'sasl.mechanism.inter.broker.protocol': def('string', 'GSSAPI', 'medium', 'SASL mechanism between brokers.', PB),
  'sasl.mechanism.controller.protocol': def('string', 'GSSAPI', 'high', 'SASL mechanism towards controllers.'),
  'sasl.jaas.config': def('password', null, 'medium', 'JAAS login context of SASL connections (per listener and mechanism as listener.name.<l>.<mechanism>.sasl.jaas.config).', PB),
  'sasl.server.callback.handler.class': def('class', null, 'medium', 'SASL server callback handler class (OAUTHBEARER: only OAuthBearerValidatorCallbackHandler, per listener).', PB),
  'sasl.oauthbearer.jwks.endpoint.url': def('string', null, 'medium', 'https:// or file:// URL of the JWKS that signed OAUTHBEARER tokens are verified with (OAuthBearerValidatorCallbackHandler).'),
  'sasl.oauthbearer.jwks.endpoint.refresh.ms': def('long', 3600000, 'low', 'How often the JWKS is reloaded.', { v: atLeast(0) }),
  'sasl.oauthbearer.jwks.endpoint.retry.backoff.ms': def('long', 100, 'low', 'First wait before retrying a failed JWKS load; doubles on each attempt.', { v: atLeast(0) }),
  'sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms': def('long', 10000, 'low', 'Longest time one JWKS load keeps retrying.', { v: atLeast(0) }),
  'sasl.oauthbearer.expected.audience': def('list', [], 'low', 'Audiences an OAUTHBEARER token must name one of (aud); empty for no check.'),
  'sasl.oauthbearer.expected.issuer': def('string', null, 'low', 'The issuer (iss) an OAUTHBEARER token must name; unset for no check.'),
  'sasl.oauthbearer.clock.skew.seconds': def('int', 30, 'low', 'Clock difference allowed when checking exp, iat and nbf of OAUTHBEARER tokens.', { v: atLeast(0) }),
  'sasl.oauthbearer.scope.claim.name': def('string', 'scope', 'low', 'The claim holding an OAUTHBEARER token\'s scopes.'),
  'sasl.oauthbearer.sub.claim.name': def('string', 'sub', 'low', 'The claim holding an OAUTHBEARER token\'s principal.'),
  'sasl.kerberos.service.name': def('string', null, 'medium', 'Kerberos principal name Kafka runs as.', PB),
  'ssl.protocol': def('string', 'TLSv1.3', 'medium', 'The TLS protocol of the SSLContext.', PB),
  'ssl.enabled.protocols': def('list', ['TLSv1.2', 'TLSv1.3'], 'medium', 'TLS protocols enabled for connections.', PB),
  'ssl.cipher.suites': def('list', [], 'medium', 'Cipher suites enabled; empty for all the TLS library supports.', PB),
  'ssl.client.auth': def('string', 'none', 'medium', 'Whether client certificates are none, requested or required.', { v: oneOf('required', 'requested', 'none'), dyn: 'per-broker' }),
  'ssl.principal.mapping.rules': def('string', 'DEFAULT', 'low', 'Rules mapping a certificate distinguished name to a short name.', PB),
  'ssl.endpoint.identification.algorithm': def('string', 'https', 'low', 'Server host name verification algorithm of TLS clients.', PB),
  'ssl.keystore.type': def('string', 'JKS', 'medium', 'Key store file format: PEM or PKCS12 (JKS is not supported).', PB),
  'ssl.keystore.location': def('string', null, 'high', 'Location of the key store file.', PB),
  'ssl.keystore.password': def('password', null, 'high', 'Password of the key store file.', PB),
  'ssl.key.password': def('password', null, 'high', 'Password of the private key.', PB),
  'ssl.keystore.certificate.chain': def('password', null, 'high', 'Certificate chain in PEM, for ssl.keystore.type=PEM.', PB),
  'ssl.keystore.key': def('password', null, 'high', 'Private key in PEM, for ssl.keystore.type=PEM.', PB),
  'ssl.truststore.type': def('string', 'JKS', 'medium', 'Trust store file format: PEM or PKCS12 (JKS is not supported).', PB),
  'ssl.truststore.location': def('string', null, 'high', 'Location of the trust store file.', PB),
  'ssl.truststore.password': def('password', null, 'high', 'Password of the trust store file.', PB),
  'ssl.truststore.certificates': def('password', null, 'high', 'Trusted certificates in PEM, for ssl.truststore.type=PEM.', PB),
  'ssl.keymanager.algorithm': def('string', 'SunX509', 'low', 'Key manager factory algorithm (Java only; ignored).', PB),
  'ssl.trustmanager.algorithm': def('string', 'PKIX', 'low', 'Trust manager factory algorithm (Java only; ignored).', PB),
  'ssl.secure.random.implementation': def('string', null, 'low', 'SecureRandom implementation (Java only; ignored).', PB),
  'ssl.provider': def('string', null, 'low', 'Security provider (Java only; ignored).', PB),
  'ssl.engine.factory.class': def('class', null, 'low', 'SslEngineFactory class (not supported).', PB),
  'delegation.token.secret.key': def('password', null, 'medium', 'Secret key for delegation tokens.'),
  'password.encoder.secret': def('password', null, 'medium', 'Secret encoding dynamically configured passwords.'),
  'quota.window.num': def('int', 11, 'low', 'Samples retained in memory for client quotas.', { v: atLeast(1) }),
  'quota.window.size.seconds': def('int', 1, 'low', 'Time span of each client quota sample.', { v: atLeast(1) }),
  'metric.reporters': def('list', [], 'low', 'Metrics reporter classes.', CW),
  'metrics.num.samples': def('int', 2, 'low', 'Samples kept to compute metrics.', { v: atLeast(1) }),
  'metrics.sample.window.ms': def('long', 30000, 'low', 'Window of a metrics sample.', { v: atLeast(1) }),
  'metrics.recording.level': def('string', 'INFO', 'low', 'Highest recording level of metrics.'),

  // HTTP endpoints (not Kafka's: Kafka exposes metrics through JMX and an exporter agent)
  'http.listeners': def('list', ['http://127.0.0.1:9644'], 'medium', 'http://host:port URIs serving /metrics, /health/live and /health/ready; empty disables them; port 0 picks a free port.'),
  'metrics.enabled': def('boolean', true, 'medium', 'Serve Prometheus metrics at /metrics; false records none and costs nothing.'),
} as const;

export type BrokerConfigName = keyof typeof BROKER_CONFIG_TABLE;
export type BrokerConfigValues = { [K in BrokerConfigName]: ValueOfDef<(typeof BROKER_CONFIG_TABLE)[K]> };
