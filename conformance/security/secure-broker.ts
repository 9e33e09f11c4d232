// A broker process with every kind of listener, for the security suites: PLAINTEXT (for setup),
// SSL with ssl.client.auth=required (PKCS12 key store, PEM trust store), SASL_SSL (inline PEM key
// store; PLAIN, SCRAM-SHA-512/256 and OAUTHBEARER with unsecured tokens), SASL_PLAINTEXT (the
// same mechanisms), and CONTROLLER.
import { BrokerProcess, freePort } from '../harness/broker-process.ts';
import { PKCS12_PASSWORD, type TestPki } from './certs.ts';

export const ADMIN = { username: 'admin', password: 'admin-secret' };
export const PLAIN_USER = { username: 'alice', password: 'alice-secret' };

export interface SecureBroker {
  broker: BrokerProcess;
  plaintext: string;
  ssl: string;
  saslSsl: string;
  saslPlaintext: string;
}

export async function startSecureBroker(pki: TestPki, overrides: Record<string, string> = {}): Promise<SecureBroker> {
  const [plain, ssl, saslSsl, saslPlain, controller] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="${ADMIN.username}" password="${ADMIN.password}" user_${ADMIN.username}="${ADMIN.password}" user_${PLAIN_USER.username}="${PLAIN_USER.password}";`;
  const broker = await BrokerProcess.start({
    port: plain,
    controllerPort: controller,
    overrides: {
      'listeners': `PLAINTEXT://127.0.0.1:${plain},SSL://127.0.0.1:${ssl},SASL_SSL://127.0.0.1:${saslSsl},SASL_PLAINTEXT://127.0.0.1:${saslPlain},CONTROLLER://127.0.0.1:${controller}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${plain},SSL://127.0.0.1:${ssl},SASL_SSL://127.0.0.1:${saslSsl},SASL_PLAINTEXT://127.0.0.1:${saslPlain}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.name.ssl.ssl.keystore.type': 'PKCS12',
      'listener.name.ssl.ssl.keystore.location': pki.server.p12File,
      'listener.name.ssl.ssl.keystore.password': PKCS12_PASSWORD,
      'listener.name.ssl.ssl.truststore.type': 'PEM',
      'listener.name.ssl.ssl.truststore.location': pki.caFile,
      'listener.name.ssl.ssl.client.auth': 'required',
      'listener.name.ssl.ssl.principal.mapping.rules': 'RULE:^CN=([^,]*),.*$/$1/L,DEFAULT',
      'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
      'listener.name.sasl_ssl.ssl.keystore.certificate.chain': pki.server.cert,
      'listener.name.sasl_ssl.ssl.keystore.key': pki.server.key,
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256,PLAIN,OAUTHBEARER',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': jaas,
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas,
      ...overrides,
    },
  });
  return { broker, plaintext: `127.0.0.1:${plain}`, ssl: `127.0.0.1:${ssl}`, saslSsl: `127.0.0.1:${saslSsl}`, saslPlaintext: `127.0.0.1:${saslPlain}` };
}
