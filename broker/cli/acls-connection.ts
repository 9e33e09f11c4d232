// How `samsa acls` reaches a secured broker, as kafka-acls.sh does from --command-config:
// security.protocol PLAINTEXT or SASL_PLAINTEXT/SASL_SSL with sasl.mechanism PLAIN, SCRAM-SHA-256
// or SCRAM-SHA-512 and the username and password of sasl.jaas.config; for SASL_SSL and SSL,
// ssl.truststore.location names a PEM file of trusted certificates (else the system's).
// OAUTHBEARER on the client side is not built yet and is refused with a clear message.
import { existsSync, readFileSync } from 'node:fs';
import { parseHostPort } from '../../protocol/client/client.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { parseProperties } from '../../storage/java-properties.ts';
import { saslAuthenticate } from '../security/client-security.ts';
import { parseJaasConfig } from '../security/jaas.ts';
import { CliError } from './command-io.ts';

export interface ClientSecurity {
  protocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  /** PLAIN when not given. */
  mechanism?: string;
  username?: string;
  password?: string;
  /** PEM text of the trusted certificates (SSL, SASL_SSL). */
  ca?: string;
}

export function loadCommandConfig(path: string | undefined): Record<string, string> {
  if (path === undefined) return {};
  if (!existsSync(path)) throw new CliError(`Properties file ${path} does not exist.`);
  return parseProperties(readFileSync(path, 'utf8'));
}

/** The client security a set of admin client properties asks for. */
export function securityFromProperties(props: Record<string, string>): ClientSecurity {
  const protocol = (props['security.protocol'] ?? 'PLAINTEXT').toUpperCase();
  if (protocol !== 'PLAINTEXT' && protocol !== 'SSL' && protocol !== 'SASL_PLAINTEXT' && protocol !== 'SASL_SSL') throw new CliError(`Invalid security.protocol ${protocol}`);
  const out: ClientSecurity = { protocol };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const ca = props['ssl.truststore.location'];
    if (ca !== undefined) out.ca = readFileSync(ca, 'utf8');
  }
  if (protocol.startsWith('SASL_')) {
    const mechanism = (props['sasl.mechanism'] ?? 'GSSAPI').toUpperCase();
    if (mechanism !== 'PLAIN' && mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512') throw new CliError(`sasl.mechanism=${mechanism} is not supported by this tool yet; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`);
    let options: ReadonlyMap<string, string>;
    try {
      options = parseJaasConfig(props['sasl.jaas.config'] ?? '').options;
    } catch (e) {
      throw new CliError(`Invalid sasl.jaas.config: ${(e as Error).message}`);
    }
    const username = options.get('username');
    const password = options.get('password');
    if (username === undefined || password === undefined) throw new CliError('sasl.jaas.config must give username="..." and password="..."');
    out.mechanism = mechanism;
    out.username = username;
    out.password = password;
  }
  return out;
}

/** A connection to the first address that accepts one, authenticated as `security` asks. */
export async function connectSecured(addresses: readonly string[], security: ClientSecurity, clientId: string, timeoutMs = 15_000): Promise<KafkaConnection> {
  let last: unknown = new CliError('no bootstrap server');
  for (const address of addresses) {
    const { host, port } = parseHostPort(address);
    try {
      return await KafkaConnection.connect(host, port, {
        clientId,
        connectTimeoutMs: timeoutMs,
        requestTimeoutMs: timeoutMs,
        ...(security.protocol.endsWith('SSL') && { tls: { ...(security.ca !== undefined && { ca: security.ca }) } }),
        ...(security.protocol.startsWith('SASL_') && { authenticate: (c: KafkaConnection) => saslAuthenticate(c, security.mechanism ?? 'PLAIN', security.username!, security.password!) }),
      });
    } catch (e) {
      if (e instanceof CliError) throw e;
      last = e;
    }
  }
  throw last;
}
