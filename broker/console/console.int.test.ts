// The console over a real in-process broker (first block) and broker processes (the others): the page and its assets are served from the broker
// (nothing referenced from elsewhere), and the JSON API shows the broker, the quorum and a topic
// created with kafkajs, with each partition's leader, replicas and ISR.
import { readdir } from 'node:fs/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, BrokerProcess } from '../../conformance/harness/broker-process.ts';
import { startBroker, type StartedBroker } from '../../index.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { saltedPassword, scramMechanism } from '../security/scram.ts';
import type { ClusterOverview, QuorumState } from './console-api.ts';

describe('console', () => {
  let started: StartedBroker;

  beforeAll(async () => {
    started = await startBroker();
    const admin = new Kafka({ clientId: 'console-test', brokers: [started.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'shown', numPartitions: 3 }] });
    await admin.disconnect();
  }, 60_000);

  afterAll(async () => {
    await started?.stop();
  });

  it('serves the page and its assets, none from elsewhere', async () => {
    const page = await fetch(`${started.http}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toEqual(expect.arrayContaining(['/console/style.css', '/console/app.js']));
    // Local paths and in-page routes only.
    for (const ref of refs) expect(ref, ref).toMatch(/^[/#]/);
    const assets = ['/console/style.css', ...(await readdir(new URL('./static/', import.meta.url))).filter((f) => f.endsWith('.js')).map((f) => `/console/${f}`)];
    expect(assets.length).toBeGreaterThan(5);
    for (const asset of assets) {
      const r = await fetch(`${started.http}${asset}`);
      expect(r.status, asset).toBe(200);
      const text = await r.text();
      expect(text.length).toBeGreaterThan(100);
      // The SVG namespace is a name, not a fetch.
      expect(text.replaceAll('http://www.w3.org/2000/svg', ''), asset).not.toMatch(/https?:\/\//);
    }
    expect((await fetch(`${started.http}/console/nope.js`)).status).toBe(404);
    expect((await fetch(`${started.http}/console/..%2Fconsole-auth.ts`)).status).toBe(404);
  });

  it('/api/cluster shows the broker and the topic with leaders, replicas and ISR', async () => {
    const r = await fetch(`${started.http}/api/cluster`);
    expect(r.status).toBe(200);
    const c = (await r.json()) as ClusterOverview;
    expect(c.clusterId).toBe(started.broker.context.clusterId);
    expect(c.quorum).toMatchObject({ leaderId: 1 });
    expect(c.brokers).toEqual([{ id: 1, endpoints: [`PLAINTEXT://${started.bootstrap}`], rack: null, fenced: false, inControlledShutdown: false }]);
    const t = c.topics.find((x) => x.name === 'shown');
    expect(t).toMatchObject({ internal: false });
    expect(t!.partitions).toEqual([0, 1, 2].map((partition) => ({ partition, leader: 1, replicas: [1], isr: [1] })));
  });

  it('/api/quorum is the leader\'s DescribeQuorum', async () => {
    const r = await fetch(`${started.http}/api/quorum`);
    expect(r.status).toBe(200);
    const q = (await r.json()) as QuorumState;
    expect(q.leaderId).toBe(1);
    expect(q.epoch).toBeGreaterThan(0);
    expect(q.highWatermark).toBeGreaterThan(0);
    expect(q.voters.map((v) => v.id)).toEqual([1]);
    expect(q.voters[0]!.logEndOffset).toBeGreaterThanOrEqual(q.highWatermark);
  });
});

// The JSON API of the console on a broker process: topics created, grown, reconfigured and
// deleted through the console (Kafka's errors shown), records produced with kafkajs browsed by
// offset and by timestamp, a test record produced, a kafkajs consumer group's members, offsets
// and lag, and an offset reset previewed then applied once the group is empty.
describe('console API on a broker process', () => {
  let broker: BrokerProcess;
  let base: string;
  let kafka: Kafka;
  const T0 = 1_700_000_000_000;
  const T1 = T0 + 60_000;

  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`);
    return { status: r.status, body: (await r.json()) as any };
  };
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const until = async <T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await f();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  beforeAll(async () => {
    const httpPort = await freePort();
    broker = await BrokerProcess.start({ overrides: { 'http.listeners': `http://127.0.0.1:${httpPort}`, 'group.initial.rebalance.delay.ms': '0' } });
    base = `http://127.0.0.1:${httpPort}`;
    kafka = new Kafka({ clientId: 'console-api', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  }, 60_000);

  afterAll(async () => {
    await broker?.destroy();
  });

  it('creates a topic, refusing a second one of the same name with Kafka\'s error', async () => {
    expect(await post('/api/topics/create', { name: 'orders', partitions: 2, configs: { 'cleanup.policy': 'delete' } })).toEqual({ status: 200, body: { ok: true } });
    const again = await post('/api/topics/create', { name: 'orders', partitions: 2 });
    expect(again.status).toBe(409);
    expect(again.body.kafkaError).toBe('TOPIC_ALREADY_EXISTS');
    const bad = await post('/api/topics/create', { name: 'bad name!', partitions: 1 });
    expect(bad.body.kafkaError).toBe('INVALID_TOPIC_EXCEPTION');
    expect((await post('/api/topics/create', { partitions: 1 })).status).toBe(400);
    const list = await get('/api/topics');
    expect(list.body.find((t: { name: string }) => t.name === 'orders')).toMatchObject({ partitions: 2, replicationFactor: 1, underReplicated: 0, offline: 0, internal: false });
  }, 60_000);

  it('browses records produced with kafkajs by offset and from a timestamp, as text with headers', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ n: i }), partition: 0, timestamp: String(i < 5 ? T0 + i : T1 + i), headers: { trace: `t${i}` } }));
    await producer.send({ topic: 'orders', messages });
    await producer.disconnect();
    const fromTime = await get(`/api/messages?topic=orders&partition=0&timestamp=${T1}&limit=100`);
    expect(fromTime.status).toBe(200);
    expect(fromTime.body).toMatchObject({ start: 5, earliest: 0, latest: 10 });
    const recs = fromTime.body.records as { offset: number; timestamp: number; key: string; value: string; headers: { key: string; value: string }[] }[];
    expect(recs.map((r) => r.offset)).toEqual([5, 6, 7, 8, 9]);
    const text = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    expect(recs.map((r) => [text(r.key), JSON.parse(text(r.value)).n, r.timestamp])).toEqual([5, 6, 7, 8, 9].map((i) => [`k${i}`, i, T1 + i]));
    expect(recs[0]!.headers.map((h) => [h.key, text(h.value)])).toEqual([['trace', 't5']]);
    const fromOffset = await get('/api/messages?topic=orders&partition=0&offset=2&limit=3');
    expect(fromOffset.body.records.map((r: { offset: number }) => r.offset)).toEqual([2, 3, 4]);
    const future = await get(`/api/messages?topic=orders&partition=0&timestamp=${T1 + 3_600_000}`);
    expect(future.body).toMatchObject({ start: 10, records: [] });
    expect((await get('/api/messages?topic=orders&partition=0&offset=1&timestamp=2')).status).toBe(400);
    expect((await get('/api/messages?topic=nope&partition=0')).body.kafkaError).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  }, 60_000);

  it('produces a test record with key, value and headers', async () => {
    const r = await post('/api/messages/produce', { topic: 'orders', partition: 0, key: 'console-key', value: '{"from":"console"}', headers: [{ key: 'h', value: 'v' }] });
    expect(r).toEqual({ status: 200, body: { offset: 10 } });
    const b = await get('/api/messages?topic=orders&partition=0&offset=10');
    const rec = b.body.records[0];
    expect(Buffer.from(rec.key, 'base64').toString()).toBe('console-key');
    expect(Buffer.from(rec.value, 'base64').toString()).toBe('{"from":"console"}');
    expect(rec.headers).toEqual([{ key: 'h', value: Buffer.from('v').toString('base64') }]);
    expect((await post('/api/messages/produce', { topic: 'orders', partition: 7, value: 'x' })).body.kafkaError).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('shows a topic\'s partitions with offsets and size, and alters its configs', async () => {
    const d = await get('/api/topic?name=orders');
    expect(d.status).toBe(200);
    expect(d.body.partitions.map((p: any) => [p.partition, p.leader, p.replicas, p.isr, p.earliest, p.latest])).toEqual([
      [0, 1, [1], [1], 0, 11],
      [1, 1, [1], [1], 0, 0],
    ]);
    expect(d.body.partitions[0].size).toBeGreaterThan(0);
    const cfg = (body: any, name: string) => body.configs.find((c: { name: string }) => c.name === name);
    expect(cfg(d.body, 'retention.ms')).toMatchObject({ value: '604800000', source: 'DEFAULT_CONFIG' });
    expect(cfg(d.body, 'cleanup.policy')).toMatchObject({ value: 'delete', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(await post('/api/topics/configs', { name: 'orders', set: { 'retention.ms': '3600000' } })).toEqual({ status: 200, body: { ok: true } });
    expect(cfg((await get('/api/topic?name=orders')).body, 'retention.ms')).toMatchObject({ value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG' });
    const invalid = await post('/api/topics/configs', { name: 'orders', set: { 'retention.ms': 'soon' } });
    expect(invalid.status).toBe(409);
    expect(invalid.body.kafkaError).toBe('INVALID_CONFIG');
    expect(await post('/api/topics/configs', { name: 'orders', delete: ['retention.ms'] })).toEqual({ status: 200, body: { ok: true } });
    expect(cfg((await get('/api/topic?name=orders')).body, 'retention.ms')).toMatchObject({ value: '604800000', source: 'DEFAULT_CONFIG' });
    expect((await get('/api/topic?name=nope')).status).toBe(404);
  });

  it('adds partitions, refusing a smaller count with Kafka\'s error', async () => {
    expect(await post('/api/topics/partitions', { name: 'orders', count: 3 })).toEqual({ status: 200, body: { ok: true } });
    expect((await get('/api/topic?name=orders')).body.partitions).toHaveLength(3);
    const fewer = await post('/api/topics/partitions', { name: 'orders', count: 2 });
    expect(fewer.status).toBe(409);
    expect(fewer.body.kafkaError).toBe('INVALID_PARTITIONS');
  });

  it('shows a consumer group\'s members, committed offsets and lag, and resets its offsets once it is empty', async () => {
    const consumer = kafka.consumer({ groupId: 'readers' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    let seen = 0;
    await consumer.run({ autoCommitInterval: 100, eachMessage: async () => void seen++ });
    const stable = await until('the group to commit every offset', async () => {
      const g = await get('/api/group?id=readers');
      return g.status === 200 && g.body.state === 'Stable' && g.body.offsets.length === 3 && g.body.totalLag === 0 && g.body.offsets.every((o: any) => o.committed !== null || o.end === 0) ? g.body : undefined;
    });
    expect(seen).toBe(11);
    expect(stable.members).toHaveLength(1);
    expect(stable.members[0].assignment).toEqual({ orders: [0, 1, 2] });
    expect(stable.offsets.find((o: any) => o.partition === 0)).toMatchObject({ topic: 'orders', committed: 11, end: 11, lag: 0, member: stable.members[0].memberId });
    expect((await get('/api/groups')).body).toContainEqual({ groupId: 'readers', state: 'Stable', protocolType: 'consumer', type: 'classic' });
    const busy = await post('/api/groups/reset', { groupId: 'readers', topic: 'orders', to: 'earliest', dryRun: true });
    expect(busy.status).toBe(409);
    expect(busy.body.kafkaError).toBe('GROUP_NOT_EMPTY');
    await consumer.disconnect();
    await until('the group to be empty', async () => ((await get('/api/group?id=readers')).body.state === 'Empty' ? true : undefined));
    const plan = await post('/api/groups/reset', { groupId: 'readers', topic: 'orders', to: 'timestamp', timestamp: T1, dryRun: true });
    expect(plan.status).toBe(200);
    expect(plan.body.applied).toBe(false);
    expect(plan.body.plan.find((p: any) => p.partition === 0)).toEqual({ topic: 'orders', partition: 0, current: 11, next: 5 });
    expect((await get('/api/group?id=readers')).body.totalLag).toBe(0);
    const applied = await post('/api/groups/reset', { groupId: 'readers', to: 'offset', offset: 3, dryRun: false });
    expect(applied.body.applied).toBe(true);
    const after = (await get('/api/group?id=readers')).body;
    expect(after.offsets.map((o: any) => [o.partition, o.committed, o.lag])).toEqual([
      [0, 3, 8],
      [1, 0, 0],
      [2, 0, 0],
    ]);
  }, 90_000);

  it('shows the node, its throughput counters and broker configs with their sources', async () => {
    const nodes = (await get('/api/nodes')).body;
    expect(nodes.nodes).toHaveLength(1);
    expect(nodes.nodes[0]).toMatchObject({ id: 1, roles: ['broker', 'controller'], fenced: false, http: base });
    expect(nodes.nodes[0].self).toMatchObject({ nodeId: 1, ready: true, roles: ['broker', 'controller'] });
    const t = (await get('/api/throughput')).body;
    expect(t.enabled).toBe(true);
    expect(t.topics.orders.bytesIn).toBeGreaterThan(0);
    expect(t.topics.orders.messagesIn).toBe(11);
    expect(t.topics.orders.bytesOut).toBeGreaterThan(0);
    const configs = (await get('/api/broker-configs')).body as { name: string; source: string; value: string | null }[];
    expect(configs.find((c) => c.name === 'log.dirs')).toMatchObject({ value: broker.dataDir, source: 'STATIC_BROKER_CONFIG' });
    expect(configs.find((c) => c.name === 'message.max.bytes')).toMatchObject({ source: 'DEFAULT_CONFIG' });
    const c = (await get('/api/cluster')).body;
    expect(c.features['metadata.version']).toBeGreaterThan(0);
    expect(c.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses actions another site could send through a browser', async () => {
    await post('/api/topics/create', { name: 'guarded', partitions: 1 });
    // A form or a no-cors fetch from elsewhere can send text/plain without a preflight.
    const plain = await fetch(`${base}/api/topics/delete`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"name":"guarded"}' });
    expect(plain.status).toBe(403);
    const foreign = await fetch(`${base}/api/topics/delete`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{"name":"guarded"}' });
    expect(foreign.status).toBe(403);
    expect((await get('/api/topics')).body.map((t: { name: string }) => t.name)).toContain('guarded');
    const own = await fetch(`${base}/api/topics/delete`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: '{"name":"guarded"}' });
    expect(own.status).toBe(200);
  });

  it('deletes a topic', async () => {
    expect(await post('/api/topics/delete', { name: 'orders' })).toEqual({ status: 200, body: { ok: true } });
    expect((await get('/api/topics')).body.map((t: { name: string }) => t.name)).not.toContain('orders');
    expect((await post('/api/topics/delete', { name: 'orders' })).body.kafkaError).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const malformed = await fetch(`${base}/api/topics/delete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(malformed.status).toBe(400);
    expect((await fetch(`${base}/api/topics`, { method: 'DELETE' })).status).toBe(405);
  });
});

// With SASL listeners the console asks for the same credentials: PLAIN users of the JAAS config
// and SCRAM users from the metadata; every other API call answers 401 without a session.
describe('console login on a SASL broker process', () => {
  let broker: BrokerProcess;
  let base: string;

  beforeAll(async () => {
    const [port, saslPort, controller, httpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    broker = await BrokerProcess.start({
      port,
      controllerPort: controller,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controller}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'PLAINTEXT',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
        'http.listeners': `http://127.0.0.1:${httpPort}`,
      },
    });
    base = `http://127.0.0.1:${httpPort}`;
    const admin = new Kafka({ clientId: 'console-sasl', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'secret', numPartitions: 1 }] });
    await admin.disconnect();
    const client = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'console-sasl' });
    const m = scramMechanism('SCRAM-SHA-256')!;
    const salt = Buffer.alloc(16, 7);
    const r = await client.send('any', ApiKey.AlterUserScramCredentials, { deletions: [], upsertions: [{ name: 'bob', mechanism: 1, iterations: 4096, salt, saltedPassword: saltedPassword(m, 'bob-secret', salt, 4096) }] });
    expect(r.results[0]!.errorCode).toBe(0);
    await client.close();
  }, 60_000);

  afterAll(async () => {
    await broker?.destroy();
  });

  const JSON_HEADERS = { 'content-type': 'application/json' };
  const login = (user: string, password: string) => fetch(`${base}/api/login`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ user, password }) });

  it('answers 401 until a user logs in with PLAIN or SCRAM credentials, and again after logout', async () => {
    expect(await (await fetch(`${base}/api/session`)).json()).toEqual({ required: true, user: null });
    expect((await fetch(`${base}/api/topics`)).status).toBe(401);
    expect((await fetch(`${base}/api/topics/create`, { method: 'POST', headers: JSON_HEADERS, body: '{"name":"x"}' })).status).toBe(401);
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect((await login('alice', 'wrong')).status).toBe(401);
    expect((await login('mallory', 'alice-secret')).status).toBe(401);
    expect((await login('bob', 'alice-secret')).status).toBe(401);
    for (const [user, password, mechanism] of [['alice', 'alice-secret', 'PLAIN'], ['bob', 'bob-secret', 'SCRAM-SHA-256']] as const) {
      const r = await login(user, password);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ user, mechanism });
      const cookie = r.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^samsa_console=[\w-]+; Path=\/; HttpOnly; SameSite=Strict/);
      const session = cookie.split(';')[0]!;
      const topics = await fetch(`${base}/api/topics`, { headers: { cookie: session } });
      expect(topics.status).toBe(200);
      expect(((await topics.json()) as { name: string }[]).map((t) => t.name)).toContain('secret');
      expect(await (await fetch(`${base}/api/session`, { headers: { cookie: session } })).json()).toEqual({ required: true, user });
      expect((await fetch(`${base}/api/logout`, { method: 'POST', headers: { ...JSON_HEADERS, cookie: session } })).status).toBe(200);
      expect((await fetch(`${base}/api/topics`, { headers: { cookie: session } })).status).toBe(401);
    }
  }, 30_000);
});
