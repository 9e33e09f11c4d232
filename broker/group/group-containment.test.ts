// Containment of a group's timers and write completions: a failure injected into one of group
// g1's tasks (through the scheduler's fault injector, where production code would throw) is
// logged with the group's context, answers g1's waiting members with UNKNOWN_MEMBER_ID and leaves
// g1 Empty and usable, while g2 keeps rebalancing and committing.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ManualScheduler, type Scope } from '../../protocol/scheduler.ts';
import { ClassicGroup, type JoinGroupResult, type SyncGroupResult } from './classic-group.ts';
import { MemoryPartitionLog } from '../coordinator/partition-log.ts';
import { GroupCoordinator, type GroupCoordinatorConfig, type JoinGroupParams } from './group-coordinator.ts';

const CONFIG: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 1,
  groupMinSessionTimeoutMs: 1000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3000,
  groupMaxSize: 10,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 10_000,
  offsetMetadataMaxBytes: 4096,
};

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

interface Box<T> {
  result: T | null;
}

async function setup() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'warn' }, sink);
  // What to break: a scope matching `fault` fails while `armed`.
  const fault: { armed: boolean; match: (s: Scope) => boolean } = { armed: false, match: () => false };
  const scheduler = new ManualScheduler({ logger, faults: (s) => (fault.armed && fault.match(s) ? new Error(`injected into ${s.unit} ${JSON.stringify(s.context)}`) : undefined) });
  const log = new MemoryPartitionLog();
  const c = new GroupCoordinator({ config: CONFIG, log, scheduler, logger });
  await c.onElection(0, 0);
  const arm = (match: (s: Scope) => boolean) => {
    fault.match = match;
    fault.armed = true;
  };
  const disarm = () => void (fault.armed = false);
  return { c, scheduler, log, lines, arm, disarm };
}

type Ctx = Awaited<ReturnType<typeof setup>>;

/** A task of group g1. */
const g1Task = (task: string) => (s: Scope) => s.unit === 'group' && s.context?.group === 'g1' && s.context?.task === task;

function params(groupId: string, over: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId,
    memberId: '',
    groupInstanceId: null,
    requireKnownMemberId: false,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 10_000,
    sessionTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    reason: null,
    ...over,
  };
}

function join(c: GroupCoordinator, p: JoinGroupParams): Box<JoinGroupResult> {
  const box: Box<JoinGroupResult> = { result: null };
  void c.joinGroup(p).then((r) => (box.result = r));
  return box;
}

function sync(c: GroupCoordinator, groupId: string, r: JoinGroupResult, assign = false, groupInstanceId: string | null = null): Box<SyncGroupResult> {
  const box: Box<SyncGroupResult> = { result: null };
  const assignments = assign ? [{ memberId: r.memberId, assignment: Buffer.from('a') }] : [];
  void c.syncGroup({ groupId, generationId: r.generationId, memberId: r.memberId, groupInstanceId, protocolType: null, protocolName: null, assignments }).then((s) => (box.result = s));
  return box;
}

/** Members joined through the initial delay and synced: a Stable group; leader first. */
async function stable(ctx: Ctx, groupId: string, members: Partial<JoinGroupParams>[]): Promise<JoinGroupResult[]> {
  const { c, scheduler } = ctx;
  const boxes = members.map((m) => join(c, params(groupId, m)));
  scheduler.advance(CONFIG.groupInitialRebalanceDelayMs * (members.length > 1 ? 2 : 1));
  await flush();
  const rs = boxes.map((b) => b.result!);
  for (const r of rs) expect(r.errorCode).toBe(ErrorCode.NONE);
  rs.sort((a, b) => b.members.length - a.members.length);
  const instanceOf = (memberId: string) => ctx.c.group(groupId)!.get(memberId).groupInstanceId;
  const syncs = rs.map((r) => sync(c, groupId, r, true, instanceOf(r.memberId)));
  await flush();
  for (const s of syncs) expect(s.result?.errorCode).toBe(ErrorCode.NONE);
  expect(c.group(groupId)!.state).toBe('Stable');
  return rs;
}

async function commit(c: GroupCoordinator, groupId: string, memberId: string, generationId: number, offset: bigint): Promise<number[]> {
  return c.commitOffsets({ groupId, memberId, groupInstanceId: null, generationId, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset, leaderEpoch: -1, metadata: null }] });
}

/** The failure was contained to g1's task: one recorded failure, one error line with the group's context. */
function expectContained(ctx: Ctx, task: string): void {
  expect(ctx.scheduler.failures).toHaveLength(1);
  expect(ctx.scheduler.failures[0]!.scope.context).toMatchObject({ group: 'g1', task });
  const errors = ctx.lines.filter((l) => l.level === 50);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ unit: 'group', group: 'g1', task });
  const g1 = ctx.c.group('g1')!;
  expect(g1.state).toBe('Empty');
  expect(g1.size).toBe(0);
  expect(g1.numMembersAwaitingJoin).toBe(0);
}

/** g1 rebalances and commits again from scratch, and g2 (Stable before) still serves its member. */
async function expectBothGroupsWork(ctx: Ctx, g2: JoinGroupResult): Promise<void> {
  const { c } = ctx;
  ctx.disarm();
  const gen = c.group('g1')!.generationId;
  const [r] = await stable(ctx, 'g1', [{ clientId: 'again' }]);
  expect(r!.generationId).toBe(gen + 1);
  expect(await commit(c, 'g1', r!.memberId, r!.generationId, 9n)).toEqual([ErrorCode.NONE]);
  expect(c.heartbeat('g2', g2.memberId, null, g2.generationId)).toBe(ErrorCode.NONE);
  expect(await commit(c, 'g2', g2.memberId, g2.generationId, 7n)).toEqual([ErrorCode.NONE]);
  // g2 can still rebalance: a second member joins and both get the next generation.
  const other = join(c, params('g2', { clientId: 'second' }));
  const back = join(c, params('g2', { memberId: g2.memberId }));
  await flush();
  expect(other.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: g2.generationId + 1 });
  expect(back.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: g2.generationId + 1 });
}

describe('a failure in one group is contained to that group', () => {
  it('initial rebalance delay: the waiting joins are answered, the group is Empty and rejoinable', async () => {
    const ctx = await setup();
    const { c, scheduler } = ctx;
    const a = join(c, params('g1', { clientId: 'a' }));
    const b = join(c, params('g1', { clientId: 'b' }));
    const g2 = join(c, params('g2', { sessionTimeoutMs: 60_000 }));
    ctx.arm(g1Task('initial-rebalance-delay'));
    scheduler.advance(3000);
    await flush();
    expect(a.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expect(b.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expect(g2.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1 });
    expectContained(ctx, 'initial-rebalance-delay');
    expect(c.group('g1')!.generationId).toBe(1);
    sync(c, 'g2', g2.result!, true);
    await flush();
    expect(c.group('g2')!.state).toBe('Stable');
    await expectBothGroupsWork(ctx, g2.result!);
  });

  it('rebalance timeout: the members that rejoined are answered', async () => {
    const ctx = await setup();
    const { c, scheduler } = ctx;
    const [a, b] = await stable(ctx, 'g1', [{ clientId: 'a' }, { clientId: 'b' }]);
    const [g2] = await stable(ctx, 'g2', [{ sessionTimeoutMs: 60_000 }]);
    const newcomer = join(c, params('g1', { clientId: 'n' }));
    const again = join(c, params('g1', { memberId: a!.memberId }));
    expect(c.heartbeat('g1', b!.memberId, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    ctx.arm(g1Task('join-timeout'));
    scheduler.advance(10_000);
    await flush();
    expect(newcomer.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expect(again.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expectContained(ctx, 'join-timeout');
    expect(c.heartbeat('g1', b!.memberId, null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // A commit of the abandoned generation is refused.
    expect(await commit(c, 'g1', a!.memberId, 1, 1n)).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    await expectBothGroupsWork(ctx, g2!);
  });

  it('sync timeout: a follower waiting for the assignment is answered', async () => {
    const ctx = await setup();
    const { c, scheduler } = ctx;
    const [g2] = await stable(ctx, 'g2', [{ sessionTimeoutMs: 60_000 }]);
    // Sessions outlast the rebalance timeout, so the sync timer is the one that fires.
    const a = join(c, params('g1', { clientId: 'a', sessionTimeoutMs: 30_000 }));
    const b = join(c, params('g1', { clientId: 'b', sessionTimeoutMs: 30_000 }));
    scheduler.advance(6000);
    await flush();
    const follower = a.result!.members.length > 0 ? b.result! : a.result!;
    const waiting = sync(c, 'g1', follower);
    await flush();
    expect(waiting.result).toBeNull();
    ctx.arm(g1Task('sync-timeout'));
    scheduler.advance(10_000);
    await flush();
    expect(waiting.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expectContained(ctx, 'sync-timeout');
    await expectBothGroupsWork(ctx, g2!);
  });

  it('heartbeat expiry: the leader waiting in a rebalance is answered', async () => {
    const ctx = await setup();
    const { c, scheduler } = ctx;
    const [a, b] = await stable(ctx, 'g1', [{ clientId: 'a' }, { clientId: 'b', sessionTimeoutMs: 6000 }]);
    const [g2] = await stable(ctx, 'g2', [{ sessionTimeoutMs: 60_000 }]);
    const leader = a!.members.length > 0 ? a! : b!;
    const rejoin = join(c, params('g1', { memberId: leader.memberId, sessionTimeoutMs: leader === b ? 6000 : 10_000 }));
    await flush();
    expect(rejoin.result).toBeNull();
    ctx.arm(g1Task('heartbeat-expiry'));
    scheduler.advance(6000);
    await flush();
    expect(rejoin.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expectContained(ctx, 'heartbeat-expiry');
    await expectBothGroupsWork(ctx, g2!);
  });

  it('pending member expiry: a rebalance waiting for a pending member id is answered', async () => {
    const ctx = await setup();
    const { c, scheduler } = ctx;
    const [a] = await stable(ctx, 'g1', [{ clientId: 'a', sessionTimeoutMs: 30_000 }]);
    const [g2] = await stable(ctx, 'g2', [{ sessionTimeoutMs: 60_000 }]);
    const pending = await c.joinGroup(params('g1', { requireKnownMemberId: true, sessionTimeoutMs: 5000 }));
    expect(pending.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const rejoin = join(c, params('g1', { memberId: a!.memberId, sessionTimeoutMs: 30_000 }));
    await flush();
    expect(rejoin.result).toBeNull();
    ctx.arm(g1Task('pending-member-expiry'));
    scheduler.advance(5000);
    await flush();
    expect(rejoin.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expectContained(ctx, 'pending-member-expiry');
    expect((await c.joinGroup(params('g1', { requireKnownMemberId: true, memberId: pending.memberId }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    await expectBothGroupsWork(ctx, g2!);
  });

  it("the assignment write's completion: the leader's and the follower's syncs are answered", async () => {
    const ctx = await setup();
    const { c, scheduler } = ctx;
    const [g2] = await stable(ctx, 'g2', [{ sessionTimeoutMs: 60_000 }]);
    const a = join(c, params('g1', { clientId: 'a' }));
    const b = join(c, params('g1', { clientId: 'b' }));
    scheduler.advance(6000);
    await flush();
    const leader = a.result!.members.length > 0 ? a.result! : b.result!;
    const follower = leader === a.result ? b.result! : a.result!;
    const fs = sync(c, 'g1', follower);
    ctx.arm(g1Task('assignment-write'));
    const ls = sync(c, 'g1', leader, true);
    await flush();
    expect(ls.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expect(fs.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expectContained(ctx, 'assignment-write');
    await expectBothGroupsWork(ctx, g2!);
  });

  it("a static member's replacement write: its join is answered", async () => {
    const ctx = await setup();
    const { c } = ctx;
    await stable(ctx, 'g1', [{ clientId: 's', groupInstanceId: 'inst' }]);
    const [g2] = await stable(ctx, 'g2', [{ sessionTimeoutMs: 60_000 }]);
    ctx.arm(g1Task('static-member-write'));
    const again = join(c, params('g1', { clientId: 's', groupInstanceId: 'inst' }));
    await flush();
    expect(again.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expectContained(ctx, 'static-member-write');
    expect(c.group('g1')!.hasStaticMember('inst')).toBe(false);
    await expectBothGroupsWork(ctx, g2!);
  });

  it("an empty group's write: nothing waits, the group stays usable", async () => {
    const ctx = await setup();
    const { c } = ctx;
    const [a] = await stable(ctx, 'g1', [{ clientId: 'a' }]);
    const [g2] = await stable(ctx, 'g2', [{ sessionTimeoutMs: 60_000 }]);
    ctx.arm(g1Task('empty-group-write'));
    expect(c.leaveGroup('g1', [{ memberId: a!.memberId, groupInstanceId: null }]).members[0]!.errorCode).toBe(ErrorCode.NONE);
    await flush();
    expectContained(ctx, 'empty-group-write');
    expect(c.group('g1')!.generationId).toBe(2);
    await expectBothGroupsWork(ctx, g2!);
  });

  it('the offsets retention check: a failed run is logged and the next one expires offsets', async () => {
    const ctx = await setup();
    const { c, scheduler } = ctx;
    expect(await c.commitOffsets({ groupId: 's', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }] })).toEqual([ErrorCode.NONE]);
    const [g2] = await stable(ctx, 'g2', [{ sessionTimeoutMs: 300_000 }]);
    const retention = (s: Scope) => s.unit === 'group-shard' && s.context?.task === 'offsets-retention';
    ctx.arm(retention);
    scheduler.advance(70_000);
    await flush();
    expect(c.fetchOffsets('s', null, false).offsets).toHaveLength(1);
    expect(scheduler.failures.length).toBeGreaterThan(0);
    expect(scheduler.failures.every((f) => retention(f.scope))).toBe(true);
    ctx.disarm();
    scheduler.advance(10_000);
    await flush();
    expect(c.fetchOffsets('s', null, false).offsets).toHaveLength(0);
    expect(c.heartbeat('g2', g2!.memberId, null, 1)).toBe(ErrorCode.NONE);
  });

  it('an unexpected error in the middle of a JoinGroup fails that group only', async () => {
    const ctx = await setup();
    const { c } = ctx;
    const [a, b] = await stable(ctx, 'g1', [{ clientId: 'a' }, { clientId: 'b' }]);
    const [g2] = await stable(ctx, 'g2', [{ sessionTimeoutMs: 60_000 }]);
    const leader = a!.members.length > 0 ? a! : b!;
    const follower = leader === a ? b! : a!;
    const waiting = join(c, params('g1', { memberId: leader.memberId }));
    await flush();
    expect(waiting.result).toBeNull();
    // Something inside the group breaks: the leader's protocols vanish behind the group's back,
    // so completing the rebalance (on the follower's join) cannot select a protocol.
    const g1 = c.group('g1')!;
    g1.get(leader.memberId).protocols = [];
    const last = join(c, params('g1', { memberId: follower.memberId }));
    await flush();
    expect(last.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
    expect(waiting.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expect(g1.state).toBe('Empty');
    expect(g1.size).toBe(0);
    await expectBothGroupsWork(ctx, g2!);
  });
});

describe('loading a partition', () => {
  it('a failure while loading gives the partition up instead of leaving it loading; the next election loads it', async () => {
    const ctx = await setup();
    const [r] = await stable(ctx, 'g1', [{ sessionTimeoutMs: 60_000 }]);
    expect(await commit(ctx.c, 'g1', r!.memberId, 1, 5n)).toEqual([ErrorCode.NONE]);
    const scheduler = new ManualScheduler();
    const c2 = new GroupCoordinator({ config: CONFIG, log: ctx.log, scheduler, logger: pino({ level: 'silent' }) });
    // Something about a loaded group breaks while the partition is being loaded.
    const original = ClassicGroup.prototype.computeSubscribedTopics;
    ClassicGroup.prototype.computeSubscribedTopics = () => {
      throw new Error('injected into loading');
    };
    try {
      c2.elect(0, 1);
      await flush();
    } finally {
      ClassicGroup.prototype.computeSubscribedTopics = original;
    }
    // Given up, not left loading: the partition is no longer this coordinator's.
    expect(c2.ownedPartitions().has(0)).toBe(false);
    expect(c2.heartbeat('g1', r!.memberId, null, 1)).toBe(ErrorCode.NOT_COORDINATOR);
    c2.elect(0, 2);
    await flush();
    expect(c2.heartbeat('g1', r!.memberId, null, 1)).toBe(ErrorCode.NONE);
    expect(c2.fetchOffsets('g1', null, false).offsets.map((o) => o.offset)).toEqual([5n]);
  });
});
