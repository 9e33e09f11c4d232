// The classic group state machine on a manual clock and an in-memory log.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { MemoryPartitionLog } from '../coordinator/partition-log.ts';
import { GroupCoordinator } from './group-coordinator.ts';
import { CONFIG, flush, join, meta, params, setup, stableOne, written } from './group-test-support.ts';
import { decodeOffsetsTopicRecord, javaStringHashCode, partitionForGroup } from './offsets-topic.ts';

describe('partition of a group', () => {
  it('follows Java String.hashCode and Kafka Utils.abs', () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('abc')).toBe(96354);
    expect(javaStringHashCode('my-group')).toBe(-1906497762);
    expect(partitionForGroup('my-group', 50)).toBe(1906497762 % 50);
    // "polygenelubricants" hashes to Integer.MIN_VALUE: Utils.abs makes it 0.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0);
  });
});

describe('group state machine', () => {
  it('Empty → PreparingRebalance → CompletingRebalance → Stable with the initial delay', async () => {
    const { c, time, log } = await setup();
    const j = join(c, params());
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    time.advance(2999);
    await flush();
    expect(j.result).toBeNull();
    time.advance(1);
    await flush();
    const r = j.result!;
    expect(r).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, protocolName: 'range', leaderId: r.memberId });
    expect(r.members.map((m) => m.memberId)).toEqual([r.memberId]);
    expect(c.group('g')!.state).toBe('CompletingRebalance');
    const s = await c.syncGroup({ groupId: 'g', generationId: 1, memberId: r.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: r.memberId, assignment: meta('x') }] });
    expect(s).toMatchObject({ errorCode: ErrorCode.NONE, protocolType: 'consumer', protocolName: 'range' });
    expect(s.assignment.toString()).toBe('x');
    expect(c.group('g')!.state).toBe('Stable');
    const recs = written(log).map((x) => decodeOffsetsTopicRecord(x.key, x.value));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ kind: 'group', group: 'g', value: { generation: 1, protocol: 'range', leader: r.memberId, protocolType: 'consumer' } });
  });

  it('KIP-394: a first join without member id gets MEMBER_ID_REQUIRED, then joins with it', async () => {
    const { c, time } = await setup();
    const first = await c.joinGroup(params({ requireKnownMemberId: true }));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^client-/);
    expect(c.group('g')!.isPendingMember(first.memberId)).toBe(true);
    const j = join(c, params({ requireKnownMemberId: true, memberId: first.memberId }));
    time.advance(3000);
    await flush();
    expect(j.result).toMatchObject({ errorCode: ErrorCode.NONE, memberId: first.memberId, generationId: 1 });
  });

  it('a pending member id that never joins expires after the session timeout', async () => {
    const { c, time } = await setup();
    const first = await c.joinGroup(params({ requireKnownMemberId: true }));
    time.advance(10_000);
    expect(c.group('g')!.isPendingMember(first.memberId)).toBe(false);
    const again = await c.joinGroup(params({ requireKnownMemberId: true, memberId: first.memberId }));
    expect(again.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('session timeout bounds, protocol consistency and unknown members', async () => {
    const { c, time } = await setup();
    expect((await c.joinGroup(params({ sessionTimeoutMs: 5999 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await c.joinGroup(params({ sessionTimeoutMs: 1_800_001 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await c.joinGroup(params({ groupId: '' }))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await c.joinGroup(params({ memberId: 'nobody' }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    await stableOne(c, time);
    expect((await c.joinGroup(params({ protocols: [{ name: 'roundrobin', metadata: meta('m') }] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.joinGroup(params({ protocolType: 'connect' }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('selects the protocol by vote among the protocols all members support', async () => {
    const { c, time } = await setup();
    const a = join(c, params({ clientId: 'a', protocols: [{ name: 'range', metadata: meta('1') }, { name: 'sticky', metadata: meta('1') }] }));
    const b = join(c, params({ clientId: 'b', protocols: [{ name: 'sticky', metadata: meta('2') }, { name: 'range', metadata: meta('2') }] }));
    const d = join(c, params({ clientId: 'd', protocols: [{ name: 'sticky', metadata: meta('3') }, { name: 'rr', metadata: meta('3') }] }));
    // Members arrived during the initial delay: it runs once more.
    time.advance(6000);
    await flush();
    // 'range' is not supported by d, so sticky wins.
    for (const x of [a, b, d]) expect(x.result).toMatchObject({ errorCode: ErrorCode.NONE, protocolName: 'sticky' });
    const leader = [a, b, d].find((x) => x.result!.members.length > 0)!.result!;
    expect(leader.members).toHaveLength(3);
    expect([a, b, d].filter((x) => x.result!.members.length === 0)).toHaveLength(2);
  });

  it('a new member joining a Stable group triggers a rebalance that others learn from heartbeats', async () => {
    const { c, time } = await setup();
    const first = await stableOne(c, time);
    const j2 = join(c, params({ clientId: 'second' }));
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    expect(c.heartbeat('g', first.memberId, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    // Commits are still accepted while preparing.
    expect(await c.commitOffsets({ groupId: 'g', memberId: first.memberId, groupInstanceId: null, generationId: 1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 5n, leaderEpoch: -1, metadata: null }] })).toEqual([ErrorCode.NONE]);
    const j1 = join(c, params({ memberId: first.memberId }));
    await flush();
    // All members rejoined: no wait for the rebalance timeout.
    expect(j1.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 2 });
    expect(j2.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 2 });
    expect(j1.result!.leaderId).toBe(first.memberId);
    expect(j1.result!.members).toHaveLength(2);
    // A follower syncing before the leader waits for the leader's assignment.
    let followerSync: Buffer | null = null;
    void c.syncGroup({ groupId: 'g', generationId: 2, memberId: j2.result!.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }).then((r) => (followerSync = r.assignment));
    await flush();
    expect(followerSync).toBeNull();
    expect(await c.commitOffsets({ groupId: 'g', memberId: first.memberId, groupInstanceId: null, generationId: 2, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 6n, leaderEpoch: -1, metadata: null }] })).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
    await c.syncGroup({ groupId: 'g', generationId: 2, memberId: first.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId: first.memberId, assignment: meta('p0') }, { memberId: j2.result!.memberId, assignment: meta('p1') }] });
    await flush();
    expect(followerSync!.toString()).toBe('p1');
    expect(c.heartbeat('g', first.memberId, null, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(c.heartbeat('g', first.memberId, null, 2)).toBe(ErrorCode.NONE);
  });

  it('a follower rejoining a Stable group with changed metadata triggers a rebalance; unchanged it does not', async () => {
    const { c, time } = await setup();
    const a = join(c, params({ clientId: 'a' }));
    const b = join(c, params({ clientId: 'b' }));
    time.advance(6000);
    await flush();
    const leader = a.result!.members.length > 0 ? a.result! : b.result!;
    const follower = leader === a.result ? b.result! : a.result!;
    await c.syncGroup({ groupId: 'g', generationId: 1, memberId: leader.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    expect(c.group('g')!.state).toBe('Stable');
    const same = await c.joinGroup(params({ memberId: follower.memberId }));
    expect(same).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, members: [] });
    expect(c.group('g')!.state).toBe('Stable');
    // Cooperative clients rejoin with their owned partitions in the metadata: a new rebalance.
    join(c, params({ memberId: follower.memberId, protocols: [{ name: 'range', metadata: meta('owned-less') }] }));
    expect(c.group('g')!.state).toBe('PreparingRebalance');
  });

  it('a member whose session expires is removed and the group rebalances', async () => {
    const { c, time } = await setup();
    const a = join(c, params({ clientId: 'a' }));
    const b = join(c, params({ clientId: 'b', sessionTimeoutMs: 20_000 }));
    time.advance(6000);
    await flush();
    const ra = a.result!;
    const rb = b.result!;
    const leader = ra.members.length > 0 ? ra : rb;
    await c.syncGroup({ groupId: 'g', generationId: 1, memberId: leader.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    await c.syncGroup({ groupId: 'g', generationId: 1, memberId: (leader === ra ? rb : ra).memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    // b heartbeats, a does not.
    for (let i = 0; i < 3; i++) {
      time.advance(4000);
      expect(c.heartbeat('g', rb.memberId, null, 1)).toBe(i < 2 ? ErrorCode.NONE : ErrorCode.REBALANCE_IN_PROGRESS);
    }
    expect(c.group('g')!.has(ra.memberId)).toBe(false);
    const rejoin = join(c, params({ memberId: rb.memberId, sessionTimeoutMs: 20_000 }));
    await flush();
    expect(rejoin.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 2, leaderId: rb.memberId });
  });

  it('members that do not rejoin within the rebalance timeout are removed', async () => {
    const { c, time } = await setup();
    const a = join(c, params({ clientId: 'a', sessionTimeoutMs: 30_000 }));
    const b = join(c, params({ clientId: 'b', sessionTimeoutMs: 30_000 }));
    time.advance(6000);
    await flush();
    const ids = [a.result!.memberId, b.result!.memberId];
    const leader = a.result!.members.length > 0 ? ids[0]! : ids[1]!;
    await c.syncGroup({ groupId: 'g', generationId: 1, memberId: leader, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    await c.syncGroup({ groupId: 'g', generationId: 1, memberId: ids.find((x) => x !== leader)!, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    const newcomer = join(c, params({ clientId: 'n', sessionTimeoutMs: 30_000 }));
    const again = join(c, params({ memberId: ids[0]!, sessionTimeoutMs: 30_000 }));
    time.advance(9999);
    await flush();
    expect(newcomer.result).toBeNull();
    time.advance(1);
    await flush();
    expect(again.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 2 });
    expect(c.group('g')!.has(ids[1]!)).toBe(false);
    expect(c.group('g')!.size).toBe(2);
  });

  it('members that do not send SyncGroup within the rebalance timeout are removed', async () => {
    const { c, time } = await setup();
    const a = join(c, params({ clientId: 'a', sessionTimeoutMs: 30_000 }));
    const b = join(c, params({ clientId: 'b', sessionTimeoutMs: 30_000 }));
    time.advance(6000);
    await flush();
    const leader = a.result!.members.length > 0 ? a.result! : b.result!;
    const follower = leader === a.result ? b.result! : a.result!;
    await c.syncGroup({ groupId: 'g', generationId: 1, memberId: leader.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    time.advance(10_000);
    expect(c.group('g')!.has(follower.memberId)).toBe(false);
    expect(c.group('g')!.state).toBe('PreparingRebalance');
  });

  it('the initial delay is extended while new members keep arriving, up to the rebalance timeout', async () => {
    const { c, time } = await setup();
    const a = join(c, params({ clientId: 'a', rebalanceTimeoutMs: 7000 }));
    time.advance(2000);
    join(c, params({ clientId: 'b', rebalanceTimeoutMs: 7000 }));
    time.advance(1000);
    await flush();
    // A member arrived during the first delay: the delay runs once more (min(3000, 4000)).
    expect(a.result).toBeNull();
    time.advance(3000);
    await flush();
    expect(a.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1 });
    expect(c.group('g')!.size).toBe(2);
  });

  it('group.max.size refuses members beyond it', async () => {
    const { c, time } = await setup({ groupMaxSize: 2 });
    join(c, params({ clientId: 'a' }));
    join(c, params({ clientId: 'b' }));
    const third = join(c, params({ clientId: 'c' }));
    await flush();
    expect(third.result).toMatchObject({ errorCode: ErrorCode.GROUP_MAX_SIZE_REACHED });
    time.advance(3000);
    expect(c.group('g')!.size).toBe(2);
  });

  it('a static member refused for the group size while rebalancing leaves with its instance id', async () => {
    const { c, time } = await setup({ groupMaxSize: 2 });
    const s = await stableOne(c, time, { groupInstanceId: 'inst', sessionTimeoutMs: 30_000 });
    join(c, params({ clientId: 'a', sessionTimeoutMs: 30_000 }));
    join(c, params({ clientId: 'b', sessionTimeoutMs: 30_000 }));
    await flush();
    // Two members already wait in the rebalance: the static member's rejoin is one too many.
    const refused = await c.joinGroup(params({ memberId: s.memberId, groupInstanceId: 'inst', sessionTimeoutMs: 30_000 }));
    expect(refused.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    const g = c.group('g')!;
    expect(g.has(s.memberId)).toBe(false);
    expect(g.hasStaticMember('inst')).toBe(false);
    // Everyone left has rejoined: the rebalance completes without it.
    await flush();
    expect(g.state).toBe('CompletingRebalance');
    expect(g.size).toBe(2);
  });

  it('leave removes members (by member id or instance id) and an empty group becomes Empty', async () => {
    const { c, time, log } = await setup();
    await stableOne(c, time, { groupInstanceId: 'inst-1' });
    expect(c.leaveGroup('g', [{ memberId: 'nobody', groupInstanceId: null }]).members[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.leaveGroup('g', [{ memberId: 'other', groupInstanceId: 'inst-1' }]).members[0]!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const left = c.leaveGroup('g', [{ memberId: '', groupInstanceId: 'inst-1' }]);
    expect(left.members[0]!.errorCode).toBe(ErrorCode.NONE);
    // Nobody is left to wait for: the rebalance completes at once with an empty group.
    await flush();
    expect(c.group('g')!.state).toBe('Empty');
    expect(c.group('g')!.generationId).toBe(2);
    const last = written(log).at(-1)!;
    expect(decodeOffsetsTopicRecord(last.key, last.value)).toMatchObject({ kind: 'group', value: { generation: 2, members: [] } });
  });

  it('static member rejoining with unchanged protocols keeps its assignment without a rebalance; its old id is fenced', async () => {
    const { c, time } = await setup();
    const first = await stableOne(c, time, { groupInstanceId: 'inst-1' });
    const again = await c.joinGroup(params({ groupInstanceId: 'inst-1' }));
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, leaderId: first.memberId, members: [] });
    expect(again.memberId).not.toBe(first.memberId);
    expect(c.group('g')!.state).toBe('Stable');
    const s = await c.syncGroup({ groupId: 'g', generationId: 1, memberId: again.memberId, groupInstanceId: 'inst-1', protocolType: null, protocolName: null, assignments: [] });
    expect(s.assignment.toString()).toBe('a1');
    expect(c.heartbeat('g', first.memberId, 'inst-1', 1)).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect((await c.commitOffsets({ groupId: 'g', memberId: first.memberId, groupInstanceId: 'inst-1', generationId: 1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }] }))[0]).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(c.heartbeat('g', again.memberId, 'inst-1', 1)).toBe(ErrorCode.NONE);
  });

  it('static member rejoining with a changed protocol triggers a rebalance', async () => {
    const { c, time } = await setup();
    await stableOne(c, time, { groupInstanceId: 'inst-1' });
    const j = join(c, params({ groupInstanceId: 'inst-1', protocols: [{ name: 'sticky', metadata: meta('m') }, { name: 'range', metadata: meta('m') }] }));
    await flush();
    // The only member has rejoined, so the rebalance completes at once: a new generation.
    expect(j.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 2, protocolName: 'sticky' });
    expect(c.group('g')!.state).toBe('CompletingRebalance');
  });

  it('SyncGroup checks member, generation and protocol', async () => {
    const { c, time } = await setup();
    const r = await stableOne(c, time);
    const sync = (over: object) => c.syncGroup({ groupId: 'g', generationId: 1, memberId: r.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [], ...over });
    expect((await sync({ memberId: 'x' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await sync({ generationId: 7 })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await sync({ protocolType: 'connect' })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await sync({ protocolName: 'sticky' })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    join(c, params({ clientId: 'other' }));
    expect((await sync({})).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });
});

describe('offsets', () => {
  it('simple commits without a group, fetch, metadata size and generation checks', async () => {
    const { c } = await setup();
    const commit = (over: object, offsets = [{ topic: 't', partition: 0, offset: 42n, leaderEpoch: 3, metadata: 'md' }]) =>
      c.commitOffsets({ groupId: 'simple', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, offsets, ...over });
    expect(await commit({ generationId: 1 })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await commit({})).toEqual([ErrorCode.NONE]);
    expect(await commit({}, [{ topic: 't', partition: 1, offset: 1n, leaderEpoch: -1, metadata: 'x'.repeat(4097) }])).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE]);
    expect(c.fetchOffsets('simple', [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }], false).offsets).toEqual([
      { topic: 't', partition: 0, offset: 42n, leaderEpoch: 3, metadata: 'md', errorCode: ErrorCode.NONE },
      { topic: 't', partition: 1, offset: -1n, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
    ]);
    expect(c.fetchOffsets('simple', null, false).offsets.map((o) => o.offset)).toEqual([42n]);
    expect(c.fetchOffsets('unknown', null, false)).toEqual({ errorCode: ErrorCode.NONE, offsets: [] });
  });

  it('answers a commit only once written; require_stable sees it pending meanwhile', async () => {
    const { c, log } = await setup();
    log.holdCommits = true;
    let done: number[] | null = null;
    void c.commitOffsets({ groupId: 's', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 7n, leaderEpoch: -1, metadata: null }] }).then((r) => (done = r));
    await flush();
    expect(done).toBeNull();
    expect(c.fetchOffsets('s', [{ topic: 't', partition: 0 }], true).offsets[0]!.errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    expect(c.fetchOffsets('s', [{ topic: 't', partition: 0 }], false).offsets[0]!.offset).toBe(-1n);
    log.releaseCommits();
    await flush();
    expect(done).toEqual([ErrorCode.NONE]);
    expect(c.fetchOffsets('s', [{ topic: 't', partition: 0 }], true).offsets[0]!.offset).toBe(7n);
  });

  it('a failed append answers the mapped error and keeps nothing', async () => {
    const { c, log } = await setup();
    log.failAppendsWith = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    expect(await c.commitOffsets({ groupId: 's', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 7n, leaderEpoch: -1, metadata: null }] })).toEqual([ErrorCode.NOT_COORDINATOR]);
    expect(c.fetchOffsets('s', null, false).offsets).toEqual([]);
  });

  it('groups and offsets are restored from the log by a new coordinator; tombstones delete', async () => {
    const { c, time, log } = await setup();
    const r = await stableOne(c, time, { groupInstanceId: 'inst' });
    await c.commitOffsets({ groupId: 'g', memberId: r.memberId, groupInstanceId: 'inst', generationId: 1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 10n, leaderEpoch: 1, metadata: 'a' }, { topic: 't', partition: 1, offset: 11n, leaderEpoch: 1, metadata: 'b' }] });
    await c.commitOffsets({ groupId: 'g', memberId: r.memberId, groupInstanceId: 'inst', generationId: 1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 12n, leaderEpoch: 1, metadata: 'c' }] });
    await c.commitOffsets({ groupId: 'other', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }] });
    expect(await c.deleteGroups(['other', 'g', 'missing'])).toEqual([ErrorCode.NONE, ErrorCode.NON_EMPTY_GROUP, ErrorCode.GROUP_ID_NOT_FOUND]);
    c.shutdown();

    const { c: c2 } = await setup({}, log);
    const g = c2.group('g')!;
    expect(g).toMatchObject({ state: 'Stable', generationId: 1, protocolName: 'range', leaderId: r.memberId });
    expect(g.get(r.memberId).assignment.toString()).toBe('a1');
    expect(g.staticMemberId('inst')).toBe(r.memberId);
    expect(c2.fetchOffsets('g', null, false).offsets.map((o) => [o.partition, o.offset, o.metadata])).toEqual([
      [0, 12n, 'c'],
      [1, 11n, 'b'],
    ]);
    expect(c2.group('other')).toBeUndefined();
    expect(c2.heartbeat('g', r.memberId, 'inst', 1)).toBe(ErrorCode.NONE);
  });

  it('a resignation answers waiting members NOT_COORDINATOR and cancels every timer of the shard', async () => {
    const { c, time } = await setup();
    const r = await stableOne(c, time);
    const waiting = join(c, params({ clientId: 'second' }));
    await flush();
    expect(waiting.result).toBeNull();
    expect(time.pending).toBeGreaterThan(0); // heartbeats, the join timer, the retention check
    c.onResignation(0);
    await flush();
    expect(waiting.result).toMatchObject({ errorCode: ErrorCode.NOT_COORDINATOR });
    expect(time.pending).toBe(0);
    expect(c.heartbeat('g', r.memberId, null, 1)).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('a partition not led answers NOT_COORDINATOR; while loading COORDINATOR_LOAD_IN_PROGRESS', async () => {
    const log = new MemoryPartitionLog();
    const time = new ManualScheduler();
    const c = new GroupCoordinator({ config: CONFIG, log, scheduler: time, logger: pino({ level: 'silent' }) });
    expect(c.heartbeat('g', 'm', null, 1)).toBe(ErrorCode.NOT_COORDINATOR);
    const loading = c.onElection(0, 0);
    expect(c.heartbeat('g', 'm', null, 1)).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    await loading;
    expect(c.heartbeat('g', 'm', null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    c.onResignation(0);
    expect(c.fetchOffsets('g', null, false).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('expires offsets of Empty groups after offsets.retention.minutes, writing tombstones', async () => {
    const { c, time, log } = await setup({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 });
    await c.commitOffsets({ groupId: 's', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }] });
    time.advance(50_000);
    await flush();
    expect(c.fetchOffsets('s', null, false).offsets).toHaveLength(1);
    time.advance(10_000);
    await flush();
    expect(c.fetchOffsets('s', null, false).offsets).toHaveLength(0);
    expect(c.group('s')).toBeUndefined();
    const last = written(log).at(-1)!;
    expect(last.value).toBeNull();
    expect(decodeOffsetsTopicRecord(last.key, last.value)).toMatchObject({ kind: 'offset', group: 's', topic: 't', partition: 0, value: null });
  });

  it('the retention check forgets the offset maps of deleted groups', async () => {
    const { c, time } = await setup({ offsetsRetentionCheckIntervalMs: 10_000 });
    await c.commitOffsets({ groupId: 'gone', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }] });
    const shard = c.runtime.loadedShards()[0]!.shard;
    expect(await c.deleteGroups(['gone'])).toEqual([ErrorCode.NONE]);
    expect(shard.offsets.has('gone')).toBe(true);
    time.advance(10_000);
    await flush();
    expect(shard.offsets.has('gone')).toBe(false);
    expect(c.fetchOffsets('gone', null, false).offsets).toEqual([]);
  });

  it('OffsetDelete refuses topics a consumer group is subscribed to', async () => {
    const { c, time } = await setup();
    // Consumer protocol subscription v0: topics ["t"], no user data.
    const sub = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0xff, 0xff, 0xff, 0xff]);
    const r = await stableOne(c, time, { protocols: [{ name: 'range', metadata: sub }] });
    await c.commitOffsets({ groupId: 'g', memberId: r.memberId, groupInstanceId: null, generationId: 1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }, { topic: 'u', partition: 0, offset: 2n, leaderEpoch: -1, metadata: null }] });
    const res = await c.deleteOffsets('g', [{ topic: 't', partition: 0 }, { topic: 'u', partition: 0 }]);
    expect(res).toEqual({ errorCode: ErrorCode.NONE, partitions: [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.NONE] });
    expect(c.fetchOffsets('g', null, false).offsets.map((o) => o.topic)).toEqual(['t']);
    expect((await c.deleteOffsets('missing', [])).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});

describe('protocol consistency', () => {
  it('a repeated protocol name counts once: a member that shares nothing with the others is refused, and the rebalance completes', async () => {
    const { c, time } = await setup();
    const a = join(c, params({ clientId: 'a', protocols: [{ name: 'x', metadata: meta('1') }] }));
    const b = join(c, params({ clientId: 'b', protocols: [{ name: 'x', metadata: meta('2') }, { name: 'y', metadata: meta('2') }, { name: 'y', metadata: meta('3') }] }));
    // 'y' is supported by b only; a repeated name in b's list must not make it look common.
    const d = join(c, params({ clientId: 'd', protocols: [{ name: 'y', metadata: meta('4') }] }));
    await flush();
    expect(d.result).toMatchObject({ errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL });
    expect(() => time.advance(6000)).not.toThrow();
    await flush();
    for (const x of [a, b]) expect(x.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, protocolName: 'x' });
  });

  it('a known member may change its protocols only to a list that keeps one in common with the others', async () => {
    const { c, time } = await setup();
    const a = join(c, params({ clientId: 'a', protocols: [{ name: 'x', metadata: meta('1') }, { name: 'y', metadata: meta('1') }] }));
    const b = join(c, params({ clientId: 'b', protocols: [{ name: 'x', metadata: meta('2') }] }));
    time.advance(6000);
    await flush();
    const ra = a.result!;
    // 'y' is a's alone: b cannot switch to it, in any state.
    expect((await c.joinGroup(params({ memberId: b.result!.memberId, protocols: [{ name: 'y', metadata: meta('2') }] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.joinGroup(params({ memberId: ra.memberId, protocolType: 'connect' }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // a may drop 'y' (x stays common): a rebalance starts and completes on 'x'.
    const a2 = join(c, params({ memberId: ra.memberId, protocols: [{ name: 'x', metadata: meta('1') }] }));
    const b2 = join(c, params({ memberId: b.result!.memberId, protocols: [{ name: 'x', metadata: meta('2') }, { name: 'z', metadata: meta('2') }] }));
    await flush();
    expect(a2.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 2, protocolName: 'x' });
    expect(b2.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 2, protocolName: 'x' });
  });

  it('a static member replacing itself must share a protocol with the others', async () => {
    const { c, time } = await setup();
    const s1 = join(c, params({ clientId: 's', groupInstanceId: 'i', protocols: [{ name: 'x', metadata: meta('1') }, { name: 'y', metadata: meta('1') }] }));
    join(c, params({ clientId: 'b', protocols: [{ name: 'x', metadata: meta('2') }] }));
    time.advance(6000);
    await flush();
    expect(s1.result!.errorCode).toBe(ErrorCode.NONE);
    expect((await c.joinGroup(params({ groupInstanceId: 'i', protocols: [{ name: 'y', metadata: meta('1') }] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(c.group('g')!.staticMemberId('i')).toBe(s1.result!.memberId);
    expect(() => time.advance(60_000)).not.toThrow();
  });

  it('an Empty group takes any protocol, even with pending member ids; a rebalancing group with no members left takes its type only', async () => {
    const { c, time } = await setup();
    const pending = await c.joinGroup(params({ requireKnownMemberId: true }));
    expect(pending.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(c.group('g')!.state).toBe('Empty');
    const a = join(c, params({ clientId: 'a', protocols: [{ name: 'q', metadata: meta('1') }] }));
    // The pending id comes back with a list that shares nothing with the member that got in first.
    expect((await c.joinGroup(params({ requireKnownMemberId: true, memberId: pending.memberId }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(a.result).toBeNull();
    const aId = [...c.group('g')!.members.keys()][0]!;
    expect(c.leaveGroup('g', [{ memberId: aId, groupInstanceId: null }]).members[0]!.errorCode).toBe(ErrorCode.NONE);
    await flush();
    expect(a.result).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    await flush();
    // Still in the initial delay, with no member: the group's type holds, any protocol list does.
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    expect((await c.joinGroup(params({ clientId: 'x', protocolType: 'connect' }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const d = join(c, params({ clientId: 'd', protocols: [{ name: 'r', metadata: meta('1') }] }));
    expect(() => time.advance(30_000)).not.toThrow();
    await flush();
    expect(d.result).toMatchObject({ errorCode: ErrorCode.NONE, protocolName: 'r' });
  });
});
