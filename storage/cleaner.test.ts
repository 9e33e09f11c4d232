import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatch } from '../protocol/records/record-batch.ts';
import { LogCleaner, OffsetMap } from './cleaner.ts';
import { defaultLogConfig, type LogConfig } from './log-config.ts';
import { Log } from './log.ts';
import { buildBatch } from './test-batches.ts';
import { ManualClock, silentLogger, tempDir } from './test-support.ts';

const config: LogConfig = { ...defaultLogConfig, cleanupPolicy: ['compact'], segmentBytes: 4000, deleteRetentionMs: 1000 };

interface Written {
  offset: number;
  key: string;
  value: string | null;
}

/** Every record a reader from the log start sees, checking batch validity on the way. */
async function readAll(log: Log): Promise<{ offset: number; key: string | null; value: string | null; batchBase: number }[]> {
  const out: { offset: number; key: string | null; value: string | null; batchBase: number }[] = [];
  let offset = log.logStartOffset;
  let lastBatchEnd = -1;
  for (let guard = 0; offset < log.logEndOffset && guard < 100_000; guard++) {
    const r = await log.read(offset, 64 * 1024, { minOneMessage: true });
    expect(r.records.length).toBeGreaterThan(0);
    let pos = 0;
    while (pos < r.records.length) {
      const b = decodeRecordBatch(r.records, pos);
      const base = Number(b.header.baseOffset);
      expect(base).toBeGreaterThan(lastBatchEnd);
      for (const rec of b.records) out.push({ offset: base + rec.offsetDelta, key: rec.key?.toString() ?? null, value: rec.value?.toString() ?? null, batchBase: base });
      lastBatchEnd = base + b.header.lastOffsetDelta;
      offset = lastBatchEnd + 1;
      pos += b.size;
    }
  }
  return out;
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

async function fill(log: Log, clock: ManualClock, count: number, rnd: () => number, producerId = -1): Promise<Written[]> {
  const written: Written[] = [];
  let seq = 0;
  for (let i = 0; i < count; ) {
    const n = 1 + Math.floor(rnd() * 5);
    const recs = [];
    for (let j = 0; j < n; j++) {
      const key = `k${Math.floor(rnd() * 40)}`;
      const value = rnd() < 0.15 ? null : `v${i + j}-${'x'.repeat(Math.floor(rnd() * 40))}`;
      recs.push({ key: Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: clock.now() });
    }
    const res = await log.append(buildBatch(recs, { producerId, producerEpoch: producerId >= 0 ? 0 : -1, baseSequence: producerId >= 0 ? seq : -1 }), { assignOffsets: true });
    seq += n;
    recs.forEach((r, j) => written.push({ offset: res.firstOffset + j, key: r.key.toString(), value: r.value?.toString() ?? null }));
    i += n;
    clock.advance(10);
  }
  log.updateHighWatermark(log.logEndOffset);
  log.updateLastStableOffset(log.logEndOffset);
  return written;
}

function latestPerKey(written: Written[], upTo: number): Map<string, Written> {
  const latest = new Map<string, Written>();
  for (const w of written) if (w.offset < upTo) latest.set(w.key, w);
  return latest;
}

describe('OffsetMap', () => {
  it('keeps the latest offset per key within a fixed capacity', () => {
    const map = new OffsetMap(16 * 1024);
    expect(map.maxEntries).toBe(Math.floor(1024 * 0.9));
    for (let i = 0; i < 500; i++) map.put(Buffer.from(`key-${i % 100}`), i);
    expect(map.size).toBe(100);
    expect(map.get(Buffer.from('key-7'))).toBe(407);
    expect(map.get(Buffer.from('nope'))).toBe(-1);
    map.clear();
    expect(map.get(Buffer.from('key-7'))).toBe(-1);
  });
});

describe('LogCleaner', () => {
  it('compacts updates and tombstones to the latest value per key, keeping offsets', async () => {
    const clock = new ManualClock();
    const log = await Log.open({ dir: path.join(tempDir(), 'c-0'), topic: 'c', partition: 0, config, logger: silentLogger(), clock });
    const written = await fill(log, clock, 800, seeded(7));
    await log.roll();
    const cleaner = new LogCleaner({ logger: silentLogger(), now: () => clock.now(), dedupeBufferSize: 1024 * 1024 });
    const sizeBefore = log.size;
    const r1 = await cleaner.clean(log, undefined);
    expect(r1.cleaned).toBe(true);
    expect(r1.endOffset).toBe(log.activeSegment.baseOffset);
    expect(log.size).toBeLessThan(sizeBefore / 3);
    const latest = latestPerKey(written, r1.endOffset);
    const seen = await readAll(log);
    // Exactly the latest record per key (tombstones still inside their delete horizon).
    expect(seen.length).toBe(latest.size);
    for (const rec of seen) {
      const w = latest.get(rec.key!)!;
      expect(rec).toMatchObject({ offset: w.offset, value: w.value });
    }
    expect(seen.some((r) => r.value === null)).toBe(true);
    // Reads at any offset of the original range still work and land on the next retained record.
    for (let o = 0; o < log.logEndOffset; o += 37) {
      const r = await log.read(o, 1000, { minOneMessage: true });
      const b = decodeRecordBatch(r.records, 0);
      expect(Number(b.header.baseOffset) + b.header.lastOffsetDelta).toBeGreaterThanOrEqual(o);
    }
    // Not dirty enough for another pass; then, after delete.retention.ms, tombstones go.
    expect((await cleaner.clean(log, r1.endOffset)).cleaned).toBe(false);
    clock.advance(config.deleteRetentionMs + 1);
    const r2 = await cleaner.clean(log, r1.endOffset, true);
    expect(r2.cleaned).toBe(true);
    const after = await readAll(log);
    expect(after.every((r) => r.value !== null)).toBe(true);
    expect(after.length).toBe([...latest.values()].filter((w) => w.value !== null).length);
    // Reopening after the swaps gives the same log.
    await log.close();
    const reopened = await Log.open({ dir: log.dir, topic: 'c', partition: 0, config, logger: silentLogger(), clock, hadCleanShutdown: false });
    expect(await readAll(reopened)).toEqual(after);
    await reopened.close();
  });

  it('cleans in several passes when the dedupe buffer holds only part of the dirty range', async () => {
    const clock = new ManualClock();
    const log = await Log.open({ dir: path.join(tempDir(), 'c-0'), topic: 'c', partition: 0, config: { ...config, deleteRetentionMs: 0, segmentBytes: 700 }, logger: silentLogger(), clock });
    const written = await fill(log, clock, 600, seeded(11));
    await log.roll();
    const cleaner = new LogCleaner({ logger: silentLogger(), now: () => clock.now(), dedupeBufferSize: 24 * 16 });
    let checkpoint: number | undefined;
    const ends: number[] = [];
    for (let pass = 0; pass < 30; pass++) {
      const r = await cleaner.clean(log, checkpoint, true);
      if (!r.cleaned || r.endOffset === checkpoint) break;
      ends.push(r.endOffset);
      checkpoint = r.endOffset;
      clock.advance(1);
    }
    expect(ends.length).toBeGreaterThan(1);
    expect(ends.at(-1)).toBe(log.activeSegment.baseOffset);
    const latest = latestPerKey(written, log.activeSegment.baseOffset);
    // A final pass over everything (checkpoint reset) yields exactly the live keys.
    clock.advance(1);
    await cleaner.clean(log, undefined, true);
    const seen = await readAll(log);
    expect(new Map(seen.map((r) => [r.key!, r.offset]))).toEqual(new Map([...latest.values()].filter((w) => w.value !== null).map((w) => [w.key, w.offset])));
    await log.close();
  });

  it('keeps the last batch of an idempotent producer even when all its records are superseded', async () => {
    const clock = new ManualClock();
    const log = await Log.open({ dir: path.join(tempDir(), 'c-0'), topic: 'c', partition: 0, config, logger: silentLogger(), clock });
    const a = await log.append(buildBatch([{ key: Buffer.from('k'), value: Buffer.from('1') }], { producerId: 42, producerEpoch: 0, baseSequence: 0 }), { assignOffsets: true });
    await log.append(buildBatch([{ key: Buffer.from('k'), value: Buffer.from('2') }]), { assignOffsets: true });
    const b = await log.append(buildBatch([{ key: Buffer.from('j'), value: Buffer.from('1') }, { key: Buffer.from('k'), value: Buffer.from('x') }], { producerId: 42, producerEpoch: 0, baseSequence: 1 }), { assignOffsets: true });
    await log.append(buildBatch([{ key: Buffer.from('j'), value: Buffer.from('2') }, { key: Buffer.from('k'), value: Buffer.from('3') }]), { assignOffsets: true });
    log.updateHighWatermark(log.logEndOffset);
    log.updateLastStableOffset(log.logEndOffset);
    await log.roll();
    const cleaner = new LogCleaner({ logger: silentLogger(), now: () => clock.now() });
    expect((await cleaner.clean(log, undefined)).cleaned).toBe(true);
    const r = await log.read(0, 100_000);
    const batches = [];
    for (let pos = 0; pos < r.records.length; ) {
      const d = decodeRecordBatch(r.records, pos);
      batches.push(d);
      pos += d.size;
    }
    // Producer 42's first batch is gone; its last batch stays, empty, with offsets and sequence.
    expect(batches.some((d) => Number(d.header.baseOffset) === a.firstOffset)).toBe(false);
    const kept = batches.find((d) => Number(d.header.baseOffset) === b.firstOffset)!;
    expect(kept.records.length).toBe(0);
    expect(kept.header.producerId).toBe(42n);
    expect(kept.header.baseSequence).toBe(1);
    expect(kept.header.lastOffsetDelta).toBe(1);
    expect(batches.at(-1)!.records.map((x) => x.value?.toString())).toEqual(['2', '3']);
    await log.close();
  });

  it('leaves segments newer than min.compaction.lag.ms and the active segment alone', async () => {
    const clock = new ManualClock();
    const cfg = { ...config, minCompactionLagMs: 1_000_000 };
    const log = await Log.open({ dir: path.join(tempDir(), 'c-0'), topic: 'c', partition: 0, config: cfg, logger: silentLogger(), clock });
    await fill(log, clock, 300, seeded(3));
    const cleaner = new LogCleaner({ logger: silentLogger(), now: () => clock.now() });
    expect((await cleaner.clean(log, undefined, true)).cleaned).toBe(false);
    clock.advance(2_000_000);
    const active = log.activeSegment;
    expect((await cleaner.clean(log, undefined, true)).cleaned).toBe(true);
    expect(log.activeSegment).toBe(active);
    await log.close();
  });
});
