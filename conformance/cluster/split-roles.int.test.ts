// Three controller-only and three broker-only nodes (the layout where brokers are observers of
// the metadata log): brokers register with the active controller, topics spread over them, and
// a broker killed with SIGKILL is fenced once broker.session.timeout.ms passes without its
// heartbeats: its partitions go offline (no leader) until it returns and leads them again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { eventually, withClient } from '../harness/cluster-checks.ts';
import { ClusterProcess } from '../harness/cluster-process.ts';

const SESSION_TIMEOUT_MS = 3000;
let cluster: ClusterProcess;

async function leadersOf(bootstrap: string, topic: string): Promise<number[]> {
  return withClient([bootstrap], async (c) => (await c.metadata([topic], { allowAutoTopicCreation: false })).topics[0]!.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => p.leaderId));
}

/** Polls `check` until true; returns the milliseconds it took. */
async function timeUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  await eventually(what, timeoutMs, check);
  return Date.now() - started;
}

beforeAll(async () => {
  cluster = await ClusterProcess.start({
    controllers: 3,
    brokers: 3,
    properties: {
      'controller.quorum.election.timeout.ms': '500',
      'controller.quorum.fetch.timeout.ms': '1000',
      'controller.quorum.request.timeout.ms': '1000',
      'broker.heartbeat.interval.ms': '300',
      'broker.session.timeout.ms': String(SESSION_TIMEOUT_MS),
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('controller-only and broker-only nodes', () => {
  it('lists the three brokers (never the controllers) and spreads a topic over them', async () => {
    const [b4] = cluster.brokers;
    await withClient([b4!.bootstrap], async (c) => {
      const md = await c.metadata([]);
      expect(md.brokers.map((b) => b.nodeId).sort()).toEqual([4, 5, 6]);
      const r = await c.createTopics([{ name: 'spread', numPartitions: 6, replicationFactor: 1 }]);
      expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    });
    expect(new Set(await leadersOf(b4!.bootstrap, 'spread'))).toEqual(new Set([4, 5, 6]));
  }, 60_000);

  it('fences a killed broker after its session: its partitions go offline until it returns', async () => {
    const victim = cluster.node(5);
    const witness = cluster.node(4);
    const before = await leadersOf(witness.bootstrap, 'spread');
    const victimPartitions = before.flatMap((l, i) => (l === 5 ? [i] : []));
    expect(victimPartitions.length).toBeGreaterThan(0);
    await victim.kill();
    const fencedAfter = await timeUntil('partitions of the killed broker offline', SESSION_TIMEOUT_MS + 10_000, async () => {
      const now = await leadersOf(witness.bootstrap, 'spread');
      return victimPartitions.every((i) => now[i] === -1);
    });
    console.log(`broker 5 killed: its ${victimPartitions.length} partitions offline after ${fencedAfter} ms (session timeout ${SESSION_TIMEOUT_MS} ms)`);
    expect(fencedAfter).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 1000);
    await withClient([witness.bootstrap], async (c) => {
      const md = await c.metadata([]);
      expect(md.brokers.map((b) => b.nodeId).sort()).toEqual([4, 6]);
    });
    await victim.start();
    await eventually('the returned broker leads its partitions again', 15_000, async () => {
      const now = await leadersOf(witness.bootstrap, 'spread');
      return victimPartitions.every((i) => now[i] === 5);
    });
  }, 90_000);
});
