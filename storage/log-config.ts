// Per-log (topic) configuration. Fields are Kafka's topic config keys in camelCase
// (`segment.bytes` → segmentBytes, `cleanup.policy` → cleanupPolicy); TOPIC_CONFIG_KEYS maps
// each Kafka key to its field, and logConfigFromProperties parses Kafka-keyed topic overrides.
// Defaults are Kafka 3.9's. The broker resolves a topic's config (overrides, its broker-level
// synonyms, dynamic configs) in broker/config and hands storage the result.

export type CleanupPolicy = 'delete' | 'compact';
export type TimestampTypeName = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  segmentBytes: number; // segment.bytes
  segmentMs: number; // segment.ms
  segmentJitterMs: number; // segment.jitter.ms
  segmentIndexBytes: number; // segment.index.bytes
  indexIntervalBytes: number; // index.interval.bytes
  retentionMs: number; // retention.ms (-1: unlimited)
  retentionBytes: number; // retention.bytes (-1: unlimited)
  cleanupPolicy: CleanupPolicy[]; // cleanup.policy
  deleteRetentionMs: number; // delete.retention.ms
  minCleanableDirtyRatio: number; // min.cleanable.dirty.ratio
  minCompactionLagMs: number; // min.compaction.lag.ms
  maxCompactionLagMs: number; // max.compaction.lag.ms
  flushMessages: number; // flush.messages
  flushMs: number; // flush.ms
  fileDeleteDelayMs: number; // file.delete.delay.ms
  maxMessageBytes: number; // max.message.bytes
  messageTimestampType: TimestampTypeName; // message.timestamp.type
  messageTimestampBeforeMaxMs: number; // message.timestamp.before.max.ms
  messageTimestampAfterMaxMs: number; // message.timestamp.after.max.ms
  minInsyncReplicas: number; // min.insync.replicas
  compressionType: string; // compression.type
  uncleanLeaderElectionEnable: boolean; // unclean.leader.election.enable
  preallocate: boolean; // preallocate (accepted, not acted on)
}

const LONG_MAX = Number.MAX_SAFE_INTEGER; // stands for Java's Long.MAX_VALUE

export const defaultLogConfig: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentJitterMs: 0,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  cleanupPolicy: ['delete'] as CleanupPolicy[],
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: LONG_MAX,
  flushMessages: LONG_MAX,
  flushMs: LONG_MAX,
  fileDeleteDelayMs: 60_000,
  maxMessageBytes: 1024 * 1024 + 12,
  messageTimestampType: 'CreateTime' as TimestampTypeName,
  messageTimestampBeforeMaxMs: LONG_MAX,
  messageTimestampAfterMaxMs: LONG_MAX,
  minInsyncReplicas: 1,
  compressionType: 'producer',
  uncleanLeaderElectionEnable: false,
  preallocate: false,
});

type Kind = 'int' | 'long' | 'double' | 'bool' | 'string' | 'policy' | 'tstype';

/** Kafka topic config key → LogConfig field and value kind. */
export const TOPIC_CONFIG_KEYS: Readonly<Record<string, { field: keyof LogConfig; kind: Kind }>> = {
  'segment.bytes': { field: 'segmentBytes', kind: 'int' },
  'segment.ms': { field: 'segmentMs', kind: 'long' },
  'segment.jitter.ms': { field: 'segmentJitterMs', kind: 'long' },
  'segment.index.bytes': { field: 'segmentIndexBytes', kind: 'int' },
  'index.interval.bytes': { field: 'indexIntervalBytes', kind: 'int' },
  'retention.ms': { field: 'retentionMs', kind: 'long' },
  'retention.bytes': { field: 'retentionBytes', kind: 'long' },
  'cleanup.policy': { field: 'cleanupPolicy', kind: 'policy' },
  'delete.retention.ms': { field: 'deleteRetentionMs', kind: 'long' },
  'min.cleanable.dirty.ratio': { field: 'minCleanableDirtyRatio', kind: 'double' },
  'min.compaction.lag.ms': { field: 'minCompactionLagMs', kind: 'long' },
  'max.compaction.lag.ms': { field: 'maxCompactionLagMs', kind: 'long' },
  'flush.messages': { field: 'flushMessages', kind: 'long' },
  'flush.ms': { field: 'flushMs', kind: 'long' },
  'file.delete.delay.ms': { field: 'fileDeleteDelayMs', kind: 'long' },
  'max.message.bytes': { field: 'maxMessageBytes', kind: 'int' },
  'message.timestamp.type': { field: 'messageTimestampType', kind: 'tstype' },
  'message.timestamp.before.max.ms': { field: 'messageTimestampBeforeMaxMs', kind: 'long' },
  'message.timestamp.after.max.ms': { field: 'messageTimestampAfterMaxMs', kind: 'long' },
  'min.insync.replicas': { field: 'minInsyncReplicas', kind: 'int' },
  'compression.type': { field: 'compressionType', kind: 'string' },
  'unclean.leader.election.enable': { field: 'uncleanLeaderElectionEnable', kind: 'bool' },
  preallocate: { field: 'preallocate', kind: 'bool' },
};


export class InvalidConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidConfigError';
  }
}

function parseValue(key: string, kind: Kind, raw: string): LogConfig[keyof LogConfig] {
  const s = raw.trim();
  switch (kind) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(s)) throw new InvalidConfigError(`${key}: not an integer: ${raw}`);
      const n = Number(s);
      if (kind === 'int' && (n < -2147483648 || n > 2147483647)) throw new InvalidConfigError(`${key}: out of int range: ${raw}`);
      return Math.min(n, LONG_MAX);
    }
    case 'double': {
      const n = Number(s);
      if (s === '' || !Number.isFinite(n)) throw new InvalidConfigError(`${key}: not a number: ${raw}`);
      return n;
    }
    case 'bool':
      if (s !== 'true' && s !== 'false') throw new InvalidConfigError(`${key}: not a boolean: ${raw}`);
      return s === 'true';
    case 'string':
      return s;
    case 'policy': {
      const parts = s.split(',').map((p) => p.trim()).filter((p) => p !== '');
      for (const p of parts) if (p !== 'delete' && p !== 'compact') throw new InvalidConfigError(`${key}: unknown policy ${p}`);
      return [...new Set(parts)] as CleanupPolicy[];
    }
    case 'tstype':
      if (s !== 'CreateTime' && s !== 'LogAppendTime') throw new InvalidConfigError(`${key}: unknown timestamp type ${raw}`);
      return s;
  }
}

/** Applies Kafka-keyed topic overrides on top of `base`; unknown keys are rejected. */
export function logConfigFromProperties(props: Readonly<Record<string, string>>, base: Readonly<LogConfig> = defaultLogConfig): LogConfig {
  const out: LogConfig = { ...base, cleanupPolicy: [...base.cleanupPolicy] };
  for (const [key, raw] of Object.entries(props)) {
    const spec = TOPIC_CONFIG_KEYS[key];
    if (spec === undefined) throw new InvalidConfigError(`unknown topic config ${key}`);
    (out as unknown as Record<string, unknown>)[spec.field] = parseValue(key, spec.kind, raw);
  }
  return out;
}


export function isCompacted(config: LogConfig): boolean {
  return config.cleanupPolicy.includes('compact');
}

export function isDeleteEnabled(config: LogConfig): boolean {
  return config.cleanupPolicy.includes('delete');
}
