// The fuzz broker's secured listeners: SASL_PLAINTEXT and SASL_SSL (SCRAM-SHA-512, SCRAM-SHA-256,
// PLAIN and OAUTHBEARER with unsecured tokens) and SSL with ssl.client.auth=requested, beside the
// PLAINTEXT listener the other lanes use. Certificates are made at run time with the openssl tool
// (conformance/security/certs.ts); a run without the tool leaves the secured lanes out and says so.
// The SCRAM user is created over PLAINTEXT with AlterUserScramCredentials, as an operator would.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { saltedPassword, SCRAM_MECHANISMS } from '../../broker/security/scram.ts';
import { freePort } from '../harness/ports.ts';
import { makeTestPki, opensslAvailable, type TestPki } from '../security/certs.ts';
import type { SecureEndpoints } from './context.ts';
import { Wire } from './wire.ts';

export const SCRAM_USER = { username: 'fz-scram', password: 'fz-scram-secret' };
export const PLAIN_USER = { username: 'fz-plain', password: 'fz-plain-secret' };
/** A second PLAIN user: re-authenticating as them must be refused (a principal cannot change). */
export const OTHER_PLAIN_USER = { username: 'fz-plain2', password: 'fz-plain2-secret' };
/** Iterations of the SCRAM credentials: Kafka's minimum, so logins stay cheap on a busy machine. */
export const SCRAM_ITERATIONS = 4096;
/** connections.max.reauth.ms of the fuzz broker: sessions get a lifetime, the health client renews. */
export const FUZZ_REAUTH_MS = 20_000;

/** The run's certificates: a CA, the broker's, a trusted client's, and an untrusted self-signed one. */
export interface FuzzPki {
  pki: TestPki;
  client: { cert: string; key: string };
  untrusted: { cert: string; key: string };
}

/** The certificates, or null (with the reason) when the openssl tool is missing. */
export async function makeFuzzPki(): Promise<FuzzPki | string> {
  if (!opensslAvailable()) return 'the openssl tool is not installed';
  const pki = await makeTestPki();
  const client = await pki.client('fz-client', '/CN=fz-client');
  // Self-signed, so no CA of the broker's trust store vouches for it.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'untrusted.key', '-out', 'untrusted.crt', '-days', '2', '-subj', '/CN=fz-untrusted'], { cwd: pki.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    pki,
    client: { cert: client.cert, key: client.key },
    untrusted: { cert: readFileSync(join(pki.dir, 'untrusted.crt'), 'utf8'), key: readFileSync(join(pki.dir, 'untrusted.key'), 'utf8') },
  };
}

export interface SecurePorts {
  plaintext: number;
  controller: number;
  sasl: number;
  saslSsl: number;
  ssl: number;
}

export async function securePorts(): Promise<SecurePorts> {
  return { plaintext: await freePort(), controller: await freePort(), sasl: await freePort(), saslSsl: await freePort(), ssl: await freePort() };
}

/** Broker overrides for the five listeners. */
export function secureOverrides(p: SecurePorts, certs: FuzzPki): Record<string, string> {
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${PLAIN_USER.username}="${PLAIN_USER.password}" user_${OTHER_PLAIN_USER.username}="${OTHER_PLAIN_USER.password}";`;
  return {
    'listeners': `PLAINTEXT://127.0.0.1:${p.plaintext},SSL://127.0.0.1:${p.ssl},SASL_SSL://127.0.0.1:${p.saslSsl},SASL_PLAINTEXT://127.0.0.1:${p.sasl},CONTROLLER://127.0.0.1:${p.controller}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${p.plaintext},SSL://127.0.0.1:${p.ssl},SASL_SSL://127.0.0.1:${p.saslSsl},SASL_PLAINTEXT://127.0.0.1:${p.sasl}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.name.ssl.ssl.keystore.type': 'PEM',
    'listener.name.ssl.ssl.keystore.certificate.chain': certs.pki.server.cert,
    'listener.name.ssl.ssl.keystore.key': certs.pki.server.key,
    'listener.name.ssl.ssl.truststore.type': 'PEM',
    'listener.name.ssl.ssl.truststore.location': certs.pki.caFile,
    'listener.name.ssl.ssl.client.auth': 'requested',
    'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
    'listener.name.sasl_ssl.ssl.keystore.certificate.chain': certs.pki.server.cert,
    'listener.name.sasl_ssl.ssl.keystore.key': certs.pki.server.key,
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256,PLAIN,OAUTHBEARER',
    'listener.name.sasl_ssl.plain.sasl.jaas.config': jaas,
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas,
    'connections.max.reauth.ms': String(FUZZ_REAUTH_MS),
  };
}

/** Gives SCRAM_USER credentials for both SCRAM mechanisms, through the PLAINTEXT listener. */
export async function createScramUser(port: number): Promise<void> {
  const w = await Wire.open(port);
  try {
    const upsertions = SCRAM_MECHANISMS.map((m) => {
      const salt = Buffer.from(`fz-salt-${m.name}`);
      return { name: SCRAM_USER.username, mechanism: m.type, iterations: SCRAM_ITERATIONS, salt, saltedPassword: saltedPassword(m, SCRAM_USER.password, salt, SCRAM_ITERATIONS) };
    });
    const r = await w.request(ApiKey.AlterUserScramCredentials, 0, { deletions: [], upsertions }, { timeoutMs: 15_000 });
    const bad = r?.results.find((x) => x.errorCode !== ErrorCode.NONE);
    if (!r || bad) throw new Error(`creating the SCRAM user failed: ${bad ? `error ${bad.errorCode} ${bad.errorMessage ?? ''}` : 'no answer'}`);
  } finally {
    w.destroy();
  }
}

export function secureEndpoints(p: SecurePorts, certs: FuzzPki): SecureEndpoints {
  return {
    saslPlaintextPort: p.sasl,
    saslSslPort: p.saslSsl,
    sslPort: p.ssl,
    tls: { ca: certs.pki.caCert, servername: 'localhost' },
    clientCert: certs.client,
    untrustedCert: certs.untrusted,
    scramUser: SCRAM_USER,
    plainUser: PLAIN_USER,
    otherPlainUser: OTHER_PLAIN_USER,
  };
}
