import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/errors.ts';
import { ZERO_UUID } from '../protocol/uuid.ts';
import { QuorumController } from './quorum-controller.ts';
import { QuorumStateStore } from './raft/quorum-state.ts';
import { RaftClient } from './raft/raft-client.ts';
import { MemoryReplicatedLog } from './raft/replicated-log.ts';

const logger = pino({ level: 'silent' });

function controllerOn(log: MemoryReplicatedLog, dir: string): QuorumController {
  const raft = new RaftClient({ nodeId: 1, voters: [1], log, stateStore: new QuorumStateStore(dir), logger });
  return new QuorumController({
    raft,
    logger,
    deleteTopicEnable: true,
    topicDefaults: { numPartitions: 1, defaultReplicationFactor: 1, validateConfigs: (c) => (c.has('bogus') ? ['Unknown topic config name: bogus'] : []) },
  });
}

async function startedWithBroker(log = new MemoryReplicatedLog(), dir = mkdtempSync(join(tmpdir(), 'samsa-qc-'))) {
  const qc = controllerOn(log, dir);
  await qc.start();
  const reg = await qc.registerBroker({ brokerId: 1, incarnationId: 'AAAAAAAAAAAAAAAAAAAAAQ', endpoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 }], rack: null, logDirs: [], features: [] });
  const hb = await qc.brokerHeartbeat({ brokerId: 1, brokerEpoch: reg.brokerEpoch, currentMetadataOffset: qc.raft.hw, wantFence: false, wantShutDown: false });
  return { qc, log, dir, reg, hb };
}

describe('QuorumController on a single-voter quorum', () => {
  it('bootstraps, registers and unfences a broker', async () => {
    const { qc, hb } = await startedWithBroker();
    expect(qc.image.features.get('metadata.version')).toBe(21);
    expect(hb.isFenced).toBe(false);
    expect(qc.image.brokers.get(1)?.fenced).toBe(false);
    expect(qc.raft.currentEpoch).toBe(1);
  });

  it('creates topics with defaults, reports Kafka errors per topic, and commits nothing on validateOnly', async () => {
    const { qc } = await startedWithBroker();
    const res = await qc.createTopics(
      [
        { name: 'orders', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] },
        { name: 'defaults', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] },
        { name: 'bad/name', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'rf', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] },
        { name: 'zero', numPartitions: 0, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'cfg', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'bogus', value: 'x' }] },
        { name: 'manual', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 1, brokerIds: [1] }], configs: [] },
        { name: 'manual-bad', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [7] }], configs: [] },
      ],
      false,
    );
    expect(res.map((r) => [r.name, r.errorCode])).toEqual([
      ['orders', 0],
      ['defaults', 0],
      ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['rf', ErrorCode.INVALID_REPLICATION_FACTOR],
      ['zero', ErrorCode.INVALID_PARTITIONS],
      ['cfg', ErrorCode.INVALID_CONFIG],
      ['manual', 0],
      ['manual-bad', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    ]);
    const orders = qc.image.topicsByName.get('orders')!;
    expect(orders.id).toBe(res[0]!.topicId);
    expect(orders.partitions.map((p) => [p.leader, p.isr])).toEqual([[1, [1]], [1, [1]], [1, [1]]]);
    expect(qc.image.configs.get('2:orders')?.get('retention.ms')).toBe('1000');
    expect(qc.image.topicsByName.get('manual')!.partitions).toHaveLength(2);

    const again = await qc.createTopics([{ name: 'orders', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
    expect(again[0]!.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    const dry = await qc.createTopics([{ name: 'dry', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], true);
    expect(dry[0]).toMatchObject({ errorCode: 0, numPartitions: 2, topicId: ZERO_UUID });
    expect(qc.image.topicsByName.has('dry')).toBe(false);
    const clash = await qc.createTopics([{ name: 'a.b', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }, { name: 'a_b', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
    expect(clash.map((c) => c.errorCode)).toEqual([0, ErrorCode.INVALID_TOPIC_EXCEPTION]);
  });

  it('grows partitions and deletes topics by name and id', async () => {
    const { qc } = await startedWithBroker();
    await qc.createTopics([{ name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
    const grow = await qc.createPartitions([{ name: 't', count: 4, assignments: null }, { name: 'nope', count: 2, assignments: null }], false);
    expect(grow.map((g) => g.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(qc.image.topicsByName.get('t')!.partitions).toHaveLength(4);
    const shrink = await qc.createPartitions([{ name: 't', count: 2, assignments: null }], false);
    expect(shrink[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    const id = qc.image.topicsByName.get('t')!.id;
    const del = await qc.deleteTopics([{ name: null, topicId: id }, { name: 'missing', topicId: ZERO_UUID }]);
    expect(del.map((d) => [d.name, d.errorCode])).toEqual([['t', 0], ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
    expect(qc.image.topicsByName.size).toBe(0);
  });

  it('counts a broker that has every metadata record as caught up even when a leader change was committed after them', async () => {
    const log = new MemoryReplicatedLog();
    const dir = mkdtempSync(join(tmpdir(), 'samsa-qc-'));
    const first = controllerOn(log, dir);
    await first.start();
    const registration = { brokerId: 1, incarnationId: 'AAAAAAAAAAAAAAAAAAAAAQ', endpoints: [], rack: null, logDirs: [], features: [] };
    const reg = await first.registerBroker(registration);
    await first.close();
    // Restarted: the new epoch's LeaderChange is the last committed record, and no image shows it.
    const second = controllerOn(log, dir);
    await second.start();
    expect(second.raft.hw - 1n).toBeGreaterThan(second.image.offset);
    const again = await second.registerBroker(registration);
    expect(again.brokerEpoch).toBe(reg.brokerEpoch);
    const hb = await second.brokerHeartbeat({ brokerId: 1, brokerEpoch: reg.brokerEpoch, currentMetadataOffset: second.image.offset, wantFence: false, wantShutDown: false });
    expect(hb).toMatchObject({ isCaughtUp: true, isFenced: false });
  });

  it('hands out disjoint producer-id blocks', async () => {
    const { qc, reg } = await startedWithBroker();
    const a = await qc.allocateProducerIds(1, reg.brokerEpoch);
    const b = await qc.allocateProducerIds(1, reg.brokerEpoch);
    expect(b.producerIdStart).toBe(a.producerIdStart + BigInt(a.producerIdLen));
    expect((await qc.allocateProducerIds(1, 999n)).errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
  });

  it('rebuilds the same image after a restart, in a higher epoch', async () => {
    const { qc, log, dir } = await startedWithBroker();
    await qc.createTopics([{ name: 'kept', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], false);
    await qc.close();
    const again = controllerOn(log, dir);
    await again.start();
    expect(again.raft.currentEpoch).toBe(2);
    expect(again.image.topicsByName.get('kept')!.partitions).toHaveLength(2);
    expect(again.image.brokers.get(1)).toEqual(qc.image.brokers.get(1));
    expect(again.image.features).toEqual(qc.image.features);
  });

  it('loses nothing that was answered when unflushed data is dropped by a crash', async () => {
    const { qc, log, dir } = await startedWithBroker();
    await qc.createTopics([{ name: 'durable', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
    log.crash();
    const again = controllerOn(log, dir);
    await again.start();
    expect(again.image.topicsByName.has('durable')).toBe(true);
  });
});
