// Leader epoch cache of one partition, persisted as `leader-epoch-checkpoint` in its directory
// (version 0, count, `epoch startOffset` lines). Invariant: entries strictly increase in both epoch
// and start offset. It answers OffsetForLeaderEpoch (endOffsetForEpoch) and is cut on truncation
// from the end (log truncation) and from the start (log start offset advance). Every change is
// written out, serialised, atomically.
import path from 'node:path';
import { LEADER_EPOCH_CHECKPOINT_FILE, readEpochCheckpoint, writeEpochCheckpoint, type EpochEntry } from './checkpoint.ts';

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export class LeaderEpochCache {
  private entries: EpochEntry[];
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();

  private constructor(file: string, entries: EpochEntry[]) {
    this.file = file;
    this.entries = entries;
  }

  static async load(dir: string): Promise<LeaderEpochCache> {
    const file = path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    const entries = await readEpochCheckpoint(file);
    const valid: EpochEntry[] = [];
    for (const e of entries) {
      const last = valid.at(-1);
      if (e.epoch < 0 || e.startOffset < 0 || (last !== undefined && (e.epoch <= last.epoch || e.startOffset < last.startOffset))) continue;
      valid.push(e);
    }
    return new LeaderEpochCache(file, valid);
  }

  get epochEntries(): readonly EpochEntry[] {
    return this.entries;
  }

  latestEpoch(): number | undefined {
    return this.entries.at(-1)?.epoch;
  }

  latestEntry(): EpochEntry | undefined {
    return this.entries.at(-1);
  }

  /** Records that `epoch` starts at `startOffset` (Kafka's assign); true if the cache changed. */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0 || startOffset < 0) return false;
    const last = this.entries.at(-1);
    if (last !== undefined && epoch === last.epoch && startOffset >= last.startOffset) return false;
    // Drop entries that would break monotonicity with the new one.
    this.entries = this.entries.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
    this.persist();
    return true;
  }

  /** Epoch of the entry covering `offset`, if any. */
  epochForOffset(offset: number): number | undefined {
    let found: number | undefined;
    for (const e of this.entries) {
      if (e.startOffset <= offset) found = e.epoch;
      else break;
    }
    return found;
  }

  /**
   * Kafka's endOffsetFor: the largest epoch <= requested and the start offset of the next epoch
   * (or logEndOffset if requested is the latest); (-1, -1) when requested is undefined or above
   * every known epoch.
   */
  endOffsetForEpoch(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    if (requestedEpoch === UNDEFINED_EPOCH) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const latest = this.entries.at(-1);
    if (latest !== undefined && latest.epoch === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.entries.find((e) => e.epoch > requestedEpoch);
    if (higher === undefined) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    let floor: EpochEntry | undefined;
    for (const e of this.entries) if (e.epoch <= requestedEpoch) floor = e;
    if (floor === undefined) return { epoch: requestedEpoch, endOffset: higher.startOffset };
    return { epoch: floor.epoch, endOffset: higher.startOffset };
  }

  /** Removes entries starting at or after `endOffset` (the log was truncated to it). */
  truncateFromEnd(endOffset: number): void {
    const last = this.entries.at(-1);
    if (endOffset < 0 || last === undefined || last.startOffset < endOffset) return;
    this.entries = this.entries.filter((e) => e.startOffset < endOffset);
    this.persist();
  }

  /** Drops entries wholly below `startOffset`, moving the one covering it up to startOffset. */
  truncateFromStart(startOffset: number): void {
    const first = this.entries[0];
    if (startOffset < 0 || first === undefined || first.startOffset >= startOffset) return;
    let keepFrom = 0;
    for (let i = 0; i < this.entries.length; i++) if (this.entries[i]!.startOffset <= startOffset) keepFrom = i;
    const kept = this.entries.slice(keepFrom);
    kept[0] = { epoch: kept[0]!.epoch, startOffset };
    this.entries = kept;
    this.persist();
  }

  clear(): void {
    this.entries = [];
    this.persist();
  }

  private persist(): void {
    const snapshot = [...this.entries];
    this.writing = this.writing.then(() => writeEpochCheckpoint(this.file, snapshot)).catch(() => undefined);
  }

  /** Resolves once every change so far is on disk. */
  async flush(): Promise<void> {
    const snapshot = [...this.entries];
    this.writing = this.writing.then(() => writeEpochCheckpoint(this.file, snapshot));
    await this.writing;
  }
}
