// TLS settings of one listener, from Kafka's ssl.* configs, as Node's tls options.
// Key stores: PEM (ssl.keystore.certificate.chain + ssl.keystore.key inline, or a PEM file at
// ssl.keystore.location holding both; ssl.key.password decrypts an encrypted key) and PKCS12
// (ssl.keystore.location + ssl.keystore.password). Trust stores: PEM (ssl.truststore.certificates
// inline or a file) and PKCS12 (its certificates, read with the openssl tool since Node reads
// PKCS12 only as a key store). JKS is Java's own format and is refused with a hint.
// ssl.enabled.protocols bound the TLS versions; ssl.cipher.suites take Kafka's (IANA) names or
// OpenSSL's. ssl.client.auth: none, requested (a presented certificate must verify) or required.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { SecureContextOptions, SecureVersion, TlsOptions } from 'node:tls';
import type { ListenerValue } from './listener-config.ts';

export class TlsConfigError extends Error {
  readonly code = 'INVALID_TLS_CONFIG';
}

export type ClientAuth = 'none' | 'requested' | 'required';

export interface TlsServerSettings {
  /** What tls.createServer / setSecureContext take. */
  options: TlsOptions;
  clientAuth: ClientAuth;
}

const VERSIONS: Record<string, SecureVersion> = { TLSv1: 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3' };
const ORDER: SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function readText(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TlsConfigError(`Cannot read ${key}=${path}: ${(err as Error).message}`);
  }
}

function readBinary(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`Cannot read ${key}=${path}: ${(err as Error).message}`);
  }
}

const JKS_HINT = 'JKS is not supported; convert it with `keytool -importkeystore -deststoretype PKCS12` or use PEM';

export function keyStoreOptions(get: ListenerValue): SecureContextOptions {
  const type = get('ssl.keystore.type').toUpperCase();
  const location = get('ssl.keystore.location');
  const chain = get('ssl.keystore.certificate.chain');
  const key = get('ssl.keystore.key');
  const keyPassword = get('ssl.key.password') ?? undefined;
  if (chain !== null || key !== null) {
    if (type !== 'PEM') throw new TlsConfigError(`ssl.keystore.certificate.chain and ssl.keystore.key need ssl.keystore.type=PEM (found ${type})`);
    if (chain === null || key === null) throw new TlsConfigError('ssl.keystore.certificate.chain and ssl.keystore.key must both be set');
    if (location !== null) throw new TlsConfigError('ssl.keystore.location must not be set with ssl.keystore.certificate.chain and ssl.keystore.key');
    return { cert: chain, key, passphrase: keyPassword };
  }
  if (location === null) throw new TlsConfigError('A TLS listener needs a key store: set ssl.keystore.location (PKCS12 or PEM) or ssl.keystore.certificate.chain and ssl.keystore.key');
  if (type === 'PEM') {
    const pem = readText('ssl.keystore.location', location);
    return { cert: pem, key: pem, passphrase: keyPassword };
  }
  if (type === 'PKCS12') return { pfx: readBinary('ssl.keystore.location', location), passphrase: get('ssl.keystore.password') ?? keyPassword };
  if (type === 'JKS') throw new TlsConfigError(`ssl.keystore.type ${JKS_HINT}`);
  throw new TlsConfigError(`Unsupported ssl.keystore.type ${type}: PEM or PKCS12`);
}

/** The CA certificates of the trust store, or undefined for Node's default roots. */
export function trustStoreCertificates(get: ListenerValue): string | undefined {
  const type = get('ssl.truststore.type').toUpperCase();
  const location = get('ssl.truststore.location');
  const certificates = get('ssl.truststore.certificates');
  if (certificates !== null) {
    if (type !== 'PEM') throw new TlsConfigError(`ssl.truststore.certificates needs ssl.truststore.type=PEM (found ${type})`);
    return certificates;
  }
  if (location === null) return undefined;
  if (type === 'PEM') return readText('ssl.truststore.location', location);
  if (type === 'PKCS12') {
    try {
      return execFileSync('openssl', ['pkcs12', '-in', location, '-nokeys', '-passin', 'env:SAMSA_TRUSTSTORE_PASSWORD'], {
        env: { ...process.env, SAMSA_TRUSTSTORE_PASSWORD: get('ssl.truststore.password') ?? '' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      throw new TlsConfigError(`Cannot read the PKCS12 trust store ${location} (with the openssl tool): ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (type === 'JKS') throw new TlsConfigError(`ssl.truststore.type ${JKS_HINT}`);
  throw new TlsConfigError(`Unsupported ssl.truststore.type ${type}: PEM or PKCS12`);
}

/** Kafka's IANA cipher suite names as OpenSSL names (TLS 1.3 suites are spelt alike). */
export function opensslCipherName(name: string): string {
  if (!name.startsWith('TLS_') || /^TLS_(AES|CHACHA20)_/.test(name)) return name;
  const m = /^TLS_(.+?)_WITH_(.+)$/.exec(name);
  if (!m) return name;
  const kx = m[1] === 'RSA' ? '' : `${m[1]!.replace(/_/g, '-')}-`;
  const cipher = m[2]!
    .replace(/^AES_(\d+)_/, 'AES$1-')
    .replace(/^CHACHA20_POLY1305_SHA256$/, 'CHACHA20-POLY1305')
    .replace(/-CBC_SHA$/, '-SHA')
    .replace(/-CBC_SHA(\d+)$/, '-SHA$1')
    .replace(/_/g, '-');
  return `${kx}${cipher}`;
}

export function protocolRange(enabled: readonly string[]): { minVersion: SecureVersion; maxVersion: SecureVersion } {
  const versions = enabled.map((p) => {
    const v = VERSIONS[p];
    if (!v) throw new TlsConfigError(`Unsupported TLS protocol ${p} in ssl.enabled.protocols (one of ${Object.keys(VERSIONS).join(', ')})`);
    return v;
  });
  if (versions.length === 0) throw new TlsConfigError('ssl.enabled.protocols is empty');
  versions.sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  return { minVersion: versions[0]!, maxVersion: versions[versions.length - 1]! };
}

/**
 * The server settings of a TLS listener. `clientAuthDefault` is false for SASL_SSL listeners:
 * as in Kafka, only a listener-prefixed ssl.client.auth applies to them.
 */
export function tlsServerSettings(get: ListenerValue, listenerPrefixedClientAuth: string | undefined, saslListener: boolean): TlsServerSettings {
  const clientAuth = (saslListener ? (listenerPrefixedClientAuth ?? 'none') : get('ssl.client.auth')) as ClientAuth;
  const ca = trustStoreCertificates(get);
  const ciphers = get('ssl.cipher.suites');
  const options: TlsOptions = {
    ...keyStoreOptions(get),
    ...protocolRange(get('ssl.enabled.protocols')),
    ...(ca !== undefined ? { ca } : {}),
    ...(ciphers.length > 0 ? { ciphers: ciphers.map(opensslCipherName).join(':') } : {}),
    requestCert: clientAuth !== 'none',
    // The server checks the outcome itself (SocketServer): Node would drop a refused client
    // silently, and a refusal deserves its log line.
    rejectUnauthorized: false,
  };
  return { options, clientAuth };
}
