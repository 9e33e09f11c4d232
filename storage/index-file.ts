// Shared machinery of Kafka's fixed-width index files (`.index`, `.timeindex`).
// Invariants: the in-memory image (`buf`, first `entries * entrySize` bytes) is what the file
// holds or is about to hold; entries are only appended at the end or dropped from the end; new
// entries are written through at their own file position by writeDirty(), in blocks of a few
// entries on the append path (one small write per append would double the syscalls). While the segment is
// active the file is preallocated to segment.index.bytes (as Kafka's mmap'd indexes are), and it
// is trimmed to exactly its entries when the segment is sealed or closed, so after a clean
// shutdown `file size / entrySize` is the entry count. Sealed indexes are read into memory on
// first use, not at open.
import * as fs from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Appends write new entries out in blocks of this many (a crash rebuilds the tail anyway). */
const WRITE_THROUGH_ENTRIES = 32;

export abstract class IndexFile {
  protected buf: Buffer = Buffer.alloc(0);
  protected count = 0;
  private written = 0;
  private loaded = false;
  private fh: FileHandle | null = null;
  /** Write-through chain: entries reach the file in order without appends waiting for them. */
  private writes: Promise<void> = Promise.resolve();
  private writeError: unknown = null;
  readonly maxEntries: number;

  constructor(
    public path: string,
    readonly baseOffset: number,
    readonly entrySize: number,
    maxIndexSize: number,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxIndexSize / entrySize));
  }

  get entries(): number {
    this.ensureLoaded();
    return this.count;
  }

  get isFull(): boolean {
    return this.entries >= this.maxEntries;
  }

  get sizeInBytes(): number {
    return this.entries * this.entrySize;
  }

  /** Reads the file image (if not yet read). A missing file is an empty index. */
  ensureLoaded(): void {
    if (this.loaded) return;
    let data: Buffer;
    try {
      data = fs.readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      data = Buffer.alloc(0);
    }
    this.count = Math.floor(data.length / this.entrySize);
    this.buf = data;
    this.written = this.count;
    this.loaded = true;
  }

  /** Drops all entries (before a rebuild); the file is rewritten by the next writeDirty. */
  reset(): void {
    this.loaded = true;
    this.count = 0;
    this.written = 0;
    if (this.buf.length === 0) this.buf = Buffer.alloc(64 * this.entrySize);
  }

  /** Opens the file for write-through and preallocates it: the segment became active. */
  async openForAppend(maxIndexSize: number): Promise<void> {
    this.ensureLoaded();
    await this.settle();
    if (this.fh === null) this.fh = await open(this.path, fs.existsSync(this.path) ? 'r+' : 'w+');
    const size = Math.max(this.count * this.entrySize, Math.floor(maxIndexSize / this.entrySize) * this.entrySize);
    await this.fh.truncate(size);
  }

  protected reserveEntry(): number {
    this.ensureLoaded();
    const need = (this.count + 1) * this.entrySize;
    if (need > this.buf.length) {
      const next = Buffer.alloc(Math.max(need, this.buf.length * 2, 64 * this.entrySize));
      this.buf.copy(next, 0, 0, this.count * this.entrySize);
      this.buf = next;
    }
    return this.count++ * this.entrySize;
  }

  /** Keeps the first `n` entries. */
  protected truncateEntries(n: number): void {
    this.ensureLoaded();
    if (n >= this.count) return;
    this.count = n;
    if (this.written > n) this.written = n;
  }

  /**
   * Queues the entries appended since the last call for writing at their file positions. The
   * returned promise may be ignored by appends (a crash rebuilds the index from the log anyway);
   * settle() waits for every queued write and surfaces a failure.
   */
  writeDirty(force = true): Promise<void> {
    if (this.written >= this.count || this.fh === null) return this.writes;
    if (!force && this.count - this.written < WRITE_THROUGH_ENTRIES) return this.writes;
    const from = this.written * this.entrySize;
    const to = this.count * this.entrySize;
    this.written = this.count;
    const fh = this.fh;
    const data = Buffer.from(this.buf.subarray(from, to));
    this.writes = this.writes.then(async () => {
      try {
        await fh.write(data, 0, data.length, from);
      } catch (err) {
        this.writeError ??= err;
      }
    });
    return this.writes;
  }

  /** Waits for queued writes; rethrows the first write failure. */
  async settle(): Promise<void> {
    await this.writes;
    if (this.writeError !== null) throw this.writeError;
  }

  /** Writes everything out (used after a rebuild) and sizes the file to its entries. */
  async rewrite(): Promise<void> {
    await this.settle();
    const data = this.buf.subarray(0, this.count * this.entrySize);
    const fh = this.fh ?? (await open(this.path, 'w'));
    try {
      await fh.write(data, 0, data.length, 0);
      if (this.fh === null) await fh.truncate(data.length);
    } finally {
      if (this.fh === null) await fh.close();
    }
    this.written = this.count;
  }

  async flush(): Promise<void> {
    this.writeDirty();
    await this.settle();
    if (this.fh !== null) await this.fh.datasync();
  }

  /** Seals: writes pending entries, trims the preallocated tail, releases the handle. */
  async trimAndClose(): Promise<void> {
    if (this.fh === null) {
      if (this.loaded && this.written < this.count) await this.rewrite();
      return;
    }
    this.writeDirty();
    await this.settle();
    await this.fh.truncate(this.count * this.entrySize);
    await this.fh.sync();
    await this.fh.close();
    this.fh = null;
  }

  /** Closes without trimming (crash-like; used when the file is deleted anyway). */
  async closeHandle(): Promise<void> {
    if (this.fh === null) return;
    await this.writes;
    await this.fh.close();
    this.fh = null;
  }

  async renameTo(path: string): Promise<void> {
    try {
      await fs.promises.rename(this.path, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.path = path;
  }

  /** Releases the in-memory image of a sealed index; it is read again on next use. */
  unload(): void {
    if (this.fh !== null || this.written < this.count) return;
    this.loaded = false;
    this.buf = Buffer.alloc(0);
    this.count = 0;
    this.written = 0;
  }
}
