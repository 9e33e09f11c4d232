import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../errors.ts';
import { ApiKey } from '../generated/api-table.ts';
import type { ApiMessages } from '../generated/api-table.ts';
import { ZERO_UUID } from '../uuid.ts';
import { AlterConfigOp, ConfigResourceType, KafkaClient, OffsetSpec, parseHostPort } from './client.ts';
import type { KafkaClientOptions } from './client.ts';
import { allApiVersions, FakePeer, type PeerAnswer, type PeerRequest } from './fake-peer.ts';
import type { VersionRange } from './connection.ts';

type Hook = (req: PeerRequest, nodeId: number) => PeerAnswer | Promise<PeerAnswer>;

interface Cluster {
  peers: FakePeer[];
  controllerId: number;
  topics: Map<string, { topicId: string; leaders: number[] }>;
  hooks: Map<number, Hook>;
  bootstrap: string;
  /** Requests of one API as seen by node ids (1-based). */
  seen(apiKey: number): Array<[nodeId: number, req: PeerRequest]>;
}

const peersToStop: FakePeer[] = [];
const clients: KafkaClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const p of peersToStop.splice(0)) await p.stop();
});

const TOPIC_ID = 'q1w2e3r4t5y6u7i8o9p0aQ';

async function startCluster(nodes: number, apiVersions?: Map<number, VersionRange>): Promise<Cluster> {
  const cluster: Cluster = {
    peers: [],
    controllerId: 1,
    topics: new Map([['t', { topicId: TOPIC_ID, leaders: [1, 2] }]]),
    hooks: new Map(),
    bootstrap: '',
    seen(apiKey) {
      return this.peers.flatMap((p, i) => p.requestsFor(apiKey).map((r) => [i + 1, r] as [number, PeerRequest]));
    },
  };
  for (let i = 0; i < nodes; i++) {
    const nodeId = i + 1;
    const peer = await FakePeer.start((req) => answer(cluster, nodeId, req), { apiVersions, ordered: true });
    cluster.peers.push(peer);
    peersToStop.push(peer);
  }
  cluster.bootstrap = `127.0.0.1:${cluster.peers[0]!.port}`;
  return cluster;
}

function answer(cluster: Cluster, nodeId: number, req: PeerRequest): PeerAnswer | Promise<PeerAnswer> {
  if (req.apiKey === ApiKey.Metadata) return { message: metadataResponse(cluster, req.body as ApiMessages[3]['request']) };
  const hook = cluster.hooks.get(req.apiKey);
  if (!hook) throw new Error(`no hook for api ${req.apiKey}`);
  return hook(req, nodeId);
}

function metadataResponse(cluster: Cluster, body: ApiMessages[3]['request']): ApiMessages[3]['response'] {
  const names = body.topics === null ? [...cluster.topics.keys()] : body.topics.map((t) => t.name!);
  return {
    throttleTimeMs: 0,
    brokers: cluster.peers.map((p, i) => ({ nodeId: i + 1, host: '127.0.0.1', port: p.port, rack: null })),
    clusterId: 'test-cluster',
    controllerId: cluster.controllerId,
    topics: names.map((name) => {
      const t = cluster.topics.get(name);
      if (!t) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, topicId: ZERO_UUID, isInternal: false, partitions: [] };
      return {
        errorCode: 0,
        name,
        topicId: t.topicId,
        isInternal: false,
        partitions: t.leaders.map((leaderId, partitionIndex) => ({
          errorCode: 0,
          partitionIndex,
          leaderId,
          leaderEpoch: 0,
          replicaNodes: [leaderId],
          isrNodes: [leaderId],
          offlineReplicas: [],
        })),
      };
    }),
  };
}

async function client(cluster: Cluster, options: Partial<KafkaClientOptions> = {}): Promise<KafkaClient> {
  const c = new KafkaClient({ bootstrapServers: cluster.bootstrap, clientId: 'client-test', retries: 3, retryBackoffMs: 1, retryBackoffMaxMs: 5, ...options });
  clients.push(c);
  await c.connect();
  return c;
}

function produceAnswer(req: PeerRequest, errorCode: number, baseOffset = 0n): PeerAnswer {
  const body = req.body as ApiMessages[0]['request'];
  if (body.acks === 0) return undefined;
  const t = body.topicData[0]!;
  return { message: { responses: [{ name: t.name, partitionResponses: [{ index: t.partitionData[0]!.index, errorCode, baseOffset, errorMessage: null }] }] } };
}

describe('bootstrap and metadata', () => {
  it('learns brokers, controller and cluster id, and caches topic metadata', async () => {
    const cluster = await startCluster(2);
    const c = await client(cluster);
    expect([...c.brokers.keys()].sort()).toEqual([1, 2]);
    expect(c.brokers.get(2)!.port).toBe(cluster.peers[1]!.port);
    expect(c.controllerId).toBe(1);
    expect(c.clusterId).toBe('test-cluster');
    expect(cluster.seen(ApiKey.Metadata)[0]![1].body).toMatchObject({ topics: [], allowAutoTopicCreation: false });

    const res = await c.metadata(['t', 'nope']);
    expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([['t', 0], ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
    expect(c.topic('t')!.topicId).toBe(TOPIC_ID);
    expect(c.topic('t')!.partitions.get(1)!.leaderId).toBe(2);
    expect(c.topic('nope')!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await c.metadata();
    expect(cluster.seen(ApiKey.Metadata).at(-1)![1].body).toMatchObject({ topics: null });
  });

  it('skips an unreachable bootstrap server', async () => {
    const cluster = await startCluster(1);
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const c = await client(cluster, { bootstrapServers: [`127.0.0.1:${deadPort}`, cluster.bootstrap] });
    expect(c.brokers.size).toBe(1);
  });

  it('parses host:port forms', () => {
    expect(parseHostPort('localhost:9092')).toEqual({ host: 'localhost', port: 9092 });
    expect(parseHostPort('[::1]:9093')).toEqual({ host: '::1', port: 9093 });
    expect(() => parseHostPort('localhost')).toThrow(TypeError);
    expect(() => parseHostPort('h:0')).toThrow(TypeError);
  });
});

describe('produce', () => {
  it('goes to the partition leader and returns its answer', async () => {
    const cluster = await startCluster(2);
    cluster.hooks.set(ApiKey.Produce, (req) => produceAnswer(req, 0, 41n));
    const c = await client(cluster);
    const batch = Buffer.from('an encoded batch');
    const res = await c.produce('t', 1, batch, { acks: 1, timeoutMs: 500 });
    expect(res!.baseOffset).toBe(41n);
    const seen = cluster.seen(ApiKey.Produce);
    expect(seen.map(([node]) => node)).toEqual([2]);
    const body = seen[0]![1].body as ApiMessages[0]['request'];
    expect(body).toMatchObject({ acks: 1, timeoutMs: 500, transactionalId: null });
    expect(body.topicData[0]!.partitionData[0]!.records!.equals(batch)).toBe(true);
  });

  it('follows a moved leader after NOT_LEADER_OR_FOLLOWER', async () => {
    const cluster = await startCluster(2);
    cluster.hooks.set(ApiKey.Produce, (req, nodeId) => {
      const leader = cluster.topics.get('t')!.leaders[0];
      return produceAnswer(req, nodeId === leader ? 0 : ErrorCode.NOT_LEADER_OR_FOLLOWER, 7n);
    });
    const c = await client(cluster);
    await c.metadata(['t']);
    cluster.topics.get('t')!.leaders[0] = 2;
    const metadataBefore = cluster.seen(ApiKey.Metadata).length;
    const res = await c.produce('t', 0, Buffer.from('x'));
    expect(res!.baseOffset).toBe(7n);
    expect(cluster.seen(ApiKey.Produce).map(([node]) => node)).toEqual([1, 2]);
    expect(cluster.seen(ApiKey.Metadata).length).toBe(metadataBefore + 1);
  });

  it('gives up on an unknown topic after the configured retries', async () => {
    const cluster = await startCluster(1);
    cluster.hooks.set(ApiKey.Produce, (req) => produceAnswer(req, 0));
    const c = await client(cluster, { retries: 3 });
    const attempt = c.produce('missing', 0, Buffer.from('x'));
    await expect(attempt).rejects.toBeInstanceOf(KafkaError);
    await expect(attempt).rejects.toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    const asked = cluster.seen(ApiKey.Metadata).filter(([, r]) => (r.body as ApiMessages[3]['request']).topics?.[0]?.name === 'missing');
    expect(asked).toHaveLength(4);
    expect(cluster.seen(ApiKey.Produce)).toHaveLength(0);
  });

  it('throws a non-retriable error at once', async () => {
    const cluster = await startCluster(1);
    cluster.hooks.set(ApiKey.Produce, (req) => produceAnswer(req, ErrorCode.MESSAGE_TOO_LARGE));
    const c = await client(cluster);
    await expect(c.produce('t', 0, Buffer.from('x'))).rejects.toMatchObject({ errorCode: ErrorCode.MESSAGE_TOO_LARGE });
    expect(cluster.seen(ApiKey.Produce)).toHaveLength(1);
  });

  it('retries on a fresh connection after the broker drops one', async () => {
    const cluster = await startCluster(1);
    let drops = 1;
    cluster.hooks.set(ApiKey.Produce, (req) => {
      if (drops-- > 0) {
        cluster.peers[0]!.sockets[req.connection]!.destroy();
        return new Promise(() => {});
      }
      return produceAnswer(req, 0, 3n);
    });
    const c = await client(cluster);
    expect((await c.produce('t', 0, Buffer.from('x')))!.baseOffset).toBe(3n);
    const conns = cluster.seen(ApiKey.Produce).map(([, r]) => r.connection);
    expect(conns).toHaveLength(2);
    expect(conns[0]).not.toBe(conns[1]);
  });

  it('resolves acks=0 with null', async () => {
    const cluster = await startCluster(1);
    cluster.hooks.set(ApiKey.Produce, (req) => produceAnswer(req, 0));
    const c = await client(cluster);
    expect(await c.produce('t', 0, Buffer.from('x'), { acks: 0 })).toBeNull();
    await expect.poll(() => cluster.seen(ApiKey.Produce).length, { timeout: 5000 }).toBe(1);
  });
});

describe('fetch and list offsets', () => {
  const records = Buffer.alloc(10_000, 9);
  function fetchHook(errorCode = 0): Hook {
    return (req) => {
      const body = req.body as ApiMessages[1]['request'];
      const t = body.topics[0]!;
      return {
        message: {
          throttleTimeMs: 0,
          errorCode: 0,
          sessionId: 0,
          responses: [
            {
              topic: t.topic,
              topicId: t.topicId,
              partitions: [{ partitionIndex: t.partitions[0]!.partition, errorCode, highWatermark: 50n, lastStableOffset: 50n, logStartOffset: 0n, records: errorCode ? null : records }],
            },
          ],
        },
      };
    };
  }

  it('fetches by topic id at v13+ and returns the raw records and watermarks', async () => {
    const cluster = await startCluster(2);
    cluster.hooks.set(ApiKey.Fetch, fetchHook());
    const c = await client(cluster);
    const res = await c.fetch('t', 1, 5n, { maxBytes: 65536, maxWaitMs: 10, isolationLevel: 1 });
    expect(res.records.equals(records)).toBe(true);
    expect(res.highWatermark).toBe(50n);
    const [[node, req]] = cluster.seen(ApiKey.Fetch) as [[number, PeerRequest]];
    expect(node).toBe(2);
    expect(req.version).toBeGreaterThanOrEqual(13);
    const body = req.body as ApiMessages[1]['request'];
    expect(body).toMatchObject({ maxWaitMs: 10, minBytes: 1, isolationLevel: 1, sessionEpoch: -1 });
    expect(body.topics[0]!.topicId).toBe(TOPIC_ID);
    expect(body.topics[0]!.partitions[0]).toMatchObject({ partition: 1, fetchOffset: 5n, partitionMaxBytes: 65536 });
  });

  it('stays on Fetch v12 by name when the topic has no id', async () => {
    const cluster = await startCluster(1);
    cluster.topics.set('old', { topicId: ZERO_UUID, leaders: [1] });
    cluster.hooks.set(ApiKey.Fetch, fetchHook());
    const c = await client(cluster);
    const res = await c.fetch('old', 0, 0n);
    expect(res.highWatermark).toBe(50n);
    const req = cluster.seen(ApiKey.Fetch)[0]![1];
    expect(req.version).toBe(12);
    expect((req.body as ApiMessages[1]['request']).topics[0]!.topic).toBe('old');
  });

  it('throws OFFSET_OUT_OF_RANGE without retrying', async () => {
    const cluster = await startCluster(1);
    cluster.hooks.set(ApiKey.Fetch, fetchHook(ErrorCode.OFFSET_OUT_OF_RANGE));
    const c = await client(cluster);
    await expect(c.fetch('t', 0, 999n)).rejects.toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
    expect(cluster.seen(ApiKey.Fetch)).toHaveLength(1);
  });

  it('lists an offset, retrying OFFSET_NOT_AVAILABLE', async () => {
    const cluster = await startCluster(1);
    let first = true;
    cluster.hooks.set(ApiKey.ListOffsets, (req) => {
      const errorCode = first ? ErrorCode.OFFSET_NOT_AVAILABLE : 0;
      first = false;
      const t = (req.body as ApiMessages[2]['request']).topics[0]!;
      return { message: { throttleTimeMs: 0, topics: [{ name: t.name, partitions: [{ partitionIndex: 0, errorCode, timestamp: -1n, offset: 120n, leaderEpoch: 0 }] }] } };
    });
    const c = await client(cluster);
    const res = await c.listOffsets('t', 0, OffsetSpec.LATEST);
    expect(res.offset).toBe(120n);
    const seen = cluster.seen(ApiKey.ListOffsets);
    expect(seen).toHaveLength(2);
    expect((seen[0]![1].body as ApiMessages[2]['request']).topics[0]!.partitions[0]!.timestamp).toBe(-1n);
  });
});

describe('admin calls', () => {
  it('creates topics through the controller with configs', async () => {
    const cluster = await startCluster(2);
    cluster.controllerId = 2;
    cluster.hooks.set(ApiKey.CreateTopics, (req) => {
      const body = req.body as ApiMessages[19]['request'];
      return { message: { throttleTimeMs: 0, topics: body.topics.map((t) => ({ name: t.name, topicId: TOPIC_ID, errorCode: 0, errorMessage: null, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor, configs: [] })) } };
    });
    const c = await client(cluster);
    const res = await c.createTopics([{ name: 'n', numPartitions: 3, configs: { 'cleanup.policy': 'compact' } }], { timeoutMs: 1000 });
    expect(res.topics[0]).toMatchObject({ name: 'n', errorCode: 0 });
    const [[node, req]] = cluster.seen(ApiKey.CreateTopics) as [[number, PeerRequest]];
    expect(node).toBe(2);
    expect(req.body).toMatchObject({
      timeoutMs: 1000,
      validateOnly: false,
      topics: [{ name: 'n', numPartitions: 3, replicationFactor: -1, configs: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
  });

  it('retries a request every item of which reached a non-controller', async () => {
    const cluster = await startCluster(2);
    cluster.hooks.set(ApiKey.DeleteTopics, (req, nodeId) => {
      const body = req.body as ApiMessages[20]['request'];
      const errorCode = nodeId === cluster.controllerId ? 0 : ErrorCode.NOT_CONTROLLER;
      return { message: { throttleTimeMs: 0, responses: body.topics!.map((t) => ({ name: t.name, topicId: TOPIC_ID, errorCode, errorMessage: null })) } };
    });
    const c = await client(cluster);
    cluster.controllerId = 2;
    const res = await c.deleteTopics(['t']);
    expect(res.responses[0]!.errorCode).toBe(0);
    expect(cluster.seen(ApiKey.DeleteTopics).map(([node, r]) => [node, r.version])).toEqual([
      [1, 6],
      [2, 6],
    ]);
    expect((cluster.seen(ApiKey.DeleteTopics)[0]![1].body as ApiMessages[20]['request']).topics).toEqual([{ name: 't', topicId: ZERO_UUID }]);
  });

  it('uses topic names in DeleteTopics before v6', async () => {
    const versions = allApiVersions();
    versions.set(ApiKey.DeleteTopics, { minVersion: 0, maxVersion: 5 });
    const cluster = await startCluster(1, versions);
    cluster.hooks.set(ApiKey.DeleteTopics, (req) => {
      const body = req.body as ApiMessages[20]['request'];
      return { message: { throttleTimeMs: 0, responses: body.topicNames!.map((name) => ({ name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION })) } };
    });
    const c = await client(cluster);
    const res = await c.deleteTopics(['gone']);
    // A per-topic error is the caller's to read, and is not retried.
    expect(res.responses[0]).toMatchObject({ name: 'gone', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    expect(cluster.seen(ApiKey.DeleteTopics).map(([, r]) => r.version)).toEqual([5]);
  });

  it('sends broker config requests to the broker they name', async () => {
    const cluster = await startCluster(2);
    cluster.hooks.set(ApiKey.DescribeConfigs, (req) => {
      const body = req.body as ApiMessages[32]['request'];
      return {
        message: {
          throttleTimeMs: 0,
          results: body.resources.map((r) => ({ errorCode: 0, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] })),
        },
      };
    });
    cluster.hooks.set(ApiKey.IncrementalAlterConfigs, (req) => {
      const body = req.body as ApiMessages[44]['request'];
      return { message: { throttleTimeMs: 0, responses: body.resources.map((r) => ({ errorCode: 0, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName })) } };
    });
    const c = await client(cluster);
    await c.describeConfigs([
      { resourceType: ConfigResourceType.BROKER, resourceName: '2' },
      { resourceType: ConfigResourceType.TOPIC, resourceName: 't', configurationKeys: ['retention.ms'] },
    ]);
    await c.incrementalAlterConfigs([
      { resourceType: ConfigResourceType.BROKER, resourceName: '2', configs: [{ name: 'log.cleaner.threads', configOperation: AlterConfigOp.SET, value: '2' }] },
    ]);
    expect(cluster.seen(ApiKey.DescribeConfigs).map(([node]) => node)).toEqual([2]);
    expect(cluster.seen(ApiKey.IncrementalAlterConfigs).map(([node]) => node)).toEqual([2]);
    expect(cluster.seen(ApiKey.DescribeConfigs)[0]![1].body).toMatchObject({
      includeSynonyms: false,
      resources: [{ resourceName: '2', configurationKeys: null }, { resourceName: 't', configurationKeys: ['retention.ms'] }],
    });
    await expect(
      c.describeConfigs([
        { resourceType: ConfigResourceType.BROKER, resourceName: '1' },
        { resourceType: ConfigResourceType.BROKER, resourceName: '2' },
      ]),
    ).rejects.toBeInstanceOf(TypeError);
  });

  it('finds a coordinator, retrying COORDINATOR_NOT_AVAILABLE', async () => {
    const cluster = await startCluster(1);
    let first = true;
    cluster.hooks.set(ApiKey.FindCoordinator, (req) => {
      const body = req.body as ApiMessages[10]['request'];
      const errorCode = first ? ErrorCode.COORDINATOR_NOT_AVAILABLE : 0;
      first = false;
      return {
        message: {
          throttleTimeMs: 0,
          coordinators: body.coordinatorKeys!.map((key) => ({ key, nodeId: 1, host: '127.0.0.1', port: cluster.peers[0]!.port, errorCode, errorMessage: null })),
        },
      };
    });
    const c = await client(cluster);
    const coordinator = await c.findCoordinator('group-a');
    expect(coordinator).toEqual({ nodeId: 1, host: '127.0.0.1', port: cluster.peers[0]!.port });
    expect(cluster.seen(ApiKey.FindCoordinator).map(([, r]) => (r.body as ApiMessages[10]['request']).coordinatorKeys)).toEqual([['group-a'], ['group-a']]);
  });

  it('finds a coordinator with a single key before v4', async () => {
    const versions = allApiVersions();
    versions.set(ApiKey.FindCoordinator, { minVersion: 0, maxVersion: 3 });
    const cluster = await startCluster(1, versions);
    cluster.hooks.set(ApiKey.FindCoordinator, (req) => {
      expect((req.body as ApiMessages[10]['request']).key).toBe('txn-1');
      return { message: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 1, host: 'h', port: 9 } };
    });
    const c = await client(cluster);
    expect(await c.findCoordinator('txn-1', 1)).toEqual({ nodeId: 1, host: 'h', port: 9 });
    expect(cluster.seen(ApiKey.FindCoordinator)[0]![1]).toMatchObject({ version: 3, body: { keyType: 1 } });
  });
});
