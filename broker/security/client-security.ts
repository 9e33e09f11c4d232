// How this node connects to another node's listener as a client (replica fetchers to the
// inter-broker listener, the controller channel and Raft to controller listeners), as Kafka's
// inter-broker clients do: TLS with the listener's trust store (and its key store as the client
// certificate when it has one; ssl.endpoint.identification.algorithm empty skips the host name
// check), and SASL with the given mechanism and the username/password of the listener's JAAS
// config (listener.name.<l>.<mechanism>.sasl.jaas.config, else sasl.jaas.config).
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import { parseJaasConfig } from './jaas.ts';
import { listenerValues } from './listener-config.ts';
import { plainToken } from './plain.ts';
import { ScramClient, scramMechanism } from './scram.ts';
import { keyStoreOptions, protocolRange, trustStoreCertificates } from './tls.ts';

export interface ClientSecurity {
  tls?: ConnectionOptions;
  authenticate?: (conn: KafkaConnection) => Promise<void>;
}

export class ClientSecurityError extends Error {
  readonly code = 'CLIENT_SECURITY';
}

/** SaslHandshake v1 and SaslAuthenticate with PLAIN or SCRAM; throws when the peer refuses. */
export async function saslAuthenticate(conn: KafkaConnection, mechanism: string, username: string, password: string): Promise<void> {
  const hs = await conn.send(ApiKey.SaslHandshake, { mechanism }, { version: 1 });
  if (hs.errorCode !== ErrorCode.NONE) throw new ClientSecurityError(`SASL mechanism ${mechanism} refused (error ${hs.errorCode}; enabled: ${hs.mechanisms.join(', ')})`);
  const step = async (bytes: Buffer): Promise<Buffer> => {
    const r = await conn.send(ApiKey.SaslAuthenticate, { authBytes: bytes });
    if (r.errorCode !== ErrorCode.NONE) throw new ClientSecurityError(`SASL authentication failed: ${r.errorMessage ?? `error ${r.errorCode}`}`);
    return r.authBytes;
  };
  if (mechanism === 'PLAIN') {
    await step(plainToken(username, password));
    return;
  }
  const m = scramMechanism(mechanism);
  if (!m) throw new ClientSecurityError(`SASL mechanism ${mechanism} is not supported for connections between nodes`);
  const scram = new ScramClient(m, username, password);
  const serverFirst = await step(scram.first());
  scram.verify(await step(scram.final(serverFirst)));
}

/**
 * The client settings for connecting to `listenerName` (as configured on this node), or
 * undefined for a PLAINTEXT listener. `mechanism` is sasl.mechanism.inter.broker.protocol or
 * sasl.mechanism.controller.protocol.
 */
export function clientSecurity(config: BrokerConfig, listenerName: string, mechanism: string): ClientSecurity | undefined {
  const protocol = config.listenerSecurityProtocolMap.get(listenerName) ?? 'PLAINTEXT';
  if (protocol === 'PLAINTEXT') return undefined;
  const get = listenerValues(config, listenerName);
  const out: ClientSecurity = {};
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const ca = trustStoreCertificates(get);
    const hasKeyStore = get('ssl.keystore.location') !== null || get('ssl.keystore.certificate.chain') !== null;
    out.tls = {
      ...(ca !== undefined ? { ca } : {}),
      ...(hasKeyStore ? keyStoreOptions(get) : {}),
      ...protocolRange(get('ssl.enabled.protocols')),
      rejectUnauthorized: true,
      ...(get('ssl.endpoint.identification.algorithm') === '' ? { checkServerIdentity: () => undefined } : {}),
    };
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const jaas = get('sasl.jaas.config', mechanism);
    if (jaas === null) throw new ClientSecurityError(`Listener ${listenerName}: connections between nodes use SASL ${mechanism} but no JAAS config gives its username and password (set listener.name.${listenerName.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config)`);
    const options = parseJaasConfig(jaas).options;
    const username = options.get('username');
    const password = options.get('password');
    if (username === undefined || password === undefined) throw new ClientSecurityError(`Listener ${listenerName}: the ${mechanism} JAAS config needs username and password options for connections between nodes`);
    out.authenticate = (conn) => saslAuthenticate(conn, mechanism, username, password);
  }
  return out;
}
