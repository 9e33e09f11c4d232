// The follower's side of incremental fetch sessions (KIP-227; Kafka's FetchSessionHandler), one
// per replica fetcher, i.e. per leader. It remembers what the leader's session holds for each
// partition (fetch offset, log start offset, max bytes, current and last fetched epochs) and
// turns the partitions to fetch next into the smallest request that makes the leader's session
// equal to them:
//   - no session yet (sessionId 0, epoch 0), or one to be replaced (sessionId X, epoch 0): a full
//     request naming every partition; the leader answers with a new session id, or 0 when its
//     cache has no room (the next request is full again);
//   - in session X at epoch n > 0: only partitions added or whose fetch state changed, and the
//     partitions no longer fetched as forgotten; the leader answers only partitions with records
//     or news (high watermark, log start offset, an error).
// After an answer the epoch moves on. FETCH_SESSION_ID_NOT_FOUND starts over without a session;
// INVALID_FETCH_SESSION_EPOCH, an answer naming partitions the session does not hold (or a full
// answer leaving some out), and a failed request replace the session with a full request.
// Invariant: after `build`, `partitions` is exactly what the leader reads for that request when
// it accepts it; the leader's session holds the same fetch state, field for field.
import { ErrorCode } from '../../protocol/errors.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import { INITIAL_EPOCH, INVALID_SESSION_ID, nextEpoch } from '../fetch/fetch-session-cache.ts';

/** The fetch state of one partition, as a request names it. */
export interface SessionPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly fetchOffset: bigint;
  readonly logStartOffset: bigint;
  readonly maxBytes: number;
  readonly currentLeaderEpoch: number;
  readonly lastFetchedEpoch: number;
}

export interface PartitionRef {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
}

/** One request to send: its session metadata, what it names, and what the leader will read. */
export interface SessionRequest {
  readonly sessionId: number;
  readonly sessionEpoch: number;
  readonly full: boolean;
  readonly toSend: readonly SessionPartition[];
  readonly toForget: readonly PartitionRef[];
  /** Every partition the leader reads for this request (the session once it is applied). */
  readonly partitions: ReadonlyMap<string, SessionPartition>;
}

/** A partition of an answer: named by topic id (v13+) or by name. */
export interface AnsweredPartition {
  readonly topic: string | null;
  readonly topicId: string | null;
  readonly partition: number;
}

/** Keyed by topic id and name both: a topic deleted and created again under its name is a new partition. */
export function sessionKey(p: PartitionRef): string {
  return `${p.topicId}/${p.topic}/${p.partition}`;
}

function sameFetchState(a: SessionPartition, b: SessionPartition): boolean {
  return (
    a.fetchOffset === b.fetchOffset &&
    a.logStartOffset === b.logStartOffset &&
    a.maxBytes === b.maxBytes &&
    a.currentLeaderEpoch === b.currentLeaderEpoch &&
    a.lastFetchedEpoch === b.lastFetchedEpoch
  );
}

export class FetchSessionHandler {
  private id = INVALID_SESSION_ID;
  private epoch = INITIAL_EPOCH;
  /** What the leader's session holds (or will, once the request built last is accepted). */
  private readonly session = new Map<string, SessionPartition>();

  /** The session id the next request names (0: none). */
  get sessionId(): number {
    return this.id;
  }

  /** The epoch the next request names (0: a full request). */
  get sessionEpoch(): number {
    return this.epoch;
  }

  get partitions(): ReadonlyMap<string, SessionPartition> {
    return this.session;
  }

  /** The request that fetches exactly `next` (later entries with the same key win). */
  build(next: Iterable<SessionPartition>): SessionRequest {
    const wanted = new Map<string, SessionPartition>();
    for (const p of next) wanted.set(sessionKey(p), p);
    if (this.epoch === INITIAL_EPOCH) {
      this.session.clear();
      for (const [k, p] of wanted) this.session.set(k, p);
      return { sessionId: this.id, sessionEpoch: this.epoch, full: true, toSend: [...wanted.values()], toForget: [], partitions: this.session };
    }
    const toSend: SessionPartition[] = [];
    const toForget: PartitionRef[] = [];
    for (const [k, had] of this.session) {
      const now = wanted.get(k);
      if (now === undefined) {
        toForget.push({ topic: had.topic, topicId: had.topicId, partition: had.partition });
        this.session.delete(k);
      } else if (!sameFetchState(had, now)) {
        toSend.push(now);
        this.session.set(k, now);
      }
    }
    for (const [k, p] of wanted) {
      if (this.session.has(k)) continue;
      toSend.push(p);
      this.session.set(k, p);
    }
    return { sessionId: this.id, sessionEpoch: this.epoch, full: false, toSend, toForget, partitions: this.session };
  }

  /**
   * Takes the leader's answer to the request built last. Returns false when its partitions are
   * not to be used (a session error, or partitions that do not match the request).
   */
  handleResponse(errorCode: number, sessionId: number, answered: readonly AnsweredPartition[]): boolean {
    if (errorCode !== ErrorCode.NONE) {
      if (errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND) this.reset();
      else this.closeExisting();
      return false;
    }
    const full = this.epoch === INITIAL_EPOCH;
    if (!this.matches(answered, full)) {
      if (full) this.reset();
      else this.closeExisting();
      return false;
    }
    if (sessionId === INVALID_SESSION_ID) {
      // No session was made (cache full), or the leader closed it.
      this.reset();
    } else if (full) {
      this.id = sessionId;
      this.epoch = nextEpoch(INITIAL_EPOCH);
    } else {
      this.epoch = nextEpoch(this.epoch);
    }
    return true;
  }

  /** The request failed (connection lost, timeout): the next one replaces the session. */
  handleError(): void {
    this.closeExisting();
  }

  /** Every answered partition is in the session; a full answer names them all. */
  private matches(answered: readonly AnsweredPartition[], full: boolean): boolean {
    if (answered.length === 0) return !full || this.session.size === 0;
    const byId = new Map<string, string>();
    const byName = new Map<string, string>();
    for (const [k, p] of this.session) {
      byId.set(`${p.topicId}/${p.partition}`, k);
      byName.set(`${p.topic}/${p.partition}`, k);
    }
    const seen = new Set<string>();
    for (const a of answered) {
      const k = a.topicId !== null && a.topicId !== ZERO_UUID ? byId.get(`${a.topicId}/${a.partition}`) : byName.get(`${a.topic ?? ''}/${a.partition}`);
      if (k === undefined) return false;
      seen.add(k);
    }
    return !full || seen.size === this.session.size;
  }

  private reset(): void {
    this.id = INVALID_SESSION_ID;
    this.epoch = INITIAL_EPOCH;
  }

  private closeExisting(): void {
    this.epoch = INITIAL_EPOCH;
  }
}
