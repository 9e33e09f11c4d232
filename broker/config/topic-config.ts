// Topic configs: validation of overrides with Kafka's INVALID_CONFIG messages, and resolution of
// a topic's effective config against the broker's (topic override, then dynamic per-broker, then
// dynamic cluster default, then server.properties, then Kafka's default), with each key's source
// and synonyms as DescribeConfigs reports them. Broker resources are described here too, since
// both share the synonym rules (Kafka's ConfigHelper).
// Invariant: values are resolved over the merged broker properties exactly as KafkaConfig does
// (log.retention.ms over .minutes over .hours, whichever layer each came from), while the reported
// source is that of the first synonym found, scanning layer by layer; Kafka behaves the same.
import type { BrokerConfig, BrokerConfigName } from './broker-config.ts';
import { BROKER_CONFIG_DEFS } from './broker-config.ts';
import type { ConfigDef, ConfigSourceId, ConfigValue } from './config-def.ts';
import { ConfigSource, ConfigValueError, configTypeId, parseConfigValue, renderConfigValue } from './config-def.ts';
import { TOPIC_CONFIG_TABLE } from './topic-config-defs.ts';
import type { TopicConfigName, TopicConfigValues } from './topic-config-defs.ts';

export type { TopicConfigName, TopicConfigValues } from './topic-config-defs.ts';

export interface TopicConfigDef extends ConfigDef {
  readonly name: TopicConfigName;
  /** Broker configs supplying the default, in Kafka's order. */
  readonly synonyms: readonly BrokerConfigName[];
}

export const TOPIC_CONFIG_DEFS: ReadonlyMap<TopicConfigName, TopicConfigDef> = new Map(
  Object.entries(TOPIC_CONFIG_TABLE).map(([name, d]) => [name as TopicConfigName, { ...d, name } as TopicConfigDef]),
);

/** One problem with a topic config, worded as Kafka words INVALID_CONFIG (error code 40) messages. */
export interface TopicConfigProblem {
  name: string;
  message: string;
}

/** Dynamic broker configs from the metadata image: this broker's own and the cluster-wide default. */
export interface DynamicBrokerConfigs {
  perBroker?: Readonly<Record<string, string>>;
  clusterDefault?: Readonly<Record<string, string>>;
}

export interface DescribedSynonym {
  name: string;
  value: string | null;
  source: ConfigSourceId;
}

/** One DescribeConfigs result entry. */
export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: ConfigSourceId;
  isSensitive: boolean;
  synonyms: DescribedSynonym[];
  /** DescribeConfigs v3+ ConfigType id. */
  configType: number;
  documentation: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * Validates topic config overrides (CreateTopics, AlterConfigs). `broker` supplies the defaults for
 * cross-field checks; without it Kafka's defaults are used. An empty result means valid.
 */
export function validateTopicConfigs(
  configs: Readonly<Record<string, string | null>>,
  broker?: BrokerConfig,
  dynamic: DynamicBrokerConfigs = {},
): TopicConfigProblem[] {
  const problems: TopicConfigProblem[] = [];
  const parsed = new Map<TopicConfigName, ConfigValue>();
  for (const [name, raw] of Object.entries(configs)) {
    const d = TOPIC_CONFIG_DEFS.get(name as TopicConfigName);
    if (d === undefined) {
      problems.push({ name, message: `Unknown topic config name: ${name}` });
    } else if (raw === null) {
      problems.push({ name, message: `Null value not supported for topic configs: ${name}` });
    } else {
      try {
        parsed.set(d.name, parseConfigValue(d, raw));
      } catch (e) {
        if (!(e instanceof ConfigValueError)) throw e;
        problems.push({ name, message: e.message });
      }
    }
  }
  if (problems.length > 0) return problems;
  const value = <K extends TopicConfigName>(k: K): TopicConfigValues[K] =>
    (parsed.has(k) ? parsed.get(k) : broker ? resolveFromBroker(TOPIC_CONFIG_DEFS.get(k)!, broker, dynamic) : TOPIC_CONFIG_DEFS.get(k)!.default) as TopicConfigValues[K];
  const minLag = value('min.compaction.lag.ms');
  const maxLag = value('max.compaction.lag.ms');
  if (minLag > maxLag) {
    const name = parsed.has('min.compaction.lag.ms') ? 'min.compaction.lag.ms' : 'max.compaction.lag.ms';
    problems.push({ name, message: `conflict topic config setting min.compaction.lag.ms (${renderConfigValue('long', minLag)}) > max.compaction.lag.ms (${renderConfigValue('long', maxLag)})` });
  }
  if (parsed.get('remote.storage.enable') === true) {
    problems.push({ name: 'remote.storage.enable', message: 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.' });
  }
  return problems;
}

function brokerLayers(broker: BrokerConfig, dynamic: DynamicBrokerConfigs): Record<string, string> {
  return { ...broker.originals, ...(dynamic.clusterDefault ?? {}), ...(dynamic.perBroker ?? {}) };
}

/** The typed value of a broker config over the merged layers, null when unset and default null. */
function brokerValue(name: BrokerConfigName, broker: BrokerConfig, merged: Readonly<Record<string, string>>): ConfigValue {
  if (!Object.hasOwn(merged, name)) return BROKER_CONFIG_DEFS.get(name)!.default;
  if (merged[name] === broker.originals[name]) return broker.get(name);
  return parseConfigValue(BROKER_CONFIG_DEFS.get(name)!, merged[name]!);
}

/** A topic config's value when the topic does not override it, as KafkaConfig resolves it. */
function resolveFromBroker(d: TopicConfigDef, broker: BrokerConfig, dynamic: DynamicBrokerConfigs): ConfigValue {
  if (d.synonyms.length === 0) return d.default;
  const merged = brokerLayers(broker, dynamic);
  const v = (n: BrokerConfigName): ConfigValue => brokerValue(n, broker, merged);
  switch (d.name) {
    case 'retention.ms': {
      const ms = (v('log.retention.ms') as number | null) ??
        (v('log.retention.minutes') !== null ? (v('log.retention.minutes') as number) * MINUTE_MS : (v('log.retention.hours') as number) * HOUR_MS);
      return ms < 0 ? -1 : ms;
    }
    case 'segment.ms':
      return (v('log.roll.ms') as number | null) ?? (v('log.roll.hours') as number) * HOUR_MS;
    case 'segment.jitter.ms':
      return (v('log.roll.jitter.ms') as number | null) ?? (v('log.roll.jitter.hours') as number) * HOUR_MS;
    case 'flush.ms':
      return (v('log.flush.interval.ms') as number | null) ?? (v('log.flush.scheduler.interval.ms') as number);
    default:
      return v(d.synonyms[0]!);
  }
}

/** Kafka's brokerConfigSynonyms: the broker keys that stand for the same setting, winner first. */
export function brokerConfigSynonyms(name: string): BrokerConfigName[] {
  switch (name) {
    case 'log.roll.ms':
    case 'log.roll.hours':
      return ['log.roll.ms', 'log.roll.hours'];
    case 'log.roll.jitter.ms':
    case 'log.roll.jitter.hours':
      return ['log.roll.jitter.ms', 'log.roll.jitter.hours'];
    case 'log.flush.interval.ms':
      return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'];
    case 'log.retention.ms':
    case 'log.retention.minutes':
    case 'log.retention.hours':
      return ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];
    default:
      return [name as BrokerConfigName];
  }
}

/**
 * Synonyms found in each layer, layer by layer (per-broker, default, static, Kafka default), from
 * the first one named `name` on, as Kafka's ConfigHelper lists them (so a topic's retention.ms
 * shows no synonyms while only log.retention.hours is set).
 */
function configSynonyms(name: BrokerConfigName, names: readonly BrokerConfigName[], broker: BrokerConfig, dynamic: DynamicBrokerConfigs, sensitive: boolean): DescribedSynonym[] {
  const out: DescribedSynonym[] = [];
  const layers: [Readonly<Record<string, string>> | ((n: BrokerConfigName) => string | null), ConfigSourceId][] = [
    [dynamic.perBroker ?? {}, ConfigSource.DYNAMIC_BROKER_CONFIG],
    [dynamic.clusterDefault ?? {}, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
    [broker.originals, ConfigSource.STATIC_BROKER_CONFIG],
    [(n) => { const d = BROKER_CONFIG_DEFS.get(n)!; return renderConfigValue(d.type, d.default); }, ConfigSource.DEFAULT_CONFIG],
  ];
  for (const [layer, source] of layers) {
    for (const n of names) {
      const value = typeof layer === 'function' ? layer(n) : Object.hasOwn(layer, n) ? layer[n]! : null;
      if (value !== null) out.push({ name: n, value: sensitive ? null : value, source });
    }
  }
  const first = out.findIndex((s) => s.name === name);
  return first < 0 ? [] : out.slice(first);
}

/** A topic's effective configuration: typed values, and DescribeConfigs entries in name order. */
export class EffectiveTopicConfig {
  private readonly values: ReadonlyMap<TopicConfigName, ConfigValue>;
  readonly entries: readonly DescribedConfig[];
  constructor(values: ReadonlyMap<TopicConfigName, ConfigValue>, entries: readonly DescribedConfig[]) {
    this.values = values;
    this.entries = entries;
  }

  get<K extends TopicConfigName>(name: K): TopicConfigValues[K] {
    return this.values.get(name) as TopicConfigValues[K];
  }

  entry(name: TopicConfigName): DescribedConfig {
    return this.entries.find((e) => e.name === name)!;
  }

  /** Every config as Kafka renders it (null for unset nullable ones). */
  toStrings(): Record<TopicConfigName, string | null> {
    const out = {} as Record<TopicConfigName, string | null>;
    for (const e of this.entries) out[e.name as TopicConfigName] = e.value;
    return out;
  }
}

/**
 * Resolves a topic's config. `topicOverrides` must already be valid (validateTopicConfigs);
 * an invalid one throws ConfigValueError.
 */
export function effectiveTopicConfig(
  topicOverrides: Readonly<Record<string, string>>,
  broker: BrokerConfig,
  dynamic: DynamicBrokerConfigs = {},
): EffectiveTopicConfig {
  const values = new Map<TopicConfigName, ConfigValue>();
  const entries: DescribedConfig[] = [];
  for (const d of TOPIC_CONFIG_DEFS.values()) {
    const overridden = Object.hasOwn(topicOverrides, d.name);
    const value = overridden ? parseConfigValue(d, topicOverrides[d.name]!) : resolveFromBroker(d, broker, dynamic);
    values.set(d.name, value);
    const sensitive = d.type === 'password';
    const rendered = sensitive ? null : renderConfigValue(d.type, value);
    const synonyms = d.synonyms.length === 0 ? [] : configSynonyms(d.synonyms[0]!, brokerConfigSynonyms(d.synonyms[0]!), broker, dynamic, sensitive);
    if (overridden) synonyms.unshift({ name: d.name, value: rendered, source: ConfigSource.TOPIC_CONFIG });
    entries.push({
      name: d.name,
      value: rendered,
      readOnly: false,
      configSource: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      isSensitive: sensitive,
      synonyms,
      configType: configTypeId(d.type),
      documentation: d.doc,
    });
  }
  return new EffectiveTopicConfig(values, entries);
}

/**
 * DescribeConfigs entries for a BROKER resource: `perBroker` for a broker id (every layer), false
 * for the cluster default resource (only dynamic defaults are listed as synonyms, as in Kafka).
 */
export function describeBrokerConfigs(broker: BrokerConfig, dynamic: DynamicBrokerConfigs = {}, perBroker = true): DescribedConfig[] {
  const merged = brokerLayers(broker, perBroker ? dynamic : { clusterDefault: dynamic.clusterDefault });
  const out: DescribedConfig[] = [];
  for (const d of BROKER_CONFIG_DEFS.values()) {
    const sensitive = d.type === 'password';
    const value = brokerValue(d.name, broker, merged);
    let synonyms = configSynonyms(d.name, brokerConfigSynonyms(d.name), broker, dynamic, sensitive);
    if (!perBroker) synonyms = synonyms.filter((s) => s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
    out.push({
      name: d.name,
      value: sensitive ? null : renderConfigValue(d.type, value),
      readOnly: d.dynamic === 'read-only',
      configSource: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      isSensitive: sensitive,
      synonyms,
      configType: configTypeId(d.type),
      documentation: d.doc,
    });
  }
  return out;
}
