// GroupMember against an in-process broker on 127.0.0.1: joins, range assignment across members,
// a rebalance learned from heartbeats, commits during it, fencing of a stale generation, leave.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../index.ts';
import type { StartedBroker } from '../../index.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { GroupMember } from './group-member.ts';

let broker: StartedBroker;
let client: KafkaClient;

beforeAll(async () => {
  broker = await startBroker({ overrides: { 'group.initial.rebalance.delay.ms': '0' } });
  client = new KafkaClient({ bootstrapServers: broker.bootstrap });
  const created = await client.createTopics([{ name: 'gm', numPartitions: 4, replicationFactor: 1 }]);
  expect(created.topics[0]!.errorCode).toBe(0);
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

async function until(check: () => boolean, attempts = 100, pauseMs = 100): Promise<void> {
  for (let i = 0; i < attempts && !check(); i++) await new Promise((r) => setTimeout(r, pauseMs));
  expect(check()).toBe(true);
}

describe('GroupMember', () => {
  it('joins, shares partitions by range, rebalances on heartbeat news, commits and is fenced when stale', { timeout: 60_000 }, async () => {
    const settings = { heartbeatIntervalMs: 100, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000 };
    const m1 = new GroupMember(client, 'gm-g', ['gm'], { ...settings, clientId: 'member-a' });
    const m2 = new GroupMember(client, 'gm-g', ['gm'], { ...settings, clientId: 'member-b' });
    try {
      expect(await m1.join()).toEqual(new Map([['gm', [0, 1, 2, 3]]]));
      expect(m1.memberId).toMatch(/^member-a-/);
      const firstGeneration = m1.generation;

      // The second join is held until the first member rejoins, which it learns from a heartbeat.
      const joining = m2.join();
      await until(() => m1.rejoinNeeded);
      // Offsets of the old generation are still accepted while the group prepares the rebalance.
      expect(await m1.commit(new Map([['gm', new Map([[0, 5n], [3, 7n]])]]))).toBe(true);
      const [a1, a2] = await Promise.all([m1.join(), joining]);
      expect(m1.generation).toBe(m2.generation);
      expect(m1.generation).toBeGreaterThan(firstGeneration);
      const [low, high] = m1.memberId < m2.memberId ? [a1, a2] : [a2, a1];
      expect(low).toEqual(new Map([['gm', [0, 1]]]));
      expect(high).toEqual(new Map([['gm', [2, 3]]]));

      const committed = await m2.committed('gm', [0, 1, 2, 3]);
      expect([...committed].map(([p, c]) => [p, c.offset])).toEqual([[0, 5n], [3, 7n]]);

      // A commit from an older generation is refused and the member must rejoin without it.
      const current = m1.generation;
      m1.generation = firstGeneration;
      expect(await m1.commit(new Map([['gm', new Map([[0, 9n]])]]))).toBe(false);
      expect(m1.rejoinNeeded).toBe(true);
      expect(m1.state).toBe('unjoined');
      expect(m1.generation).toBe(-1);
      expect((await m2.committed('gm', [0])).get(0)?.offset).toBe(5n);

      // m2 leaves; m1 rejoins (the group was already rebalancing or will be) and takes everything.
      await m2.leave();
      expect(await m1.join()).toEqual(new Map([['gm', [0, 1, 2, 3]]]));
      expect(m1.generation).toBeGreaterThan(current);
    } finally {
      await m1.leave();
      await Promise.all([m1.close(), m2.close()]);
    }
  });
});
