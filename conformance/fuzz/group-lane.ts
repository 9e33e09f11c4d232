// Classic-group sequences a single mutated frame never reaches: members joining, syncing,
// heartbeating, committing and leaving with their own, reused, stale and random member ids,
// static instance ids, generations off by one, other protocol types and protocol lists that share
// nothing with the group's, interleaved over many connections and timed around the session,
// rebalance and initial-delay expiries the fuzz broker is configured to reach within the run.
// Each member is its own loop with its own connection and PRNG; a JoinGroup is sometimes left
// pending while the member goes on, or its connection is dropped under it.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { JoinGroupRequestProtocol } from '../../protocol/generated/message/join-group-request.ts';
import type { FuzzContext } from './context.ts';
import { sleep } from './context.ts';
import type { Prng } from './prng.ts';
import type { Wire } from './wire.ts';

/** The group timings the fuzz broker runs with, so sleeps land around its expiries. */
export const GROUP_TIMINGS = { initialDelayMs: 150, minSessionMs: 50, maxSessionMs: 10_000 };

export const GROUP_IDS = ['fz-g0', 'fz-g1', 'fz-g2'];
const PROTOCOL_NAMES = ['range', 'roundrobin', 'sticky', 'cooperative-sticky', 'fz-a', 'fz-b'];
const PROTOCOL_TYPES = ['consumer', 'consumer', 'consumer', 'connect', 'fz-type', ''];
const INSTANCE_IDS = ['fz-i0', 'fz-i1', 'fz-i2'];
const COMMIT_TOPICS = ['fz-t0', 'fz-t1', 'fz-c0', 'fz-missing'];

interface Member {
  groupId: string;
  memberId: string;
  instanceId: string | null;
  generation: number;
  protocolType: string;
  protocolName: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** Member ids of the last join answered to this member as leader. */
  members: string[];
}

function groupIdOf(rng: Prng): string {
  if (rng.chance(0.95)) return rng.pick(GROUP_IDS);
  return rng.pick(['', 'x'.repeat(rng.range(200, 400)), 'gr\u00fcppe-\u{1f600}', ' ']);
}

/** A consumer-protocol subscription (version 0): enough for a real assignor to read. */
function subscription(rng: Prng): Buffer {
  if (rng.chance(0.2)) return rng.bytes(rng.int(40));
  const topics = COMMIT_TOPICS.slice(0, rng.range(0, 2));
  const parts: Buffer[] = [Buffer.from([0, 0]), int32(topics.length)];
  for (const t of topics) parts.push(int16(Buffer.byteLength(t)), Buffer.from(t));
  parts.push(int32(-1));
  return Buffer.concat(parts);
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function protocolsOf(rng: Prng): JoinGroupRequestProtocol[] {
  const n = rng.weighted([[1, 0], [6, 1], [4, 2], [2, 3]] as const);
  const out: JoinGroupRequestProtocol[] = [];
  for (let i = 0; i < n; i++) out.push({ name: rng.pick(PROTOCOL_NAMES), metadata: subscription(rng) });
  return out;
}

function sessionTimeoutOf(rng: Prng): number {
  return rng.weighted([[8, rng.pick([60, 100, 200, 400, 800])], [3, rng.pick([1500, 3000])], [1, rng.pick([0, -1, 10, 1_000_000_000])]] as const);
}

/** The member id to send: its own, another member's, a stale or random one, or none. */
function memberIdOf(ctx: FuzzContext, rng: Prng, m: Member): string {
  const known = ctx.memberIds.get(m.groupId) ?? [];
  const other = ctx.pickFrom(rng, known, '');
  return rng.weighted([[10, m.memberId], [2, other], [1, ''], [1, `fz-member-${rng.int(1000)}`]] as const);
}

function generationOf(rng: Prng, m: Member): number {
  return rng.weighted([[10, m.generation], [2, m.generation + 1], [2, m.generation - 1], [1, -1], [1, rng.int32()]] as const);
}

export async function runGroupMember(ctx: FuzzContext, rng: Prng, lane: string): Promise<void> {
  const log = (a: string): void => ctx.journal.add(lane, a);
  let wire: Wire | undefined;
  const m: Member = {
    groupId: rng.pick(GROUP_IDS),
    memberId: '',
    instanceId: rng.chance(0.3) ? rng.pick(INSTANCE_IDS) : null,
    generation: -1,
    protocolType: 'consumer',
    protocolName: null,
    sessionTimeoutMs: 200,
    rebalanceTimeoutMs: 500,
    members: [],
  };
  while (ctx.running) {
    try {
      if (!wire || wire.closed) {
        if (wire) ctx.close(wire);
        wire = await ctx.open();
      }
      const action = rng.weighted([
        [8, 'join'], [2, 'join-pending'], [5, 'sync'], [5, 'heartbeat'], [3, 'commit'], [2, 'offset-fetch'],
        [2, 'leave'], [1, 'describe'], [1, 'delete'], [2, 'reconnect'], [3, 'expire'], [1, 'switch'],
      ] as const);
      switch (action) {
        case 'join':
        case 'join-pending':
          await join(ctx, rng, wire, m, log, action === 'join-pending');
          break;
        case 'sync':
          await sync(ctx, rng, wire, m, log);
          break;
        case 'heartbeat': {
          const v = ctx.version(rng, ApiKey.Heartbeat);
          if (v === undefined) break;
          const body = { groupId: m.groupId, generationId: generationOf(rng, m), memberId: memberIdOf(ctx, rng, m), groupInstanceId: m.instanceId };
          log(`Heartbeat v${v} ${JSON.stringify(body)}`);
          await ctx.call(lane, wire, ApiKey.Heartbeat, v, body, { timeoutMs: 5000 });
          break;
        }
        case 'commit':
          await commit(ctx, rng, wire, m, log, lane);
          break;
        case 'offset-fetch': {
          const v = ctx.version(rng, ApiKey.OffsetFetch, 0, 7);
          if (v === undefined) break;
          const topics = rng.chance(0.3) && v >= 2 ? null : [{ name: rng.pick(COMMIT_TOPICS), partitionIndexes: [0, rng.range(-1, 3)] }];
          log(`OffsetFetch v${v} group=${m.groupId} topics=${JSON.stringify(topics)}`);
          await ctx.call(lane, wire, ApiKey.OffsetFetch, v, { groupId: m.groupId, topics, requireStable: rng.chance(0.5) }, { timeoutMs: 5000 });
          break;
        }
        case 'leave':
          await leave(ctx, rng, wire, m, log, lane);
          break;
        case 'describe': {
          const v = ctx.version(rng, ApiKey.DescribeGroups);
          const lv = ctx.version(rng, ApiKey.ListGroups);
          if (v === undefined || lv === undefined) break;
          log(`DescribeGroups v${v} + ListGroups v${lv}`);
          await ctx.call(lane, wire, ApiKey.DescribeGroups, v, { groups: [m.groupId, rng.pick(GROUP_IDS), 'fz-none'], includeAuthorizedOperations: rng.chance(0.5) }, { timeoutMs: 5000 });
          await ctx.call(lane, wire, ApiKey.ListGroups, lv, { statesFilter: rng.chance(0.5) ? [] : ['Stable', 'Empty', 'bogus'], typesFilter: [] }, { timeoutMs: 5000 });
          break;
        }
        case 'delete': {
          const v = ctx.version(rng, ApiKey.DeleteGroups);
          if (v === undefined) break;
          const groups = [rng.pick(GROUP_IDS), groupIdOf(rng)];
          log(`DeleteGroups v${v} ${JSON.stringify(groups)}`);
          await ctx.call(lane, wire, ApiKey.DeleteGroups, v, { groupsNames: groups }, { timeoutMs: 5000 });
          break;
        }
        case 'reconnect':
          log('drop connection');
          ctx.close(wire);
          wire = undefined;
          break;
        case 'expire': {
          // Sleep across (or just short of) one of the group's deadlines.
          const base = rng.pick([m.sessionTimeoutMs, m.rebalanceTimeoutMs, GROUP_TIMINGS.initialDelayMs]);
          const ms = Math.min(4000, Math.max(0, base + rng.range(-40, 80)));
          log(`sleep ${ms} ms`);
          await sleep(ms);
          break;
        }
        case 'switch':
          m.groupId = groupIdOf(rng);
          m.instanceId = rng.chance(0.3) ? rng.pick(INSTANCE_IDS) : null;
          m.memberId = rng.chance(0.5) ? '' : m.memberId;
          m.generation = -1;
          log(`switch to group ${JSON.stringify(m.groupId.slice(0, 40))} instance ${m.instanceId}`);
          break;
      }
      await sleep(rng.int(30));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'WIRE_CLOSED' && code !== 'WIRE_TIMEOUT' && code !== 'ECONNREFUSED' && code !== 'ECONNRESET') ctx.fault(lane, err as Error);
      await sleep(50);
    }
  }
  if (wire) ctx.close(wire);
}

async function join(ctx: FuzzContext, rng: Prng, wire: Wire, m: Member, log: (a: string) => void, leavePending: boolean): Promise<void> {
  const v = ctx.version(rng, ApiKey.JoinGroup);
  if (v === undefined) return;
  m.sessionTimeoutMs = sessionTimeoutOf(rng);
  m.rebalanceTimeoutMs = rng.weighted([[6, rng.range(100, 1500)], [1, rng.pick([-1, 0, 5000])]] as const);
  m.protocolType = rng.chance(0.85) ? m.protocolType : rng.pick(PROTOCOL_TYPES);
  const body = {
    groupId: m.groupId,
    sessionTimeoutMs: m.sessionTimeoutMs,
    rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    memberId: memberIdOf(ctx, rng, m),
    groupInstanceId: rng.chance(0.9) ? m.instanceId : rng.pick(INSTANCE_IDS),
    protocolType: m.protocolType,
    protocols: protocolsOf(rng),
    reason: rng.chance(0.5) ? null : 'fuzz',
  };
  log(`JoinGroup v${v}${leavePending ? ' (not awaited)' : ''} group=${body.groupId.slice(0, 40)} member=${body.memberId} instance=${body.groupInstanceId} type=${body.protocolType} protocols=[${body.protocols.map((p) => p.name).join(',')}] session=${body.sessionTimeoutMs} rebalance=${body.rebalanceTimeoutMs}`);
  const pending = ctx.call('group', wire, ApiKey.JoinGroup, v, body, { timeoutMs: Math.min(8000, Math.max(1000, m.rebalanceTimeoutMs + 2000)) });
  const onAnswer = (r: Awaited<typeof pending>): void => {
    if (!r) return;
    if (r.memberId) {
      m.memberId = r.memberId;
      const known = ctx.memberIds.get(m.groupId) ?? [];
      if (!known.includes(r.memberId)) ctx.remember(known, r.memberId, 16);
      ctx.memberIds.set(m.groupId, known);
    }
    if (r.errorCode === 0) {
      m.generation = r.generationId;
      m.protocolName = r.protocolName;
      m.members = r.members.map((x) => x.memberId);
    }
  };
  if (leavePending) {
    void pending.then(onAnswer);
    return;
  }
  onAnswer(await pending);
}

async function sync(ctx: FuzzContext, rng: Prng, wire: Wire, m: Member, log: (a: string) => void): Promise<void> {
  const v = ctx.version(rng, ApiKey.SyncGroup);
  if (v === undefined) return;
  // Every draw is made whatever the broker answered, so a seed keeps its stream: the member list
  // learned from a JoinGroup answer only decides who gets the (one) drawn assignment.
  const stranger = `fz-member-${rng.int(1000)}`;
  const targets = rng.chance(0.8) ? m.members : [m.memberId, stranger, m.memberId];
  const assignment = rng.bytes(rng.int(24));
  const assignments = rng.chance(0.7) ? targets.map((id) => ({ memberId: id, assignment })) : [];
  const body = {
    groupId: m.groupId,
    generationId: generationOf(rng, m),
    memberId: memberIdOf(ctx, rng, m),
    groupInstanceId: m.instanceId,
    protocolType: rng.chance(0.8) ? m.protocolType : rng.pick([null, ...PROTOCOL_TYPES]),
    protocolName: rng.chance(0.8) ? m.protocolName : rng.pick([null, ...PROTOCOL_NAMES]),
    assignments,
  };
  log(`SyncGroup v${v} group=${body.groupId.slice(0, 40)} gen=${body.generationId} member=${body.memberId} type=${body.protocolType} name=${body.protocolName} assignments=${assignments.length}`);
  await ctx.call('group', wire, ApiKey.SyncGroup, v, body, { timeoutMs: Math.min(8000, Math.max(1000, m.rebalanceTimeoutMs + 2000)) });
}

async function commit(ctx: FuzzContext, rng: Prng, wire: Wire, m: Member, log: (a: string) => void, lane: string): Promise<void> {
  const v = ctx.version(rng, ApiKey.OffsetCommit);
  if (v === undefined) return;
  const simple = rng.chance(0.2);
  const body = {
    groupId: m.groupId,
    generationIdOrMemberEpoch: simple ? -1 : generationOf(rng, m),
    memberId: simple ? '' : memberIdOf(ctx, rng, m),
    groupInstanceId: m.instanceId,
    retentionTimeMs: rng.chance(0.8) ? -1n : rng.int64(),
    topics: [{
      name: rng.pick(COMMIT_TOPICS),
      partitions: [{ partitionIndex: rng.range(-1, 3), committedOffset: rng.int64(), committedLeaderEpoch: rng.range(-1, 5), commitTimestamp: -1n, committedMetadata: rng.chance(0.2) ? null : 'x'.repeat(rng.int(rng.chance(0.1) ? 5000 : 20)) }],
    }],
  };
  log(`OffsetCommit v${v} group=${body.groupId.slice(0, 40)} gen=${body.generationIdOrMemberEpoch} member=${body.memberId} topic=${body.topics[0]!.name} p=${body.topics[0]!.partitions[0]!.partitionIndex} offset=${body.topics[0]!.partitions[0]!.committedOffset}`);
  await ctx.call(lane, wire, ApiKey.OffsetCommit, v, body, { timeoutMs: 6000 });
}

async function leave(ctx: FuzzContext, rng: Prng, wire: Wire, m: Member, log: (a: string) => void, lane: string): Promise<void> {
  const v = ctx.version(rng, ApiKey.LeaveGroup);
  if (v === undefined) return;
  const memberId = memberIdOf(ctx, rng, m);
  const members: { memberId: string; groupInstanceId: string | null; reason: string | null }[] = [{ memberId, groupInstanceId: m.instanceId, reason: null }];
  if (rng.chance(0.3)) members.push({ memberId: rng.chance(0.5) ? '' : `fz-member-${rng.int(1000)}`, groupInstanceId: rng.chance(0.5) ? rng.pick(INSTANCE_IDS) : null, reason: 'fuzz' });
  log(`LeaveGroup v${v} group=${m.groupId.slice(0, 40)} members=${JSON.stringify(v >= 3 ? members : memberId)}`);
  await ctx.call(lane, wire, ApiKey.LeaveGroup, v, v >= 3 ? { groupId: m.groupId, members } : { groupId: m.groupId, memberId }, { timeoutMs: 5000 });
  if (rng.chance(0.7)) {
    m.memberId = '';
    m.generation = -1;
  }
}
