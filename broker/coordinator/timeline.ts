// Timeline data structures (in the spirit of Kafka's SnapshotRegistry and TimelineHashMap): a
// coordinator shard keeps its state in TimelineMaps registered with one SnapshotRegistry, so the
// runtime can undo the changes of writes that never reached the log.
// How: while a write is open (`begin(epoch)`), every change records an undo entry (key, value
// before) tagged with that epoch; `revertTo(epoch)` replays the undo entries of that epoch and
// later ones backwards; `commitUpTo(epoch)` forgets entries of committed epochs. Outside a write
// (loading a partition) no undo is recorded: replayed records are already in the log.
// Invariant: epochs passed to `begin` increase; undo entries are kept in epoch order.

interface UndoEntry {
  epoch: number;
  undo: () => void;
}

export class SnapshotRegistry {
  private entries: UndoEntry[] = [];
  private open: number | null = null;

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
    let i = 0;
    while (i < this.entries.length && this.entries[i]!.epoch <= epoch) i++;
    if (i > 0) this.entries = this.entries.slice(i);
  }

  /** Undo entries kept (tests). */
  get size(): number {
    return this.entries.length;
  }
}

/** A Map whose changes during an open write can be undone through its registry. */
export class TimelineMap<K, V> implements Iterable<[K, V]> {
  private readonly map = new Map<K, V>();
  private readonly registry: SnapshotRegistry;

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

  set(key: K, value: V): this {
    const had = this.map.has(key);
    const before = this.map.get(key);
    this.registry.record(() => (had ? this.map.set(key, before as V) : this.map.delete(key)));
    this.map.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (!this.map.has(key)) return false;
    const before = this.map.get(key) as V;
    this.registry.record(() => this.map.set(key, before));
    return this.map.delete(key);
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
