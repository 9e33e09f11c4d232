// ACLs against a broker process with StandardAuthorizer on a SASL_PLAINTEXT (PLAIN) listener:
// admin is a super user; alice and bob start with no ACLs. Kafka's error codes are checked on the
// wire with the internal client (authenticated as the user), and real clients (kafkajs) show the
// same refusals and, once `samsa acls` grants access, work.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { connectSecured } from '../../broker/cli/acls-connection.ts';
import { CLUSTER_OPERATIONS } from '../../broker/handlers/acl-operations.ts';
import { BrokerProcess, freePort } from '../harness/broker-process.ts';
import { run, samsa } from './run-process.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HAVE_KCAT = await run('kcat', ['-V']).then((r) => r.code === 0, () => false);
if (!HAVE_KCAT) console.warn('conformance/security/acls: kcat not found; skipping the librdkafka check');

const USERS = { admin: 'admin-secret', alice: 'alice-secret', bob: 'bob-secret' } as const;
type User = keyof typeof USERS;

let broker: BrokerProcess;
let sasl: string;
let dir: string;
const open: KafkaConnection[] = [];

async function as(user: User): Promise<KafkaConnection> {
  const c = await connectSecured([sasl], { protocol: 'SASL_PLAINTEXT', username: user, password: USERS[user] }, `acl-test-${user}`);
  open.push(c);
  return c;
}

function kafka(user: User): Kafka {
  return new Kafka({ clientId: `acl-kafkajs-${user}`, brokers: [sasl], sasl: { mechanism: 'plain', username: user, password: USERS[user] }, logLevel: logLevel.NOTHING, connectionTimeout: 5000, requestTimeout: 15_000, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } });
}

async function errorType(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'NONE';
  } catch (e) {
    const err = e as { type?: string; cause?: { type?: string }; errors?: { type?: string }[]; message: string };
    return err.type ?? err.cause?.type ?? err.errors?.[0]?.type ?? err.message;
  }
}

async function acls(user: User, args: string[]) {
  const config = join(dir, `${user}.properties`);
  await writeFile(config, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${user}" password="${USERS[user]}";\n`);
  return samsa(['acls', '--bootstrap-server', sasl, '--command-config', config, ...args], 60_000);
}

const fetchOne = (c: KafkaConnection, topic: string) =>
  c.send(ApiKey.Fetch, { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }], forgottenTopicsData: [], rackId: '' }, { version: 12 });

async function produceWith(user: User, topic: string, value: string): Promise<string> {
  const producer = kafka(user).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    return await errorType(producer.send({ topic, messages: [{ value }] }));
  } finally {
    await producer.disconnect();
  }
}

async function metadataTopics(c: KafkaConnection): Promise<string[]> {
  const r = await c.send(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { version: 9 });
  return r.topics.map((t) => t.name!).sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-acls-'));
  const [plain, saslPort, controller] = [await freePort(), await freePort(), await freePort()];
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" ${Object.entries(USERS).map(([u, p]) => `user_${u}="${p}"`).join(' ')};`;
  broker = await BrokerProcess.start({
    port: plain,
    controllerPort: controller,
    overrides: {
      'listeners': `PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controller}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'PLAINTEXT',
      'sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      // The PLAINTEXT listener is the inter-broker one: its ANONYMOUS principal acts for the cluster.
      'super.users': 'User:admin;User:ANONYMOUS',
      'offsets.topic.num.partitions': '1',
      'auto.create.topics.enable': 'true',
    },
  });
  sasl = `127.0.0.1:${saslPort}`;
  const admin = kafka('admin').admin();
  await admin.connect();
  await admin.createTopics({ topics: ['t', 'logs-a', 'logs-secret', 'other'].map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
  await admin.disconnect();
}, 120_000);

afterAll(async () => {
  for (const c of open) await c.close().catch(() => undefined);
  await broker?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('ACLs with StandardAuthorizer', () => {
  it('a user without ACLs gets Kafka authorization errors from every kind of API', async () => {
    const alice = await as('alice');
    const fetched = await fetchOne(alice, 't');
    expect(fetched.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const join = await alice.send(ApiKey.JoinGroup, { groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null });
    expect(join.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const created = await alice.send(ApiKey.CreateTopics, { topics: [{ name: 'mine', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    // Kafka answers CreateTopics per topic (CREATE on the cluster or the topic).
    expect(created.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const txn = await alice.send(ApiKey.InitProducerId, { transactionalId: 'tx-1', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    expect(txn.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const idempotent = await alice.send(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    expect(idempotent.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const createAcls = await alice.send(ApiKey.CreateAcls, { creations: [{ resourceType: 2, resourceName: 't', resourcePatternType: 3, principal: 'User:alice', host: '*', operation: 4, permissionType: 3 }] });
    expect(createAcls.results[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const described = await alice.send(ApiKey.DescribeAcls, { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 });
    expect(described.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(await metadataTopics(alice)).toEqual([]);
    expect((await alice.send(ApiKey.ListOffsets, { replicaId: -1, isolationLevel: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] }, { version: 7 })).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await alice.send(ApiKey.DeleteRecords, { topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 0n }] }], timeoutMs: 5000 })).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const configs = await alice.send(ApiKey.DescribeConfigs, { resources: [{ resourceType: 2, resourceName: 't', configurationKeys: null }, { resourceType: 4, resourceName: '1', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    expect(configs.results.map((x) => x.errorCode)).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);
    expect((await alice.send(ApiKey.DescribeGroups, { groups: ['g'], includeAuthorizedOperations: false })).groups[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await alice.send(ApiKey.DeleteGroups, { groupsNames: ['g'] })).results[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await alice.send(ApiKey.DescribeLogDirs, { topics: null }, { version: 3 })).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    // Without DESCRIBE on the cluster its authorized operations are 0, as Kafka answers.
    expect((await alice.send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: true }, { version: 0 })).clusterAuthorizedOperations).toBe(0);
    expect((await (await as('admin')).send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: true }, { version: 0 })).clusterAuthorizedOperations).toBe(CLUSTER_OPERATIONS);
    // Auto-creation needs CREATE: the topic is refused, not made.
    const auto = await alice.send(ApiKey.Metadata, { topics: [{ name: 'auto-made', topicId: '' as never }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false }, { version: 9 });
    expect(auto.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);

    // Real clients see the same.
    expect(await produceWith('alice', 't', 'x')).toBe('TOPIC_AUTHORIZATION_FAILED');
    // kafkajs asks for its producer id at connect when idempotent (no transactional id then:
    // IDEMPOTENT_WRITE on the cluster or WRITE on some topic), and per transactional id in transaction().
    const idemProducer = kafka('alice').producer({ idempotent: true, maxInFlightRequests: 1 });
    expect(await errorType(idemProducer.connect())).toBe('CLUSTER_AUTHORIZATION_FAILED');
    await idemProducer.disconnect().catch(() => undefined);
    const txProducer = kafka('alice').producer({ transactionalId: 'tx-2', maxInFlightRequests: 1 });
    await txProducer.connect();
    // kafkajs reports a refused FindCoordinator as "Failed to find group coordinator"; the wire answer is checked below.
    expect(await errorType(txProducer.transaction())).toMatch(/TRANSACTIONAL_ID_AUTHORIZATION_FAILED|Failed to find group coordinator/);
    const coordinators = await alice.send(ApiKey.FindCoordinator, { key: '', keyType: 1, coordinatorKeys: ['tx-2'] }, { version: 4 });
    expect(coordinators.coordinators![0]!.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const groupCoordinator = await alice.send(ApiKey.FindCoordinator, { key: '', keyType: 0, coordinatorKeys: ['g'] }, { version: 4 });
    expect(groupCoordinator.coordinators![0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await txProducer.disconnect().catch(() => undefined);
    const consumer = kafka('alice').consumer({ groupId: 'g-alice' });
    await consumer.connect();
    expect(await errorType(consumer.subscribe({ topic: 't' }).then(() => consumer.run({ eachMessage: async () => {} })).then(() => new Promise((_, reject) => consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error)))))).toMatch(/AUTHORIZATION_FAILED/);
    await consumer.disconnect();
  }, 120_000);

  it('invalid filters and ACLs are INVALID_REQUEST', async () => {
    const admin = await as('admin');
    const described = await admin.send(ApiKey.DescribeAcls, { resourceTypeFilter: 0, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 });
    expect(described.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const created = await admin.send(ApiKey.CreateAcls, { creations: [{ resourceType: 2, resourceName: 't', resourcePatternType: 2, principal: 'User:alice', host: '*', operation: 4, permissionType: 3 }, { resourceType: 2, resourceName: 't', resourcePatternType: 3, principal: 'alice', host: '*', operation: 4, permissionType: 3 }] });
    expect(created.results.map((r) => r.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
  }, 60_000);

  it('samsa acls --add --allow-principal User:alice --operation Write --topic t lets alice produce', async () => {
    const added = await acls('admin', ['--add', '--allow-principal', 'User:alice', '--operation', 'Write', '--topic', 't']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain("Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`");
    expect(added.stdout).toContain('(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)');
    expect(await produceWith('alice', 't', 'hello')).toBe('NONE');
    // WRITE implies DESCRIBE: the topic is now listed for alice, and only it.
    expect(await metadataTopics(await as('alice'))).toEqual(['t']);
    // Still no READ.
    expect((await fetchOne(await as('alice'), 't')).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const listed = await acls('admin', ['--list', '--topic', 't']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`");
    // alice may not change ACLs.
    const refused = await acls('alice', ['--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 't']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/ClusterAuthorizationException|CLUSTER_AUTHORIZATION_FAILED|Cluster authorization failed/);
  }, 120_000);

  it('--consumer grants what a consumer needs: kafkajs consumes with a group', async () => {
    const r = await acls('admin', ['--add', '--allow-principal', 'User:alice', '--consumer', '--topic', 't', '--group', 'g-read']);
    expect(r.code, r.stderr).toBe(0);
    const consumer = kafka('alice').consumer({ groupId: 'g-read', sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const got = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('nothing consumed')), 40_000);
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      void consumer.run({ eachMessage: async ({ message }) => {
        clearTimeout(timer);
        resolve(message.value!.toString());
      } });
    });
    expect(got).toBe('hello');
    await consumer.disconnect();
    // OffsetFetch shows alice only the offsets of topics she may DESCRIBE.
    const admin = await as('admin');
    const committed = await admin.send(ApiKey.OffsetCommit, { groupId: 'g-read', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n, topics: [{ name: 'other', partitions: [{ partitionIndex: 0, committedOffset: 0n, committedMetadata: null }] }] }, { version: 7 });
    expect(committed.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    const alice = await as('alice');
    const all = await alice.send(ApiKey.OffsetFetch, { groupId: 'g-read', topics: null, requireStable: false }, { version: 7 });
    expect(all.topics!.map((t) => t.name)).toEqual(['t']);
    const named = await alice.send(ApiKey.OffsetFetch, { groupId: 'g-read', topics: [{ name: 'other', partitionIndexes: [0] }], requireStable: false }, { version: 7 });
    expect(named.topics![0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // ListGroups shows a group to whoever may DESCRIBE it (READ implies DESCRIBE).
    const groupsOf = async (c: KafkaConnection) => (await c.send(ApiKey.ListGroups, {}, { version: 3 })).groups.map((g) => g.groupId);
    expect(await groupsOf(alice)).toContain('g-read');
    expect(await groupsOf(admin)).toContain('g-read');
    expect(await groupsOf(await as('bob'))).not.toContain('g-read');
    // Committing for a topic without READ is refused per topic.
    const refused = await alice.send(ApiKey.OffsetCommit, { groupId: 'g-read', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n, topics: [{ name: 'other', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] }] }, { version: 7 });
    expect(refused.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  }, 120_000);

  it('prefixed, wildcard and DENY ACLs behave as Kafka: DENY wins, prefixes cover, * covers all', async () => {
    expect((await acls('admin', ['--add', '--allow-principal', 'User:bob', '--operation', 'Read', '--topic', 'logs-', '--resource-pattern-type', 'prefixed'])).code).toBe(0);
    expect((await acls('admin', ['--add', '--deny-principal', 'User:bob', '--operation', 'Read', '--topic', 'logs-secret'])).code).toBe(0);
    expect((await acls('admin', ['--add', '--allow-principal', 'User:*', '--operation', 'Describe', '--topic', '*'])).code).toBe(0);
    const bob = await as('bob');
    expect((await fetchOne(bob, 'logs-a')).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    expect((await fetchOne(bob, 'logs-secret')).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await fetchOne(bob, 'other')).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // Describe on * for every user: all topics are listed (internal ones included, as Kafka does).
    expect(await metadataTopics(bob)).toEqual(expect.arrayContaining(['logs-a', 'logs-secret', 'other', 't']));
    // Topic authorized operations (Metadata v8+) show what bob may do.
    const m = await bob.send(ApiKey.Metadata, { topics: [{ name: 'logs-a', topicId: '' as never }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true }, { version: 9 });
    expect(m.topics[0]!.topicAuthorizedOperations).toBe((1 << 3) | (1 << 8));
  }, 120_000);

  it.skipIf(!HAVE_KCAT)('librdkafka (kcat) sees the same: refused produce, allowed consume, filtered metadata', async () => {
    const kcat = (user: User, args: string[], input = '') => run('kcat', ['-b', sasl, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${USERS[user]}`, ...args], { input, timeoutMs: 30_000 });
    const produced = await kcat('bob', ['-P', '-t', 'logs-a'], 'x\n');
    expect(produced.code).not.toBe(0);
    expect(produced.stderr).toMatch(/[Aa]uthorization failed/);
    const consumed = await kcat('bob', ['-C', '-t', 'logs-a', '-o', 'beginning', '-e']);
    expect(consumed.code, consumed.stderr).toBe(0);
    const listed = await kcat('alice', ['-L', '-J']);
    expect(listed.code, listed.stderr).toBe(0);
    const names = (JSON.parse(listed.stdout) as { topics: { topic: string }[] }).topics.map((t) => t.topic);
    // alice: WRITE on t and READ on t through --consumer, plus DESCRIBE on * for User:*.
    expect(names).toEqual(expect.arrayContaining(['t', 'logs-a', 'other']));
  }, 120_000);

  it('--remove deletes ACLs (DeleteAcls) and access goes with them', async () => {
    const removed = await acls('admin', ['--remove', '--allow-principal', 'User:bob', '--operation', 'Read', '--topic', 'logs-', '--resource-pattern-type', 'prefixed', '--force']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await fetchOne(await as('bob'), 'logs-a')).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const all = await acls('admin', ['--list']);
    expect(all.stdout).not.toContain('name=logs-, patternType=PREFIXED');
    expect(all.stdout).toContain('name=logs-secret, patternType=LITERAL');
  }, 120_000);

  it('ACLs survive a crash and restart (replayed from the metadata log)', async () => {
    const all = { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 };
    const before = (await (await as('admin')).send(ApiKey.DescribeAcls, all)).resources;
    expect(before.length).toBeGreaterThan(0);
    await broker.restart('SIGKILL');
    const after = (await (await as('admin')).send(ApiKey.DescribeAcls, all)).resources;
    const key = (rs: typeof before) => rs.map((r) => JSON.stringify([r.resourceType, r.resourceName, r.patternType, r.acls.map((a) => [a.principal, a.host, a.operation, a.permissionType]).sort()])).sort();
    expect(key(after)).toEqual(key(before));
    expect(await produceWith('alice', 't', 'after restart')).toBe('NONE');
    expect((await fetchOne(await as('bob'), 'logs-secret')).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  }, 120_000);
});
