// Time index (`<base>.timeindex`): 12-byte entries [int64 timestamp][int32 relativeOffset],
// big-endian. Timestamps are strictly increasing and offsets non-decreasing: an entry is added only
// when the segment's max timestamp so far grew past the last entry (Kafka's maybeAppend), and
// points at the offset of the batch that holds that max timestamp. lookup(ts) gives the last entry
// with timestamp <= ts, a safe place to start scanning for the first batch whose max timestamp
// is >= ts.
import { IndexFile } from './index-file.ts';

export const TIME_INDEX_ENTRY_SIZE = 12;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends IndexFile {
  constructor(path: string, baseOffset: number, maxIndexSize: number) {
    super(path, baseOffset, TIME_INDEX_ENTRY_SIZE, maxIndexSize);
  }

  timestampAt(i: number): number {
    return Number(this.buf.readBigInt64BE(i * 12));
  }

  relativeOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * 12 + 8);
  }

  entry(i: number): TimestampOffset {
    return { timestamp: this.timestampAt(i), offset: this.baseOffset + this.relativeOffsetAt(i) };
  }

  /** Last entry, or (-1, baseOffset) for an empty index. */
  lastEntry(): TimestampOffset {
    const n = this.entries;
    return n === 0 ? { timestamp: -1, offset: this.baseOffset } : this.entry(n - 1);
  }

  /**
   * Appends (timestamp, offset) if timestamp exceeds the last entry's. `skipFullCheck` lets the
   * final entry of a sealed segment in, as Kafka does when a segment becomes inactive.
   */
  maybeAppend(timestamp: number, offset: number, skipFullCheck = false): void {
    const n = this.entries;
    if (!skipFullCheck && n >= this.maxEntries) throw new Error(`time index ${this.path} is full`);
    if (n > 0) {
      if (timestamp <= this.timestampAt(n - 1)) return;
      if (offset - this.baseOffset < this.relativeOffsetAt(n - 1)) return;
    }
    const at = this.reserveEntry();
    this.buf.writeBigInt64BE(toInt64(timestamp), at);
    this.buf.writeInt32BE(offset - this.baseOffset, at + 8);
  }

  /** Last entry with timestamp <= target, or (-1, baseOffset) if none. */
  lookup(target: number): TimestampOffset {
    let lo = 0;
    let hi = this.entries - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestampAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? { timestamp: -1, offset: this.baseOffset } : this.entry(found);
  }

  /** Drops entries with offset >= target. */
  truncateTo(target: number): void {
    let n = this.entries;
    while (n > 0 && this.baseOffset + this.relativeOffsetAt(n - 1) >= target) n--;
    this.truncateEntries(n);
  }

  isConsistent(logEndOffset: number): boolean {
    const n = this.entries;
    let prevTs = Number.NEGATIVE_INFINITY;
    let prevRel = -1;
    for (let i = 0; i < n; i++) {
      const ts = this.timestampAt(i);
      const rel = this.relativeOffsetAt(i);
      if (ts <= prevTs || rel < prevRel || this.baseOffset + rel >= logEndOffset) return false;
      prevTs = ts;
      prevRel = rel;
    }
    return true;
  }
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** A timestamp as Kafka's long: a number near +-2^63 has rounded past the range, so it is clamped. */
function toInt64(timestamp: number): bigint {
  const v = BigInt(Math.trunc(timestamp));
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v;
}
