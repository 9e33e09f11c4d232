// Dynamic broker configs taking effect: broker-level topic defaults (log.retention.ms,
// log.segment.bytes, log.cleanup.policy, ...) resolve from server.properties overlaid with the
// cluster-wide dynamic defaults and then this node's own dynamic configs (Kafka's precedence, see
// broker/config/topic-log-config.ts); topic overrides still win over them.
import type { Logger } from 'pino';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { dynamicBrokerConfigs } from '../handlers/config-resources.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import type { MetadataPublisher } from './metadata-publisher.ts';

/**
 * Keeps every open log's config in line with the broker-level dynamic configs of the published
 * images from now on (and with the current one at once): when this node's or the cluster-wide
 * dynamic broker configs change, each hosted log's config is resolved again.
 */
export function followDynamicBrokerConfigs(publisher: MetadataPublisher, replicaManager: ReplicaManager, config: BrokerConfig, logger: Logger): void {
  let applied = JSON.stringify(dynamicBrokerConfigs(publisher.image, config.nodeId));
  const apply = (image: MetadataImage): void => {
    const key = JSON.stringify(dynamicBrokerConfigs(image, config.nodeId));
    if (key === applied) return;
    applied = key;
    try {
      replicaManager.refreshLogConfigs(image);
    } catch (err) {
      // Values were validated before commit; a bad one here is a broker fault, not a client's.
      logger.error({ err, offset: String(image.offset) }, 'dynamic broker configs could not be applied to the open logs');
      return;
    }
    logger.info({ offset: String(image.offset) }, 'applied new broker-level configs to the open logs');
  };
  publisher.onPublish(apply);
}
