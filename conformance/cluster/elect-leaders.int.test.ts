// Preferred leader election on a three-node KRaft cluster of real processes (each node broker and
// controller), with auto.leader.rebalance.enable=false so only the elections asked for move
// leaders: a topic with replication factor 3 starts with every partition led by its first
// replica; a broker stopped with SIGTERM hands its leaderships over in its controlled shutdown and,
// once restarted and back in the ISR, leads none of them; `samsa leader-election` (through a broker
// that forwards ElectLeaders to the active controller) moves them back and prints Kafka's lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaderElectionCommand } from '../../broker/cli/leader-election.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { eventually, FAST_FAILOVER_PROPERTIES, type PartitionView, partitionViews, withClient } from '../harness/cluster-checks.ts';
import { ClusterProcess } from '../harness/cluster-process.ts';

const TOPIC = 'elect';
const PARTITIONS = 6;
const PROPERTIES = { ...FAST_FAILOVER_PROPERTIES, 'auto.leader.rebalance.enable': 'false' };

let cluster: ClusterProcess;

type State = PartitionView;
const states = () => partitionViews(cluster.bootstrap, TOPIC, PARTITIONS);

async function cli(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const r = { out: '', err: '', code: 0 };
  const cmd = leaderElectionCommand({ out: (t) => (r.out += t), err: (t) => (r.err += t), fail: (c) => (r.code = c) });
  await cmd.parseAsync(args, { from: 'user' });
  return r;
}

const names = (ps: readonly State[]) => ps.map((p) => `${TOPIC}-${p.partition}`).join(', ');

beforeAll(async () => {
  cluster = await ClusterProcess.start({ nodes: 3, properties: PROPERTIES });
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('ElectLeaders', () => {
  it('moves leadership back to the first replicas after a broker stops and returns', async () => {
    await withClient(
      cluster.bootstrap,
      async (c) => {
        const r = await c.createTopics([{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }]);
        expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
      },
      { clientId: 'elect-test', retries: 3 },
    );
    const initial = await eventually('every partition led by its first replica with a full ISR', 20_000, async () => {
      const s = await states();
      return s?.every((p) => p.leader === p.replicas[0] && p.isr.length === 3) ? s : undefined;
    });
    const victim = cluster.node(initial[0]!.leader);
    const led = initial.filter((p) => p.replicas[0] === victim.id);

    // Nothing to do yet: an explicit partition needs no election.
    const noop = await cli(['--bootstrap-server', cluster.bootstrap.join(','), '--election-type', 'preferred', '--topic', TOPIC, '--partition', String(led[0]!.partition)]);
    expect(noop).toEqual({ out: `Valid replica already elected for partitions ${TOPIC}-${led[0]!.partition}\n`, err: '', code: 0 });

    await victim.stop('SIGTERM');
    await eventually(`no partition led by stopped broker ${victim.id}`, 20_000, async () => (await states())?.every((p) => p.leader >= 0 && p.leader !== victim.id));
    await victim.start();
    const away = await eventually(`broker ${victim.id} back in every ISR`, 40_000, async () => {
      const s = await states();
      return s?.every((p) => p.isr.length === 3) ? s : undefined;
    });
    expect(away.filter((p) => p.leader === victim.id)).toEqual([]);

    // Through a broker that is not the restarted one (it forwards to the active controller unless it is it).
    const other = cluster.nodes.find((n) => n.id !== victim.id)!;
    const elected = await cli(['--bootstrap-server', other.bootstrap, '--election-type', 'PREFERRED', '--all-topic-partitions']);
    expect(elected.code).toBe(0);
    expect(elected.err).toBe('');
    // Other topics (internal ones) may also have been moved; ours are exactly those listed.
    const line = elected.out.split('\n').find((l) => l.startsWith('Successfully completed leader election (PREFERRED) for partitions '));
    const listed = (line ?? '').slice('Successfully completed leader election (PREFERRED) for partitions '.length).split(', ').filter((n) => n.startsWith(`${TOPIC}-`)).sort();
    expect(listed).toEqual(names(led).split(', ').sort());

    // Answered once visible: the broker that was asked already shows the first replicas leading.
    const after = await eventually('every partition led by its first replica again', 10_000, async () => {
      const s = await states();
      return s?.every((p) => p.leader === p.replicas[0]) ? s : undefined;
    });
    expect(after.filter((p) => p.leader === victim.id).map((p) => p.partition)).toEqual(led.map((p) => p.partition));

    // All partitions again: nothing needs an election, so nothing is printed.
    expect(await cli(['--bootstrap-server', other.bootstrap, '--election-type', 'preferred', '--all-topic-partitions'])).toEqual({ out: '', err: '', code: 0 });
    const unknown = await cli(['--bootstrap-server', victim.bootstrap, '--election-type', 'preferred', '--topic', 'no-such-topic', '--partition', '0']);
    expect(unknown.out).toBe('Error completing leader election (PREFERRED) for partition: no-such-topic-0: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: No such topic as no-such-topic\n');
    expect(unknown.err).toBe('1 replica(s) could not be elected\n');
    expect(unknown.code).toBe(1);
  }, 180_000);

  it('answers an unclean election of partitions that have a leader with ELECTION_NOT_NEEDED, and an unknown type with INVALID_REQUEST, on every node', async () => {
    for (const n of cluster.nodes) {
      const conn = await KafkaConnection.connect('127.0.0.1', n.port, { clientId: 'elect-test', requestTimeoutMs: 10_000 });
      try {
        const r = await conn.send(ApiKey.ElectLeaders, { electionType: 1, topicPartitions: [{ topic: TOPIC, partitions: [0, 1] }], timeoutMs: 10_000 });
        expect(r.errorCode).toBe(ErrorCode.NONE);
        expect(r.replicaElectionResults[0]!.partitionResult.map((p) => p.errorCode)).toEqual([ErrorCode.ELECTION_NOT_NEEDED, ErrorCode.ELECTION_NOT_NEEDED]);
        const bad = await conn.send(ApiKey.ElectLeaders, { electionType: 5, topicPartitions: [{ topic: TOPIC, partitions: [0] }], timeoutMs: 10_000 });
        expect(bad.errorCode).toBe(ErrorCode.INVALID_REQUEST);
        expect(bad.replicaElectionResults[0]!.partitionResult[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
      } finally {
        await conn.close();
      }
    }
    // The controller listener serves it too (Kafka's --bootstrap-controller path).
    const conn = await KafkaConnection.connect('127.0.0.1', cluster.nodes[0]!.controllerPort, { clientId: 'elect-test', requestTimeoutMs: 10_000 });
    try {
      const r = await conn.send(ApiKey.ElectLeaders, { electionType: 0, topicPartitions: [{ topic: TOPIC, partitions: [0] }], timeoutMs: 10_000 });
      expect([ErrorCode.ELECTION_NOT_NEEDED, ErrorCode.NOT_CONTROLLER]).toContain(r.replicaElectionResults[0]?.partitionResult[0]?.errorCode ?? r.errorCode);
    } finally {
      await conn.close();
    }
  }, 60_000);
});
