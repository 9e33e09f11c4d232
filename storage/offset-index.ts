// Sparse offset index (`<base>.index`): 8-byte entries [int32 relativeOffset][int32 position],
// big-endian, mapping an offset to the file position of a batch at or before it. Entries are
// strictly increasing in both fields; relativeOffset = offset - segment base offset. A lookup
// returns the last entry whose offset is <= the target, from which a scan of at most one
// index.interval.bytes (plus one batch) finds the target.
import { IndexFile } from './index-file.ts';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends IndexFile {
  constructor(path: string, baseOffset: number, maxIndexSize: number) {
    super(path, baseOffset, OFFSET_INDEX_ENTRY_SIZE, maxIndexSize);
  }

  relativeOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * 8);
  }

  positionAt(i: number): number {
    return this.buf.readInt32BE(i * 8 + 4);
  }

  entry(i: number): OffsetPosition {
    return { offset: this.baseOffset + this.relativeOffsetAt(i), position: this.positionAt(i) };
  }

  lastEntry(): OffsetPosition {
    const n = this.entries;
    return n === 0 ? { offset: this.baseOffset, position: 0 } : this.entry(n - 1);
  }

  /** Appends (offset, position); both must exceed the last entry's. */
  append(offset: number, position: number): void {
    const n = this.entries;
    const rel = offset - this.baseOffset;
    if (n > 0 && (rel <= this.relativeOffsetAt(n - 1) || position <= this.positionAt(n - 1))) {
      throw new Error(`offset index ${this.path}: entry (${offset}, ${position}) not after last ${JSON.stringify(this.lastEntry())}`);
    }
    if (n >= this.maxEntries) throw new Error(`offset index ${this.path} is full`);
    const at = this.reserveEntry();
    this.buf.writeInt32BE(rel, at);
    this.buf.writeInt32BE(position, at + 4);
  }

  /** Index of the last entry with offset <= target, or -1. */
  private floorIndex(target: number): number {
    const rel = target - this.baseOffset;
    let lo = 0;
    let hi = this.entries - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relativeOffsetAt(mid) <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Last entry with offset <= target; (baseOffset, 0) when there is none. */
  lookup(target: number): OffsetPosition {
    const i = this.floorIndex(target);
    return i < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(i);
  }

  /** Position of the first entry with offset > target, or -1: where the target batch starts by. */
  nextPositionAfter(target: number): number {
    const i = this.floorIndex(target) + 1;
    return i < this.entries ? this.positionAt(i) : -1;
  }

  /** Drops entries with offset >= target. */
  truncateTo(target: number): void {
    const i = this.floorIndex(target - 1);
    this.truncateEntries(i + 1);
  }

  /** Drops entries pointing at or past `position` (the log file was cut there). */
  truncateToPosition(position: number): void {
    let n = this.entries;
    while (n > 0 && this.positionAt(n - 1) >= position) n--;
    this.truncateEntries(n);
  }

  /** Checks that entries increase and stay inside a log file of `logSize` bytes. */
  isConsistent(logSize: number): boolean {
    const n = this.entries;
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < n; i++) {
      const rel = this.relativeOffsetAt(i);
      const pos = this.positionAt(i);
      if (rel <= prevRel || pos <= prevPos || pos >= logSize) return false;
      prevRel = rel;
      prevPos = pos;
    }
    return true;
  }
}
