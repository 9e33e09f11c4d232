// Model-based properties of the follower's fetch sessions: random sequences of partitions added
// and removed, fetch offsets, log start offsets and leader epochs changed, the leader's high
// watermark, log start and log end moved, partition errors, lost requests and answers, and
// sessions evicted from the leader's cache, run against the leader's real session cache
// (newFetchContext and completeFetchContext, as the Fetch handler uses them). After every
// accepted request the partitions the leader reads, with their fetch state, are exactly those the
// follower meant to fetch; after every answer taken, the follower knows the leader's high
// watermark and log start offset of every partition it fetches without error, although
// incremental answers leave out partitions without news.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { completeFetchContext, type FetchPartitionAnswer, type FetchPartitionRequest, FetchSessionCache, newFetchContext } from '../fetch/fetch-session-cache.ts';
import { FetchSessionHandler, type SessionPartition, sessionKey } from './fetch-session-handler.ts';

const TOPICS = [
  { topic: 'a', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
  { topic: 'b', topicId: 'AAAAAAAAAAAAAAAAAAAAAg' },
];
const PARTITIONS = 3;
const SLOTS = TOPICS.length * PARTITIONS;

type Op =
  | { kind: 'add' | 'remove' | 'epoch' | 'truncate'; p: number }
  | { kind: 'produce' | 'hw' | 'log-start' | 'error'; p: number }
  | { kind: 'fetch'; fate: 'ok' | 'request-lost' | 'answer-lost' }
  | { kind: 'evict' };

const slot = fc.integer({ min: 0, max: SLOTS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const, 'epoch' as const, 'truncate' as const), p: slot }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constantFrom('produce' as const, 'hw' as const, 'log-start' as const, 'error' as const), p: slot }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('fetch' as const), fate: fc.constantFrom('ok' as const, 'ok' as const, 'ok' as const, 'ok' as const, 'request-lost' as const, 'answer-lost' as const) }), weight: 8 },
  { arbitrary: fc.constant({ kind: 'evict' as const }), weight: 1 },
);

interface LeaderPartition {
  logEnd: bigint;
  hw: bigint;
  logStart: bigint;
  error: boolean;
}

interface FollowedPartition {
  fetchOffset: bigint;
  logStart: bigint;
  leaderEpoch: number;
  lastFetchedEpoch: number;
  /** Held back after an error answer: left out of the next request, as the fetcher does. */
  heldBack: boolean;
  /** The leader's values as last heard, or null before any answer. */
  knownHw: bigint | null;
  knownLogStart: bigint | null;
}

function ref(i: number) {
  const t = TOPICS[Math.floor(i / PARTITIONS)]!;
  return { topic: t.topic, topicId: t.topicId, partition: i % PARTITIONS };
}

function run(ops: readonly Op[], maxEntries: number): void {
  // Each fetch moves the clock, so a session orphaned by a lost answer ages out of a full cache.
  let now = 0;
  const cache = new FetchSessionCache({ maxEntries, evictionMs: 1000, now: () => now });
  const handler = new FetchSessionHandler();
  const leader = Array.from({ length: SLOTS }, (): LeaderPartition => ({ logEnd: 10n, hw: 5n, logStart: 0n, error: false }));
  const followed = new Map<number, FollowedPartition>();

  const stateOf = (i: number, f: FollowedPartition): SessionPartition => ({
    ...ref(i),
    fetchOffset: f.fetchOffset,
    logStartOffset: f.logStart,
    maxBytes: 1 << 20,
    currentLeaderEpoch: f.leaderEpoch,
    lastFetchedEpoch: f.lastFetchedEpoch,
  });

  const fetch = (fate: 'ok' | 'request-lost' | 'answer-lost'): void => {
    now += 400;
    const wanted: SessionPartition[] = [];
    for (const [i, f] of followed) if (!f.heldBack) wanted.push(stateOf(i, f));
    for (const f of followed.values()) f.heldBack = false;
    if (wanted.length === 0) return; // the fetcher sends nothing then
    const req = handler.build(wanted);
    expect([...req.partitions.keys()].sort()).toEqual(wanted.map(sessionKey).sort());
    if (req.full) expect(req.toSend.length).toBe(wanted.length);
    if (fate === 'request-lost') {
      handler.handleError();
      return;
    }
    const toRequest = (p: SessionPartition): FetchPartitionRequest => ({
      topic: p.topic,
      topicId: p.topicId,
      partition: p.partition,
      fetchOffset: p.fetchOffset,
      maxBytes: p.maxBytes,
      currentLeaderEpoch: p.currentLeaderEpoch,
      lastFetchedEpoch: p.lastFetchedEpoch,
      logStartOffset: p.logStartOffset,
    });
    const ctx = newFetchContext(cache, { sessionId: req.sessionId, epoch: req.sessionEpoch }, true, true, req.toSend.map(toRequest), req.toForget);
    let answer: { errorCode: number; sessionId: number; partitions: { req: FetchPartitionRequest; answer: FetchPartitionAnswer }[] };
    if (ctx.kind === 'error') {
      // Only a session the leader no longer has (or at another epoch) is refused.
      expect(req.full).toBe(false);
      answer = completeFetchContext(cache, ctx, []);
    } else {
      // What the leader reads is what the follower meant, field for field.
      const read = new Map(ctx.partitions.map((p) => [sessionKey({ topic: p.topic ?? '', topicId: p.topicId, partition: p.partition }), p]));
      expect(new Set(read.keys())).toEqual(new Set(req.partitions.keys()));
      for (const [k, p] of req.partitions) expect(read.get(k)).toMatchObject(toRequest(p));
      const results = ctx.partitions.map((r) => {
        const i = TOPICS.findIndex((t) => t.topicId === r.topicId) * PARTITIONS + r.partition;
        const l = leader[i]!;
        const a: FetchPartitionAnswer = l.error
          ? { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, highWatermark: -1n, logStartOffset: -1n, lastStableOffset: -1n, recordsSize: 0, preferredReadReplica: -1, diverging: false }
          : { errorCode: ErrorCode.NONE, highWatermark: l.hw, logStartOffset: l.logStart, lastStableOffset: 0n, recordsSize: r.fetchOffset < l.logEnd ? 100 : 0, preferredReadReplica: -1, diverging: false };
        return { req: r, answer: a };
      });
      answer = completeFetchContext(cache, ctx, results);
    }
    if (fate === 'answer-lost') {
      handler.handleError();
      return;
    }
    const answered = answer.partitions.map((r) => ({ topic: r.req.topic, topicId: r.req.topicId, partition: r.req.partition }));
    if (!handler.handleResponse(answer.errorCode, answer.sessionId, answered)) {
      expect(answer.errorCode).not.toBe(ErrorCode.NONE);
      return;
    }
    for (const r of answer.partitions) {
      const i = TOPICS.findIndex((t) => t.topicId === r.req.topicId) * PARTITIONS + r.req.partition;
      const f = followed.get(i)!;
      if (r.answer.errorCode !== ErrorCode.NONE) {
        f.heldBack = true;
        continue;
      }
      f.knownHw = r.answer.highWatermark;
      f.knownLogStart = r.answer.logStartOffset;
      // The follower appends what came (to the leader's log end) and takes its log start.
      if (r.answer.recordsSize > 0) {
        f.fetchOffset = leader[i]!.logEnd;
        f.lastFetchedEpoch = f.leaderEpoch;
      }
      if (r.answer.logStartOffset > f.logStart && r.answer.logStartOffset <= f.fetchOffset) f.logStart = r.answer.logStartOffset;
    }
    // Every partition read without error is known to the follower as the leader has it now.
    for (const k of req.partitions.keys()) {
      const i = [...followed.keys()].find((j) => sessionKey(ref(j)) === k)!;
      const l = leader[i]!;
      if (l.error) continue;
      const f = followed.get(i)!;
      expect({ k, hw: f.knownHw, logStart: f.knownLogStart }).toEqual({ k, hw: l.hw, logStart: l.logStart });
    }
  };

  for (const op of ops) {
    switch (op.kind) {
      case 'add':
        if (!followed.has(op.p)) followed.set(op.p, { fetchOffset: 0n, logStart: 0n, leaderEpoch: 1, lastFetchedEpoch: -1, heldBack: false, knownHw: null, knownLogStart: null });
        break;
      case 'remove':
        followed.delete(op.p);
        break;
      case 'epoch': {
        const f = followed.get(op.p);
        if (f) f.leaderEpoch++;
        break;
      }
      case 'truncate': {
        const f = followed.get(op.p);
        if (f && f.fetchOffset > f.logStart) f.fetchOffset--;
        break;
      }
      case 'produce':
        leader[op.p]!.logEnd += 3n;
        break;
      case 'hw': {
        const l = leader[op.p]!;
        if (l.hw < l.logEnd) l.hw++;
        break;
      }
      case 'log-start': {
        const l = leader[op.p]!;
        if (l.logStart < l.hw) l.logStart++;
        break;
      }
      case 'error':
        leader[op.p]!.error = !leader[op.p]!.error;
        break;
      case 'evict':
        if (handler.sessionId !== 0) cache.remove(handler.sessionId);
        break;
      case 'fetch':
        fetch(op.fate);
        break;
    }
  }
  // With nothing left to change, a steady follower's requests name nothing and forget nothing.
  for (const l of leader) l.error = false;
  for (let i = 0; i < 6; i++) fetch('ok');
  if (maxEntries > 0 && followed.size > 0) {
    const wanted = [...followed].map(([i, f]) => stateOf(i, f));
    const req = handler.build(wanted);
    expect({ full: req.full, toSend: req.toSend.length, toForget: req.toForget.length }).toEqual({ full: false, toSend: 0, toForget: 0 });
  }
}

describe('follower fetch sessions against the leader session cache', () => {
  it('the leader reads exactly what the follower fetches, and every high watermark and log start offset reaches the follower', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.constantFrom(0, 1, 1000), (ops, maxEntries) => run(ops, maxEntries)),
      { numRuns: 300 },
    );
  });
});
