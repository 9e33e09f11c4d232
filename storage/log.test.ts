import * as fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLogConfig, type LogConfig } from './log-config.ts';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, Log, MAX_TIMESTAMP } from './log.ts';
import { buildBatch, buildSimpleBatch } from './test-batches.ts';
import { ManualClock, silentLogger, tempDir } from './test-support.ts';
import { StorageError } from './errors.ts';

function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...defaultLogConfig, ...overrides };
}

async function openLog(dir: string, overrides: Partial<LogConfig> = {}, extra: Partial<Parameters<typeof Log.open>[0]> = {}): Promise<Log> {
  return Log.open({ dir, topic: 't', partition: 0, config: config(overrides), logger: silentLogger(), ...extra });
}

describe('Log', () => {
  it('assigns offsets on the leader path and reads whole batches back', async () => {
    const dir = path.join(tempDir(), 't-0');
    const log = await openLog(dir);
    const r1 = await log.append(buildSimpleBatch(3, 10), { assignOffsets: true, leaderEpoch: 4 });
    const r2 = await log.append(buildSimpleBatch(2, 10), { assignOffsets: true, leaderEpoch: 4 });
    expect(r1).toMatchObject({ firstOffset: 0, lastOffset: 2, numBatches: 1, logAppendTime: -1 });
    expect(r2).toMatchObject({ firstOffset: 3, lastOffset: 4 });
    expect(log.logEndOffset).toBe(5);
    const read = await log.read(4, 1 << 20);
    expect(read.firstOffset).toBe(3);
    expect(read.records.readBigInt64BE(0)).toBe(3n);
    expect(read.records.readInt32BE(12)).toBe(4);
    const all = await log.read(0, 1 << 20);
    expect(all.records.length).toBe(r1.validBytes + r2.validBytes);
    expect((await log.read(5, 100)).records.length).toBe(0);
    await expect(log.read(6, 100)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(log.leaderEpochCache.endOffsetForEpoch(4, log.logEndOffset)).toEqual({ epoch: 4, endOffset: 5 });
    await log.close();
    expect(fs.existsSync(path.join(dir, '00000000000000000000.log'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n1\n4 0\n');
  });

  it('keeps offsets on the follower path and refuses offsets that go backwards', async () => {
    const log = await openLog(path.join(tempDir(), 't-0'));
    await log.append(buildSimpleBatch(2, 5, { baseOffset: 10, partitionLeaderEpoch: 1 }), { assignOffsets: false });
    expect(log.logEndOffset).toBe(12);
    const err = await log.append(buildSimpleBatch(2, 5, { baseOffset: 11 }), { assignOffsets: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('UNEXPECTED_APPEND_OFFSET');
    await log.append(buildSimpleBatch(1, 5, { baseOffset: 20, partitionLeaderEpoch: 3 }), { assignOffsets: false });
    expect(log.logEndOffset).toBe(21);
    expect(log.leaderEpochCache.epochEntries).toEqual([
      { epoch: 1, startOffset: 10 },
      { epoch: 3, startOffset: 20 },
    ]);
    expect(log.leaderEpochCache.endOffsetForEpoch(2, 21)).toEqual({ epoch: 1, endOffset: 20 });
    expect(log.leaderEpochCache.endOffsetForEpoch(0, 21)).toEqual({ epoch: 0, endOffset: 10 });
    expect(log.leaderEpochCache.endOffsetForEpoch(7, 21)).toEqual({ epoch: -1, endOffset: -1 });
    await log.truncateTo(20);
    expect(log.leaderEpochCache.epochEntries).toEqual([{ epoch: 1, startOffset: 10 }]);
    await log.close();
  });

  it('rejects appends that are not whole magic-2 batches, and the log goes on', async () => {
    const log = await openLog(path.join(tempDir(), 't-0'));
    const good = buildSimpleBatch(1, 5);
    await expect(log.append(good.subarray(0, good.length - 1), { assignOffsets: true })).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    const bad = Buffer.from(good);
    bad.writeInt8(1, 16);
    await expect(log.append(bad, { assignOffsets: true })).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await expect(log.append(buildSimpleBatch(1, 5), { assignOffsets: true })).resolves.toMatchObject({ firstOffset: 0 });
    await log.close();
  });

  it('resolves concurrent appends in order with consecutive offsets', async () => {
    const log = await openLog(path.join(tempDir(), 't-0'), { segmentBytes: 4000 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(buildSimpleBatch(1 + (i % 3), 100), { assignOffsets: true })));
    let next = 0;
    for (const r of results) {
      expect(r.firstOffset).toBe(next);
      next = r.lastOffset + 1;
    }
    expect(log.logSegments().length).toBeGreaterThan(3);
    for (const seg of log.logSegments()) expect(seg.size).toBeLessThanOrEqual(4000);
    let offset = 0;
    let seen = 0;
    while (offset < log.logEndOffset) {
      const r = await log.read(offset, 100_000);
      let pos = 0;
      while (pos < r.records.length) {
        const base = Number(r.records.readBigInt64BE(pos));
        expect(base).toBe(offset);
        offset = base + r.records.readInt32BE(pos + 23) + 1;
        pos += 12 + r.records.readInt32BE(pos + 8);
        seen++;
      }
    }
    expect(seen).toBe(50);
    await log.close();
  });

  it('stamps LogAppendTime with a valid CRC', async () => {
    const clock = new ManualClock(5_000_000);
    const log = await openLog(path.join(tempDir(), 't-0'), { messageTimestampType: 'LogAppendTime' }, { clock });
    const r = await log.append(buildSimpleBatch(2, 5, { timestamp: 10 }), { assignOffsets: true });
    expect(r.logAppendTime).toBe(5_000_000);
    const read = await log.read(0, 1000);
    expect(read.records.readBigInt64BE(35)).toBe(5_000_000n);
    expect(read.records.readInt16BE(21) & 0x08).toBe(0x08);
    await log.close();
  });

  it('rolls on segment.ms measured from the first batch timestamp', async () => {
    const log = await openLog(path.join(tempDir(), 't-0'), { segmentMs: 1000 });
    await log.append(buildSimpleBatch(1, 5, { timestamp: 10_000 }), { assignOffsets: true });
    await log.append(buildSimpleBatch(1, 5, { timestamp: 10_900 }), { assignOffsets: true });
    expect(log.logSegments().length).toBe(1);
    await log.append(buildSimpleBatch(1, 5, { timestamp: 11_001 }), { assignOffsets: true });
    expect(log.logSegments().map((s) => s.baseOffset)).toEqual([0, 2]);
    await log.close();
  });

  it('answers ListOffsets special timestamps and searches by time across segments', async () => {
    const log = await openLog(path.join(tempDir(), 't-0'), { segmentBytes: 600, indexIntervalBytes: 100 });
    for (let i = 0; i < 40; i++) {
      await log.append(buildBatch([{ value: Buffer.alloc(20), timestamp: 1000 + i * 10 }, { value: Buffer.alloc(20), timestamp: 1000 + i * 10 + 5 }]), { assignOffsets: true, leaderEpoch: 2 });
    }
    log.updateHighWatermark(log.logEndOffset);
    expect(log.logSegments().length).toBeGreaterThan(2);
    expect(log.findOffsetByTimestamp(EARLIEST_TIMESTAMP)).toEqual({ timestamp: -1, offset: 0, leaderEpoch: 2 });
    expect(log.findOffsetByTimestamp(LATEST_TIMESTAMP)).toEqual({ timestamp: -1, offset: 80, leaderEpoch: 2 });
    expect(log.findOffsetByTimestamp(MAX_TIMESTAMP)).toEqual({ timestamp: 1395, offset: 79, leaderEpoch: 2 });
    expect(log.findOffsetByTimestamp(0)).toMatchObject({ offset: 0, timestamp: 1000 });
    expect(log.findOffsetByTimestamp(1203)).toMatchObject({ offset: 41, timestamp: 1205 });
    expect(log.findOffsetByTimestamp(1210)).toMatchObject({ offset: 42, timestamp: 1210 });
    expect(log.findOffsetByTimestamp(1396)).toBeNull();
    await log.deleteRecordsBefore(50);
    expect(log.logStartOffset).toBe(50);
    expect(log.logSegments()[0]!.baseOffset).toBeLessThanOrEqual(50);
    expect(log.findOffsetByTimestamp(0)).toMatchObject({ offset: 50 });
    await expect(log.read(48, 100)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await log.close();
  });

  it('truncates inside a sealed segment and keeps appending from there', async () => {
    const dir = path.join(tempDir(), 't-0');
    const log = await openLog(dir, { segmentBytes: 500, indexIntervalBytes: 50 });
    for (let i = 0; i < 30; i++) await log.append(buildSimpleBatch(2, 30, { timestamp: i }), { assignOffsets: true });
    const segs = log.logSegments();
    expect(segs.length).toBeGreaterThan(3);
    const target = segs[1]!.baseOffset + 2;
    await log.truncateTo(target);
    expect(log.logEndOffset).toBe(target);
    expect(log.logSegments().length).toBe(2);
    const r = await log.append(buildSimpleBatch(1, 30), { assignOffsets: true });
    expect(r.firstOffset).toBe(target);
    await log.close();
    const reopened = await openLog(dir, { segmentBytes: 500, indexIntervalBytes: 50 }, { hadCleanShutdown: true });
    expect(reopened.logEndOffset).toBe(target + 1);
    expect((await reopened.read(target, 1000)).firstOffset).toBe(target);
    await reopened.close();
  });

  it('detects a corrupt batch inside a sealed segment on read', async () => {
    const dir = path.join(tempDir(), 't-0');
    const log = await openLog(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 20; i++) await log.append(buildSimpleBatch(2, 50), { assignOffsets: true });
    await log.close();
    const first = path.join(dir, '00000000000000000000.log');
    const bytes = fs.readFileSync(first);
    const secondBatch = 12 + bytes.readInt32BE(8);
    bytes[secondBatch + 70] ^= 0xff;
    fs.writeFileSync(first, bytes);
    const reopened = await openLog(dir, { segmentBytes: 1000 }, { hadCleanShutdown: true });
    await expect(reopened.read(0, 100_000)).rejects.toMatchObject({ name: 'CorruptRecordError', code: 'CORRUPT_MESSAGE' });
    const ok = await reopened.read(0, secondBatch);
    expect(ok.records.length).toBe(secondBatch);
    await reopened.close();
  });

  it('rolls when the offset index is full and when relative offsets would overflow', async () => {
    const log = await openLog(path.join(tempDir(), 't-0'), { segmentIndexBytes: 32, indexIntervalBytes: 1 });
    for (let i = 0; i < 12; i++) await log.append(buildSimpleBatch(1, 10), { assignOffsets: true });
    expect(log.logSegments().length).toBeGreaterThan(2);
    for (const seg of log.logSegments()) expect(seg.offsetIndex.entries).toBeLessThanOrEqual(4);
    await log.close();
    const follower = await openLog(path.join(tempDir(), 't-0'));
    await follower.append(buildSimpleBatch(1, 10, { baseOffset: 5 }), { assignOffsets: false });
    await follower.append(buildSimpleBatch(1, 10, { baseOffset: 5 + 2 ** 31 }), { assignOffsets: false });
    expect(follower.logSegments().map((s) => s.baseOffset)).toEqual([0, 5 + 2 ** 31]);
    expect((await follower.read(5 + 2 ** 31, 1000)).firstOffset).toBe(5 + 2 ** 31);
    await follower.close();
  });

  it('fsyncs and moves the recovery point every flush.messages messages', async () => {
    const log = await openLog(path.join(tempDir(), 't-0'), { flushMessages: 5 });
    await log.append(buildSimpleBatch(3, 10), { assignOffsets: true });
    expect(log.recoveryPoint).toBe(0);
    await log.append(buildSimpleBatch(3, 10), { assignOffsets: true });
    expect(log.recoveryPoint).toBe(6);
    await log.close();
  });

  it('flushes by flush.ms on the injected clock', async () => {
    const clock = new ManualClock();
    const log = await openLog(path.join(tempDir(), 't-0'), { flushMs: 1000 }, { clock });
    await log.append(buildSimpleBatch(2, 10), { assignOffsets: true });
    await log.maybeFlushByTime();
    expect(log.recoveryPoint).toBe(0);
    clock.advance(1000);
    await log.maybeFlushByTime();
    expect(log.recoveryPoint).toBe(2);
    await log.close();
  });
});
