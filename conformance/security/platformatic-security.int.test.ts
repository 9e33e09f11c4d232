// @platformatic/kafka over SASL_SSL with SCRAM-SHA-512 and over SSL with a client certificate
// (ssl.client.auth=required), against one broker process with every listener kind: Admin creates
// the topic, a Producer sends with acks=all, Consumer.fetch reads the records back without a group,
// and a consumer group consumes and commits each record (the commits read back with Admin). A
// wrong SCRAM password and a missing certificate are refused. Skips, visibly, without openssl.
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers, type BaseOptions } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, opensslAvailable, type TestPki } from './certs.ts';
import { samsa } from './run-process.ts';
import { type SecureBroker, startSecureBroker } from './secure-broker.ts';

const HAVE_OPENSSL = opensslAvailable();
if (!HAVE_OPENSSL) console.warn('conformance/security: openssl not found; skipping the @platformatic/kafka security suite');

const USER = { username: 'heidi', password: 'heidi-secret' };
type Security = Pick<BaseOptions, 'tls' | 'sasl'>;

/** Every message of an error, its causes and the errors it aggregates. */
function messages(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const nested = [(err as { cause?: unknown }).cause, ...((err as { errors?: unknown[] }).errors ?? [])].filter((e) => e !== undefined);
  return [err.message, ...nested.map(messages)].join(' | ');
}

describe.skipIf(!HAVE_OPENSSL)('@platformatic/kafka security', () => {
  let pki: TestPki;
  let b: SecureBroker;

  beforeAll(async () => {
    pki = await makeTestPki();
    b = await startSecureBroker(pki);
    const r = await samsa(['configs', '--bootstrap-server', b.plaintext, '--alter', '--add-config', `SCRAM-SHA-512=[password=${USER.password}]`, '--entity-type', 'users', '--entity-name', USER.username]);
    expect(r.stdout).toContain(`Completed updating config for user ${USER.username}.`);
  }, 120_000);

  afterAll(async () => {
    await b?.broker.destroy();
    await pki?.remove();
  });

  const base = (bootstrap: string, security: Security) => ({ clientId: 'security-platformatic', bootstrapBrokers: [bootstrap], retries: 5, retryDelay: 200, timeout: 15_000, ...security });

  /** Topic creation, produce, read back and a committing consumer group, all over `security`. */
  async function exercise(bootstrap: string, security: Security, topic: string): Promise<void> {
    const admin = new Admin(base(bootstrap, security));
    const producer = new Producer({ ...base(bootstrap, security), serializers: stringSerializers, autocreateTopics: false });
    const reader = new Consumer({ ...base(bootstrap, security), groupId: `${topic}-reader`, deserializers: stringDeserializers });
    const group = `${topic}-group`;
    const member = new Consumer({ ...base(bootstrap, security), groupId: group, deserializers: stringDeserializers });
    try {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      await producer.send({ acks: -1, messages: ['one', 'two', 'three'].map((value, i) => ({ topic, partition: 0, key: `k${i}`, value })) });

      // Read back without a group: raw fetches from the partition leader by topic id.
      const md = await reader.metadata({ topics: [topic] });
      const t = md.topics.get(topic)!;
      const read: string[] = [];
      for (let offset = 0n, n = 0; offset < 3n; n++) {
        if (n === 50) throw new Error(`read ${read.length} of 3 records in 50 fetches`);
        const response = await reader.fetch({
          node: t.partitions[0]!.leader,
          maxWaitTime: 100,
          topics: [{ topicId: t.id, partitions: [{ partition: 0, fetchOffset: offset, currentLeaderEpoch: -1, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }],
        });
        const p = response.responses[0]!.partitions[0]!;
        expect(p.errorCode).toBe(0);
        for (const batch of p.records ?? []) {
          for (const r of batch.records) {
            if (batch.firstOffset + BigInt(r.offsetDelta) >= offset) read.push(`${r.key?.toString()}=${r.value?.toString()}`);
          }
          offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        }
      }
      expect(read).toEqual(['k0=one', 'k1=two', 'k2=three']);

      // A group: join, consume from the earliest offset, commit each record as it is taken.
      const grouped: string[] = [];
      const stream = await member.consume({ topics: [topic], mode: 'earliest', autocommit: false, sessionTimeout: 10_000, heartbeatInterval: 500 });
      const timer = setTimeout(() => void stream.close(), 40_000);
      for await (const m of stream) {
        grouped.push(m.value);
        await m.commit();
        if (grouped.length === 3) break;
      }
      clearTimeout(timer);
      await stream.close();
      expect(grouped).toEqual(['one', 'two', 'three']);
      const [offsets] = await admin.listConsumerGroupOffsets({ groups: [group] });
      expect(offsets!.topics.flatMap((x) => x.partitions.map((p) => [x.name, p.partitionIndex, p.committedOffset]))).toEqual([[topic, 0, 3n]]);
    } finally {
      await member.close(true);
      await reader.close(true);
      await producer.close();
      await admin.close();
    }
  }

  /** The error of a metadata request over `security`, or null if it was served. */
  async function refusal(bootstrap: string, security: Security): Promise<string | null> {
    const admin = new Admin({ ...base(bootstrap, security), retries: 0 });
    try {
      await admin.metadata({ topics: [] });
      return null;
    } catch (err) {
      return messages(err);
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  it('creates a topic, produces, consumes and runs a consumer group over SASL_SSL with SCRAM-SHA-512', async () => {
    await exercise(b.saslSsl, { tls: { ca: pki.caCert }, sasl: { mechanism: 'SCRAM-SHA-512', ...USER } }, 'platformatic-sasl-ssl');
    expect(b.broker.logs).toMatch(/"listener":"SASL_SSL"[^\n]*"principal":"User:heidi"[^\n]*"topic":"platformatic-sasl-ssl"[^\n]*"msg":"created topic"/);
  }, 120_000);

  it('fails authentication with a wrong SCRAM password (SASL_AUTHENTICATION_FAILED)', async () => {
    const error = await refusal(b.saslSsl, { tls: { ca: pki.caCert }, sasl: { mechanism: 'SCRAM-SHA-512', username: USER.username, password: 'wrong' } });
    expect(error).toMatch(/SASL authentication failed/);
  }, 60_000);

  it('creates a topic, produces, consumes and runs a consumer group over SSL with a client certificate (ssl.client.auth=required)', async () => {
    const ivy = await pki.client('platformatic-client', '/O=Samsa Test/CN=Ivy');
    await exercise(b.ssl, { tls: { ca: pki.caCert, cert: ivy.cert, key: ivy.key } }, 'platformatic-ssl');
    // The certificate's subject, mapped by the listener's rule, is the principal.
    expect(b.broker.logs).toMatch(/"listener":"SSL"[^\n]*"principal":"User:ivy"[^\n]*"topic":"platformatic-ssl"[^\n]*"msg":"created topic"/);
  }, 120_000);

  it('is refused over SSL without a client certificate', async () => {
    expect(await refusal(b.ssl, { tls: { ca: pki.caCert } })).not.toBeNull();
    const deadline = Date.now() + 10_000;
    while (!b.broker.logs.includes('TLS handshake failed: no client certificate')) {
      if (Date.now() > deadline) throw new Error('the broker never logged a handshake without a client certificate');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);
});
