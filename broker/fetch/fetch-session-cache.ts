// Incremental fetch sessions (KIP-227). A session remembers, per partition, what the client last
// asked for (fetch offset, max bytes, epochs) and what the broker last answered (high watermark,
// log start offset, last stable offset), so an incremental request names only what changed and
// its response carries only partitions with news.
//
// Request metadata (sessionId, epoch):
//   (0, -1)  sessionless full fetch (also every request below Fetch v7)
//   (X, -1)  full fetch that closes session X and opens none
//   (X, 0)   full fetch that closes X (if X != 0) and asks for a new session
//   (X, n>0) incremental fetch in session X, which must be at epoch n
// The cache holds at most `maxEntries` sessions (max.incremental.fetch.session.cache.slots).
// When full, a new session may evict, in this order, a session unused for `evictionMs`
// (min.incremental.fetch.session.eviction.ms), else the least valuable evictable one: sessions
// older than `evictionMs` are evictable by anyone, non-follower sessions by followers too, and a
// session is worth (privileged, partition count, id) so only a strictly better one displaces it.
// Evictability is recorded each time a session is used, as Kafka does.
import { ErrorCode } from '../../protocol/errors.ts';

export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;

/** The epoch after `epoch` (wraps to 1 after int32 max; stays FINAL once final). */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  if (epoch === 2147483647) return 1;
  return epoch + 1;
}

/** One partition of a fetch request, with the topic name resolved (null for an unknown topic id). */
export interface FetchPartitionRequest {
  topic: string | null;
  topicId: string;
  partition: number;
  fetchOffset: bigint;
  maxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  logStartOffset: bigint;
}

/** What the broker answered for one partition: the fields a session compares. */
export interface FetchPartitionAnswer {
  errorCode: number;
  highWatermark: bigint;
  logStartOffset: bigint;
  lastStableOffset: bigint;
  recordsSize: number;
  preferredReadReplica: number;
  diverging: boolean;
}

export interface CachedPartition extends FetchPartitionRequest {
  highWatermark: bigint;
  localLogStartOffset: bigint;
  /** Unset until a full fetch answered the partition; from then on its changes count as news. */
  lastStableOffset: bigint | null;
}

export interface ForgottenPartition {
  topic: string | null;
  topicId: string;
  partition: number;
}

export function sessionPartitionKey(usesTopicIds: boolean, p: { topic: string | null; topicId: string; partition: number }): string {
  return usesTopicIds ? `${p.topicId}:${p.partition}` : `${p.topic ?? ''}:${p.partition}`;
}

export class FetchSession {
  readonly id: number;
  readonly privileged: boolean;
  readonly usesTopicIds: boolean;
  readonly creationMs: number;
  lastUsedMs: number;
  epoch: number;
  /** Insertion ordered; partitions that returned records move to the end (fairness across fetches). */
  readonly partitions = new Map<string, CachedPartition>();
  /** Partition count when last touched (-1 before), and the evictability decided then. */
  cachedSize = -1;
  evictableByPrivileged = false;
  evictableByAll = false;

  constructor(id: number, privileged: boolean, usesTopicIds: boolean, now: number, epoch: number) {
    this.id = id;
    this.privileged = privileged;
    this.usesTopicIds = usesTopicIds;
    this.creationMs = now;
    this.lastUsedMs = now;
    this.epoch = epoch;
  }

  get size(): number {
    return this.partitions.size;
  }

  key(p: { topic: string | null; topicId: string; partition: number }): string {
    return sessionPartitionKey(this.usesTopicIds, p);
  }

  /** Adds or updates the requested partitions, then removes the forgotten ones. */
  update(fetchData: readonly FetchPartitionRequest[], toForget: readonly ForgottenPartition[]): void {
    for (const req of fetchData) {
      const k = this.key(req);
      const cached = this.partitions.get(k);
      if (cached === undefined) {
        this.partitions.set(k, { ...req, highWatermark: -1n, localLogStartOffset: -1n, lastStableOffset: null });
      } else {
        cached.fetchOffset = req.fetchOffset;
        cached.maxBytes = req.maxBytes;
        cached.currentLeaderEpoch = req.currentLeaderEpoch;
        cached.lastFetchedEpoch = req.lastFetchedEpoch;
        cached.logStartOffset = req.logStartOffset;
        if (req.topic !== null) cached.topic = req.topic;
      }
    }
    for (const f of toForget) this.partitions.delete(this.key(f));
  }
}

/**
 * Compares an answer with what the session last sent for the partition; true when the client must
 * hear about it. With `update`, the session takes the new values (errors reset the high watermark
 * to -1 so the partition is sent again once the error clears).
 */
export function partitionHasNews(cached: CachedPartition, a: FetchPartitionAnswer, update: boolean): boolean {
  let news = a.recordsSize > 0;
  if (cached.highWatermark !== a.highWatermark) {
    news = true;
    if (update) cached.highWatermark = a.highWatermark;
  }
  if (cached.localLogStartOffset !== a.logStartOffset) {
    news = true;
    if (update) cached.localLogStartOffset = a.logStartOffset;
  }
  if (cached.lastStableOffset !== null && cached.lastStableOffset !== a.lastStableOffset) {
    news = true;
    if (update) cached.lastStableOffset = a.lastStableOffset;
  }
  if (a.preferredReadReplica !== -1) news = true;
  if (a.diverging) news = true;
  if (a.errorCode !== ErrorCode.NONE) {
    if (update) cached.highWatermark = -1n;
    news = true;
  }
  return news;
}

export interface FetchSessionCacheOptions {
  /** max.incremental.fetch.session.cache.slots (Kafka's default 1000). */
  maxEntries?: number;
  /** min.incremental.fetch.session.eviction.ms (Kafka's default 120000). */
  evictionMs?: number;
  now?: () => number;
  /** Returns a uniformly random int32; used for session ids. */
  randomInt?: () => number;
}

interface EvictableKey {
  privileged: boolean;
  size: number;
  id: number;
}

function compareEvictable(a: EvictableKey, b: EvictableKey): number {
  if (a.privileged !== b.privileged) return a.privileged ? 1 : -1;
  if (a.size !== b.size) return a.size - b.size;
  return a.id - b.id;
}

export class FetchSessionCache {
  readonly maxEntries: number;
  readonly evictionMs: number;
  readonly now: () => number;
  private readonly randomInt: () => number;
  private readonly sessions = new Map<number, FetchSession>();
  /** Sessions evicted so far (Kafka's IncrementalFetchSessionEvictionsPerSec, as a count). */
  evictions = 0;

  constructor(opts: FetchSessionCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 1000;
    this.evictionMs = opts.evictionMs ?? 120_000;
    this.now = opts.now ?? Date.now;
    this.randomInt = opts.randomInt ?? (() => (Math.random() * 0x100000000) | 0);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Partitions held by all sessions (as of each session's last use). */
  get totalPartitions(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += Math.max(s.cachedSize, 0);
    return n;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  remove(id: number): FetchSession | undefined {
    const s = this.sessions.get(id);
    if (s) this.sessions.delete(id);
    return s;
  }

  /** Marks a session used now and records its size and evictability. */
  touch(session: FetchSession, now: number): void {
    session.lastUsedMs = now;
    session.cachedSize = session.size;
    const old = now - session.creationMs > this.evictionMs;
    session.evictableByPrivileged = !session.privileged || old;
    session.evictableByAll = old;
  }

  /**
   * Creates a session holding `partitions` if there is a free slot or one can be evicted;
   * returns its id, or INVALID_SESSION_ID when the cache refused.
   */
  maybeCreateSession(now: number, privileged: boolean, usesTopicIds: boolean, partitions: readonly CachedPartition[], keyOf: (p: CachedPartition) => string): number {
    if (this.sessions.size >= this.maxEntries && !this.tryEvict(privileged, { privileged, size: partitions.length, id: 0 }, now)) {
      return INVALID_SESSION_ID;
    }
    const session = new FetchSession(this.newSessionId(), privileged, usesTopicIds, now, nextEpoch(INITIAL_EPOCH));
    for (const p of partitions) session.partitions.set(keyOf(p), p);
    this.sessions.set(session.id, session);
    this.touch(session, now);
    return session.id;
  }

  private tryEvict(privileged: boolean, key: EvictableKey, now: number): boolean {
    let stalest: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      if (stalest === undefined || s.lastUsedMs < stalest.lastUsedMs || (s.lastUsedMs === stalest.lastUsedMs && s.id < stalest.id)) stalest = s;
    }
    if (stalest === undefined) return false;
    if (now - stalest.lastUsedMs > this.evictionMs) {
      this.sessions.delete(stalest.id);
      this.evictions++;
      return true;
    }
    let weakest: FetchSession | undefined;
    let weakestKey: EvictableKey | undefined;
    for (const s of this.sessions.values()) {
      if (!(privileged ? s.evictableByPrivileged : s.evictableByAll)) continue;
      const k = { privileged: s.privileged, size: s.cachedSize, id: s.id };
      if (weakestKey === undefined || compareEvictable(k, weakestKey) < 0) {
        weakest = s;
        weakestKey = k;
      }
    }
    if (weakest === undefined || compareEvictable(key, weakestKey!) < 0) return false;
    this.sessions.delete(weakest.id);
    this.evictions++;
    return true;
  }

  /**
   * A free positive id, random so that sessions are hard to guess. A few draws find one unless
   * the random source misbehaves; then the lowest free id is taken, so this always ends.
   */
  private newSessionId(): number {
    for (let i = 0; i < 64; i++) {
      const id = this.randomInt();
      if (id > 0 && !this.sessions.has(id)) return id;
    }
    let id = 1;
    while (this.sessions.has(id)) id++;
    return id;
  }
}

/** How one fetch request relates to sessions; built by `newFetchContext`. */
export type FetchContext =
  | { kind: 'error'; errorCode: number }
  | { kind: 'sessionless'; partitions: FetchPartitionRequest[] }
  | { kind: 'full'; partitions: FetchPartitionRequest[]; usesTopicIds: boolean; privileged: boolean }
  | { kind: 'incremental'; session: FetchSession; expectedEpoch: number; partitions: FetchPartitionRequest[] };

export interface FetchMetadata {
  sessionId: number;
  epoch: number;
}

/** Kafka's FetchManager.newContext: resolves the request's session metadata into a context. */
export function newFetchContext(
  cache: FetchSessionCache,
  meta: FetchMetadata,
  usesTopicIds: boolean,
  privileged: boolean,
  fetchData: FetchPartitionRequest[],
  toForget: readonly ForgottenPartition[],
  topicName?: (topicId: string) => string | null,
): FetchContext {
  if (meta.epoch === INITIAL_EPOCH || meta.epoch === FINAL_EPOCH) {
    // A full request closes the session it names.
    if (meta.sessionId !== INVALID_SESSION_ID) cache.remove(meta.sessionId);
    if (meta.epoch === FINAL_EPOCH) return { kind: 'sessionless', partitions: fetchData };
    return { kind: 'full', partitions: fetchData, usesTopicIds, privileged };
  }
  const session = cache.get(meta.sessionId);
  if (session === undefined) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
  if (session.epoch !== meta.epoch) return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
  if (session.usesTopicIds !== usesTopicIds) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
  session.update(fetchData, toForget);
  // A topic id unknown when the partition joined the session may be known now; an incremental
  // request does not name an unchanged partition again, so resolve it here (as Kafka's
  // maybeResolveUnknownName), or it would stay UNKNOWN_TOPIC_ID for the session's life.
  if (usesTopicIds && topicName !== undefined) {
    for (const p of session.partitions.values()) if (p.topic === null) p.topic = topicName(p.topicId);
  }
  if (session.size === 0) {
    cache.remove(session.id);
    return { kind: 'sessionless', partitions: fetchData };
  }
  cache.touch(session, cache.now());
  session.epoch = nextEpoch(session.epoch);
  return { kind: 'incremental', session, expectedEpoch: session.epoch, partitions: [...session.partitions.values()] };
}

export interface FetchContextResponse<T> {
  errorCode: number;
  sessionId: number;
  /** The partitions to answer, in response order. */
  partitions: { req: FetchPartitionRequest; answer: T }[];
}

/**
 * Turns the read results of a context into what the response carries: a full fetch may open a
 * session (and records what was answered); an incremental fetch keeps only partitions with news.
 */
export function completeFetchContext<T extends FetchPartitionAnswer>(
  cache: FetchSessionCache,
  ctx: FetchContext,
  results: readonly { req: FetchPartitionRequest; answer: T }[],
): FetchContextResponse<T> {
  switch (ctx.kind) {
    case 'error':
      return { errorCode: ctx.errorCode, sessionId: INVALID_SESSION_ID, partitions: [] };
    case 'sessionless':
      return { errorCode: ErrorCode.NONE, sessionId: INVALID_SESSION_ID, partitions: [...results] };
    case 'full': {
      const cached: CachedPartition[] = results.map(({ req, answer }) => ({
        ...req,
        highWatermark: answer.highWatermark,
        localLogStartOffset: answer.logStartOffset,
        lastStableOffset: answer.lastStableOffset,
      }));
      const sessionId = cache.maybeCreateSession(cache.now(), ctx.privileged, ctx.usesTopicIds, cached, (p) => sessionPartitionKey(ctx.usesTopicIds, p));
      return { errorCode: ErrorCode.NONE, sessionId, partitions: [...results] };
    }
    case 'incremental': {
      const session = ctx.session;
      // A later request of the same session got in first (pipelining): this one is stale.
      if (session.epoch !== ctx.expectedEpoch) {
        return { errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH, sessionId: session.id, partitions: [] };
      }
      const out: { req: FetchPartitionRequest; answer: T }[] = [];
      for (const r of results) {
        const k = session.key(r.req);
        const cachedPart = session.partitions.get(k);
        if (cachedPart === undefined) continue;
        if (!partitionHasNews(cachedPart, r.answer, true)) continue;
        out.push(r);
        if (r.answer.recordsSize > 0) {
          session.partitions.delete(k);
          session.partitions.set(k, cachedPart);
        }
      }
      return { errorCode: ErrorCode.NONE, sessionId: session.id, partitions: out };
    }
  }
}
