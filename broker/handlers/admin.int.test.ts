// The admin APIs through a real broker in this process, with kafkajs's admin client and the
// internal client (for versions and cases kafkajs does not reach); each case checks the effect
// (image, open logs, directories), not only the answer.
import { readdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';

const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

let dir: string;
let started: StartedBroker;
let admin: Admin;
let conn: KafkaConnection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-admin-'));
  started = await startBroker({ logDir: dir, overrides: { 'num.partitions': '1' } });
  const kafka = new Kafka({ clientId: 'admin-test', brokers: [started.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  admin = kafka.admin();
  await admin.connect();
  const [host, port] = started.bootstrap.split(':');
  conn = await KafkaConnection.connect(host!, Number(port), { clientId: 'admin-test', requestTimeoutMs: 10_000 });
});

afterAll(async () => {
  await admin?.disconnect();
  await conn?.close();
  await started?.stop();
  await rm(dir, { recursive: true, force: true });
});

const ctx = () => started.broker.context;
const logOf = (topic: string, partition = 0) => ctx().replicaManager.getPartition(topic, partition)?.log;

async function create(name: string, numPartitions = 1, configs: Record<string, string> = {}): Promise<void> {
  const res = await conn.send(ApiKey.CreateTopics, {
    topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  expect(res.topics[0]!.errorCode).toBe(ErrorCode.NONE);
}

describe('CreateTopics', () => {
  it('validateOnly creates nothing; a real creation applies its configs to the open log', async () => {
    const topics = [{ topic: 'ct-a', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '123456' }] }];
    await admin.createTopics({ topics, validateOnly: true, waitForLeaders: false });
    expect(ctx().metadata.image.topicsByName.has('ct-a')).toBe(false);
    expect(await admin.createTopics({ topics, waitForLeaders: false })).toBe(true);
    const md = await admin.fetchTopicMetadata({ topics: ['ct-a'] });
    expect(md.topics[0]!.partitions).toHaveLength(2);
    expect(logOf('ct-a', 1)!.config.retentionMs).toBe(123456);
    expect(await admin.createTopics({ topics })).toBe(false); // already exists: kafkajs reports false
  });

  it('v7 answers the id, partitions, replication factor and every effective config with its source', async () => {
    const res = await conn.send(ApiKey.CreateTopics, {
      topics: [{ name: 'ct-b', numPartitions: 3, replicationFactor: -1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] }],
      timeoutMs: 5000,
      validateOnly: false,
    }, { version: 7 });
    const t = res.topics[0]!;
    expect(t.errorCode).toBe(ErrorCode.NONE);
    expect(t.topicId).toBe(ctx().metadata.image.topicsByName.get('ct-b')!.id);
    expect([t.numPartitions, t.replicationFactor]).toEqual([3, 1]);
    const cfg = new Map(t.configs!.map((c) => [c.name, c]));
    expect(cfg.get('cleanup.policy')).toMatchObject({ value: 'compact', configSource: 1, readOnly: false, isSensitive: false });
    expect(cfg.get('retention.ms')).toMatchObject({ value: '604800000', configSource: 5 });
    expect(cfg.size).toBeGreaterThan(30);
  });

  it('answers config, name, duplicate and factor errors per topic, and creates the valid ones', async () => {
    const res = await conn.send(ApiKey.CreateTopics, {
      topics: [
        { name: 'ct-bad-cfg', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: 'soon' }] },
        { name: 'ct-unknown-cfg', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.mss', value: '1' }] },
        { name: 'bad name', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'ct-dup', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'ct-dup', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'ct-rf', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] },
        { name: 'ct-ok', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    }, { version: 5 });
    const by = new Map(res.topics.map((t) => [t.name, t]));
    expect(res.topics).toHaveLength(6);
    expect(by.get('ct-bad-cfg')).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Invalid value soon for configuration retention.ms: Not a number of type LONG', numPartitions: -1 });
    expect(by.get('ct-unknown-cfg')).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Unknown topic config name: retention.mss' });
    expect(by.get('bad name')!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    expect(by.get('ct-dup')).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
    expect(by.get('ct-rf')!.errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
    expect(by.get('ct-ok')!.errorCode).toBe(ErrorCode.NONE);
    const image = ctx().metadata.image;
    expect(['ct-bad-cfg', 'ct-dup', 'ct-rf'].some((n) => image.topicsByName.has(n))).toBe(false);
    expect(image.topicsByName.has('ct-ok')).toBe(true);
  });

  it('with timeoutMs 0 still creates the topic; manual assignments are honoured', async () => {
    const res = await conn.send(ApiKey.CreateTopics, {
      topics: [{ name: 'ct-now', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 1, brokerIds: [1] }], configs: [] }],
      timeoutMs: 0,
      validateOnly: false,
    }, { version: 4 });
    expect(res.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    await ctx().metadata.waitFor(ctx().controller.image.offset);
    expect(ctx().metadata.image.topicsByName.get('ct-now')!.partitions).toHaveLength(2);
  });
});

describe('DeleteTopics', () => {
  it('kafkajs deletes a topic and its log directory is renamed -delete', async () => {
    await create('dt-a');
    expect((await readdir(dir)).includes('dt-a-0')).toBe(true);
    await admin.deleteTopics({ topics: ['dt-a'] });
    expect(ctx().metadata.image.topicsByName.has('dt-a')).toBe(false);
    const entries = await readdir(dir);
    expect(entries.includes('dt-a-0')).toBe(false);
    expect(entries.some((e) => /^dt-a-0\.[0-9a-f]{32}-delete$/.test(e))).toBe(true);
    expect(logOf('dt-a')).toBeUndefined();
  });

  it('v6 deletes by id and answers unknown, duplicate and malformed entries', async () => {
    await create('dt-b');
    await create('dt-c');
    const idB = ctx().metadata.image.topicsByName.get('dt-b')!.id;
    const idC = ctx().metadata.image.topicsByName.get('dt-c')!.id;
    const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const res = await conn.send(ApiKey.DeleteTopics, {
      topics: [
        { name: null, topicId: idB },
        { name: null, topicId: unknownId },
        { name: 'dt-missing', topicId: ZERO_UUID },
        { name: 'dt-c', topicId: idC },
        { name: null, topicId: ZERO_UUID },
        { name: 'dt-c', topicId: ZERO_UUID },
        { name: 'dt-c', topicId: ZERO_UUID },
      ],
      timeoutMs: 5000,
    }, { version: 6 });
    const find = (name: string | null, id: string) => res.responses.find((r) => r.name === name && r.topicId === id);
    expect(find('dt-b', idB)).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null });
    expect(find(null, unknownId)!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    expect(find('dt-missing', ZERO_UUID)!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(find('dt-c', idC)).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'You may not specify both topic name and topic id.' });
    expect(find(null, ZERO_UUID)).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Neither topic name nor id were specified.' });
    expect(find('dt-c', ZERO_UUID)).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
    expect(res.responses).toHaveLength(6);
    expect(ctx().metadata.image.topicsByName.has('dt-b')).toBe(false);
    expect(ctx().metadata.image.topicsByName.has('dt-c')).toBe(true);
  });

  it('a name whose id is also given deletes neither and is answered for the name only', async () => {
    await create('dt-d');
    const id = ctx().metadata.image.topicsByName.get('dt-d')!.id;
    const res = await conn.send(ApiKey.DeleteTopics, { topics: [{ name: null, topicId: id }, { name: 'dt-d', topicId: ZERO_UUID }], timeoutMs: 5000 }, { version: 6 });
    expect(res.responses).toEqual([{ name: 'dt-d', topicId: id, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'The provided topic name maps to an ID that was already supplied.' }]);
    expect(ctx().metadata.image.topicsByName.has('dt-d')).toBe(true);
  });

  it('v1 by names answers UNKNOWN_TOPIC_OR_PARTITION for a missing topic', async () => {
    const res = await conn.send(ApiKey.DeleteTopics, { topicNames: ['dt-none'], timeoutMs: 1000 }, { version: 1 });
    expect(res.responses).toEqual([expect.objectContaining({ name: 'dt-none', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION })]);
  });
});

describe('CreatePartitions', () => {
  it('kafkajs grows a topic and the new partitions get logs', async () => {
    await create('cp-a');
    await admin.createPartitions({ topicPartitions: [{ topic: 'cp-a', count: 3 }] });
    expect(ctx().metadata.image.topicsByName.get('cp-a')!.partitions).toHaveLength(3);
    expect(logOf('cp-a', 2)).toBeDefined();
  });

  it('validateOnly changes nothing; errors are per topic', async () => {
    await create('cp-b');
    const res = await conn.send(ApiKey.CreatePartitions, {
      topics: [
        { name: 'cp-b', count: 4, assignments: null },
        { name: 'cp-none', count: 2, assignments: null },
        { name: 'cp-a', count: 2, assignments: null },
        { name: 'cp-x', count: 2, assignments: null },
        { name: 'cp-x', count: 2, assignments: null },
      ],
      timeoutMs: 5000,
      validateOnly: true,
    }, { version: 3 });
    const by = new Map(res.results.map((r) => [r.name, r]));
    expect(res.results).toHaveLength(4);
    expect(by.get('cp-b')!.errorCode).toBe(ErrorCode.NONE);
    expect(by.get('cp-none')!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(by.get('cp-a')!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    expect(by.get('cp-x')).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
    expect(ctx().metadata.image.topicsByName.get('cp-b')!.partitions).toHaveLength(1);
  });
});

describe('DescribeConfigs', () => {
  it('kafkajs sees topic overrides with source and synonyms', async () => {
    await create('dc-a', 1, { 'retention.ms': '5000' });
    const res = await admin.describeConfigs({ resources: [{ type: TOPIC, name: 'dc-a', configNames: ['retention.ms', 'segment.bytes'] }], includeSynonyms: true });
    const entries = new Map(res.resources[0]!.configEntries.map((e) => [e.configName, e]));
    expect(entries.size).toBe(2);
    const retention = entries.get('retention.ms')! as unknown as { configValue: string; configSource: number; configSynonyms: { configName: string; configSource: number }[] };
    expect(retention.configValue).toBe('5000');
    expect(retention.configSource).toBe(1);
    // As in Kafka, synonyms start at log.retention.ms, which is unset here.
    expect(retention.configSynonyms.map((s) => [s.configName, s.configSource])).toEqual([['retention.ms', 1]]);
    const segment = entries.get('segment.bytes')! as unknown as typeof retention;
    expect([segment.configValue, segment.configSource]).toEqual(['1073741824', 5]);
    expect(segment.configSynonyms.map((s) => [s.configName, s.configSource])).toEqual([['log.segment.bytes', 5]]);
  });

  it('answers unknown topics, other brokers and bad names per resource; lists loggers', async () => {
    const res = await conn.send(ApiKey.DescribeConfigs, {
      resources: [
        { resourceType: TOPIC, resourceName: 'dc-none', configurationKeys: null },
        { resourceType: BROKER, resourceName: '7', configurationKeys: null },
        { resourceType: BROKER, resourceName: 'one', configurationKeys: null },
        { resourceType: BROKER, resourceName: '1', configurationKeys: ['log.dirs', 'log.retention.hours'] },
        { resourceType: BROKER_LOGGER, resourceName: '1', configurationKeys: null },
      ],
      includeSynonyms: true,
      includeDocumentation: true,
    }, { version: 4 });
    const [none, other, bad, self, loggers] = res.results;
    expect(none).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, configs: [] });
    expect(other).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unexpected broker id, expected 1, but received 7' });
    expect(bad).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Broker id must be an integer, but it is: one' });
    const byName = new Map(self!.configs.map((c) => [c.name, c]));
    expect(byName.get('log.dirs')).toMatchObject({ value: dir, readOnly: true, configSource: 4 });
    expect(byName.get('log.retention.hours')).toMatchObject({ readOnly: false, configSource: 5 });
    expect(byName.get('log.retention.hours')!.documentation).toBeTruthy();
    expect(loggers!.configs).toEqual([expect.objectContaining({ name: 'root', value: 'OFF', configSource: 6 })]);
  });

  it('an unknown resource type fails the whole request', async () => {
    const res = await conn.send(ApiKey.DescribeConfigs, { resources: [{ resourceType: 99, resourceName: 'x', configurationKeys: null }, { resourceType: TOPIC, resourceName: 'dc-a', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    expect(res.results.map((r) => r.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
  });
});

describe('AlterConfigs (legacy)', () => {
  it('kafkajs replaces the whole set of overrides and the open log follows', async () => {
    await create('ac-a', 1, { 'retention.ms': '5000', 'segment.ms': '100000' });
    expect(logOf('ac-a')!.config.segmentMs).toBe(100000);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: 'ac-a', configEntries: [{ name: 'retention.ms', value: '7777' }] }] });
    expect(Object.fromEntries(ctx().metadata.image.configs.get(`${TOPIC}:ac-a`)!)).toEqual({ 'retention.ms': '7777' });
    expect(logOf('ac-a')!.config.retentionMs).toBe(7777);
    expect(logOf('ac-a')!.config.segmentMs).toBe(604800000);
  });

  it('validateOnly, unknown topics, bad values, nulls and duplicates', async () => {
    const res = await conn.send(ApiKey.AlterConfigs, {
      resources: [
        { resourceType: TOPIC, resourceName: 'ac-a', configs: [{ name: 'retention.ms', value: '1' }] },
        { resourceType: TOPIC, resourceName: 'ac-none', configs: [{ name: 'retention.ms', value: '1' }] },
        { resourceType: TOPIC, resourceName: 'dc-a', configs: [{ name: 'retention.ms', value: '-5' }] },
        { resourceType: TOPIC, resourceName: 'ct-ok', configs: [{ name: 'retention.ms', value: null }] },
        { resourceType: BROKER, resourceName: '', configs: [{ name: 'log.dirs', value: '/tmp/x' }] },
      ],
      validateOnly: true,
    }, { version: 2 });
    expect(res.responses.map((r) => [r.resourceName, r.errorCode, r.errorMessage])).toEqual([
      ['ac-a', ErrorCode.NONE, null],
      ['ac-none', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'ac-none' does not exist."],
      ['dc-a', ErrorCode.INVALID_CONFIG, 'Invalid value -5 for configuration retention.ms: Value must be at least -1'],
      ['ct-ok', ErrorCode.INVALID_REQUEST, 'Null value not supported for : retention.ms'],
      ['', ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(log.dirs)'],
    ]);
    expect(logOf('ac-a')!.config.retentionMs).toBe(7777);
  });
});

describe('IncrementalAlterConfigs', () => {
  async function alter(resources: { resourceType: number; resourceName: string; configs: { name: string; configOperation: number; value: string | null }[] }[], validateOnly = false) {
    return (await conn.send(ApiKey.IncrementalAlterConfigs, { resources, validateOnly }, { version: 1 })).responses;
  }

  it('APPEND and SUBTRACT edit list configs from the default; other types refuse them', async () => {
    await create('ia-a');
    let [r] = await alter([{ resourceType: TOPIC, resourceName: 'ia-a', configs: [{ name: 'cleanup.policy', configOperation: APPEND, value: 'compact' }] }]);
    expect(r!.errorCode).toBe(ErrorCode.NONE);
    expect(ctx().metadata.image.configs.get(`${TOPIC}:ia-a`)!.get('cleanup.policy')).toBe('delete,compact');
    expect(logOf('ia-a')!.config.cleanupPolicy).toEqual(['delete', 'compact']);
    [r] = await alter([{ resourceType: TOPIC, resourceName: 'ia-a', configs: [{ name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' }] }]);
    expect(r!.errorCode).toBe(ErrorCode.NONE);
    expect(logOf('ia-a')!.config.cleanupPolicy).toEqual(['compact']);
    [r] = await alter([{ resourceType: TOPIC, resourceName: 'ia-a', configs: [{ name: 'retention.ms', configOperation: APPEND, value: '5' }] }]);
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: "Can't APPEND to key retention.ms because its type is not LIST." });
    [r] = await alter([{ resourceType: TOPIC, resourceName: 'ia-a', configs: [{ name: 'cleanup.policy', configOperation: DELETE, value: null }, { name: 'retention.ms', configOperation: SET, value: '4242' }] }]);
    expect(r!.errorCode).toBe(ErrorCode.NONE);
    expect(Object.fromEntries(ctx().metadata.image.configs.get(`${TOPIC}:ia-a`)!)).toEqual({ 'retention.ms': '4242' });
    expect(logOf('ia-a')!.config).toMatchObject({ cleanupPolicy: ['delete'], retentionMs: 4242 });
  });

  it('cluster-wide and per-broker log defaults reach open logs without an override, and go away on DELETE', async () => {
    await create('ia-b');
    const before = logOf('ia-b')!.config.retentionMs;
    let [r] = await alter([{ resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '3600000' }] }]);
    expect(r!.errorCode).toBe(ErrorCode.NONE);
    expect(logOf('ia-b')!.config.retentionMs).toBe(3600000);
    expect(logOf('ia-a')!.config.retentionMs).toBe(4242); // the topic override still wins
    const desc = await conn.send(ApiKey.DescribeConfigs, {
      resources: [
        { resourceType: BROKER, resourceName: '', configurationKeys: null },
        { resourceType: TOPIC, resourceName: 'ia-b', configurationKeys: ['retention.ms'] },
      ],
      includeSynonyms: true,
      includeDocumentation: false,
    });
    expect(desc.results[0]!.configs.map((c) => [c.name, c.value, c.configSource])).toEqual([['log.retention.ms', '3600000', 3]]);
    expect(desc.results[1]!.configs[0]).toMatchObject({ value: '3600000', configSource: 3 });
    [r] = await alter([{ resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.segment.bytes', configOperation: SET, value: '1048576' }] }]);
    expect(r!.errorCode).toBe(ErrorCode.NONE);
    expect(logOf('ia-b')!.config.segmentBytes).toBe(1048576);
    await alter([
      { resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: DELETE, value: null }] },
      { resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.segment.bytes', configOperation: DELETE, value: null }] },
    ]);
    expect(logOf('ia-b')!.config.retentionMs).toBe(before);
    expect(logOf('ia-b')!.config.segmentBytes).toBe(1073741824);
  });

  it('refuses read-only, unknown and invalid broker configs, other brokers, duplicates and bad loggers', async () => {
    // One resource per request: a resource named twice in one request is refused as a whole.
    const one = async (r: Parameters<typeof alter>[0][number]) => (await alter([r]))[0]!;
    const cases: [Parameters<typeof alter>[0][number], number, unknown][] = [
      [{ resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.dirs', configOperation: SET, value: '/x' }, { name: 'node.id', configOperation: SET, value: '3' }] },
        ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(log.dirs, node.id)'],
      [{ resourceType: BROKER, resourceName: '7', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '1' }] }, ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1, but received 7'],
      [{ resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: SET, value: 'soon' }] },
        ErrorCode.INVALID_REQUEST, 'Invalid value soon for configuration log.retention.ms: Not a number of type LONG'],
      [{ resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '0' }] },
        ErrorCode.INVALID_REQUEST, 'log.retention.ms must be unlimited (-1) or, equal or greater than 1'],
      [{ resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.bogus', configOperation: SET, value: '1' }] }, ErrorCode.INVALID_REQUEST, expect.stringContaining('Unknown configuration log.retention.bogus')],
      [{ resourceType: BROKER, resourceName: '', configs: [{ name: 'listeners', configOperation: SET, value: 'PLAINTEXT://:1' }] },
        ErrorCode.INVALID_REQUEST, 'Cannot update these configs at default cluster level, broker id must be specified: Set(listeners)'],
      [{ resourceType: TOPIC, resourceName: 'ia-b', configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }, { name: 'retention.ms', configOperation: DELETE, value: null }] },
        ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'],
      [{ resourceType: TOPIC, resourceName: 'ia-none', configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }] }, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'ia-none' does not exist."],
      [{ resourceType: TOPIC, resourceName: 'ia-b', configs: [{ name: 'retention.ms', configOperation: 9, value: '1' }] }, ErrorCode.INVALID_REQUEST, 'Unknown operations type 9'],
      [{ resourceType: BROKER_LOGGER, resourceName: '1', configs: [{ name: 'kafka.server', configOperation: SET, value: 'DEBUG' }] }, ErrorCode.INVALID_CONFIG, 'Logger kafka.server does not exist!'],
      [{ resourceType: BROKER_LOGGER, resourceName: '1', configs: [{ name: 'root', configOperation: SET, value: 'LOUD' }] },
        ErrorCode.INVALID_CONFIG, 'Cannot set the log level of root to LOUD as it is not a supported log level. Valid log levels are FATAL, ERROR, WARN, INFO, DEBUG, TRACE'],
      [{ resourceType: BROKER_LOGGER, resourceName: '1', configs: [{ name: 'root', configOperation: APPEND, value: 'INFO' }] }, ErrorCode.INVALID_REQUEST, 'APPEND operation is not allowed for the BROKER_LOGGER resource'],
    ];
    for (const [resource, errorCode, errorMessage] of cases) {
      expect(await one(resource), JSON.stringify(resource.configs)).toEqual({ resourceType: resource.resourceType, resourceName: resource.resourceName, errorCode, errorMessage });
    }
    const both = await alter([cases[7]![0], cases[7]![0]]);
    expect(both.map((r) => [r.errorCode, r.errorMessage])).toEqual([[ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'], [ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.']]);
    expect(ctx().metadata.image.configs.has(`${BROKER}:`)).toBe(false);
    expect(ctx().metadata.image.configs.has(`${BROKER}:1`)).toBe(false);
  });

  it('BROKER_LOGGER SET changes the root level DescribeConfigs reports', async () => {
    const [r] = await alter([{ resourceType: BROKER_LOGGER, resourceName: '1', configs: [{ name: 'root', configOperation: SET, value: 'FATAL' }] }]);
    expect(r!.errorCode).toBe(ErrorCode.NONE);
    expect(ctx().logger.level).toBe('fatal');
    const d = await conn.send(ApiKey.DescribeConfigs, { resources: [{ resourceType: BROKER_LOGGER, resourceName: '1', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    expect(d.results[0]!.configs.map((c) => [c.name, c.value])).toEqual([['root', 'FATAL']]);
    ctx().logger.level = 'silent';
  });

  it('validateOnly commits nothing', async () => {
    const [r] = await alter([{ resourceType: TOPIC, resourceName: 'ia-b', configs: [{ name: 'retention.ms', configOperation: SET, value: '999' }] }], true);
    expect(r!.errorCode).toBe(ErrorCode.NONE);
    expect(ctx().metadata.image.configs.get(`${TOPIC}:ia-b`)?.get('retention.ms')).toBeUndefined();
    expect(logOf('ia-b')!.config.retentionMs).not.toBe(999);
  });
});

describe('DescribeCluster', () => {
  it('kafkajs sees this broker as the only broker and the controller', async () => {
    const c = await admin.describeCluster();
    const [host, port] = started.bootstrap.split(':');
    expect(c.brokers).toEqual([{ nodeId: 1, host, port: Number(port) }]);
    expect(c.controller).toBe(1);
    expect(c.clusterId).toBe(ctx().clusterId);
  });

  it('v1 answers operations when asked, and refuses the controller endpoint type', async () => {
    const ok = await conn.send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: true, endpointType: 1 }, { version: 1 });
    expect(ok).toMatchObject({ errorCode: ErrorCode.NONE, endpointType: 1, controllerId: 1 });
    expect(ok.clusterAuthorizedOperations).toBeGreaterThan(0);
    const ctl = await conn.send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 2 }, { version: 1 });
    expect(ctl.errorCode).toBe(ErrorCode.MISMATCHED_ENDPOINT_TYPE);
    const unknown = await conn.send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 9 }, { version: 1 });
    expect(unknown.errorCode).toBe(ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
  });
});

describe('DescribeTopicPartitions', () => {
  it('pages through partitions with a cursor', async () => {
    await create('dtp-a', 5);
    await create('dtp-b', 3);
    const topics = [{ name: 'dtp-b' }, { name: 'dtp-a' }, { name: 'dtp-none' }];
    const first = await conn.send(ApiKey.DescribeTopicPartitions, { topics, responsePartitionLimit: 4, cursor: null });
    expect(first.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)])).toEqual([['dtp-a', [0, 1, 2, 3]]]);
    expect(first.nextCursor).toEqual({ topicName: 'dtp-a', partitionIndex: 4 });
    const second = await conn.send(ApiKey.DescribeTopicPartitions, { topics, responsePartitionLimit: 4, cursor: first.nextCursor });
    expect(second.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)])).toEqual([
      ['dtp-a', 0, [4]],
      ['dtp-b', 0, [0, 1, 2]],
    ]);
    expect(second.nextCursor).toEqual({ topicName: 'dtp-none', partitionIndex: 0 });
    const third = await conn.send(ApiKey.DescribeTopicPartitions, { topics, responsePartitionLimit: 4, cursor: second.nextCursor });
    expect(third.topics).toEqual([expect.objectContaining({ name: 'dtp-none', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION })]);
    expect(third.nextCursor).toBeNull();
    const p = second.topics[1]!.partitions[0]!;
    expect(p).toMatchObject({ leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [], eligibleLeaderReplicas: [], lastKnownElr: [] });
    expect(second.topics[1]!.topicId).toBe(ctx().metadata.image.topicsByName.get('dtp-b')!.id);
  });

  it('lists all topics when none are named, and checks the cursor', async () => {
    const all = await conn.send(ApiKey.DescribeTopicPartitions, { topics: [], responsePartitionLimit: 2000, cursor: null });
    const names = all.topics.map((t) => t.name);
    expect(names).toEqual([...ctx().metadata.image.topicsByName.keys()].sort());
    expect(all.nextCursor).toBeNull();
    const bad = await conn.send(ApiKey.DescribeTopicPartitions, { topics: [{ name: 'dtp-a' }], responsePartitionLimit: 10, cursor: { topicName: 'dtp-b', partitionIndex: 0 } });
    expect(bad.topics.map((t) => t.errorCode)).toEqual([ErrorCode.INVALID_REQUEST]);
  });
});

describe('with delete.topic.enable=false', () => {
  it('DeleteTopics fails every topic: INVALID_REQUEST before v3, TOPIC_DELETION_DISABLED after', async () => {
    const other = await startBroker({ overrides: { 'delete.topic.enable': 'false' } });
    const [host, port] = other.bootstrap.split(':');
    const c = await KafkaConnection.connect(host!, Number(port), { clientId: 'admin-test' });
    try {
      const old = await c.send(ApiKey.DeleteTopics, { topicNames: ['a', 'b'], timeoutMs: 1000 }, { version: 2 });
      expect(old.responses.map((r) => r.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
      const cur = await c.send(ApiKey.DeleteTopics, { topics: [{ name: 'a', topicId: ZERO_UUID }], timeoutMs: 1000 }, { version: 6 });
      expect(cur.responses.map((r) => r.errorCode)).toEqual([ErrorCode.TOPIC_DELETION_DISABLED]);
    } finally {
      await c.close();
      await other.stop();
    }
  });
});
