// The benchmark member against a broker child process: members found through KIP-394 join one
// group and share a topic's partitions; when one leaves or stops heartbeating, the others rejoin
// in a new generation and take its partitions. The broker's minimum session timeout is lowered
// so an expiry takes a second, not six.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../conformance/harness/broker-process.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { createTopic } from './broker-common.ts';
import { coordinatorFor } from './group-common.ts';
import { GroupMember, type MemberEvent } from './group-member.ts';

const TOPIC = 'members';
const SESSION_TIMEOUT_MS = 1200;

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function owned(members: readonly GroupMember[]): number[] {
  return members.flatMap((m) => [...(m.assignment.get(TOPIC) ?? [])]).sort((a, b) => a - b);
}

describe('benchmark group member', () => {
  let broker: BrokerProcess;
  let client: KafkaClient;
  const members: GroupMember[] = [];
  const events: MemberEvent[] = [];

  beforeAll(async () => {
    broker = await BrokerProcess.start({ overrides: { 'group.initial.rebalance.delay.ms': '0', 'group.min.session.timeout.ms': '1000', 'offsets.topic.num.partitions': '5' } });
    await createTopic(broker.bootstrap, TOPIC, 7);
    client = new KafkaClient({ bootstrapServers: broker.bootstrap });
  });

  afterAll(async () => {
    await Promise.allSettled(members.map((m) => m.crash()));
    await client?.close();
    await broker?.destroy();
  });

  const add = async (groupId: string): Promise<GroupMember> => {
    const coordinator = await coordinatorFor(broker.bootstrap, groupId);
    const m = new GroupMember({ ...coordinator, groupId, topics: [TOPIC], partitionCounts: new Map([[TOPIC, 7]]), sessionTimeoutMs: SESSION_TIMEOUT_MS, rebalanceTimeoutMs: 10_000, onEvent: (e) => events.push(e) });
    members.push(m);
    await m.start();
    return m;
  };
  const settled = (group: readonly GroupMember[]): boolean => group.every((m) => m.stable && m.generation === group[0]!.generation) && owned(group).length === 7;

  it('three members share the partitions; after a leave and a crash the last one owns them all', async () => {
    const group = [await add('g1'), await add('g1'), await add('g1')];
    await until('three stable members', () => settled(group));
    expect(owned(group)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(new Set(group.map((m) => m.memberId)).size).toBe(3);
    expect(group.map((m) => m.assignment.get(TOPIC)!.length).sort()).toEqual([2, 2, 3]);
    // Members were given their ids by MEMBER_ID_REQUIRED, then joined with them.
    expect(events.filter((e) => e.kind === 'join-sent').length).toBeGreaterThanOrEqual(6);
    const described = await client.send('any', ApiKey.DescribeGroups, { groups: ['g1'], includeAuthorizedOperations: false });
    expect(described.groups[0]).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(described.groups[0]!.members.map((m) => m.memberId).sort()).toEqual(group.map((m) => m.memberId).sort());

    const generation = group[0]!.generation;
    await group[0]!.leave();
    const rest = group.slice(1);
    await until('two members in a new generation', () => settled(rest) && rest[0]!.generation > generation);
    expect(owned(rest)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events.some((e) => e.kind === 'rebalance-noticed' && rest.includes(e.member))).toBe(true);

    const before = rest[0]!.generation;
    await rest[0]!.crash();
    const last = rest[1]!;
    await until('the survivor alone after the session expires', () => settled([last]) && last.generation > before);
    expect(last.assignment.get(TOPIC)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
