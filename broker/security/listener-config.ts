// Per-listener security settings, resolved as Kafka resolves them: `listener.name.<l>.<config>`
// (and, for SASL, `listener.name.<l>.<mechanism>.<config>`) wins over the plain `<config>`.
// Values were validated when the configuration was parsed; here they are typed again.
import type { BrokerConfig, BrokerConfigName, BrokerConfigValues } from '../config/broker-config.ts';
import { BROKER_CONFIG_DEFS } from '../config/broker-config.ts';
import { parseConfigValue } from '../config/config-def.ts';
import { listenerOverrideKey } from '../config/listeners.ts';

export type ListenerValue = <K extends BrokerConfigName>(name: K, mechanism?: string) => BrokerConfigValues[K];

/**
 * Looks a setting up for one listener. `dynamic` holds per-broker dynamic configs (from the
 * metadata image), which win over the static ones, as in Kafka.
 */
export function listenerValues(config: BrokerConfig, listener: string, dynamic: ReadonlyMap<string, string> = new Map()): ListenerValue {
  return <K extends BrokerConfigName>(name: K, mechanism?: string): BrokerConfigValues[K] => {
    const keys = [...(mechanism ? [listenerOverrideKey(listener, name, mechanism)] : []), listenerOverrideKey(listener, name)];
    for (const source of [dynamic, config.originals]) {
      for (const key of keys) {
        const raw = source instanceof Map ? source.get(key) : (source as Record<string, string>)[key];
        if (raw !== undefined) return parseConfigValue({ ...BROKER_CONFIG_DEFS.get(name)!, name: key }, raw) as BrokerConfigValues[K];
      }
    }
    const raw = dynamic.get(name);
    if (raw !== undefined) return parseConfigValue({ ...BROKER_CONFIG_DEFS.get(name)!, name }, raw) as BrokerConfigValues[K];
    return config.get(name);
  };
}
