// The fetch purgatory: fetches that found fewer than minBytes wait here for appends or maxWaitMs.
// Invariants:
// - A waiting fetch is watched under the keys (topic-partition) it reads; an append to one of
//   those partitions re-checks it (`ready`, a cheap in-memory test, no I/O), appends elsewhere
//   never touch it.
// - Each fetch completes exactly once: ready, expired, refused (too many waiting) or shut down;
//   completion unwatches it and clears its timer.
// - At most `maxWaiting` fetches wait at once; beyond that a fetch is answered at once with what
//   it has (Kafka has no such bound; this keeps memory and timers bounded).
// - `ready` is checked once before watching: an append that landed while the first read was in
//   flight is not missed.
// - A follower's fetch is also watched under its replica's key (`followerWakeKey`): when this
//   broker becomes leader of a partition that replica follows, its waiting fetch, which cannot
//   name that partition yet, is answered at once, so its next fetch names it and the new
//   leader's high watermark need not wait out replica.fetch.wait.max.ms.
// - Expiry timers run through the containment seam: should one fail, that fetch is answered
//   with what it has (as on expiry) and nothing else is touched.
import pino from 'pino';
import { type Scheduler, SystemScheduler, type TimerHandle } from '../../protocol/scheduler.ts';

export type DelayedFetchOutcome = 'ready' | 'expired' | 'refused' | 'shutdown';

/** The key a follower's waiting fetches are also watched under: woken when this broker becomes a leader it follows. */
export function followerWakeKey(replicaId: number): string {
  return `replica:${replicaId}`;
}

/** What `followerWaker` reads of a partition. */
export interface LeadershipView {
  readonly isLeader: boolean;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
}

/**
 * A partition-change listener (append, leadership, ISR) that wakes the waiting fetches of a
 * partition's followers once per leader epoch this broker (`nodeId`) gains.
 */
export function followerWaker(purgatory: DelayedFetchPurgatory, nodeId: number): (p: LeadershipView) => void {
  const ledEpochs = new WeakMap<LeadershipView, number>();
  return (p) => {
    if (!p.isLeader || ledEpochs.get(p) === p.leaderEpoch) return;
    ledEpochs.set(p, p.leaderEpoch);
    for (const r of p.replicas) if (r !== nodeId) purgatory.wake(followerWakeKey(r));
  };
}

export interface DelayedFetchPurgatoryOptions {
  /** Bound on fetches waiting at once. */
  maxWaiting?: number;
  /** The broker's scheduler; a silent wall-clock one when absent (tests). */
  scheduler?: Scheduler;
}

class DelayedFetch {
  readonly keys: readonly string[];
  readonly ready: () => boolean;
  private readonly resolve: (o: DelayedFetchOutcome) => void;
  timer: TimerHandle | null = null;
  completed = false;

  constructor(keys: readonly string[], ready: () => boolean, resolve: (o: DelayedFetchOutcome) => void) {
    this.keys = keys;
    this.ready = ready;
    this.resolve = resolve;
  }

  complete(outcome: DelayedFetchOutcome): boolean {
    if (this.completed) return false;
    this.completed = true;
    this.resolve(outcome);
    return true;
  }
}

export class DelayedFetchPurgatory {
  private readonly maxWaiting: number;
  private readonly scheduler: Scheduler;
  private readonly watchers = new Map<string, Set<DelayedFetch>>();
  private waitingCount = 0;
  private closed = false;

  constructor(opts: DelayedFetchPurgatoryOptions = {}) {
    this.maxWaiting = opts.maxWaiting ?? 10_000;
    this.scheduler = opts.scheduler ?? new SystemScheduler({ logger: pino({ level: 'silent' }) });
  }

  /** Fetches waiting now. */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Keys with at least one waiting fetch (for tests and metrics). */
  get watchedKeys(): number {
    return this.watchers.size;
  }

  /**
   * Resolves when `ready()` holds after an append to one of `keys`, or after `maxWaitMs`.
   * `ready` must not throw; it is called synchronously from append notifications.
   */
  wait(keys: readonly string[], maxWaitMs: number, ready: () => boolean): Promise<DelayedFetchOutcome> {
    if (this.closed) return Promise.resolve('shutdown');
    if (ready()) return Promise.resolve('ready');
    if (this.waitingCount >= this.maxWaiting) return Promise.resolve('refused');
    return new Promise<DelayedFetchOutcome>((resolve) => {
      const op = new DelayedFetch([...new Set(keys)], ready, resolve);
      this.waitingCount++;
      for (const k of op.keys) {
        let set = this.watchers.get(k);
        if (!set) this.watchers.set(k, (set = new Set()));
        set.add(op);
      }
      const finishOnFailure = () => this.finish(op, 'expired');
      op.timer = this.scheduler.schedule(maxWaitMs, { unit: 'fetch-wait', context: { partitions: op.keys }, onFailure: finishOnFailure }, finishOnFailure);
    });
  }

  /** An append reached `key`: re-checks the fetches watching it. */
  notify(key: string): void {
    const set = this.watchers.get(key);
    if (!set) return;
    for (const op of [...set]) {
      if (op.completed) continue;
      let ok: boolean;
      try {
        ok = op.ready();
      } catch {
        ok = true; // let the fetch answer (and report the problem) rather than hang
      }
      if (ok) this.finish(op, 'ready');
    }
  }

  /** Answers at once every fetch watching `key`, ready or not (a change its `ready` cannot see). */
  wake(key: string): void {
    const set = this.watchers.get(key);
    if (!set) return;
    for (const op of [...set]) this.finish(op, 'ready');
  }

  /** Completes every waiting fetch and refuses new waits. */
  shutdown(): void {
    this.closed = true;
    const all = new Set<DelayedFetch>();
    for (const set of this.watchers.values()) for (const op of set) all.add(op);
    for (const op of all) this.finish(op, 'shutdown');
  }

  private finish(op: DelayedFetch, outcome: DelayedFetchOutcome): void {
    if (!op.complete(outcome)) return;
    this.waitingCount--;
    op.timer?.cancel();
    for (const k of op.keys) {
      const set = this.watchers.get(k);
      if (!set) continue;
      set.delete(op);
      if (set.size === 0) this.watchers.delete(k);
    }
  }
}
