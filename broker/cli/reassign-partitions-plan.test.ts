import { describe, expect, it } from 'vitest';
import {
  assignReplicasToBrokers,
  currentReassignmentsToString,
  formatReassignmentJson,
  parseBrokerList,
  parseReassignmentJson,
  parseTopicsToMove,
  proposeAssignment,
  reassignmentStatesToString,
  throttledReplicas,
} from './reassign-partitions-plan.ts';

describe('reassign-partitions plan', () => {
  it("writes and reads Kafka's reassignment JSON", () => {
    const json = formatReassignmentJson([
      { topic: 'b', partition: 0, replicas: [1, 2] },
      { topic: 'a', partition: 1, replicas: [3] },
      { topic: 'a', partition: 0, replicas: [2, 3] },
    ]);
    expect(json).toBe(
      '{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[2,3],"log_dirs":["any","any"]},{"topic":"a","partition":1,"replicas":[3],"log_dirs":["any"]},{"topic":"b","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}',
    );
    expect(parseReassignmentJson(json)).toEqual([
      { topic: 'a', partition: 0, replicas: [2, 3] },
      { topic: 'a', partition: 1, replicas: [3] },
      { topic: 'b', partition: 0, replicas: [1, 2] },
    ]);
    expect(() => parseReassignmentJson('{"version":1,"partitions":[]}')).toThrow('Partition reassignment list cannot be empty');
    expect(() => parseReassignmentJson('{"partitions":[{"topic":"a","partition":0,"replicas":[1]},{"topic":"a","partition":0,"replicas":[2]}]}')).toThrow('duplicate topic partitions: a-0');
    expect(() => parseReassignmentJson('{"partitions":[{"topic":"a","partition":0,"replicas":[1,1]}]}')).toThrow('may not contain duplicate entries');
    expect(() => parseReassignmentJson('{"partitions":[{"topic":"a","partition":0,"replicas":[1],"log_dirs":["/x"]}]}')).toThrow('not supported');
    expect(parseTopicsToMove('{"topics":[{"topic":"foo"},{"topic":"bar"}],"version":1}')).toEqual(['foo', 'bar']);
    expect(parseBrokerList('1, 2,3')).toEqual([1, 2, 3]);
    expect(() => parseBrokerList('1,1')).toThrow('Duplicate broker IDs in broker list: 1');
  });

  it("places replicas as Kafka's rack-unaware assignment: leaders round-robin, followers shifted, each broker once per partition", () => {
    // Fixed start 0 and shift 0 (random() = 0): Kafka's own unit-test expectation for 5 brokers.
    expect(assignReplicasToBrokers(10, 3, [0, 1, 2, 3, 4], () => 0)).toEqual([
      [0, 1, 2],
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 0],
      [4, 0, 1],
      [0, 2, 3],
      [1, 3, 4],
      [2, 4, 0],
      [3, 0, 1],
      [4, 1, 2],
    ]);
    for (let i = 0; i < 20; i++) {
      const lists = assignReplicasToBrokers(12, 3, [4, 1, 2, 3]);
      for (const l of lists) expect(new Set(l).size).toBe(3);
      const leaders = lists.map((l) => l[0]);
      for (const b of [1, 2, 3, 4]) expect(leaders.filter((x) => x === b)).toHaveLength(3);
    }
    expect(() => assignReplicasToBrokers(1, 3, [1, 2])).toThrow('Replication factor: 3 larger than available brokers: 2.');
    const proposed = proposeAssignment([{ topic: 't', partition: 0, replicas: [1, 2, 3] }, { topic: 't', partition: 1, replicas: [2, 3, 1] }], [2, 3, 4]);
    expect(proposed.map((p) => p.replicas.length)).toEqual([3, 3]);
    for (const p of proposed) expect([...p.replicas].sort()).toEqual([2, 3, 4]);
  });

  it('throttles the current replicas of moving partitions on the leader side and the added ones on the follower side', () => {
    const current = new Map([
      ['t-0', [1, 2, 3]],
      ['t-1', [2, 3, 1]],
    ]);
    const t = throttledReplicas(
      [
        { topic: 't', partition: 0, replicas: [2, 3, 4] },
        { topic: 't', partition: 1, replicas: [2, 3, 1] },
      ],
      current,
    );
    expect(t.get('t')).toEqual({ leader: ['0:1', '0:2', '0:3'], follower: ['0:4'] });
  });

  it("prints Kafka's --verify and --list lines", () => {
    const states = new Map([
      ['t-1', { topic: 't', partition: 1, currentReplicas: [1, 2], targetReplicas: [1, 2], done: true }],
      ['t-0', { topic: 't', partition: 0, currentReplicas: [1, 2, 3], targetReplicas: [1, 2], done: false }],
      ['t-2', { topic: 't', partition: 2, currentReplicas: [3], targetReplicas: [4], done: true }],
    ]);
    expect(reassignmentStatesToString(states)).toBe(
      [
        'Status of partition reassignment:',
        'Reassignment of partition t-0 is still in progress.',
        'Reassignment of partition t-1 is completed.',
        'There is no active reassignment of partition t-2, but replica set is 3 rather than 4.',
      ].join('\n'),
    );
    expect(currentReassignmentsToString([])).toBe('No partition reassignments found.');
    expect(currentReassignmentsToString([{ topic: 't', partition: 0, replicas: [2, 3, 4, 1], addingReplicas: [4], removingReplicas: [1] }])).toBe(
      'Current partition reassignments:\nt-0: replicas: 2,3,4,1. adding: 4. removing: 1.',
    );
  });
});

describe('samsa reassign-partitions options', () => {
  it('requires exactly one action and a bootstrap server, as Kafka does', async () => {
    const { runReassignPartitions } = await import('./reassign-partitions.ts');
    const io = { out: () => undefined, err: () => undefined, fail: () => undefined };
    await expect(runReassignPartitions({ bootstrapServer: 'localhost:1' }, io)).rejects.toThrow('Command must include exactly one action: --generate, --execute, --verify, --cancel, --list');
    await expect(runReassignPartitions({ bootstrapServer: 'localhost:1', list: true, verify: true }, io)).rejects.toThrow('exactly one action');
    await expect(runReassignPartitions({ list: true }, io)).rejects.toThrow('Please specify --bootstrap-server');
  });
});
