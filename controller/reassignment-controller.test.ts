// The quorum controller completing reassignments on its own: once a committed ISR change puts
// every target replica in the ISR, the active controller commits the completion.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/errors.ts';
import { alterPartition } from './alter-partition.ts';
import { QuorumController } from './quorum-controller.ts';
import { QuorumStateStore } from './raft/quorum-state.ts';
import { RaftClient } from './raft/raft-client.ts';
import { MemoryReplicatedLog } from './raft/replicated-log.ts';
import { alterPartitionReassignments, listPartitionReassignments } from './reassignment.ts';

const logger = pino({ level: 'silent' });

async function waitFor<T>(what: string, check: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${what}: not within 2 s`);
}

describe('QuorumController and reassignments', () => {
  it('completes a reassignment once the leader adds the new replica to the ISR, moving leadership to it', async () => {
    const raft = new RaftClient({ nodeId: 1, voters: [1], log: new MemoryReplicatedLog(), stateStore: new QuorumStateStore(mkdtempSync(join(tmpdir(), 'samsa-qc-'))), logger });
    const qc = new QuorumController({ raft, logger, deleteTopicEnable: true, topicDefaults: { numPartitions: 1, defaultReplicationFactor: 1, validateConfigs: () => [] } });
    await qc.start();
    const epochs = new Map<number, bigint>();
    for (const id of [1, 2]) {
      const reg = await qc.registerBroker({ brokerId: id, incarnationId: id === 1 ? 'AAAAAAAAAAAAAAAAAAAAAQ' : 'AAAAAAAAAAAAAAAAAAAAAg', endpoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9090 + id, securityProtocol: 0 }], rack: null, logDirs: [], features: [] });
      epochs.set(id, reg.brokerEpoch);
      await qc.brokerHeartbeat({ brokerId: id, brokerEpoch: reg.brokerEpoch, currentMetadataOffset: qc.raft.hw, wantFence: false, wantShutDown: false });
    }
    const created = await qc.createTopics([{ name: 't', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }], configs: [] }], false);
    expect(created[0]!.errorCode).toBe(ErrorCode.NONE);

    const started = await qc.run((image) => alterPartitionReassignments(image, [{ name: 't', partitions: [{ partitionIndex: 0, replicas: [2] }] }]));
    expect(started[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(listPartitionReassignments(qc.image, null)).toEqual([{ name: 't', partitions: [{ partitionIndex: 0, replicas: [2, 1], addingReplicas: [2], removingReplicas: [1] }] }]);

    // The leader (broker 1) says broker 2 caught up.
    const topic = qc.image.topicsByName.get('t')!;
    const p = topic.partitions[0]!;
    const answer = await qc.run((image) =>
      alterPartition(
        image,
        {
          brokerId: 1,
          brokerEpoch: epochs.get(1)!,
          topics: [{ topicId: topic.id, partitions: [{ partitionIndex: 0, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, leaderRecoveryState: 0, newIsrWithEpochs: [1, 2].map((id) => ({ brokerId: id, brokerEpoch: epochs.get(id)! })) }] }],
        },
        3,
      ),
    );
    expect(answer.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    const done = await waitFor('the reassignment completed', () => {
      const q = qc.image.topicsByName.get('t')!.partitions[0]!;
      return q.addingReplicas.length === 0 ? q : undefined;
    });
    expect(done).toMatchObject({ replicas: [2], isr: [2], leader: 2, removingReplicas: [] });
    expect(done.leaderEpoch).toBe(p.leaderEpoch + 1);
    await qc.close();
  });
});
