// The coordinator runtime (in the spirit of Kafka's coordinator-common CoordinatorRuntime): the
// machinery shared by coordinators that keep their state in an internal compacted topic.
// - One shard per partition of the topic. A shard is created and loaded (every record of the
//   partition replayed into it) when this broker becomes the partition's leader, and dropped when
//   it stops leading: requests for it get COORDINATOR_LOAD_IN_PROGRESS while it loads and
//   NOT_COORDINATOR when this broker does not lead the partition.
// - An operation runs against one shard, synchronously on the event loop, so operations of a
//   shard never interleave. A read returns what the op computes. A write op returns records plus a
//   response; the records are replayed into the shard at once (the same `replay` loading uses, so
//   loading and live writes share one code path and state changes only through records), appended
//   to the partition in order, and the response is given once the records are committed (the
//   high watermark passed them), or failed with the mapped error.
// - Rollback: a write's changes are recorded in the shard's SnapshotRegistry (its state lives in
//   TimelineMaps). If the append fails (the records are not in the log), the shard returns to the
//   state before that write, and every write chained after it fails as well (it was computed on
//   that state). We apply-then-revert rather than apply-on-commit so that an operation sees the
//   writes before it that are still on their way to the in-sync replicas (two EndTxn in a row see
//   the first's PrepareCommit), as Kafka's timeline structures do. Once the records are in the
//   local log they stay applied even if the commit wait fails (timeout, lost leadership): the log
//   holds them, and a lost leadership unloads the shard anyway.
// - Each shard owns its timers (keyed, Kafka's CoordinatorTimer): scheduled through the
//   Scheduler in the shard's scope, cancelled when the shard is unloaded.
// - Records others append to a partition (transaction markers written by WriteTxnMarkers) are
//   handed to `replayAppended`: replayed into the loaded shard, or, while it loads, after the load
//   unless the load read them already.
// - Containment: an op that throws fails its request only (its changes undone); a failing timer
//   or background task is logged in the shard's scope; a failing load gives the partition up
//   until the next election. Other shards are never affected.
// Reads see the latest applied state, including writes not yet committed (Kafka's runtime reads
// at the last committed offset; the coordinators here only answer describe/list calls so).
import type { Logger } from 'pino';
import { ErrorCode, errorCodeOf, KafkaError } from '../../protocol/errors.ts';
import type { Scheduler, Scope, TimerHandle } from '../../protocol/scheduler.ts';
import { type CoordinatorPartitionLog, type CoordinatorRecord, CoordinatorWriteError, type LoadedRecord, type TransactionalProducer } from './partition-log.ts';
import { SnapshotRegistry } from './timeline.ts';

export interface CoordinatorResult<R, T> {
  records: R[];
  response: T;
  /** Runs in the shard's scope once the records are committed, before the response is given, if the shard is still loaded. */
  onCommitted?: () => void;
  /** Writes the records as one transactional batch of this producer (their replay sees its id). */
  producer?: TransactionalProducer;
}

/** Turns a coordinator's records into log records and back. */
export interface CoordinatorSerde<R> {
  serialize(record: R): CoordinatorRecord;
  /** null for entries this coordinator does not replay. */
  deserialize(entry: LoadedRecord): R | null;
}

/** A coordinator's state for one partition. Changes only in `replay`. */
export interface CoordinatorShard<R> {
  replay(record: R): void;
  /** Loaded (or a write landed on an empty shard): timers and background work may start. */
  onLoaded?(): void;
  /** Dropped: waiting work is abandoned (timers are already cancelled). */
  onUnloaded?(): void;
}

/** Keyed timers of one shard; scheduling a key again replaces its timer. */
export interface CoordinatorTimer {
  /** `scope`: the unit a failure of `fn` belongs to (a group of the shard); the shard's own by default. */
  schedule(key: string, delayMs: number, fn: () => unknown, scope?: Scope): void;
  every(key: string, intervalMs: number, fn: () => unknown): void;
  cancel(key: string): void;
  isScheduled(key: string): boolean;
}

/** What the runtime lends a shard. */
export interface ShardContext<R, S extends CoordinatorShard<R>> {
  readonly partition: number;
  /** The partition's leader epoch when the shard was loaded (Kafka's coordinator epoch). */
  readonly epoch: number;
  readonly registry: SnapshotRegistry;
  readonly timers: CoordinatorTimer;
  readonly logger: Logger;
  now(): number;
  /** A write on this shard from its own timers or background work. */
  write<T>(name: string, op: (shard: S) => CoordinatorResult<R, T>): Promise<T>;
  /** Follows background work in this shard's scope (ignored after unload). */
  watch(task: string, work: Promise<unknown>): void;
  /** Whether the shard is still the loaded one for its partition. */
  isActive(): boolean;
}

export interface CoordinatorRuntimeOptions<R, S extends CoordinatorShard<R>> {
  /** Names the runtime in logs and scopes: 'txn', 'group'. */
  name: string;
  log: CoordinatorPartitionLog;
  serde: CoordinatorSerde<R>;
  newShard(ctx: ShardContext<R, S>): S;
  scheduler: Scheduler;
  logger: Logger;
}

type ShardStatus = 'loading' | 'active' | 'closed';

interface Deferred<T> {
  resolve(v: T): void;
  reject(err: unknown): void;
}

class ShardHolder<R, S extends CoordinatorShard<R>> {
  status: ShardStatus = 'loading';
  shard!: S;
  readonly registry = new SnapshotRegistry();
  readonly timerHandles = new Map<string, TimerHandle>();
  /** Write sequence; the registry's epochs. */
  seq = 0;
  /** Resolves true once the last append issued landed, false if it failed. */
  tail: Promise<boolean> = Promise.resolve(true);
  /** Settles once the last write issued is committed or failed. */
  lastCommit: Promise<void> = Promise.resolve();
  readonly waiting = new Set<Deferred<never>>();
  /** The last offset the load read. */
  loadedUpTo = -1;
  /** Records others appended while the shard loaded (replayed after it unless the load read them). */
  appendedWhileLoading: LoadedRecord[] = [];

  constructor(
    readonly partition: number,
    readonly epoch: number,
  ) {}
}

export class CoordinatorRuntime<R, S extends CoordinatorShard<R>> {
  private readonly opts: CoordinatorRuntimeOptions<R, S>;
  private readonly shards = new Map<number, ShardHolder<R, S>>();
  private closed = false;

  constructor(opts: CoordinatorRuntimeOptions<R, S>) {
    this.opts = opts;
  }

  // ---- leadership ----

  /** This broker leads `partition` at `epoch`: loads a new shard unless one of that epoch or later exists. */
  elect(partition: number, epoch: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    const cur = this.shards.get(partition);
    if (cur && cur.epoch >= epoch) return Promise.resolve();
    if (cur) this.unload(cur);
    const holder = new ShardHolder<R, S>(partition, epoch);
    holder.shard = this.opts.newShard(this.contextFor(holder));
    this.shards.set(partition, holder);
    const loaded = this.load(holder);
    this.opts.scheduler.watch(this.scope(holder, 'load'), loaded);
    return loaded;
  }

  /** This broker stopped leading `partition` (at `epoch` or before, when given). */
  resign(partition: number, epoch?: number): void {
    const cur = this.shards.get(partition);
    if (!cur || (epoch !== undefined && cur.epoch > epoch)) return;
    this.unload(cur);
  }

  /** Partitions with a shard here, loading or loaded, and their epochs. */
  partitions(): Map<number, { epoch: number; loading: boolean }> {
    const out = new Map<number, { epoch: number; loading: boolean }>();
    for (const [p, h] of this.shards) out.set(p, { epoch: h.epoch, loading: h.status === 'loading' });
    return out;
  }

  /** Whether `shutdown` was called. */
  get isShutdown(): boolean {
    return this.closed;
  }

  /** Drops every shard; the runtime serves nothing afterwards. */
  shutdown(): void {
    this.closed = true;
    for (const h of [...this.shards.values()]) this.unload(h);
  }

  private async load(holder: ShardHolder<R, S>): Promise<void> {
    const { log, serde, scheduler, logger } = this.opts;
    const started = scheduler.now();
    let records = 0;
    try {
      for await (const chunk of log.read(holder.partition)) {
        if (holder.status !== 'loading') return;
        for (const entry of chunk) {
          if (entry.offset > holder.loadedUpTo) holder.loadedUpTo = entry.offset;
          const r = serde.deserialize(entry);
          if (r === null) continue;
          holder.shard.replay(r);
          records++;
        }
      }
      if (holder.status !== 'loading') return;
      for (const entry of holder.appendedWhileLoading) {
        if (entry.offset <= holder.loadedUpTo) continue;
        const r = serde.deserialize(entry);
        if (r !== null) holder.shard.replay(r);
      }
      holder.appendedWhileLoading = [];
      holder.status = 'active';
      logger.info({ coordinator: this.opts.name, partition: holder.partition, epoch: holder.epoch, records, ms: scheduler.now() - started }, 'loaded coordinator shard');
      holder.shard.onLoaded?.();
    } catch (err) {
      logger.error({ err, coordinator: this.opts.name, partition: holder.partition, epoch: holder.epoch }, 'failed to load coordinator shard; the partition is not served until its next election');
      if (this.shards.get(holder.partition) === holder) this.unload(holder);
    }
  }

  private unload(holder: ShardHolder<R, S>): void {
    const wasLoaded = holder.status === 'active';
    holder.status = 'closed';
    if (this.shards.get(holder.partition) === holder) this.shards.delete(holder.partition);
    for (const t of holder.timerHandles.values()) t.cancel();
    holder.timerHandles.clear();
    const err = new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker no longer coordinates partition ${holder.partition}`);
    for (const d of holder.waiting) d.reject(err);
    holder.waiting.clear();
    if (wasLoaded) this.opts.scheduler.run(this.scope(holder, 'unload'), () => holder.shard.onUnloaded?.());
    this.opts.logger.info({ coordinator: this.opts.name, partition: holder.partition, epoch: holder.epoch }, 'unloaded coordinator shard');
  }

  /**
   * A record someone else appended to `partition` (a transaction marker): replayed into the
   * loaded shard at once (it is in the log, so there is nothing to undo), or after the load.
   */
  replayAppended(partition: number, entry: LoadedRecord): void {
    const h = this.shards.get(partition);
    if (!h) return;
    if (h.status === 'loading') {
      h.appendedWhileLoading.push(entry);
      return;
    }
    if (h.status !== 'active') return;
    const r = this.opts.serde.deserialize(entry);
    if (r !== null) h.shard.replay(r);
  }

  // ---- operations ----

  /** The loaded shard of `partition`, or Kafka's error for why there is none. */
  private active(partition: number): ShardHolder<R, S> {
    if (this.closed) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is shutting down');
    const h = this.shards.get(partition);
    if (!h) throw new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker does not coordinate partition ${partition}`);
    if (h.status === 'loading') throw new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, `Partition ${partition} is loading`);
    return h;
  }

  /** Runs a read on the shard of `partition`; throws NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. */
  read<T>(partition: number, op: (shard: S, epoch: number) => T): T {
    const h = this.active(partition);
    return op(h.shard, h.epoch);
  }

  /** The loaded shards (ListTransactions and alike walk them). */
  loadedShards(): { partition: number; epoch: number; shard: S }[] {
    return [...this.shards.values()].filter((h) => h.status === 'active').map((h) => ({ partition: h.partition, epoch: h.epoch, shard: h.shard }));
  }

  /** Whether some shard is still loading (list calls answer COORDINATOR_LOAD_IN_PROGRESS then). */
  anyLoading(): boolean {
    return [...this.shards.values()].some((h) => h.status === 'loading');
  }

  /** Runs a write on the shard of `partition`; resolves with its response once its records are committed. */
  write<T>(partition: number, name: string, op: (shard: S, epoch: number) => CoordinatorResult<R, T>): Promise<T> {
    let h: ShardHolder<R, S>;
    try {
      h = this.active(partition);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.writeOn(h, name, (s) => op(s, h.epoch));
  }

  private writeOn<T>(h: ShardHolder<R, S>, name: string, op: (shard: S) => CoordinatorResult<R, T>): Promise<T> {
    if (h.status !== 'active') return Promise.reject(new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker no longer coordinates partition ${h.partition}`));
    const epoch = ++h.seq;
    let result: CoordinatorResult<R, T>;
    let raw: CoordinatorRecord[];
    h.registry.begin(epoch);
    try {
      result = op(h.shard);
      raw = result.records.map((r) => this.opts.serde.serialize(r));
      for (const r of result.records) h.shard.replay(r);
    } catch (err) {
      h.registry.revertTo(epoch);
      return Promise.reject(err);
    } finally {
      h.registry.end();
    }
    return new Promise<T>((resolve, reject) => {
      const d: Deferred<never> = { resolve: resolve as (v: never) => void, reject };
      h.waiting.add(d);
      const settle = (fn: () => void): void => {
        if (!h.waiting.delete(d)) return; // answered already (the shard was unloaded)
        fn();
      };
      if (raw.length === 0) {
        // Nothing to write: answer once the writes before it are committed.
        void h.lastCommit.then(() => {
          if (result.onCommitted && h.status === 'active') this.opts.scheduler.run(this.scope(h, `${name}-committed`), result.onCommitted);
          settle(() => resolve(result.response));
        });
        return;
      }
      const prev = h.tail;
      const appended = prev.then((prevOk) => {
        if (!prevOk) throw new KafkaError(ErrorCode.NOT_COORDINATOR, 'an earlier write of this coordinator failed');
        if (h.status !== 'active') throw new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker no longer coordinates partition ${h.partition}`);
        return result.producer ? this.opts.log.append(h.partition, raw, result.producer) : this.opts.log.append(h.partition, raw);
      });
      const myTail = appended.then(
        () => true,
        () => false,
      );
      h.tail = myTail;
      const committed = appended.then(
        (endOffset) => this.opts.log.awaitCommit(h.partition, endOffset).then(
          () => {
            h.registry.commitUpTo(epoch);
            if (result.onCommitted && h.status === 'active') this.opts.scheduler.run(this.scope(h, `${name}-committed`), result.onCommitted);
            settle(() => resolve(result.response));
          },
          (err: unknown) => {
            h.registry.commitUpTo(epoch);
            this.opts.logger.warn({ err, coordinator: this.opts.name, partition: h.partition, write: name }, 'coordinator write not committed');
            settle(() => reject(new CoordinatorWriteError(errorCodeOf(err), `The ${name} write was not committed`, err)));
          },
        ),
        (err: unknown) => {
          if (h.status === 'active') h.registry.revertTo(epoch);
          if (h.tail === myTail) h.tail = Promise.resolve(true);
          this.opts.logger.warn({ err, coordinator: this.opts.name, partition: h.partition, write: name }, 'coordinator write failed; its changes are undone');
          settle(() => reject(new CoordinatorWriteError(errorCodeOf(err), `The ${name} write failed`, err)));
        },
      );
      h.lastCommit = committed;
    });
  }

  // ---- shard context ----

  private scope(h: ShardHolder<R, S>, task: string): Scope {
    return { unit: `${this.opts.name}-shard`, context: { partition: h.partition, epoch: h.epoch, task } };
  }

  private contextFor(h: ShardHolder<R, S>): ShardContext<R, S> {
    const { scheduler } = this.opts;
    const timers: CoordinatorTimer = {
      schedule: (key, delayMs, fn, scope) => {
        if (h.status === 'closed') return;
        h.timerHandles.get(key)?.cancel();
        const handle = scheduler.schedule(delayMs, scope ?? this.scope(h, key), () => {
          if (h.timerHandles.get(key) === handle) h.timerHandles.delete(key);
          if (h.status !== 'active') return;
          return fn();
        });
        h.timerHandles.set(key, handle);
      },
      every: (key, intervalMs, fn) => {
        if (h.status === 'closed') return;
        h.timerHandles.get(key)?.cancel();
        const handle = scheduler.every(intervalMs, this.scope(h, key), () => (h.status === 'active' ? fn() : undefined));
        h.timerHandles.set(key, handle);
      },
      cancel: (key) => {
        h.timerHandles.get(key)?.cancel();
        h.timerHandles.delete(key);
      },
      isScheduled: (key) => h.timerHandles.has(key),
    };
    return {
      partition: h.partition,
      epoch: h.epoch,
      registry: h.registry,
      timers,
      logger: this.opts.logger.child({ coordinator: this.opts.name, partition: h.partition }),
      now: () => scheduler.now(),
      write: (name, op) => this.writeOn(h, name, op),
      watch: (task, work) => scheduler.watch(this.scope(h, task), work.catch((err: unknown) => (h.status === 'active' ? Promise.reject(err) : undefined))),
      isActive: () => h.status === 'active' && this.shards.get(h.partition) === h,
    };
  }
}
