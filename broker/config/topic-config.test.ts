import { describe, it, expect } from 'vitest';
import { parseBrokerConfig } from './broker-config.ts';
import { ConfigSource, ConfigType, JAVA_LONG_MAX } from './config-def.ts';
import { TOPIC_CONFIG_DEFS, describeBrokerConfigs, effectiveTopicConfig, validateTopicConfigs } from './topic-config.ts';
import { BROKER_CONFIG_DEFS } from './broker-config.ts';

const BASE: Record<string, string> = {
  'process.roles': 'broker,controller',
  'node.id': '1',
  'controller.quorum.voters': '1@localhost:9093',
  'listeners': 'PLAINTEXT://:9092,CONTROLLER://:9093',
  'controller.listener.names': 'CONTROLLER',
  'log.dirs': '/tmp/x',
};
const broker = (extra: Record<string, string> = {}) => parseBrokerConfig({ ...BASE, ...extra });

describe('topic config definitions', () => {
  it('map each topic config to its broker synonyms, which all exist', () => {
    expect(TOPIC_CONFIG_DEFS.get('retention.ms')!.synonyms).toEqual(['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']);
    expect(TOPIC_CONFIG_DEFS.get('segment.ms')!.synonyms).toEqual(['log.roll.ms', 'log.roll.hours']);
    expect(TOPIC_CONFIG_DEFS.get('max.message.bytes')!.synonyms).toEqual(['message.max.bytes']);
    expect(TOPIC_CONFIG_DEFS.get('file.delete.delay.ms')!.synonyms).toEqual(['log.segment.delete.delay.ms']);
    for (const d of TOPIC_CONFIG_DEFS.values()) for (const s of d.synonyms) expect(BROKER_CONFIG_DEFS.has(s), s).toBe(true);
  });

  it('default to what the broker defaults resolve to', () => {
    const eff = effectiveTopicConfig({}, broker());
    for (const d of TOPIC_CONFIG_DEFS.values()) expect(eff.get(d.name), d.name).toEqual(d.default);
  });
});

describe('validateTopicConfigs', () => {
  it('accepts valid overrides', () => {
    expect(validateTopicConfigs({ 'cleanup.policy': 'compact', 'retention.ms': '-1', 'segment.bytes': '1048576', 'min.cleanable.dirty.ratio': '0.1' })).toEqual([]);
  });

  it('reports unknown names, null values and bad values as Kafka does', () => {
    expect(validateTopicConfigs({ 'retention.msx': '1' })).toEqual([{ name: 'retention.msx', message: 'Unknown topic config name: retention.msx' }]);
    expect(validateTopicConfigs({ 'retention.ms': null })).toEqual([{ name: 'retention.ms', message: 'Null value not supported for topic configs: retention.ms' }]);
    expect(validateTopicConfigs({ 'retention.ms': 'soon' })).toEqual([{ name: 'retention.ms', message: 'Invalid value soon for configuration retention.ms: Not a number of type LONG' }]);
    expect(validateTopicConfigs({ 'retention.ms': '-2' })[0]!.message).toBe('Invalid value -2 for configuration retention.ms: Value must be at least -1');
    expect(validateTopicConfigs({ 'segment.bytes': '10' })[0]!.message).toBe('Invalid value 10 for configuration segment.bytes: Value must be at least 14');
    expect(validateTopicConfigs({ 'cleanup.policy': 'compact,shred' })[0]!.message).toBe('Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete');
    expect(validateTopicConfigs({ 'message.timestamp.type': 'Now' })[0]!.message).toBe('Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime');
    expect(validateTopicConfigs({ 'min.insync.replicas': '0' })[0]!.message).toBe('Invalid value 0 for configuration min.insync.replicas: Value must be at least 1');
    expect(validateTopicConfigs({ 'leader.replication.throttled.replicas': '0:1,x' })[0]!.name).toBe('leader.replication.throttled.replicas');
    expect(validateTopicConfigs({ 'leader.replication.throttled.replicas': '0:1,1:2' })).toEqual([]);
  });

  it('checks compaction lags against each other, using broker defaults for the unset one', () => {
    expect(validateTopicConfigs({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' })[0]!.message).toBe('conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)');
    expect(validateTopicConfigs({ 'min.compaction.lag.ms': '10' }, broker({ 'log.cleaner.max.compaction.lag.ms': '5' }))).toHaveLength(1);
    expect(validateTopicConfigs({ 'min.compaction.lag.ms': '10' }, broker())).toEqual([]);
  });

  it('refuses remote storage', () => {
    expect(validateTopicConfigs({ 'remote.storage.enable': 'true' })[0]!.message).toContain('Tiered Storage functionality is disabled in the broker');
    expect(validateTopicConfigs({ 'remote.storage.enable': 'false', 'local.retention.ms': '-2' })).toEqual([]);
  });
});

describe('effectiveTopicConfig', () => {
  it('takes a topic override first, with source TOPIC_CONFIG and the broker synonyms after it', () => {
    const eff = effectiveTopicConfig({ 'segment.bytes': '1048576' }, broker({ 'log.segment.bytes': '2097152' }));
    expect(eff.get('segment.bytes')).toBe(1048576);
    expect(eff.entry('segment.bytes')).toEqual({
      name: 'segment.bytes',
      value: '1048576',
      readOnly: false,
      configSource: ConfigSource.TOPIC_CONFIG,
      isSensitive: false,
      synonyms: [
        { name: 'segment.bytes', value: '1048576', source: ConfigSource.TOPIC_CONFIG },
        { name: 'log.segment.bytes', value: '2097152', source: ConfigSource.STATIC_BROKER_CONFIG },
        { name: 'log.segment.bytes', value: '1073741824', source: ConfigSource.DEFAULT_CONFIG },
      ],
      configType: ConfigType.INT,
      documentation: TOPIC_CONFIG_DEFS.get('segment.bytes')!.doc,
    });
  });

  it('falls back to static broker config, then Kafka default', () => {
    const eff = effectiveTopicConfig({}, broker({ 'message.max.bytes': '2000000' }));
    expect(eff.get('max.message.bytes')).toBe(2000000);
    expect(eff.entry('max.message.bytes').configSource).toBe(ConfigSource.STATIC_BROKER_CONFIG);
    expect(eff.entry('cleanup.policy')).toMatchObject({
      value: 'delete',
      configSource: ConfigSource.DEFAULT_CONFIG,
      configType: ConfigType.LIST,
      synonyms: [{ name: 'log.cleanup.policy', value: 'delete', source: ConfigSource.DEFAULT_CONFIG }],
    });
  });

  it('resolves retention.ms from log.retention.{ms,minutes,hours} and lists synonyms from the ms key on', () => {
    const plain = effectiveTopicConfig({}, broker());
    expect(plain.get('retention.ms')).toBe(604800000);
    expect(plain.entry('retention.ms')).toMatchObject({ value: '604800000', configSource: ConfigSource.DEFAULT_CONFIG, synonyms: [] });
    const hours = effectiveTopicConfig({}, broker({ 'log.retention.hours': '1' }));
    expect(hours.get('retention.ms')).toBe(3600000);
    const ms = effectiveTopicConfig({}, broker({ 'log.retention.ms': '5000', 'log.retention.hours': '1' }));
    expect(ms.get('retention.ms')).toBe(5000);
    expect(ms.entry('retention.ms').synonyms).toEqual([
      { name: 'log.retention.ms', value: '5000', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '1', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
    ]);
    expect(ms.entry('retention.ms').configSource).toBe(ConfigSource.STATIC_BROKER_CONFIG);
  });

  it('resolves segment.ms, segment.jitter.ms and flush.ms from their broker units', () => {
    const eff = effectiveTopicConfig({}, broker({ 'log.roll.hours': '2', 'log.roll.jitter.ms': '9', 'log.flush.scheduler.interval.ms': '700' }));
    expect([eff.get('segment.ms'), eff.get('segment.jitter.ms'), eff.get('flush.ms')]).toEqual([7200000, 9, 700]);
    expect(effectiveTopicConfig({}, broker()).entry('flush.ms').value).toBe('9223372036854775807');
  });

  it('orders layers as Kafka: dynamic per-broker, dynamic default, static, default', () => {
    const eff = effectiveTopicConfig({}, broker({ 'min.insync.replicas': '2' }), {
      perBroker: { 'min.insync.replicas': '4' },
      clusterDefault: { 'min.insync.replicas': '3' },
    });
    expect(eff.get('min.insync.replicas')).toBe(4);
    expect(eff.entry('min.insync.replicas').synonyms.map((s) => [s.value, s.source])).toEqual([
      ['4', ConfigSource.DYNAMIC_BROKER_CONFIG],
      ['3', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
      ['2', ConfigSource.STATIC_BROKER_CONFIG],
      ['1', ConfigSource.DEFAULT_CONFIG],
    ]);
    expect(eff.entry('min.insync.replicas').configSource).toBe(ConfigSource.DYNAMIC_BROKER_CONFIG);
  });

  it('renders values as Kafka strings', () => {
    const eff = effectiveTopicConfig({ 'cleanup.policy': 'compact, delete', 'min.cleanable.dirty.ratio': '1' }, broker());
    const s = eff.toStrings();
    expect(s['cleanup.policy']).toBe('compact,delete');
    expect(s['min.cleanable.dirty.ratio']).toBe('1.0');
    expect(s['max.compaction.lag.ms']).toBe('9223372036854775807');
    expect(eff.get('max.compaction.lag.ms')).toBe(JAVA_LONG_MAX);
    expect(eff.entry('preallocate').configType).toBe(ConfigType.BOOLEAN);
  });
});

describe('describeBrokerConfigs', () => {
  it('marks read-only keys, sources and sensitive values', () => {
    const entries = describeBrokerConfigs(broker({ 'num.partitions': '3', 'delegation.token.secret.key': 'sekret' }), { perBroker: { 'min.insync.replicas': '2' } });
    const by = new Map(entries.map((e) => [e.name, e]));
    expect(by.get('num.partitions')).toMatchObject({ value: '3', readOnly: true, configSource: ConfigSource.STATIC_BROKER_CONFIG, configType: ConfigType.INT });
    expect(by.get('min.insync.replicas')).toMatchObject({ value: '2', readOnly: false, configSource: ConfigSource.DYNAMIC_BROKER_CONFIG });
    expect(by.get('delegation.token.secret.key')).toMatchObject({ value: null, isSensitive: true, configType: ConfigType.PASSWORD });
    expect(by.get('delegation.token.secret.key')!.synonyms.every((s) => s.value === null)).toBe(true);
    expect(by.get('log.retention.ms')).toMatchObject({ value: null, configSource: ConfigSource.DEFAULT_CONFIG, synonyms: [] });
    expect(by.get('log.retention.hours')!.synonyms).toEqual([{ name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG }]);
  });

  it('lists only dynamic defaults for the cluster default resource', () => {
    const entries = describeBrokerConfigs(broker({ 'num.partitions': '3' }), { clusterDefault: { 'log.retention.ms': '1000' } }, false);
    const by = new Map(entries.map((e) => [e.name, e]));
    expect(by.get('num.partitions')!.synonyms).toEqual([]);
    expect(by.get('log.retention.ms')).toMatchObject({ value: '1000', configSource: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
  });
});
