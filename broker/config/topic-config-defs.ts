// Topic-level config definitions as Kafka 3.9's LogConfig has them: names, types, defaults,
// validators, and the broker config each one falls back to (LogConfig's server synonyms). The
// synonym list is in Kafka's DescribeConfigs order: the key that wins first (log.retention.ms
// before .minutes before .hours).
import type { BrokerConfigName, TypedDef, ValueOfDef } from './broker-config-defs.ts';
import { COMPRESSION_TYPES, GZIP_LEVEL, TIMESTAMP_TYPES, atLeast, between, def, listOf, oneOf } from './broker-config-defs.ts';
import { JAVA_LONG_MAX } from './config-def.ts';
import type { ConfigTypeName } from './config-def.ts';

interface TopicDef<T extends ConfigTypeName, D> extends TypedDef<T, D> {
  /** Broker configs that supply the default, in the order Kafka resolves and lists them. */
  readonly synonyms: readonly BrokerConfigName[];
}

function topic<T extends ConfigTypeName, D>(d: TypedDef<T, D>, ...synonyms: BrokerConfigName[]): TopicDef<T, D> {
  return { ...d, synonyms };
}

/** Throttled replica lists: `*` or partition:broker pairs. */
const THROTTLED_REPLICAS = {
  kind: 'check' as const,
  describe: '[partitionId]:[brokerId],[partitionId]:[brokerId],... or *',
  check: (v: unknown): string | null => {
    const list = v as readonly string[];
    if (list.length === 1 && list[0] === '*') return null;
    return list.every((e) => /^\d+:\d+$/.test(e)) ? null : 'must be the literal \'*\' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...';
  },
};

export const TOPIC_CONFIG_TABLE = {
  'cleanup.policy': topic(def('list', ['delete'], 'medium', 'delete or compact or both.', { v: listOf('compact', 'delete') }), 'log.cleanup.policy'),
  'compression.type': topic(def('string', 'producer', 'medium', 'Final compression of the topic; producer keeps the producer\'s codec.', { v: oneOf(...COMPRESSION_TYPES) }), 'compression.type'),
  'compression.gzip.level': topic(def('int', -1, 'medium', 'gzip level when compression.type is gzip.', { v: GZIP_LEVEL }), 'compression.gzip.level'),
  'compression.lz4.level': topic(def('int', 9, 'medium', 'lz4 level when compression.type is lz4.', { v: between(1, 17) }), 'compression.lz4.level'),
  'compression.zstd.level': topic(def('int', 3, 'medium', 'zstd level when compression.type is zstd.', { v: between(-131072, 22) }), 'compression.zstd.level'),
  'delete.retention.ms': topic(def('long', 86400000, 'medium', 'How long tombstones are kept in compacted topics.', { v: atLeast(0) }), 'log.cleaner.delete.retention.ms'),
  'file.delete.delay.ms': topic(def('long', 60000, 'medium', 'Delay before a deleted segment is removed from disk.', { v: atLeast(0) }), 'log.segment.delete.delay.ms'),
  'flush.messages': topic(def('long', JAVA_LONG_MAX, 'medium', 'Messages accumulated before an fsync.', { v: atLeast(1) }), 'log.flush.interval.messages'),
  'flush.ms': topic(def('long', JAVA_LONG_MAX, 'medium', 'Max time before an fsync.', { v: atLeast(0) }), 'log.flush.interval.ms', 'log.flush.scheduler.interval.ms'),
  'follower.replication.throttled.replicas': topic(def('list', [], 'medium', 'Replicas throttled on the follower side.', { v: THROTTLED_REPLICAS })),
  'index.interval.bytes': topic(def('int', 4096, 'medium', 'Bytes between offset index entries.', { v: atLeast(0) }), 'log.index.interval.bytes'),
  'leader.replication.throttled.replicas': topic(def('list', [], 'medium', 'Replicas throttled on the leader side.', { v: THROTTLED_REPLICAS })),
  'local.retention.bytes': topic(def('long', -2, 'medium', 'Local size limit with tiered storage; -2 follows retention.bytes.', { v: atLeast(-2) }), 'log.local.retention.bytes'),
  'local.retention.ms': topic(def('long', -2, 'medium', 'Local retention with tiered storage; -2 follows retention.ms.', { v: atLeast(-2) }), 'log.local.retention.ms'),
  'max.compaction.lag.ms': topic(def('long', JAVA_LONG_MAX, 'medium', 'Max age of a record before it must be compacted.', { v: atLeast(1) }), 'log.cleaner.max.compaction.lag.ms'),
  'max.message.bytes': topic(def('int', 1048588, 'medium', 'Largest record batch size allowed.', { v: atLeast(0) }), 'message.max.bytes'),
  'message.downconversion.enable': topic(def('boolean', true, 'low', 'Down-convert messages for old consumers.'), 'log.message.downconversion.enable'),
  'message.format.version': topic(def('string', '3.0-IV1', 'medium', 'Deprecated: ignored since 3.0.'), 'log.message.format.version'),
  'message.timestamp.after.max.ms': topic(def('long', JAVA_LONG_MAX, 'medium', 'Max distance of a timestamp ahead of broker time.', { v: atLeast(0) }), 'log.message.timestamp.after.max.ms'),
  'message.timestamp.before.max.ms': topic(def('long', JAVA_LONG_MAX, 'medium', 'Max age of a timestamp behind broker time.', { v: atLeast(0) }), 'log.message.timestamp.before.max.ms'),
  'message.timestamp.difference.max.ms': topic(def('long', JAVA_LONG_MAX, 'medium', 'Deprecated: max timestamp distance from broker time.', { v: atLeast(0) }), 'log.message.timestamp.difference.max.ms'),
  'message.timestamp.type': topic(def('string', 'CreateTime', 'medium', 'CreateTime or LogAppendTime.', { v: oneOf(...TIMESTAMP_TYPES) }), 'log.message.timestamp.type'),
  'min.cleanable.dirty.ratio': topic(def('double', 0.5, 'medium', 'Min dirty ratio for the log to be cleaned.', { v: between(0, 1) }), 'log.cleaner.min.cleanable.ratio'),
  'min.compaction.lag.ms': topic(def('long', 0, 'medium', 'Min age of a record before it can be compacted.', { v: atLeast(0) }), 'log.cleaner.min.compaction.lag.ms'),
  'min.insync.replicas': topic(def('int', 1, 'medium', 'Min in-sync replicas for acks=all writes to succeed.', { v: atLeast(1) }), 'min.insync.replicas'),
  'preallocate': topic(def('boolean', false, 'medium', 'Preallocate segment files.'), 'log.preallocate'),
  'remote.log.copy.disable': topic(def('boolean', false, 'medium', 'Stop copying segments to remote storage.')),
  'remote.log.delete.on.disable': topic(def('boolean', false, 'medium', 'Delete remote data when tiered storage is turned off.')),
  'remote.storage.enable': topic(def('boolean', false, 'medium', 'Tiered storage for this topic (not supported).')),
  'retention.bytes': topic(def('long', -1, 'medium', 'Max size of a partition before old segments are deleted; -1 for none.'), 'log.retention.bytes'),
  'retention.ms': topic(def('long', 604800000, 'medium', 'Time a record is kept; -1 for ever.', { v: atLeast(-1) }), 'log.retention.ms', 'log.retention.minutes', 'log.retention.hours'),
  'segment.bytes': topic(def('int', 1073741824, 'medium', 'Max size of one segment.', { v: atLeast(14) }), 'log.segment.bytes'),
  'segment.index.bytes': topic(def('int', 10485760, 'medium', 'Max size of an offset index file.', { v: atLeast(4) }), 'log.index.size.max.bytes'),
  'segment.jitter.ms': topic(def('long', 0, 'medium', 'Max jitter subtracted from segment.ms.', { v: atLeast(0) }), 'log.roll.jitter.ms', 'log.roll.jitter.hours'),
  'segment.ms': topic(def('long', 604800000, 'medium', 'Max age of a segment before rolling.', { v: atLeast(1) }), 'log.roll.ms', 'log.roll.hours'),
  'unclean.leader.election.enable': topic(def('boolean', false, 'medium', 'Allow out-of-sync replicas to become leader.'), 'unclean.leader.election.enable'),
} as const;

export type TopicConfigName = keyof typeof TOPIC_CONFIG_TABLE;
export type TopicConfigValues = {
  [K in TopicConfigName]: (typeof TOPIC_CONFIG_TABLE)[K] extends TopicDef<infer T, infer D> ? ValueOfDef<TypedDef<T, D>> : never;
};

/** The topic config a broker config is the default of, for hints when one is used for the other. */
export function topicConfigForBrokerConfig(broker: string): TopicConfigName | null {
  for (const [name, d] of Object.entries(TOPIC_CONFIG_TABLE)) if ((d.synonyms as readonly string[]).includes(broker)) return name as TopicConfigName;
  return null;
}
