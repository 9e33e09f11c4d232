// The group shard against a model, on random sequences of operations (fast-check): simple and
// transactional offset commits (some of whose appends fail), transaction markers, group
// membership (join, sync, leave, session expiry), OffsetDelete, DeleteGroups and retention.
// After each sequence: the committed offsets equal the model's, and a new coordinator that loads
// the same log (replaying the shard's records) holds the same state as the live one: the same
// offsets, pending transactional offsets and group metadata, and the same groups.
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { MemoryPartitionLog } from '../coordinator/partition-log.ts';
import { GroupCoordinator } from './group-coordinator.ts';
import type { GroupCoordinatorShard } from './group-shard.ts';
import { appendMarker, CONFIG, flush, params } from './group-test-support.ts';

const SIMPLE = ['s0', 's1'];
const MANAGED = ['g0', 'g1'];
const config = { ...CONFIG, offsetsRetentionMs: 120_000, offsetsRetentionCheckIntervalMs: 30_000 };

type Op =
  | { op: 'commit'; g: number; tp: number; offset: number; fail: boolean; retention: boolean }
  | { op: 'txn'; pid: number; g: number; tp: number; offset: number; fail: boolean }
  | { op: 'marker'; pid: number; commit: boolean }
  | { op: 'join'; g: number }
  | { op: 'memberCommit'; g: number; tp: number; offset: number; fail: boolean }
  | { op: 'leave'; g: number }
  | { op: 'deleteOffsets'; g: number; tp: number; managed: boolean }
  | { op: 'deleteGroup'; g: number; managed: boolean }
  | { op: 'advance'; ms: number };

const g = fc.integer({ min: 0, max: 1 });
const tp = fc.integer({ min: 0, max: 2 });
const offset = fc.integer({ min: 0, max: 1000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('commit' as const), g, tp, offset, fail: fc.boolean(), retention: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('txn' as const), pid: g, g, tp, offset, fail: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('marker' as const), pid: g, commit: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('join' as const), g }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('memberCommit' as const), g, tp, offset, fail: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leave' as const), g }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteOffsets' as const), g, tp, managed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteGroup' as const), g, managed: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1000, 11_000, 40_000) }) },
);

const key = (group: string, p: number) => `${group}/t/${p}`;

/** What a shard holds that the log must give back. */
function replayedState(shard: GroupCoordinatorShard) {
  const offsets: Record<string, string> = {};
  for (const [group, m] of shard.offsets) for (const [, o] of m) offsets[key(group, o.partition)] = `${o.value.offset}:${o.value.metadata}`;
  const pending: Record<string, string> = {};
  for (const [pid, m] of shard.pendingTxnOffsets) for (const p of m.values()) pending[`${pid}:${key(p.groupId, p.offset.partition)}`] = String(p.offset.value.offset);
  const groupValues: Record<string, unknown> = {};
  for (const [id, v] of shard.groupValues) groupValues[id] = { generation: v.generation, leader: v.leader, protocol: v.protocol, members: v.members.map((m) => [m.memberId, Buffer.from(m.assignment).toString()]) };
  // Groups the log knows of: with metadata, offsets or offsets pending in a transaction.
  const groups = [...shard.groups.keys()].filter((id) => shard.groupValues.has(id) || (shard.offsets.get(id)?.size ?? 0) > 0 || shard.hasPendingTxnOffsets(id)).sort();
  return { offsets, pending, groupValues, groups };
}

async function run(ops: readonly Op[]): Promise<void> {
  const time = new ManualScheduler();
  const log = new MemoryPartitionLog();
  const c = new GroupCoordinator({ config, log, scheduler: time, logger: pino({ level: 'silent' }) });
  await c.onElection(0, 0);
  const shard = () => c.runtime.loadedShards()[0]!.shard;
  // The model: committed offsets by group/partition, pending ones by producer.
  const committed = new Map<string, number>();
  const pending = new Map<number, Map<string, number>>();
  const members = new Map<string, { memberId: string; generationId: number }>();
  // A tombstone ends a partition's committed offset and its offsets pending in transactions.
  const tombstone = (k: string) => {
    committed.delete(k);
    for (const m of pending.values()) m.delete(k);
  };
  const removeGroupOffsets = (group: string) => {
    const keys = new Set([...committed.keys(), ...[...pending.values()].flatMap((m) => [...m.keys()])]);
    for (const k of keys) if (k.startsWith(`${group}/`)) tombstone(k);
  };
  // Offsets the retention check may have removed are no longer checked exactly.
  const expiredMaybe = new Set<string>();

  for (const o of ops) {
    switch (o.op) {
      case 'commit': {
        const group = SIMPLE[o.g]!;
        log.failAppendsWith = o.fail ? ErrorCode.NOT_LEADER_OR_FOLLOWER : null;
        const r = await c.commitOffsets({ groupId: group, memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: o.retention ? 60_000 : -1, offsets: [{ topic: 't', partition: o.tp, offset: BigInt(o.offset), leaderEpoch: -1, metadata: 'm' }] });
        log.failAppendsWith = null;
        expect(r).toEqual([o.fail ? ErrorCode.NOT_COORDINATOR : ErrorCode.NONE]);
        if (!o.fail) {
          committed.set(key(group, o.tp), o.offset);
          expiredMaybe.delete(key(group, o.tp));
        }
        break;
      }
      case 'txn': {
        const group = SIMPLE[o.g]!;
        log.failAppendsWith = o.fail ? ErrorCode.NOT_ENOUGH_REPLICAS : null;
        const r = await c.commitTxnOffsets({ transactionalId: `tx${o.pid}`, groupId: group, producerId: BigInt(o.pid + 7), producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null, offsets: [{ topic: 't', partition: o.tp, offset: BigInt(o.offset), leaderEpoch: -1, metadata: 'x' }] });
        log.failAppendsWith = null;
        expect(r).toEqual([o.fail ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.NONE]);
        if (!o.fail) {
          const m = pending.get(o.pid) ?? new Map<string, number>();
          m.set(key(group, o.tp), o.offset);
          pending.set(o.pid, m);
        }
        break;
      }
      case 'marker': {
        const at = appendMarker(log, 0, BigInt(o.pid + 7), o.commit);
        c.onTransactionMarker(0, BigInt(o.pid + 7), o.commit, at);
        const m = pending.get(o.pid);
        pending.delete(o.pid);
        if (m && o.commit) {
          for (const [k, v] of m) {
            committed.set(k, v);
            expiredMaybe.delete(k);
          }
        }
        break;
      }
      case 'join': {
        const group = MANAGED[o.g]!;
        if (members.has(group)) break;
        const joined = c.joinGroup(params({ groupId: group, sessionTimeoutMs: 10_000 }));
        time.advance(config.groupInitialRebalanceDelayMs);
        await flush();
        const j = await joined;
        if (j.errorCode !== ErrorCode.NONE) break;
        const s = await c.syncGroup({ groupId: group, generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId: j.memberId, assignment: Buffer.from(`a-${j.generationId}`) }] });
        if (s.errorCode === ErrorCode.NONE) members.set(group, { memberId: j.memberId, generationId: j.generationId });
        break;
      }
      case 'memberCommit': {
        const group = MANAGED[o.g]!;
        const m = members.get(group);
        if (!m) break;
        log.failAppendsWith = o.fail ? ErrorCode.NOT_LEADER_OR_FOLLOWER : null;
        const r = await c.commitOffsets({ groupId: group, memberId: m.memberId, groupInstanceId: null, generationId: m.generationId, retentionTimeMs: -1, offsets: [{ topic: 't', partition: o.tp, offset: BigInt(o.offset), leaderEpoch: 1, metadata: 'mm' }] });
        log.failAppendsWith = null;
        if (r[0] === ErrorCode.NONE) {
          committed.set(key(group, o.tp), o.offset);
          expiredMaybe.delete(key(group, o.tp));
        } else if (r[0] === ErrorCode.UNKNOWN_MEMBER_ID || r[0] === ErrorCode.ILLEGAL_GENERATION) {
          members.delete(group); // its session expired meanwhile
        } else {
          expect(r).toEqual([ErrorCode.NOT_COORDINATOR]);
        }
        break;
      }
      case 'leave': {
        const group = MANAGED[o.g]!;
        const m = members.get(group);
        if (!m) break;
        c.leaveGroup(group, [{ memberId: m.memberId, groupInstanceId: null }]);
        members.delete(group);
        await flush();
        break;
      }
      case 'deleteOffsets': {
        const group = (o.managed ? MANAGED : SIMPLE)[o.g]!;
        const r = await c.deleteOffsets(group, [{ topic: 't', partition: o.tp }]);
        if (r.errorCode === ErrorCode.NONE && r.partitions[0] === ErrorCode.NONE) tombstone(key(group, o.tp));
        break;
      }
      case 'deleteGroup': {
        const group = (o.managed ? MANAGED : SIMPLE)[o.g]!;
        const [code] = await c.deleteGroups([group]);
        if (code === ErrorCode.NONE) removeGroupOffsets(group);
        break;
      }
      case 'advance': {
        time.advance(o.ms);
        await flush();
        // Sessions of 10 s end without heartbeats; the retention check may expire offsets.
        if (o.ms > 10_000) members.clear();
        for (const k of committed.keys()) expiredMaybe.add(k);
        break;
      }
    }
    await flush();
  }

  // The committed offsets answer as the model says (those the retention check may have taken aside).
  for (const group of [...SIMPLE, ...MANAGED]) {
    const fetched = c.fetchOffsets(group, null, false).offsets;
    const got = new Map(fetched.map((f) => [key(group, f.partition), Number(f.offset)]));
    for (const [k, v] of committed) if (k.startsWith(`${group}/`) && !expiredMaybe.has(k)) expect(got.get(k)).toBe(v);
    for (const [k, v] of got) {
      expect(committed.has(k)).toBe(true);
      expect(committed.get(k)).toBe(v);
    }
  }

  // Replaying the log gives the live shard's state.
  const live = replayedState(shard());
  const c2 = new GroupCoordinator({ config, log, scheduler: new ManualScheduler(), logger: pino({ level: 'silent' }) });
  await c2.onElection(0, 1);
  const reloaded = replayedState(c2.runtime.loadedShards()[0]!.shard);
  expect(reloaded).toEqual(live);
  // Stable groups come back as they are.
  for (const [id, group] of shard().groups) {
    if (!group.is('Stable')) continue;
    const again = c2.group(id)!;
    expect({ gen: again.generationId, leader: again.leaderId, protocol: again.protocolName, members: [...again.members.keys()] }).toEqual({
      gen: group.generationId,
      leader: group.leaderId,
      protocol: group.protocolName,
      members: [...group.members.keys()],
    });
  }
  c.shutdown();
  c2.shutdown();
}

describe('group shard against a model', () => {
  it('random operations: live state equals the state replayed from its log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        await run(ops);
      }),
      { numRuns: 150 },
    );
  }, 240_000);

  it('a held commit is answered once committed, visible to require_stable as pending meanwhile; a reload sees it', async () => {
    const time = new ManualScheduler();
    const log = new MemoryPartitionLog();
    const c = new GroupCoordinator({ config, log, scheduler: time, logger: pino({ level: 'silent' }) });
    await c.onElection(0, 0);
    await c.commitOffsets({ groupId: 's0', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: '' }] });
    log.holdCommits = true;
    let done = false;
    const second = c.commitOffsets({ groupId: 's0', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, offsets: [{ topic: 't', partition: 0, offset: 2n, leaderEpoch: -1, metadata: '' }] }).then(() => (done = true));
    await flush();
    expect(done).toBe(false);
    expect(c.fetchOffsets('s0', null, false).offsets.map((o) => o.offset)).toEqual([1n]);
    expect(c.fetchOffsets('s0', null, true).offsets.map((o) => o.errorCode)).toEqual([ErrorCode.UNSTABLE_OFFSET_COMMIT]);
    log.releaseCommits();
    await second;
    expect(c.fetchOffsets('s0', null, false).offsets.map((o) => o.offset)).toEqual([2n]);
    const c2 = new GroupCoordinator({ config, log, scheduler: new ManualScheduler(), logger: pino({ level: 'silent' }) });
    await c2.onElection(0, 1);
    expect(c2.fetchOffsets('s0', null, false).offsets.map((o) => o.offset)).toEqual([2n]);
  });
});
