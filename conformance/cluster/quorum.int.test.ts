// A three-node KRaft cluster of real processes (each node broker and controller, static voters,
// one server.properties per node as an operator writes it): the brokers register, topics
// created through any broker are visible on all, the active controller killed with SIGKILL is
// replaced within controller.quorum.fetch.timeout.ms plus an election timeout or two, metadata
// writes continue, and the killed node catches up when it returns. With two of three voters
// down no write is accepted and no leader appears; one voter back and writes resume with
// nothing committed lost. A leader stopped with SIGTERM resigns and a successor leads at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { awaitQuorumLeader, eventually, quorumLeaderSeenBy, withClient } from '../harness/cluster-checks.ts';
import { ClusterProcess, type NodeProcess } from '../harness/cluster-process.ts';

const ELECTION_TIMEOUT_MS = 500;
const FETCH_TIMEOUT_MS = 1000;
const PROPERTIES = {
  'controller.quorum.election.timeout.ms': String(ELECTION_TIMEOUT_MS),
  'controller.quorum.fetch.timeout.ms': String(FETCH_TIMEOUT_MS),
  'controller.quorum.request.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '300',
  'broker.session.timeout.ms': '3000',
};

let cluster: ClusterProcess;

const awaitLeader = (timeoutMs: number, notIn: number[] = []) => awaitQuorumLeader(() => cluster.controllers, timeoutMs, notIn);

async function topicsOn(node: NodeProcess, names: string[]): Promise<number[]> {
  return withClient([node.bootstrap], async (c) => (await c.metadata(names, { allowAutoTopicCreation: false })).topics.map((t) => t.errorCode));
}

beforeAll(async () => {
  cluster = await ClusterProcess.start({ nodes: 3, properties: PROPERTIES });
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('a three-node KRaft cluster', () => {
  it('registers every broker, and topics created through any broker are visible on all', async () => {
    await withClient([cluster.node(1).bootstrap], async (c) => {
      const md = await c.metadata([]);
      expect(md.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
      expect(md.controllerId).toBeGreaterThan(0);
    });
    await withClient([cluster.node(2).bootstrap], async (c) => {
      const r = await c.createTopics([{ name: 'spread', numPartitions: 6, replicationFactor: 1 }]);
      expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    });
    for (const n of cluster.nodes) {
      await eventually(`topic visible on node ${n.id}`, 10_000, async () => (await topicsOn(n, ['spread']))[0] === ErrorCode.NONE);
    }
    await withClient([cluster.node(3).bootstrap], async (c) => {
      const md = await c.metadata(['spread']);
      const leaders = new Set(md.topics[0]!.partitions.map((p) => p.leaderId));
      // Six partitions placed round-robin over three brokers: every broker leads some.
      expect([...leaders].sort()).toEqual([1, 2, 3]);
    });
  }, 60_000);

  it('elects a new leader when the active controller is killed, keeps accepting writes, and the killed node catches up', async () => {
    const before = await awaitLeader(10_000);
    const victim = cluster.node(before.leaderId);
    await victim.kill();
    const after = await awaitLeader(FETCH_TIMEOUT_MS + 4 * ELECTION_TIMEOUT_MS + 5000, [victim.id]);
    console.log(`leader ${victim.id} killed: node ${after.leaderId} leads epoch ${after.epoch} after ${after.ms} ms`);
    expect(after.leaderId).not.toBe(victim.id);
    expect(after.epoch).toBeGreaterThan(before.epoch);
    const survivor = cluster.nodes.find((n) => n.running)!;
    await withClient([survivor.bootstrap], async (c) => {
      const r = await c.createTopics([{ name: 'after-failover', numPartitions: 1, replicationFactor: 1 }]);
      expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    });
    await victim.start();
    await eventually('the restarted node sees the topic created while it was down', 15_000, async () => (await topicsOn(victim, ['after-failover', 'spread'])).every((e) => e === ErrorCode.NONE));
  }, 90_000);

  it('hands leadership over at once when the active controller is stopped with SIGTERM', async () => {
    const before = await awaitLeader(10_000);
    const leaving = cluster.node(before.leaderId);
    const started = Date.now();
    const stopping = leaving.stop('SIGTERM');
    const after = await awaitLeader(10_000, [leaving.id]);
    const code = await stopping;
    const stoppedMs = Date.now() - started;
    console.log(`leader ${leaving.id} stopped with SIGTERM: node ${after.leaderId} leads after ${after.ms} ms; the process exited after ${stoppedMs} ms`);
    expect(code).toBe(0);
    // The resigning leader names its successor: no election timeout (1-2 x 500 ms) plus fetch timeout to sit out.
    expect(after.ms).toBeLessThan(FETCH_TIMEOUT_MS + ELECTION_TIMEOUT_MS);
    // It stops once its successor is known, not after the 5 s shutdown bound.
    expect(stoppedMs).toBeLessThan(4500);
    await leaving.start();
  }, 60_000);

  it('accepts no write and elects no leader with two of three voters down, and resumes with nothing lost when one returns', async () => {
    const leader = await awaitLeader(10_000);
    const [a, b] = cluster.nodes.filter((n) => n.id !== leader.leaderId);
    const lone = cluster.node(leader.leaderId);
    await a!.kill();
    await b!.kill();
    // The lone voter cannot commit: a topic creation is not acknowledged.
    const refused = await withClient([lone.bootstrap], (c) => c.createTopics([{ name: 'minority', numPartitions: 1, replicationFactor: 1 }], { timeoutMs: 3000 })).then(
      (r) => r.topics[0]!.errorCode,
      () => -100,
    );
    expect(refused).not.toBe(ErrorCode.NONE);
    // Past the fetch timeout the old leader stops leading; no one else can lead either.
    await new Promise((r) => setTimeout(r, FETCH_TIMEOUT_MS + 2 * ELECTION_TIMEOUT_MS));
    const seen = await quorumLeaderSeenBy(lone);
    expect(seen.leaderId === lone.id && seen.epoch === leader.epoch).toBe(false);
    await a!.start().catch(() => undefined);
    await awaitLeader(20_000);
    await eventually('writes resume', 20_000, async () =>
      withClient([lone.bootstrap, a!.bootstrap], async (c) => {
        const r = await c.createTopics([{ name: 'majority-again', numPartitions: 1, replicationFactor: 1 }]);
        return r.topics[0]!.errorCode === ErrorCode.NONE || r.topics[0]!.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS;
      }),
    );
    for (const n of [lone, a!]) {
      await eventually(`committed topics intact on node ${n.id}`, 15_000, async () => (await topicsOn(n, ['spread', 'after-failover', 'majority-again'])).every((e) => e === ErrorCode.NONE));
    }
    await b!.start();
  }, 120_000);
});
