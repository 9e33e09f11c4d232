// The storage configuration a topic's logs run with: its overrides over the broker's static and
// dynamic defaults, resolved by exactly the rules DescribeConfigs reports (one source of truth for
// defaults, synonyms and units), then mapped onto storage's LogConfig fields.
import { type LogConfig, TOPIC_CONFIG_KEYS, defaultLogConfig } from '../../storage/log-config.ts';
import type { BrokerConfig } from './broker-config.ts';
import { JAVA_LONG_MAX } from './config-def.ts';
import { type DynamicBrokerConfigs, effectiveTopicConfig, type TopicConfigName } from './topic-config.ts';

/** `overrides` must be valid topic configs (they are validated when set). */
export function topicLogConfig(overrides: Readonly<Record<string, string>>, broker: BrokerConfig, dynamic: DynamicBrokerConfigs = {}): LogConfig {
  const eff = effectiveTopicConfig(overrides, broker, dynamic);
  const out: Record<string, unknown> = { ...defaultLogConfig };
  for (const [key, { field }] of Object.entries(TOPIC_CONFIG_KEYS)) {
    const value = eff.get(key as TopicConfigName);
    out[field] = Array.isArray(value) ? [...value] : value;
  }
  // As Kafka's LogConfig: the deprecated message.timestamp.difference.max.ms bounds each side of
  // the timestamp window that message.timestamp.before/after.max.ms leaves at its default.
  const difference = eff.get('message.timestamp.difference.max.ms') as number;
  if (out.messageTimestampBeforeMaxMs === JAVA_LONG_MAX) out.messageTimestampBeforeMaxMs = difference;
  if (out.messageTimestampAfterMaxMs === JAVA_LONG_MAX) out.messageTimestampAfterMaxMs = difference;
  return out as unknown as LogConfig;
}
