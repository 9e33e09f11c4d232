// How `samsa acls` reaches a secured broker, as kafka-acls.sh does from --command-config:
// security.protocol PLAINTEXT or SASL_PLAINTEXT/SASL_SSL with sasl.mechanism=PLAIN and the
// credentials of sasl.jaas.config (PlainLoginModule username="..." password="..."); for SASL_SSL
// and SSL, ssl.truststore.location names a PEM file of trusted certificates (else the system's).
// SCRAM and OAUTHBEARER on the client side are not built yet and are refused with a clear message.
import { existsSync, readFileSync } from 'node:fs';
import { parseHostPort } from '../../protocol/client/client.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { parseProperties } from '../../storage/java-properties.ts';
import { CliError } from './command-io.ts';

export interface ClientSecurity {
  protocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
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
    if (mechanism !== 'PLAIN') throw new CliError(`sasl.mechanism=${mechanism} is not supported by this tool yet; use PLAIN`);
    const jaas = props['sasl.jaas.config'] ?? '';
    const field = (name: string): string | undefined => new RegExp(`${name}\\s*=\\s*"([^"]*)"`).exec(jaas)?.[1];
    const username = field('username');
    const password = field('password');
    if (username === undefined || password === undefined) throw new CliError('sasl.jaas.config must give username="..." and password="..."');
    out.username = username;
    out.password = password;
  }
  return out;
}

/** SaslHandshake then SaslAuthenticate with PLAIN (RFC 4616: authzid NUL authcid NUL password). */
async function authenticatePlain(conn: KafkaConnection, username: string, password: string): Promise<void> {
  const hs = await conn.send(ApiKey.SaslHandshake, { mechanism: 'PLAIN' });
  if (hs.errorCode !== ErrorCode.NONE) throw new KafkaError(hs.errorCode as ErrorCode, `SASL mechanism PLAIN not enabled; the broker offers ${hs.mechanisms.join(', ')}`);
  const r = await conn.send(ApiKey.SaslAuthenticate, { authBytes: Buffer.from(`\0${username}\0${password}`, 'utf8') });
  if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode as ErrorCode, r.errorMessage ?? 'Authentication failed');
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
        ...(security.protocol.startsWith('SASL_') && { authenticate: (c: KafkaConnection) => authenticatePlain(c, security.username!, security.password!) }),
      });
    } catch (e) {
      if (e instanceof CliError) throw e;
      last = e;
    }
  }
  throw last;
}
