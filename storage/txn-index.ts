// The aborted-transaction index of one segment: `<20-digit base offset>.txnindex`, Kafka's
// TransactionIndex. One entry per transaction whose ABORT marker was written into the segment
// (the transaction's data may start in earlier segments), in marker order, so lastOffset strictly
// increases. A read_committed fetch collects the entries overlapping its range and hands their
// (producerId, firstOffset) to the client, which drops those producers' batches up to the marker.
//
// File: a plain sequence of 34-byte entries, all big-endian: version int16 (= 0), producerId
// int64, firstOffset int64, lastOffset int64 (the marker's offset), lastStableOffset int64 (the
// partition's LSO once the marker was written: the first offset of the earliest other open
// transaction, else lastOffset + 1). The file exists only once an entry was written. Entries are
// few (one per aborted transaction that touched the partition), so they are kept in memory, read
// from the file on first use; appends are written through synchronously (34 bytes, rare).
import * as fs from 'node:fs';

export const TXN_INDEX_FILE_SUFFIX = '.txnindex';
export const ABORTED_TXN_SIZE = 34;
const ABORTED_TXN_VERSION = 0;

export interface AbortedTxn {
  producerId: bigint;
  firstOffset: number;
  lastOffset: number;
  lastStableOffset: number;
}

export function encodeAbortedTxn(t: AbortedTxn): Buffer {
  const buf = Buffer.alloc(ABORTED_TXN_SIZE);
  buf.writeInt16BE(ABORTED_TXN_VERSION, 0);
  buf.writeBigInt64BE(t.producerId, 2);
  buf.writeBigInt64BE(BigInt(t.firstOffset), 10);
  buf.writeBigInt64BE(BigInt(t.lastOffset), 18);
  buf.writeBigInt64BE(BigInt(t.lastStableOffset), 26);
  return buf;
}

/** Decodes a whole file's entries; a torn tail (a crash mid-append) is ignored. */
export function decodeAbortedTxns(buf: Buffer, file = 'transaction index'): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (let pos = 0; pos + ABORTED_TXN_SIZE <= buf.length; pos += ABORTED_TXN_SIZE) {
    const version = buf.readInt16BE(pos);
    if (version !== ABORTED_TXN_VERSION) throw new Error(`${file}: unexpected aborted transaction version ${version} at position ${pos}`);
    out.push({
      producerId: buf.readBigInt64BE(pos + 2),
      firstOffset: Number(buf.readBigInt64BE(pos + 10)),
      lastOffset: Number(buf.readBigInt64BE(pos + 18)),
      lastStableOffset: Number(buf.readBigInt64BE(pos + 26)),
    });
  }
  return out;
}

export interface TxnIndexSearchResult {
  abortedTransactions: AbortedTxn[];
  /** True when no later segment can hold an entry overlapping the range (Kafka's isComplete). */
  isComplete: boolean;
}

export class TransactionIndex {
  readonly startOffset: number;
  private file: string;
  private entries: AbortedTxn[] | null = null;

  constructor(startOffset: number, file: string) {
    this.startOffset = startOffset;
    this.file = file;
  }

  get path(): string {
    return this.file;
  }

  private load(): AbortedTxn[] {
    if (this.entries !== null) return this.entries;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      buf = Buffer.alloc(0);
    }
    this.entries = decodeAbortedTxns(buf, this.file);
    if (buf.length % ABORTED_TXN_SIZE !== 0) this.rewrite();
    return this.entries;
  }

  allAbortedTxns(): readonly AbortedTxn[] {
    return [...this.load()];
  }

  get size(): number {
    return this.load().length;
  }

  /** Kafka refuses an entry whose lastOffset does not increase. */
  append(t: AbortedTxn): void {
    const entries = this.load();
    const last = entries.at(-1);
    if (last !== undefined && last.lastOffset >= t.lastOffset) {
      throw new Error(`The last offset of appended transactions must increase sequentially, but ${t.lastOffset} is not greater than current last offset ${last.lastOffset} of index ${this.file}`);
    }
    fs.appendFileSync(this.file, encodeAbortedTxn(t));
    entries.push(t);
  }

  /** Removes the entries whose marker is at or after `offset`. */
  truncateTo(offset: number): void {
    const entries = this.load();
    const keep = entries.filter((e) => e.lastOffset < offset);
    if (keep.length === entries.length) return;
    this.entries = keep;
    this.rewrite();
  }

  /** Empties the index (its segment is rebuilt). */
  reset(): void {
    this.entries = [];
    fs.rmSync(this.file, { force: true });
  }

  private rewrite(): void {
    const entries = this.entries ?? [];
    if (entries.length === 0) {
      fs.rmSync(this.file, { force: true });
      return;
    }
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, Buffer.concat(entries.map(encodeAbortedTxn)));
    fs.renameSync(tmp, this.file);
  }

  /**
   * Kafka's collectAbortedTxns: the entries with lastOffset >= fetchOffset and firstOffset <
   * upperBoundOffset; complete once an entry's lastStableOffset reaches the upper bound.
   */
  collectAbortedTxns(fetchOffset: number, upperBoundOffset: number): TxnIndexSearchResult {
    const out: AbortedTxn[] = [];
    for (const e of this.load()) {
      if (e.lastOffset >= fetchOffset && e.firstOffset < upperBoundOffset) out.push(e);
      if (e.lastStableOffset >= upperBoundOffset) return { abortedTransactions: out, isComplete: true };
    }
    return { abortedTransactions: out, isComplete: false };
  }

  async flush(): Promise<void> {
    if (this.entries === null || this.entries.length === 0) return;
    const fh = await fs.promises.open(this.file, 'r+').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (fh === null) return;
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async renameTo(file: string): Promise<void> {
    try {
      await fs.promises.rename(this.file, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.file = file;
  }

  async deleteFile(): Promise<void> {
    await fs.promises.rm(this.file, { force: true });
  }
}
