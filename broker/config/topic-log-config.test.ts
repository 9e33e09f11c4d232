import { describe, expect, it } from 'vitest';
import { defaultLogConfig, TOPIC_CONFIG_KEYS } from '../../storage/log-config.ts';
import { parseBrokerConfig } from './broker-config.ts';
import { topicLogConfig } from './topic-log-config.ts';
import { TOPIC_CONFIG_DEFS, type TopicConfigName } from './topic-config.ts';

const base = {
  'process.roles': 'broker,controller',
  'node.id': '1',
  listeners: 'PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093',
  'controller.listener.names': 'CONTROLLER',
  'controller.quorum.voters': '1@localhost:9093',
  'log.dirs': '/tmp/x',
};

describe('topicLogConfig', () => {
  it('maps every storage field from a topic config Kafka defines', () => {
    for (const key of Object.keys(TOPIC_CONFIG_KEYS)) expect(TOPIC_CONFIG_DEFS.has(key as TopicConfigName), key).toBe(true);
  });

  it('gives storage\'s own defaults when nothing is set', () => {
    expect(topicLogConfig({}, parseBrokerConfig(base))).toEqual(defaultLogConfig);
  });

  it('resolves broker units and layers as Kafka does, topic overrides winning', () => {
    const broker = parseBrokerConfig({ ...base, 'log.retention.hours': '1', 'log.retention.minutes': '2', 'log.roll.hours': '3', 'log.cleanup.policy': 'compact' });
    const c = topicLogConfig({}, broker);
    expect(c.retentionMs).toBe(120_000);
    expect(c.segmentMs).toBe(3 * 3_600_000);
    expect(c.cleanupPolicy).toEqual(['compact']);
    const dyn = topicLogConfig({ 'segment.bytes': '4096' }, broker, { clusterDefault: { 'log.retention.ms': '5000' }, perBroker: { 'log.segment.bytes': '999999' } });
    expect(dyn.retentionMs).toBe(5000);
    expect(dyn.segmentBytes).toBe(4096);
  });

  it('takes the deprecated message.timestamp.difference.max.ms for each side of the window left unbounded', () => {
    const broker = parseBrokerConfig(base);
    expect(topicLogConfig({ 'message.timestamp.difference.max.ms': '60000' }, broker)).toMatchObject({ messageTimestampBeforeMaxMs: 60_000, messageTimestampAfterMaxMs: 60_000 });
    const mixed = topicLogConfig({ 'message.timestamp.difference.max.ms': '60000', 'message.timestamp.after.max.ms': '5' }, broker);
    expect(mixed).toMatchObject({ messageTimestampBeforeMaxMs: 60_000, messageTimestampAfterMaxMs: 5 });
    const fromBroker = topicLogConfig({}, parseBrokerConfig({ ...base, 'log.message.timestamp.difference.max.ms': '1000' }));
    expect(fromBroker).toMatchObject({ messageTimestampBeforeMaxMs: 1000, messageTimestampAfterMaxMs: 1000 });
  });
});
