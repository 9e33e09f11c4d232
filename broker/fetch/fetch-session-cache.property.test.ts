// Model-based properties of the fetch session cache (KIP-227): random full, incremental, final and
// pipelined fetches from consumers and followers, with made-up session ids and epochs, against a
// small cache on a manual clock that moves around min.incremental.fetch.session.eviction.ms.
// A model follows every session (epoch, partitions, creation, last use, evictability as of its
// last use) and predicts each answer; evictions, which the model does not choose, are checked
// against Kafka's rule instead: a session unused for longer than evictionMs goes first (the
// stalest), else the least valuable one the newcomer may evict, only if the newcomer is worth at
// least as much (privileged first, then partition count).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import {
  completeFetchContext,
  type FetchContext,
  type FetchPartitionAnswer,
  type FetchPartitionRequest,
  FetchSessionCache,
  INVALID_SESSION_ID,
  newFetchContext,
  sessionPartitionKey,
} from './fetch-session-cache.ts';

const MAX_ENTRIES = 3;
const EVICTION_MS = 1000;
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

type Event =
  | { kind: 'full'; close: number; privileged: boolean; topicIds: boolean; partitions: number[]; final: boolean }
  | { kind: 'incremental'; session: number; epoch: 'current' | 'next' | 'previous' | 'zero-id'; topicIds: 'same' | 'other'; add: number[]; forget: number[]; deferred: boolean }
  | { kind: 'complete-deferred' }
  | { kind: 'advance'; ms: number };

const partitions = fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 5 });
const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('full' as const), close: fc.integer({ min: -1, max: 4 }), privileged: fc.boolean(), topicIds: fc.boolean(), partitions, final: fc.boolean() }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant('incremental' as const),
      session: fc.integer({ min: -1, max: 4 }),
      epoch: fc.constantFrom('current' as const, 'current' as const, 'current' as const, 'next' as const, 'previous' as const, 'zero-id' as const),
      topicIds: fc.constantFrom('same' as const, 'same' as const, 'same' as const, 'other' as const),
      add: partitions,
      forget: partitions,
      deferred: fc.boolean(),
    }),
    weight: 6,
  },
  { arbitrary: fc.constant({ kind: 'complete-deferred' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1, 200, 500, 999, 1000, 1000, 1001, 2500) }), weight: 4 },
);

interface ModelSession {
  id: number;
  epoch: number;
  privileged: boolean;
  usesTopicIds: boolean;
  partitions: Set<number>;
  creationMs: number;
  lastUsedMs: number;
  /** As of the last use, as Kafka records it. */
  size: number;
  evictableByPrivileged: boolean;
  evictableByAll: boolean;
}

function req(partition: number, usesTopicIds: boolean): FetchPartitionRequest {
  return { topic: usesTopicIds ? null : 't', topicId: usesTopicIds ? TOPIC_ID : '', partition, fetchOffset: 0n, maxBytes: 1000, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1n };
}

function answer(partition: number, round: number): FetchPartitionAnswer {
  return { errorCode: 0, highWatermark: BigInt(10 + ((partition + round) % 3)), logStartOffset: 0n, lastStableOffset: 10n, recordsSize: round % 4 === partition % 4 ? 100 : 0, preferredReadReplica: -1, diverging: false };
}

const keyLess = (a: { privileged: boolean; size: number; id: number }, b: { privileged: boolean; size: number; id: number }): boolean =>
  a.privileged !== b.privileged ? !a.privileged : a.size !== b.size ? a.size < b.size : a.id < b.id;

function runScenario(events: readonly Event[]): void {
  let now = 5_000_000;
  let nextId = 100;
  const cache = new FetchSessionCache({ maxEntries: MAX_ENTRIES, evictionMs: EVICTION_MS, now: () => now, randomInt: () => nextId++ });
  const model = new Map<number, ModelSession>();
  // Ids handed out so far (also closed and evicted ones), to name in requests.
  const known: number[] = [];
  const deferred: { ctx: Extract<FetchContext, { kind: 'incremental' }>; epochAtStart: number }[] = [];
  let round = 0;

  const touch = (s: ModelSession) => {
    s.lastUsedMs = now;
    s.size = s.partitions.size;
    const old = now - s.creationMs > EVICTION_MS;
    s.evictableByPrivileged = !s.privileged || old;
    s.evictableByAll = old;
  };
  // Mostly the newest sessions (the ones still open), sometimes an id that was never handed out.
  const pick = (i: number): number => (i < 0 || known.length === 0 ? 777 : known[known.length - 1 - (i % known.length)]!);

  for (const ev of events) {
    round++;
    switch (ev.kind) {
      case 'advance':
        now += ev.ms;
        break;
      case 'full': {
        const sessionId = ev.close < 0 ? INVALID_SESSION_ID : pick(ev.close);
        const fetchData = ev.partitions.map((p) => req(p, ev.topicIds));
        const ctx = newFetchContext(cache, { sessionId, epoch: ev.final ? -1 : 0 }, ev.topicIds, ev.privileged, fetchData, []);
        // A full request closes the session it names.
        model.delete(sessionId);
        expect(ctx.kind).toBe(ev.final ? 'sessionless' : 'full');
        const before = new Map(model);
        const wasFull = model.size >= MAX_ENTRIES;
        const res = completeFetchContext(cache, ctx, fetchData.map((r) => ({ req: r, answer: answer(r.partition, round) })));
        expect(res.errorCode).toBe(ErrorCode.NONE);
        expect(res.partitions).toHaveLength(fetchData.length);
        if (ev.final) {
          expect(res.sessionId).toBe(INVALID_SESSION_ID);
          break;
        }
        const newKey = { privileged: ev.privileged, size: fetchData.length, id: 0 };
        const stale = [...before.values()].filter((s) => now - s.lastUsedMs > EVICTION_MS);
        const evictable = [...before.values()].filter((s) => (ev.privileged ? s.evictableByPrivileged : s.evictableByAll));
        const weakest = evictable.reduce<ModelSession | undefined>((w, s) => (w === undefined || keyLess({ ...s }, { ...w }) ? s : w), undefined);
        const mayEvict = stale.length > 0 || (weakest !== undefined && !keyLess(newKey, weakest));
        if (res.sessionId === INVALID_SESSION_ID) {
          // Refused only when full and nothing could go.
          expect(wasFull).toBe(true);
          expect(mayEvict).toBe(false);
          break;
        }
        expect(model.has(res.sessionId)).toBe(false);
        expect(res.sessionId).toBeGreaterThan(0);
        if (wasFull) {
          expect(mayEvict).toBe(true);
          const gone = [...before.keys()].filter((id) => cache.get(id) === undefined);
          expect(gone).toHaveLength(1);
          const victim = before.get(gone[0]!)!;
          if (stale.length > 0) {
            // The stalest (ties: the lowest id) goes.
            const stalest = stale.reduce((a, s) => (s.lastUsedMs < a.lastUsedMs || (s.lastUsedMs === a.lastUsedMs && s.id < a.id) ? s : a));
            expect(victim.id).toBe(stalest.id);
          } else {
            expect(victim.id).toBe(weakest!.id);
          }
          model.delete(victim.id);
        }
        const s: ModelSession = {
          id: res.sessionId,
          epoch: 1,
          privileged: ev.privileged,
          usesTopicIds: ev.topicIds,
          partitions: new Set(ev.partitions),
          creationMs: now,
          lastUsedMs: now,
          size: 0,
          evictableByPrivileged: false,
          evictableByAll: false,
        };
        touch(s);
        model.set(s.id, s);
        known.push(s.id);
        break;
      }
      case 'incremental': {
        const sessionId = ev.epoch === 'zero-id' ? INVALID_SESSION_ID : pick(ev.session);
        const s = model.get(sessionId);
        const usesTopicIds = ev.topicIds === 'same' ? (s?.usesTopicIds ?? false) : !(s?.usesTopicIds ?? false);
        const current = s?.epoch ?? 1;
        // A wrong epoch is never 0 or -1 here (those ask for a full fetch).
        const wrong = ev.epoch === 'next' || current === 1 ? current + 1 : current - 1;
        const epoch = ev.epoch === 'next' || ev.epoch === 'previous' ? wrong : current;
        const add = ev.add.map((p) => req(p, usesTopicIds));
        const forget = ev.forget.map((p) => ({ topic: usesTopicIds ? null : 't', topicId: usesTopicIds ? TOPIC_ID : '', partition: p }));
        const ctx = newFetchContext(cache, { sessionId, epoch }, usesTopicIds, false, add, forget);
        if (s === undefined) {
          expect(ctx).toEqual({ kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
          break;
        }
        if (epoch !== s.epoch) {
          expect(ctx).toEqual({ kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH });
          break;
        }
        if (usesTopicIds !== s.usesTopicIds) {
          expect(ctx).toEqual({ kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR });
          break;
        }
        for (const p of ev.add) s.partitions.add(p);
        for (const p of ev.forget) s.partitions.delete(p);
        if (s.partitions.size === 0) {
          // A session left without partitions is closed.
          expect(ctx.kind).toBe('sessionless');
          model.delete(s.id);
          break;
        }
        expect(ctx.kind).toBe('incremental');
        if (ctx.kind !== 'incremental') break;
        touch(s);
        // Epochs never reach int32 max here, so the next one is simply one more.
        s.epoch += 1;
        expect(ctx.expectedEpoch).toBe(s.epoch);
        expect(new Set(ctx.partitions.map((p) => p.partition))).toEqual(s.partitions);
        if (ev.deferred) {
          deferred.push({ ctx, epochAtStart: s.epoch });
          break;
        }
        const res = completeFetchContext(cache, ctx, ctx.partitions.map((r) => ({ req: r, answer: answer(r.partition, round) })));
        expect(res).toMatchObject({ errorCode: ErrorCode.NONE, sessionId: s.id });
        for (const p of res.partitions) expect(s.partitions.has(p.req.partition)).toBe(true);
        break;
      }
      case 'complete-deferred': {
        const d = deferred.shift();
        if (!d) break;
        const res = completeFetchContext(cache, d.ctx, d.ctx.partitions.map((r) => ({ req: r, answer: answer(r.partition, round) })));
        // A later request of the same session got in first: this one is stale.
        const stale = d.ctx.session.epoch !== d.epochAtStart;
        expect(res.errorCode).toBe(stale ? ErrorCode.INVALID_FETCH_SESSION_EPOCH : ErrorCode.NONE);
        break;
      }
    }

    // ---- invariants after every step ----
    expect(cache.size).toBeLessThanOrEqual(MAX_ENTRIES);
    expect(cache.size).toBe(model.size);
    for (const s of model.values()) {
      const c = cache.get(s.id)!;
      expect(c).toBeDefined();
      expect(c.epoch).toBe(s.epoch);
      expect(c.epoch).toBeGreaterThan(0);
      expect(new Set([...c.partitions.keys()])).toEqual(new Set([...s.partitions].map((p) => sessionPartitionKey(s.usesTopicIds, req(p, s.usesTopicIds)))));
      expect(c.lastUsedMs).toBe(s.lastUsedMs);
    }
    expect(cache.totalPartitions).toBe([...model.values()].reduce((n, s) => n + s.size, 0));
  }
}

const SEEDS = [3, 11, 42, 1234, 65_537];

describe('fetch session cache, random request sequences', () => {
  const property = fc.property(fc.array(eventArb, { minLength: 1, maxLength: 80, size: 'max' }), runScenario);

  it('follows the model and the eviction rules (fixed seeds)', () => {
    for (const seed of SEEDS) fc.assert(property, { seed, numRuns: 20 });
  });

  it('follows the model and the eviction rules (random seed)', () => {
    fc.assert(property, { numRuns: 50 });
  });

  it('a session is old only once more than evictionMs passed between its creation and a use', () => {
    let now = 0;
    let id = 1;
    const cache = new FetchSessionCache({ maxEntries: 1, evictionMs: EVICTION_MS, now: () => now, randomInt: () => id++ });
    const open = (n: number) => {
      const data = Array.from({ length: n }, (_, p) => req(p, false));
      const ctx = newFetchContext(cache, { sessionId: 0, epoch: 0 }, false, false, data, []);
      return completeFetchContext(cache, ctx, data.map((r) => ({ req: r, answer: answer(r.partition, 0) }))).sessionId;
    };
    const a = open(1);
    now += EVICTION_MS;
    expect(newFetchContext(cache, { sessionId: a, epoch: 1 }, false, false, [], []).kind).toBe('incremental');
    // Used exactly evictionMs after its creation: not old yet, so a consumer cannot evict it.
    expect(open(2)).toBe(INVALID_SESSION_ID);
    now += 1;
    expect(newFetchContext(cache, { sessionId: a, epoch: 2 }, false, false, [], []).kind).toBe('incremental');
    expect(open(2)).not.toBe(INVALID_SESSION_ID);
    expect(cache.get(a)).toBeUndefined();
  });
});
