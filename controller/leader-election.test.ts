import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../protocol/scheduler.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import { fenceBroker } from './cluster-control.ts';
import { electLeaders, ElectionType, rebalanceLeaders } from './leader-election.ts';
import { leaveBroker, returnBroker, uncleanElectionPolicy } from './partition-leadership.ts';
import { QuorumController } from './quorum-controller.ts';
import { QuorumStateStore } from './raft/quorum-state.ts';
import { RaftClient } from './raft/raft-client.ts';
import { MemoryReplicatedLog } from './raft/replicated-log.ts';
import { record } from './metadata/record-serde.ts';
import { applyRecords, type TestPartition, testCluster, testPartition } from './test-images.ts';

const logger = pino({ level: 'silent' });

const apply = applyRecords;
const partition = testPartition;
const cluster = (partitions: TestPartition[], fenced: number[] = [], configs: Record<string, string> = {}) => testCluster(partitions, { fenced, configs });

describe('preferred election', () => {
  it('moves leadership to the first replica when it is in the ISR and live', () => {
    const image = cluster([{ replicas: [1, 2, 3], isr: [1, 2, 3], leader: 2 }]);
    const r = electLeaders(image, ElectionType.PREFERRED, [{ topic: 't', partitions: [0] }]);
    expect(r.response).toEqual({ errorCode: 0, results: [{ topic: 't', partitionResult: [{ partitionId: 0, errorCode: 0, errorMessage: null }] }] });
    const after = partition(apply(image, r.records), 0);
    expect(after).toMatchObject({ leader: 1, isr: [1, 2, 3], leaderEpoch: 1, leaderRecoveryState: 0 });
  });

  it('answers ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE and UNKNOWN_TOPIC_OR_PARTITION', () => {
    const image = cluster(
      [
        { replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1 },
        { replicas: [3, 1, 2], isr: [1, 2], leader: 1 },
        { replicas: [2, 1, 3], isr: [1, 2], leader: 1 },
      ],
      [2],
    );
    const r = electLeaders(image, ElectionType.PREFERRED, [
      { topic: 't', partitions: [0, 1, 2, 9] },
      { topic: 'nope', partitions: [0] },
    ]);
    expect(r.records).toEqual([]);
    const codes = r.response.results.map((t) => [t.topic, t.partitionResult.map((p) => [p.partitionId, p.errorCode])]);
    expect(codes).toEqual([
      [
        't',
        [
          [0, ErrorCode.ELECTION_NOT_NEEDED],
          [1, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE],
          [2, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE],
          [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        ],
      ],
      ['nope', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    ]);
    expect(r.response.results[0]!.partitionResult[1]!.errorMessage).toBe('The preferred leader was not available.');
  });

  it('for all partitions, leaves out those that need no election', () => {
    const image = cluster([
      { replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1 },
      { replicas: [2, 3, 1], isr: [1, 2, 3], leader: 3 },
    ]);
    const r = electLeaders(image, ElectionType.PREFERRED, null);
    expect(r.response.results).toEqual([{ topic: 't', partitionResult: [{ partitionId: 1, errorCode: 0, errorMessage: null }] }]);
    expect(partition(apply(image, r.records), 1).leader).toBe(2);
    const none = electLeaders(apply(image, r.records), ElectionType.PREFERRED, null);
    expect(none.response.results).toEqual([]);
  });

  it('refuses an unknown election type with INVALID_REQUEST on every partition', () => {
    const image = cluster([{ replicas: [1, 2, 3], isr: [1, 2, 3], leader: 2 }]);
    const r = electLeaders(image, 7, [{ topic: 't', partitions: [0] }]);
    expect(r.records).toEqual([]);
    expect(r.response.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(r.response.results[0]!.partitionResult[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });
});

describe('unclean election', () => {
  it('elects the first live replica with ISR [it], RECOVERING, when no ISR member is live', () => {
    const image = cluster([{ replicas: [1, 2, 3], isr: [1], leader: -1 }], [1]);
    const r = electLeaders(image, ElectionType.UNCLEAN, [{ topic: 't', partitions: [0] }]);
    expect(r.response.results[0]!.partitionResult[0]!.errorCode).toBe(0);
    expect(partition(apply(image, r.records), 0)).toMatchObject({ leader: 2, isr: [2], leaderRecoveryState: 1, leaderEpoch: 1 });
  });

  it('prefers a live ISR member, needs no election with a leader, and fails with none live', () => {
    const image = cluster(
      [
        { replicas: [1, 2, 3], isr: [1, 3], leader: -1 },
        { replicas: [1, 2, 3], isr: [1, 2, 3], leader: 2 },
        { replicas: [1], isr: [1], leader: -1 },
      ],
      [1],
    );
    const r = electLeaders(image, ElectionType.UNCLEAN, [{ topic: 't', partitions: [0, 1, 2] }]);
    expect(r.response.results[0]!.partitionResult.map((p) => p.errorCode)).toEqual([0, ErrorCode.ELECTION_NOT_NEEDED, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE]);
    expect(partition(apply(image, r.records), 0)).toMatchObject({ leader: 3, isr: [1, 3], leaderRecoveryState: 0 });
  });
});

describe('leaving broker and unclean.leader.election.enable', () => {
  const lastIsr: TestPartition = { replicas: [1, 2, 3], isr: [1], leader: 1 };

  it('leaves the partition offline by default', () => {
    const image = cluster([lastIsr]);
    const after = partition(apply(image, leaveBroker(image, 1)), 0);
    expect(after).toMatchObject({ leader: -1, isr: [1] });
  });

  it('elects a live out-of-sync replica when the topic allows it', () => {
    const image = cluster([lastIsr], [], { 'unclean.leader.election.enable': 'true' });
    const after = partition(apply(image, leaveBroker(image, 1)), 0);
    expect(after).toMatchObject({ leader: 2, isr: [2], leaderRecoveryState: 1 });
  });

  it('fencing follows the server\'s unclean.leader.election.enable when the topic does not say', () => {
    const image = cluster([lastIsr]);
    expect(partition(apply(image, fenceBroker(image, 1)), 0).leader).toBe(-1);
    expect(partition(apply(image, fenceBroker(image, 1, true)), 0)).toMatchObject({ leader: 2, isr: [2] });
  });

  it('takes the policy given over the image, and the topic config over the default', () => {
    const image = cluster([lastIsr]);
    expect(partition(apply(image, leaveBroker(image, 1, () => true)), 0).leader).toBe(2);
    expect(uncleanElectionPolicy(image, true)(image.topicsByName.get('t')!)).toBe(true);
    const off = cluster([lastIsr], [], { 'unclean.leader.election.enable': 'false' });
    expect(uncleanElectionPolicy(off, true)(off.topicsByName.get('t')!)).toBe(false);
  });

  it('a returning out-of-sync replica leads an offline partition only when the topic allows it', () => {
    const offline: TestPartition = { replicas: [1, 2, 3], isr: [1], leader: -1 };
    const closed = cluster([offline], [1, 2, 3]);
    expect(returnBroker(closed, 2)).toEqual([]);
    const open = cluster([offline], [1, 2, 3], { 'unclean.leader.election.enable': 'true' });
    expect(partition(apply(open, returnBroker(open, 2)), 0)).toMatchObject({ leader: 2, isr: [2], leaderRecoveryState: 1 });
    // The ISR member itself takes it back cleanly.
    expect(partition(apply(open, returnBroker(open, 1)), 0)).toMatchObject({ leader: 1, isr: [1], leaderRecoveryState: 0 });
  });

  it('still elects a live ISR member first', () => {
    const image = cluster([{ replicas: [1, 2, 3], isr: [1, 3], leader: 1 }], [], { 'unclean.leader.election.enable': 'true' });
    expect(partition(apply(image, leaveBroker(image, 1)), 0)).toMatchObject({ leader: 3, isr: [3], leaderRecoveryState: 0 });
  });
});

describe('leader rebalance', () => {
  it('elects preferred leaders only for brokers above the imbalance percentage', () => {
    // Broker 1 prefers 4 partitions and leads 2 (50% away); broker 2 prefers 10 and leads 9 (10%, not above).
    const parts: TestPartition[] = [];
    for (let i = 0; i < 4; i++) parts.push({ replicas: [1, 2, 3], isr: [1, 2, 3], leader: i < 2 ? 1 : 3 });
    for (let i = 0; i < 10; i++) parts.push({ replicas: [2, 1, 3], isr: [1, 2, 3], leader: i < 9 ? 2 : 3 });
    const image = cluster(parts);
    const r = rebalanceLeaders(image, 10);
    expect(r.response.elected).toBe(2);
    const after = apply(image, r.records);
    expect([2, 3].map((i) => partition(after, i).leader)).toEqual([1, 1]);
    expect(partition(after, 13).leader).toBe(3);
    expect(rebalanceLeaders(image, 0).response.elected).toBe(3);
  });

  it('skips a preferred broker that cannot lead', () => {
    const image = cluster([{ replicas: [1, 2, 3], isr: [2, 3], leader: 2 }]);
    expect(rebalanceLeaders(image, 10).records).toEqual([]);
  });
});

describe('the active controller balances leadership on its schedule', () => {
  it('elects the preferred leader after leader.imbalance.check.interval', async () => {
    const scheduler = new ManualScheduler();
    const dir = mkdtempSync(join(tmpdir(), 'samsa-le-'));
    const raft = new RaftClient({ nodeId: 1, voters: [1], log: new MemoryReplicatedLog(), stateStore: new QuorumStateStore(dir), logger });
    const qc = new QuorumController({
      raft,
      logger,
      scheduler,
      deleteTopicEnable: true,
      topicDefaults: { numPartitions: 1, defaultReplicationFactor: 1, validateConfigs: () => [] },
      leaderRebalance: { enable: true, checkIntervalMs: 1000, imbalancePercentage: 10 },
    });
    try {
      await qc.start();
      for (const id of [1, 2]) {
        const reg = await qc.registerBroker({ brokerId: id, incarnationId: id === 1 ? 'AAAAAAAAAAAAAAAAAAAAAQ' : 'AAAAAAAAAAAAAAAAAAAAAg', endpoints: [], rack: null, logDirs: [], features: [] });
        await qc.brokerHeartbeat({ brokerId: id, brokerEpoch: reg.brokerEpoch, currentMetadataOffset: qc.raft.hw, wantFence: false, wantShutDown: false });
      }
      const [created] = await qc.createTopics([{ name: 't', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] }], false);
      expect(created!.errorCode).toBe(0);
      const topicId = qc.image.topicsByName.get('t')!.id;
      await qc.run(() => ({
        records: [record(MetadataRecordType.PartitionChangeRecord, { partitionId: 0, topicId, leader: 2, isr: null, replicas: null, removingReplicas: null, addingReplicas: null, leaderRecoveryState: -1 })],
        response: undefined,
      }));
      expect(partition(qc.image, 0).leader).toBe(2);
      scheduler.advance(999);
      await new Promise((r) => setTimeout(r, 50));
      expect(partition(qc.image, 0).leader).toBe(2);
      scheduler.advance(1);
      for (let i = 0; i < 100 && partition(qc.image, 0).leader !== 1; i++) await new Promise((r) => setTimeout(r, 10));
      expect(partition(qc.image, 0)).toMatchObject({ leader: 1, isr: [1, 2] });
      expect(scheduler.failures).toEqual([]);
    } finally {
      await qc.close();
    }
  });
});
