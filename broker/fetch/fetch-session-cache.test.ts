import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import {
  completeFetchContext,
  type FetchPartitionAnswer,
  type FetchPartitionRequest,
  FetchSessionCache,
  INVALID_SESSION_ID,
  newFetchContext,
  nextEpoch,
} from './fetch-session-cache.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function ids(start = 1) {
  let n = start;
  return () => n++;
}

function req(topic: string, partition: number, fetchOffset = 0n): FetchPartitionRequest {
  return { topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partition, fetchOffset, maxBytes: 1000, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1n };
}

function answer(over: Partial<FetchPartitionAnswer> = {}): FetchPartitionAnswer {
  return { errorCode: 0, highWatermark: 10n, logStartOffset: 0n, lastStableOffset: 10n, recordsSize: 0, preferredReadReplica: -1, diverging: false, ...over };
}

/** Opens a session over `partitions` through a full fetch; returns its id. */
function open(cache: FetchSessionCache, partitions: FetchPartitionRequest[], privileged = false): number {
  const ctx = newFetchContext(cache, { sessionId: 0, epoch: 0 }, false, privileged, partitions, []);
  expect(ctx.kind).toBe('full');
  return completeFetchContext(cache, ctx, partitions.map((r) => ({ req: r, answer: answer() }))).sessionId;
}

describe('nextEpoch', () => {
  it('counts up, wraps after int32 max to 1 and stays final', () => {
    expect(nextEpoch(0)).toBe(1);
    expect(nextEpoch(2147483647)).toBe(1);
    expect(nextEpoch(-1)).toBe(-1);
  });
});

describe('fetch contexts', () => {
  it('resolves, on an incremental fetch, a topic id the broker did not know when the partition joined the session', () => {
    const c = clock();
    const cache = new FetchSessionCache({ now: c.now, randomInt: ids(7) });
    const unknown = { ...req('t', 0), topic: null };
    const full = newFetchContext(cache, { sessionId: 0, epoch: 0 }, true, true, [unknown], []);
    const id = completeFetchContext(cache, full, [{ req: unknown, answer: answer({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, highWatermark: -1n }) }]).sessionId;
    expect(id).toBe(7);
    // The follower names nothing (its fetch state is unchanged); the topic is known by now.
    const names = new Map([['AAAAAAAAAAAAAAAAAAAAAA', 't']]);
    const inc = newFetchContext(cache, { sessionId: id, epoch: 1 }, true, true, [], [], (topicId) => names.get(topicId) ?? null);
    expect(inc.kind).toBe('incremental');
    expect(inc.kind === 'incremental' && inc.partitions.map((p) => p.topic)).toEqual(['t']);
  });

  it('sessionless for epoch -1; full for epoch 0 (closing a named session)', () => {
    const c = clock();
    const cache = new FetchSessionCache({ now: c.now, randomInt: ids(7) });
    const a = newFetchContext(cache, { sessionId: 0, epoch: -1 }, false, false, [req('t', 0)], []);
    expect(a.kind).toBe('sessionless');
    expect(completeFetchContext(cache, a, [{ req: req('t', 0), answer: answer() }]).sessionId).toBe(INVALID_SESSION_ID);
    const id = open(cache, [req('t', 0)]);
    expect(id).toBe(7);
    expect(cache.get(id)!.epoch).toBe(1);
    const b = newFetchContext(cache, { sessionId: id, epoch: 0 }, false, false, [req('t', 0)], []);
    expect(b.kind).toBe('full');
    expect(cache.get(id)).toBeUndefined();
  });

  it('errors for unknown sessions, wrong epochs and a switch of topic-id use', () => {
    const cache = new FetchSessionCache({ randomInt: ids() });
    const id = open(cache, [req('t', 0)]);
    expect(newFetchContext(cache, { sessionId: id + 1, epoch: 1 }, false, false, [], [])).toEqual({ kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
    expect(newFetchContext(cache, { sessionId: id, epoch: 2 }, false, false, [], [])).toEqual({ kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH });
    expect(newFetchContext(cache, { sessionId: id, epoch: 1 }, true, false, [], [])).toEqual({ kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR });
    const ok = newFetchContext(cache, { sessionId: id, epoch: 1 }, false, false, [], []);
    expect(ok.kind).toBe('incremental');
    expect(cache.get(id)!.epoch).toBe(2);
  });

  it('incremental responses carry only partitions with news, and records move a partition to the end', () => {
    const cache = new FetchSessionCache({ randomInt: ids() });
    const parts = [req('t', 0), req('t', 1), req('t', 2)];
    const id = open(cache, parts);
    let epoch = 1;
    const round = (answers: Record<number, Partial<FetchPartitionAnswer>>) => {
      const ctx = newFetchContext(cache, { sessionId: id, epoch: epoch++ }, false, false, [], []);
      if (ctx.kind !== 'incremental') throw new Error(ctx.kind);
      const res = completeFetchContext(cache, ctx, ctx.partitions.map((r) => ({ req: r, answer: answer(answers[r.partition]) })));
      return { order: ctx.partitions.map((p) => p.partition), sent: res.partitions.map((p) => p.req.partition) };
    };
    expect(round({}).sent).toEqual([]);
    expect(round({ 1: { highWatermark: 11n } }).sent).toEqual([1]);
    expect(round({ 1: { highWatermark: 11n } }).sent).toEqual([]);
    expect(round({ 0: { recordsSize: 100 }, 1: { highWatermark: 11n }, 2: { logStartOffset: 3n } }).sent).toEqual([0, 2]);
    // Partition 0 returned records: it is now read last.
    expect(round({ 1: { highWatermark: 11n }, 2: { logStartOffset: 3n } }).order).toEqual([1, 2, 0]);
    // An error is always sent, and the partition is sent again once it clears.
    expect(round({ 1: { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, highWatermark: -1n }, 2: { logStartOffset: 3n } }).sent).toEqual([1]);
    expect(round({ 1: { highWatermark: 11n }, 2: { logStartOffset: 3n } }).sent).toEqual([1]);
    expect(round({ 1: { highWatermark: 11n }, 2: { logStartOffset: 3n, lastStableOffset: 5n } }).sent).toEqual([2]);
  });

  it('updates and forgets partitions; a session left empty is closed', () => {
    const cache = new FetchSessionCache({ randomInt: ids() });
    const id = open(cache, [req('t', 0), req('t', 1)]);
    const ctx = newFetchContext(cache, { sessionId: id, epoch: 1 }, false, false, [req('t', 0, 42n), req('u', 0)], [{ topic: 't', topicId: '', partition: 1 }]);
    if (ctx.kind !== 'incremental') throw new Error(ctx.kind);
    expect(ctx.partitions.map((p) => [p.topic, p.partition, p.fetchOffset])).toEqual([
      ['t', 0, 42n],
      ['u', 0, 0n],
    ]);
    const last = newFetchContext(cache, { sessionId: id, epoch: 2 }, false, false, [], [
      { topic: 't', topicId: '', partition: 0 },
      { topic: 'u', topicId: '', partition: 0 },
    ]);
    expect(last.kind).toBe('sessionless');
    expect(cache.get(id)).toBeUndefined();
  });

  it('a stale incremental context (a newer request of the session got in first) answers INVALID_FETCH_SESSION_EPOCH', () => {
    const cache = new FetchSessionCache({ randomInt: ids() });
    const id = open(cache, [req('t', 0)]);
    const first = newFetchContext(cache, { sessionId: id, epoch: 1 }, false, false, [], []);
    newFetchContext(cache, { sessionId: id, epoch: 2 }, false, false, [], []);
    const res = completeFetchContext(cache, first, [{ req: req('t', 0), answer: answer({ recordsSize: 5 }) }]);
    expect(res.errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    expect(res.partitions).toEqual([]);
  });
});

describe('session cache eviction', () => {
  it('refuses a new session when full of recent sessions that are no less valuable', () => {
    const c = clock();
    const cache = new FetchSessionCache({ maxEntries: 2, evictionMs: 1000, now: c.now, randomInt: ids() });
    open(cache, [req('t', 0), req('t', 1)]);
    open(cache, [req('t', 0), req('t', 1)]);
    // Young sessions are evictable only by privileged (follower) sessions.
    expect(open(cache, [req('t', 0), req('t', 1), req('t', 2)])).toBe(INVALID_SESSION_ID);
    expect(cache.size).toBe(2);
  });

  it('evicts a session unused for longer than evictionMs', () => {
    const c = clock();
    const cache = new FetchSessionCache({ maxEntries: 2, evictionMs: 1000, now: c.now, randomInt: ids() });
    const a = open(cache, [req('t', 0)]);
    c.advance(600);
    const b = open(cache, [req('t', 0)]);
    c.advance(600);
    const n = open(cache, [req('t', 0)]);
    expect(n).not.toBe(INVALID_SESSION_ID);
    expect(cache.get(a)).toBeUndefined();
    expect(cache.get(b)).toBeDefined();
    expect(cache.evictions).toBe(1);
  });

  it('a follower session evicts the smallest young consumer session, but not a larger one', () => {
    const c = clock();
    const cache = new FetchSessionCache({ maxEntries: 2, evictionMs: 1000, now: c.now, randomInt: ids() });
    const small = open(cache, [req('t', 0)]);
    const large = open(cache, [req('t', 0), req('t', 1), req('t', 2)]);
    const follower = open(cache, [req('t', 0), req('t', 1)], true);
    expect(follower).not.toBe(INVALID_SESSION_ID);
    expect(cache.get(small)).toBeUndefined();
    expect(cache.get(large)).toBeDefined();
    // A consumer cannot evict anything young; another follower session evicts the consumer one.
    expect(open(cache, [req('t', 0), req('t', 1), req('t', 2), req('t', 3)])).toBe(INVALID_SESSION_ID);
    expect(open(cache, [req('t', 0)], true)).not.toBe(INVALID_SESSION_ID);
    expect(cache.get(large)).toBeUndefined();
    expect(cache.get(follower)).toBeDefined();
  });

  it('old sessions (created more than evictionMs ago) become evictable by anyone if a bigger session wants in', () => {
    const c = clock();
    const cache = new FetchSessionCache({ maxEntries: 1, evictionMs: 1000, now: c.now, randomInt: ids() });
    const a = open(cache, [req('t', 0)]);
    let epoch = 1;
    // Kept in use (so never stale), but older than evictionMs.
    for (let i = 0; i < 3; i++) {
      c.advance(500);
      newFetchContext(cache, { sessionId: a, epoch: epoch++ }, false, false, [], []);
    }
    expect(open(cache, [req('t', 0)])).toBe(INVALID_SESSION_ID); // same size: not more valuable
    expect(open(cache, [req('t', 0), req('t', 1)])).not.toBe(INVALID_SESSION_ID);
    expect(cache.get(a)).toBeUndefined();
  });

  it('a random source that keeps repeating itself still yields a free id', () => {
    const cache = new FetchSessionCache({ randomInt: () => 1 });
    expect(open(cache, [req('t', 0)])).toBe(1);
    expect(open(cache, [req('t', 0)])).toBe(2);
    expect(open(cache, [req('t', 0)])).toBe(3);
  });

  it('session ids are positive, unique and never 0', () => {
    const values = [0, -5, 3, 3, 4];
    const cache = new FetchSessionCache({ randomInt: () => values.shift() ?? 99 });
    expect(open(cache, [req('t', 0)])).toBe(3);
    expect(open(cache, [req('t', 0)])).toBe(4);
  });
});
