// Timeline data structures (in the spirit of Kafka's SnapshotRegistry and TimelineHashMap): a
// coordinator shard keeps its state in TimelineMaps registered with one SnapshotRegistry, so the
// runtime can undo the changes of writes that never reached the log.
// How: while a write is open (`begin(epoch)`), every change records an undo entry (key, value
// before) tagged with that epoch; `revertTo(epoch)` replays the undo entries of that epoch and
// later ones backwards; `commitUpTo(epoch)` forgets entries of committed epochs. Outside a write
// (loading a partition) no undo is recorded: replayed records are already in the log.
// Invariant: epochs passed to `begin` increase; undo entries are kept in epoch order.
// Committed reads: a TimelineMap also keeps, per key, the values it had before each change not
// yet committed, so `getCommitted` answers what the log's committed records say (Kafka reads a
// timeline structure at the last committed offset; OffsetFetch without require_stable does so).

interface UndoEntry {
  epoch: number;
  undo: () => void;
}

export class SnapshotRegistry {
  private entries: UndoEntry[] = [];
  private open: number | null = null;
  /** Writes up to this epoch are committed. */
  private committed = 0;

  /** The open write's epoch, or null outside a write. */
  get openEpoch(): number | null {
    return this.open;
  }

  get committedEpoch(): number {
    return this.committed;
  }

  /** Changes from now on belong to the write `epoch` (until `end`). */
  begin(epoch: number): void {
    this.open = epoch;
  }

  end(): void {
    this.open = null;
  }

  record(undo: () => void): void {
    if (this.open !== null) this.entries.push({ epoch: this.open, undo });
  }

  /** Undoes every change of write `epoch` and of the writes after it. */
  revertTo(epoch: number): void {
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.epoch >= epoch) this.entries.pop()!.undo();
  }

  /** Writes up to `epoch` are in the log for good: their undo entries are dropped. */
  commitUpTo(epoch: number): void {
    if (epoch > this.committed) this.committed = epoch;
    let i = 0;
    while (i < this.entries.length && this.entries[i]!.epoch <= epoch) i++;
    if (i > 0) this.entries = this.entries.slice(i);
  }

  /** Undo entries kept (tests). */
  get size(): number {
    return this.entries.length;
  }
}

/** A value a key had before a change not yet committed. */
interface Change<V> {
  epoch: number;
  had: boolean;
  before: V | undefined;
}

/** A Map whose changes during an open write can be undone through its registry. */
export class TimelineMap<K, V> implements Iterable<[K, V]> {
  private readonly map = new Map<K, V>();
  private readonly registry: SnapshotRegistry;
  /** Per key, its uncommitted changes in epoch order (pruned lazily once committed). */
  private readonly changes = new Map<K, Change<V>[]>();

  constructor(registry: SnapshotRegistry) {
    this.registry = registry;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Remembers the value before a change of the open write; the undo forgets it again. */
  private change(key: K): void {
    const had = this.map.has(key);
    const before = this.map.get(key);
    const epoch = this.registry.openEpoch;
    if (epoch === null) return;
    const list = this.pending(key) ?? [];
    list.push({ epoch, had, before });
    this.changes.set(key, list);
    this.registry.record(() => {
      list.pop();
      if (list.length === 0 && this.changes.get(key) === list) this.changes.delete(key);
      if (had) this.map.set(key, before as V);
      else this.map.delete(key);
    });
  }

  /** The key's uncommitted changes, dropping those committed since. */
  private pending(key: K): Change<V>[] | undefined {
    const list = this.changes.get(key);
    if (!list) return undefined;
    const committed = this.registry.committedEpoch;
    let i = 0;
    while (i < list.length && list[i]!.epoch <= committed) i++;
    if (i > 0) list.splice(0, i);
    if (list.length === 0) {
      this.changes.delete(key);
      return undefined;
    }
    return list;
  }

  /** Whether some key has a change not yet committed. */
  hasAnyUncommitted(): boolean {
    for (const k of [...this.changes.keys()]) if (this.pending(k) !== undefined) return true;
    return false;
  }

  /** Whether the key has a change not yet committed. */
  hasUncommitted(key: K): boolean {
    return this.pending(key) !== undefined;
  }

  /** The key's value as of the last committed write. */
  getCommitted(key: K): V | undefined {
    const first = this.pending(key)?.[0];
    if (first) return first.had ? first.before : undefined;
    return this.map.get(key);
  }

  /** Entries as of the last committed write. */
  committedEntries(): [K, V][] {
    const out: [K, V][] = [];
    for (const [k, v] of this.map) {
      if (!this.changes.has(k)) out.push([k, v]);
    }
    for (const k of [...this.changes.keys()]) {
      if (this.pending(k) === undefined) {
        if (this.map.has(k)) out.push([k, this.map.get(k) as V]);
        continue;
      }
      if (this.hasCommitted(k)) out.push([k, this.getCommitted(k) as V]);
    }
    return out;
  }

  private hasCommitted(key: K): boolean {
    const first = this.pending(key)?.[0];
    return first ? first.had : this.map.has(key);
  }

  set(key: K, value: V): this {
    this.change(key);
    this.map.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (!this.map.has(key)) return false;
    this.change(key);
    return this.map.delete(key);
  }

  clear(): void {
    for (const k of [...this.map.keys()]) this.delete(k);
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}
