// Dynamic broker configs taking effect: on every published image, the broker-level topic defaults
// (log.retention.ms, log.segment.bytes, log.cleanup.policy, ...) are recomputed from
// server.properties overlaid with the cluster-wide dynamic defaults and then this node's own
// dynamic configs (Kafka's precedence), and pushed to every open log when they changed. Topic
// overrides still win over them (ReplicaManager.logConfigFor).
import type { Logger } from 'pino';
import { configKey, ConfigResourceType, type MetadataImage } from '../../controller/metadata/image.ts';
import { logDefaultsFromServerProperties } from '../../storage/log-config.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import type { MetadataPublisher } from './metadata-publisher.ts';

/** server.properties with the dynamic layers of `image` over it. */
export function effectiveBrokerProperties(config: BrokerConfig, image: MetadataImage): Record<string, string> {
  const layer = (name: string) => Object.fromEntries(image.configs.get(configKey(ConfigResourceType.Broker, name)) ?? new Map<string, string>());
  return { ...config.originals, ...layer(''), ...layer(String(config.nodeId)) };
}

/**
 * Keeps the replica manager's broker-level log defaults in line with the published images from
 * now on (and with the current one at once).
 */
export function followDynamicBrokerConfigs(publisher: MetadataPublisher, replicaManager: ReplicaManager, config: BrokerConfig, logger: Logger): void {
  let applied = JSON.stringify(logDefaultsFromServerProperties(config.originals));
  const apply = (image: MetadataImage): void => {
    let defaults;
    try {
      defaults = logDefaultsFromServerProperties(effectiveBrokerProperties(config, image));
    } catch (err) {
      // Values were validated before commit; a bad one here is a broker fault, not a client's.
      logger.error({ err, offset: String(image.offset) }, 'dynamic broker configs could not be applied to the log defaults');
      return;
    }
    const key = JSON.stringify(defaults);
    if (key === applied) return;
    applied = key;
    replicaManager.setBrokerLogDefaults(defaults, image);
    logger.info({ offset: String(image.offset) }, 'applied new broker-level log defaults to the open logs');
  };
  apply(publisher.image);
  publisher.onPublish(apply);
}
