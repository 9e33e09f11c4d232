// The broker's side of listener security: each listener's settings with SCRAM credentials read
// from the published metadata image (UserScramCredentialRecord), so users added or removed through
// the controller take effect on the next authentication; and TLS key and trust stores that follow
// dynamic broker configs (listener.name.<l>.ssl.keystore.* and the like, set per broker or as the
// cluster default with AlterConfigs/IncrementalAlterConfigs): new connections get the new
// certificate, open ones keep theirs. A store that cannot be loaded is logged and the old one kept.
import type { Logger } from 'pino';
import { type MetadataImage, scramCredentialKey } from '../../controller/metadata/image.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { Listener } from '../config/listeners.ts';
import { dynamicBrokerConfigs } from '../handlers/config-resources.ts';
import type { SocketServer } from '../server.ts';
import { listenerSecurity, type ListenerSecurity } from './listener-security.ts';
import { scramMechanism } from './scram.ts';

/** This node's dynamic broker configs over the cluster-wide ones (Kafka's precedence). */
export function dynamicSecurityConfigs(image: MetadataImage, nodeId: number): Map<string, string> {
  const d = dynamicBrokerConfigs(image, nodeId);
  return new Map(Object.entries({ ...d.clusterDefault, ...d.perBroker }).filter(([k]) => k.startsWith('ssl.') || k.startsWith('listener.name.')));
}

function deps(metadata: { readonly image: MetadataImage }, dynamic: ReadonlyMap<string, string>) {
  return {
    scramCredential: (mechanism: string, user: string) => {
      const m = scramMechanism(mechanism);
      return m && metadata.image.scramCredentials?.get(scramCredentialKey(m.type, user));
    },
    now: () => Date.now(),
    dynamic,
  };
}

export function brokerListenerSecurity(config: BrokerConfig, listener: Listener, metadata: { readonly image: MetadataImage }): ListenerSecurity | undefined {
  if (listener.securityProtocol === 'PLAINTEXT') return undefined;
  return listenerSecurity(config, listener, deps(metadata, dynamicSecurityConfigs(metadata.image, config.nodeId)));
}

/** Reloads the TLS stores of TLS listeners whenever the dynamic configs that shape them change. */
export function followDynamicTls(
  metadata: { readonly image: MetadataImage; onPublish(listener: (image: MetadataImage) => void): void },
  server: SocketServer,
  config: BrokerConfig,
  logger: Logger,
): void {
  const tlsListeners = config.listeners.filter((l) => l.securityProtocol === 'SSL' || l.securityProtocol === 'SASL_SSL');
  if (tlsListeners.length === 0) return;
  const relevant = (dynamic: ReadonlyMap<string, string>, l: Listener): string => {
    const prefix = `listener.name.${l.name.toLowerCase()}.`;
    return JSON.stringify([...dynamic].filter(([k]) => k.startsWith('ssl.') || k.startsWith(prefix)).sort());
  };
  const applied = new Map(tlsListeners.map((l) => [l.name, relevant(dynamicSecurityConfigs(metadata.image, config.nodeId), l)]));
  metadata.onPublish((image) => {
    const dynamic = dynamicSecurityConfigs(image, config.nodeId);
    for (const l of tlsListeners) {
      const key = relevant(dynamic, l);
      if (applied.get(l.name) === key) continue;
      applied.set(l.name, key);
      try {
        const security = listenerSecurity(config, l, deps(metadata, dynamic));
        server.setSecureContext(l.name, security.tls!.options);
        logger.info({ listener: l.name, offset: String(image.offset) }, 'reloaded TLS key and trust stores from dynamic broker configs');
      } catch (err) {
        logger.error({ err, listener: l.name }, 'dynamic TLS settings could not be loaded; the listener keeps its current certificate');
      }
    }
  });
}
