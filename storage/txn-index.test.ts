import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ABORTED_TXN_SIZE, decodeAbortedTxns, encodeAbortedTxn, TransactionIndex } from './txn-index.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-txnindex-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('.txnindex format', () => {
  it('writes Kafka\'s 34-byte AbortedTxn entries: version, producerId, firstOffset, lastOffset, lastStableOffset', () => {
    const buf = encodeAbortedTxn({ producerId: 0x0102030405060708n, firstOffset: 16, lastOffset: 300, lastStableOffset: 301 });
    expect(buf.length).toBe(ABORTED_TXN_SIZE);
    expect(buf.toString('hex')).toBe(
      '0000' + // version 0
        '0102030405060708' + // producerId
        '0000000000000010' + // firstOffset
        '000000000000012c' + // lastOffset
        '000000000000012d', // lastStableOffset
    );
  });

  it('round-trips any entries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ producerId: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), firstOffset: fc.nat(), lastOffset: fc.nat(), lastStableOffset: fc.nat() }), { maxLength: 20 }),
        (entries) => {
          const buf = Buffer.concat(entries.map(encodeAbortedTxn));
          expect(decodeAbortedTxns(buf)).toEqual(entries);
        },
      ),
    );
  });

  it('refuses an unknown entry version', () => {
    const buf = encodeAbortedTxn({ producerId: 1n, firstOffset: 0, lastOffset: 1, lastStableOffset: 2 });
    buf.writeInt16BE(1, 0);
    expect(() => decodeAbortedTxns(buf)).toThrow(/version 1/);
  });
});

describe('TransactionIndex', () => {
  it('creates its file on the first entry, appends in marker order and reads it back', () => {
    const file = join(dir, '00000000000000000000.txnindex');
    const idx = new TransactionIndex(0, file);
    expect(idx.size).toBe(0);
    expect(existsSync(file)).toBe(false);
    idx.append({ producerId: 5n, firstOffset: 0, lastOffset: 4, lastStableOffset: 5 });
    idx.append({ producerId: 6n, firstOffset: 2, lastOffset: 9, lastStableOffset: 10 });
    expect(() => idx.append({ producerId: 7n, firstOffset: 3, lastOffset: 9, lastStableOffset: 10 })).toThrow(/must increase/);
    expect(readFileSync(file).length).toBe(2 * ABORTED_TXN_SIZE);
    const again = new TransactionIndex(0, file);
    expect(again.allAbortedTxns()).toEqual([
      { producerId: 5n, firstOffset: 0, lastOffset: 4, lastStableOffset: 5 },
      { producerId: 6n, firstOffset: 2, lastOffset: 9, lastStableOffset: 10 },
    ]);
  });

  it('collects the entries overlapping a range and says when later segments cannot add any', () => {
    const idx = new TransactionIndex(0, join(dir, 'a.txnindex'));
    idx.append({ producerId: 1n, firstOffset: 0, lastOffset: 10, lastStableOffset: 5 });
    idx.append({ producerId: 2n, firstOffset: 5, lastOffset: 20, lastStableOffset: 21 });
    idx.append({ producerId: 3n, firstOffset: 25, lastOffset: 30, lastStableOffset: 31 });
    expect(idx.collectAbortedTxns(11, 25).abortedTransactions.map((t) => t.producerId)).toEqual([2n]);
    expect(idx.collectAbortedTxns(11, 25).isComplete).toBe(true);
    expect(idx.collectAbortedTxns(11, 40).isComplete).toBe(false);
    expect(idx.collectAbortedTxns(0, 6)).toEqual({ abortedTransactions: [idx.allAbortedTxns()[0], idx.allAbortedTxns()[1]], isComplete: true });
    expect(idx.collectAbortedTxns(0, 40).abortedTransactions.length).toBe(3);
    expect(idx.collectAbortedTxns(31, 40).abortedTransactions).toEqual([]);
  });

  it('truncates the entries whose marker is at or after an offset, and drops a torn tail', () => {
    const file = join(dir, 'b.txnindex');
    const idx = new TransactionIndex(0, file);
    idx.append({ producerId: 1n, firstOffset: 0, lastOffset: 10, lastStableOffset: 11 });
    idx.append({ producerId: 2n, firstOffset: 12, lastOffset: 20, lastStableOffset: 21 });
    idx.truncateTo(20);
    expect(new TransactionIndex(0, file).allAbortedTxns().map((t) => t.lastOffset)).toEqual([10]);
    appendFileSync(file, Buffer.alloc(10));
    const torn = new TransactionIndex(0, file);
    expect(torn.size).toBe(1);
    expect(readFileSync(file).length).toBe(ABORTED_TXN_SIZE);
    torn.truncateTo(0);
    expect(existsSync(file)).toBe(false);
  });

  it('follows renames and deletes its file', async () => {
    const a = join(dir, 'c.txnindex');
    writeFileSync(a, encodeAbortedTxn({ producerId: 1n, firstOffset: 0, lastOffset: 1, lastStableOffset: 2 }));
    const idx = new TransactionIndex(0, a);
    await idx.renameTo(`${a}.deleted`);
    expect(existsSync(`${a}.deleted`)).toBe(true);
    expect(idx.size).toBe(1);
    await idx.deleteFile();
    expect(existsSync(`${a}.deleted`)).toBe(false);
  });
});
