// A cluster whose every listener is SASL_SSL, its nodes' own connections included: a controller
// and two brokers register, replicate the metadata log and replicate a topic with
// replication factor 2 over TLS with SASL PLAIN (sasl.mechanism.inter.broker.protocol and
// sasl.mechanism.controller.protocol), and kafkajs produces with acks=all and consumes.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterProcess } from '../harness/cluster-process.ts';
import { makeTestPki, opensslAvailable, type TestPki } from './certs.ts';

const HAVE_OPENSSL = opensslAvailable();
if (!HAVE_OPENSSL) console.warn('conformance/security: openssl not found; skipping the inter-broker security suite');

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

describe.skipIf(!HAVE_OPENSSL)('SASL_SSL between nodes', () => {
  let pki: TestPki;
  let cluster: ClusterProcess;

  beforeAll(async () => {
    pki = await makeTestPki();
    const keystore = join(pki.dir, 'server-keystore.pem');
    await writeFile(keystore, pki.server.key + pki.server.cert);
    // The harness names its listeners PLAINTEXT and CONTROLLER; the map gives both SASL_SSL.
    const perListener = (l: string): Record<string, string> => ({
      [`listener.name.${l}.ssl.keystore.type`]: 'PEM',
      [`listener.name.${l}.ssl.keystore.location`]: keystore,
      [`listener.name.${l}.ssl.truststore.type`]: 'PEM',
      [`listener.name.${l}.ssl.truststore.location`]: pki.caFile,
      [`listener.name.${l}.plain.sasl.jaas.config`]: JAAS,
    });
    cluster = await ClusterProcess.start({
      controllers: 1,
      brokers: 2,
      properties: {
        'listener.security.protocol.map': 'CONTROLLER:SASL_SSL,PLAINTEXT:SASL_SSL',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
        'sasl.mechanism.inter.broker.protocol': 'PLAIN',
        'sasl.mechanism.controller.protocol': 'PLAIN',
        ...perListener('plaintext'),
        ...perListener('controller'),
      },
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await pki?.remove();
  });

  it('replicates a topic between brokers over SASL_SSL and serves clients', async () => {
    const kafka = new Kafka({ clientId: 'inter-broker', brokers: cluster.bootstrap, logLevel: logLevel.NOTHING, ssl: { ca: [pki.caCert] }, sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' }, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 } });
    const admin = kafka.admin();
    await admin.connect();
    const cl = await admin.describeCluster();
    expect(cl.brokers.map((b) => b.nodeId).sort()).toEqual([2, 3]);
    await admin.createTopics({ topics: [{ topic: 'replicated', numPartitions: 1, replicationFactor: 2 }], waitForLeaders: true });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic: 'replicated', acks: -1, messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();
    // acks=all answered means the follower fetched over SASL_SSL; both replicas stay in sync.
    const deadline = Date.now() + 30_000;
    let isr: number[] = [];
    while (Date.now() < deadline) {
      const md = await admin.fetchTopicMetadata({ topics: ['replicated'] });
      isr = [...md.topics[0]!.partitions[0]!.isr].sort();
      if (isr.length === 2) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(isr).toEqual([2, 3]);
    await admin.disconnect();
  }, 120_000);
});
