import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProducerStateManager, snapshotFileName } from './producer-state.ts';
import { silentLogger, tempDir } from './test-support.ts';

const batch = (firstSeq: number, lastSeq: number, firstOffset: number) => ({ firstSeq, lastSeq, firstOffset, lastOffset: firstOffset + lastSeq - firstSeq, timestamp: 1000 });

describe('ProducerStateManager transactions', () => {
  it('opens a transaction at its first batch, closes it with a marker and holds the LSO until the marker is below the high watermark', () => {
    const s = new ProducerStateManager('/nonexistent', silentLogger());
    s.replay(1n, 0, 0, 1, 10, 11, 1000, true);
    s.replay(2n, 0, 0, 0, 12, 12, 1000, true);
    s.replay(1n, 0, 2, 2, 13, 13, 1000, true);
    expect(s.ongoingTransactions()).toEqual([
      { producerId: 1n, firstOffset: 10 },
      { producerId: 2n, firstOffset: 12 },
    ]);
    expect(s.firstUnstableOffset()).toBe(10);
    const txn = s.appendEndTxnMarker(1n, 0, false, 3, 14, 1000)!;
    expect(txn).toEqual({ producerId: 1n, firstOffset: 10, lastOffset: 14, isAborted: true });
    // The LSO stored in the index: the earliest other open transaction.
    expect(s.lastStableOffsetAfter(txn)).toBe(12);
    // Unreplicated: the closed transaction still holds the LSO.
    expect(s.firstUnstableOffset()).toBe(10);
    s.onHighWatermarkUpdated(14);
    expect(s.firstUnstableOffset()).toBe(10);
    s.onHighWatermarkUpdated(15);
    expect(s.firstUnstableOffset()).toBe(12);
    expect(s.appendEndTxnMarker(2n, 0, true, 3, 15, 1000)).toMatchObject({ isAborted: false });
    s.onHighWatermarkUpdated(16);
    expect(s.firstUnstableOffset()).toBeNull();
    // A marker without data (an empty transaction) completes nothing.
    expect(s.appendEndTxnMarker(2n, 0, true, 3, 16, 1000)).toBeNull();
  });

  it('refuses non-transactional writes inside a transaction and fences markers as Kafka does', () => {
    const s = new ProducerStateManager('/nonexistent', silentLogger());
    s.update(1n, 2, batch(0, 0, 0));
    s.beginPendingTxn(1n);
    expect(s.checkTxnData(1n, false)).toMatch(/Expected transactional write/);
    expect(s.checkTxnData(1n, true)).toBeNull();
    // The first offset is unknown while the first batch is being written: the LSO does not move for it.
    expect(s.firstUnstableOffset()).toBeNull();
    expect(s.ongoingTxnFirstOffset(1n)).toBe(-1);
    s.onTransactionalData(1n, 0);
    expect(s.firstUnstableOffset()).toBe(0);
    expect(s.checkEndTxnMarker(1n, 1, 0)).toMatchObject({ kind: 'invalid-epoch' });
    expect(s.checkEndTxnMarker(1n, 2, 5)).toEqual({ kind: 'ok' });
    s.appendEndTxnMarker(1n, 2, true, 5, 1, 1000);
    expect(s.checkEndTxnMarker(1n, 2, 4)).toMatchObject({ kind: 'fenced' });
    expect(s.checkEndTxnMarker(1n, 3, 5)).toEqual({ kind: 'ok' });
    // A failed first append leaves no transaction behind.
    s.beginPendingTxn(1n);
    s.cancelPendingTxn(1n);
    expect(s.hasOngoingTransaction(1n)).toBe(false);
  });

  it('writes the open transaction\'s first offset and the coordinator epoch into Kafka\'s snapshot layout and reads them back', async () => {
    const dir = tempDir('samsa-ps-txn-');
    try {
      const s = new ProducerStateManager(dir, silentLogger());
      s.replay(7n, 1, 0, 2, 40, 42, 5000, true);
      s.appendEndTxnMarker(8n, 0, false, 9, 43, 6000);
      s.mapEndOffset = 44;
      await s.takeSnapshot();
      const buf = readFileSync(join(dir, snapshotFileName(44)));
      expect(buf.readInt16BE(0)).toBe(1);
      expect(buf.readInt32BE(6)).toBe(2);
      // Entry of producer 7: id, epoch, last sequence, last offset, offset delta, timestamp, coordinator epoch, txn first offset.
      expect(buf.readBigInt64BE(10)).toBe(7n);
      expect(buf.readInt16BE(18)).toBe(1);
      expect(buf.readInt32BE(20)).toBe(2);
      expect(buf.readBigInt64BE(24)).toBe(42n);
      expect(buf.readInt32BE(32)).toBe(2);
      expect(buf.readBigInt64BE(36)).toBe(5000n);
      expect(buf.readInt32BE(44)).toBe(-1);
      expect(buf.readBigInt64BE(48)).toBe(40n);
      // Producer 8 is known only from a marker: no sequence, its coordinator epoch kept.
      expect(buf.readBigInt64BE(56)).toBe(8n);
      expect(buf.readInt32BE(66)).toBe(-1);
      expect(buf.readInt32BE(90)).toBe(9);
      expect(buf.readBigInt64BE(94)).toBe(-1n);
      const t = new ProducerStateManager(dir, silentLogger());
      expect(await t.loadLatestSnapshot(44)).toBe(44);
      expect(t.ongoingTransactions()).toEqual([{ producerId: 7n, firstOffset: 40 }]);
      expect(t.firstUnstableOffset()).toBe(40);
      expect(t.check(7n, 1, 3, 3).kind).toBe('append');
      expect(t.checkEndTxnMarker(8n, 0, 8)).toMatchObject({ kind: 'fenced' });
      expect(t.checkTxnData(7n, false)).not.toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
