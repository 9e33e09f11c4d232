// kafkajs over SASL_SSL (SCRAM-SHA-512, PLAIN), SASL_PLAINTEXT and SSL with client certificates
// (ssl.client.auth=required) against a broker process; a wrong password is refused. SCRAM users
// are created with `samsa configs --alter --entity-type users` (AlterUserScramCredentials).
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, opensslAvailable, type TestPki } from './certs.ts';
import { unsecuredToken } from '../../broker/security/oauthbearer.ts';
import { samsa } from './run-process.ts';
import { ADMIN, PLAIN_USER, type SecureBroker, startSecureBroker } from './secure-broker.ts';

const HAVE_OPENSSL = opensslAvailable();
if (!HAVE_OPENSSL) console.warn('conformance/security: openssl not found; skipping the kafkajs security suite');

function client(brokers: string, extra: Partial<KafkaConfig>): Kafka {
  return new Kafka({ clientId: 'security-kafkajs', brokers: [brokers], logLevel: logLevel.NOTHING, connectionTimeout: 5000, requestTimeout: 15_000, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 }, ...extra });
}

async function roundTrip(kafka: Kafka, topic: string, admin = true): Promise<string[]> {
  if (admin) {
    const a = kafka.admin();
    await a.connect();
    await a.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await a.disconnect();
  }
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'one' }, { value: 'two' }, { value: 'three' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-group`, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} records consumed`)), 40_000);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString());
          if (got.length === 3) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return got;
}

async function waitForLog(b: SecureBroker, text: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!b.broker.logs.includes(text)) {
    if (Date.now() > deadline) throw new Error(`the broker never logged "${text}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!HAVE_OPENSSL)('kafkajs security', () => {
  let pki: TestPki;
  let b: SecureBroker;

  beforeAll(async () => {
    pki = await makeTestPki();
    b = await startSecureBroker(pki);
    const r = await samsa(['configs', '--bootstrap-server', b.plaintext, '--alter', '--add-config', 'SCRAM-SHA-512=[iterations=8192,password=scram-secret],SCRAM-SHA-256=[password=scram256-secret]', '--entity-type', 'users', '--entity-name', 'carol']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Completed updating config for user carol.\n');
  }, 120_000);

  it('describes SCRAM users as kafka-configs does', async () => {
    const r = await samsa(['configs', '--bootstrap-server', b.plaintext, '--describe', '--entity-type', 'users']);
    expect(r.stdout).toBe("SCRAM credential configs for user-principal 'carol' are SCRAM-SHA-256=iterations=4096, SCRAM-SHA-512=iterations=8192\n");
  }, 60_000);

  it('produces, consumes and runs a group over SASL_SSL with SCRAM-SHA-512', async () => {
    const kafka = client(b.saslSsl, { ssl: { ca: [pki.caCert] }, sasl: { mechanism: 'scram-sha-512', username: 'carol', password: 'scram-secret' } });
    expect(await roundTrip(kafka, 'sasl-ssl-scram512')).toEqual(['one', 'two', 'three']);
    expect(b.broker.logs).toMatch(/"listener":"SASL_SSL"[^\n]*"principal":"User:carol"[^\n]*"msg":"created topic"/);
  }, 90_000);

  it('produces and consumes over SASL_PLAINTEXT with SCRAM-SHA-256', async () => {
    const kafka = client(b.saslPlaintext, { sasl: { mechanism: 'scram-sha-256', username: 'carol', password: 'scram256-secret' } });
    expect(await roundTrip(kafka, 'sasl-plaintext-scram256')).toEqual(['one', 'two', 'three']);
  }, 90_000);

  it('produces and consumes over SASL_SSL with OAUTHBEARER (an unsecured token), and refuses an expired one', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = (exp: number) => unsecuredToken({ sub: 'ivan', iat: now, exp });
    const kafka = client(b.saslSsl, { ssl: { ca: [pki.caCert] }, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token(now + 3600) }) } });
    expect(await roundTrip(kafka, 'sasl-ssl-oauthbearer')).toEqual(['one', 'two', 'three']);
    expect(b.broker.logs).toMatch(/"listener":"SASL_SSL"[^\n]*"principal":"User:ivan"[^\n]*"msg":"created topic"/);
    const expired = client(b.saslSsl, { ssl: { ca: [pki.caCert] }, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token(now - 60) }) }, retry: { retries: 0 } });
    // The broker answers an invalid token with an error challenge (as Kafka); kafkajs takes that
    // as the end of the exchange, and its next request closes the connection.
    const admin = expired.admin();
    const outcome = await admin.connect().then(() => admin.listTopics()).then(
      () => 'served',
      () => 'refused',
    );
    expect(outcome).toBe('refused');
    await admin.disconnect();
  }, 90_000);

  it('refuses a wrong SCRAM password with SASL_AUTHENTICATION_FAILED', async () => {
    const kafka = client(b.saslSsl, { ssl: { ca: [pki.caCert] }, sasl: { mechanism: 'scram-sha-512', username: 'carol', password: 'wrong' }, retry: { retries: 0 } });
    const err = await kafka.admin().connect().then(
      () => null,
      (e: Error & { type?: string }) => e,
    );
    expect(err).not.toBeNull();
    expect(`${err!.message} ${err!.type ?? ''}`).toMatch(/SASL_AUTHENTICATION_FAILED|invalid credentials/);
  }, 60_000);

  afterAll(async () => {
    await b?.broker.destroy();
    await pki?.remove();
  });

  it('produces, consumes and runs a group over SASL_SSL with PLAIN', async () => {
    const kafka = client(b.saslSsl, { ssl: { ca: [pki.caCert] }, sasl: { mechanism: 'plain', ...PLAIN_USER } });
    expect(await roundTrip(kafka, 'sasl-ssl-plain')).toEqual(['one', 'two', 'three']);
    expect(b.broker.logs).toMatch(/"listener":"SASL_SSL"[^\n]*"principal":"User:alice"[^\n]*"msg":"created topic"/);
  }, 90_000);

  it('produces, consumes and runs a group over SASL_PLAINTEXT with PLAIN', async () => {
    const kafka = client(b.saslPlaintext, { sasl: { mechanism: 'plain', ...ADMIN } });
    expect(await roundTrip(kafka, 'sasl-plaintext-plain')).toEqual(['one', 'two', 'three']);
  }, 90_000);

  it('produces, consumes and runs a group over SSL with a client certificate (ssl.client.auth=required)', async () => {
    const alice = await pki.client('kafkajs-client', '/O=Samsa Test/CN=Alice');
    const kafka = client(b.ssl, { ssl: { ca: [pki.caCert], cert: alice.cert, key: alice.key } });
    expect(await roundTrip(kafka, 'ssl-client-cert')).toEqual(['one', 'two', 'three']);
    // The certificate's subject, mapped by the listener's rule, is the principal.
    expect(b.broker.logs).toMatch(/"listener":"SSL"[^\n]*"principal":"User:alice"[^\n]*"msg":"created topic"/);
  }, 90_000);

  it('refuses an SSL client without a certificate', async () => {
    const kafka = client(b.ssl, { ssl: { ca: [pki.caCert] }, retry: { retries: 0 } });
    const admin = kafka.admin();
    await expect(admin.connect()).rejects.toThrow();
    await waitForLog(b, 'TLS handshake failed: no client certificate');
  }, 60_000);

  it('refuses a wrong PLAIN password with SASL_AUTHENTICATION_FAILED', async () => {
    const kafka = client(b.saslSsl, { ssl: { ca: [pki.caCert] }, sasl: { mechanism: 'plain', username: PLAIN_USER.username, password: 'wrong' }, retry: { retries: 0 } });
    const admin = kafka.admin();
    const err = await admin.connect().then(
      () => null,
      (e: Error & { type?: string }) => e,
    );
    expect(err).not.toBeNull();
    expect(`${err!.message} ${err!.type ?? ''}`).toMatch(/SASL_AUTHENTICATION_FAILED|Invalid username or password/);
  }, 60_000);
});
