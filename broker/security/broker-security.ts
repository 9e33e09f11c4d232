// The broker's side of listener security: each listener's settings with SCRAM credentials read
// from the published metadata image (UserScramCredentialRecord), so users added or removed through
// the controller take effect on the next authentication.
import { type MetadataImage, scramCredentialKey } from '../../controller/metadata/image.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { Listener } from '../config/listeners.ts';
import { listenerSecurity, type ListenerSecurity } from './listener-security.ts';
import { scramMechanism } from './scram.ts';

export function brokerListenerSecurity(config: BrokerConfig, listener: Listener, metadata: { readonly image: MetadataImage }): ListenerSecurity | undefined {
  if (listener.securityProtocol === 'PLAINTEXT') return undefined;
  return listenerSecurity(config, listener, {
    scramCredential: (mechanism, user) => {
      const m = scramMechanism(mechanism);
      return m && metadata.image.scramCredentials?.get(scramCredentialKey(m.type, user));
    },
    now: () => Date.now(),
  });
}
