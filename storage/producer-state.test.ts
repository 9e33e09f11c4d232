import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { nextSequence, ProducerStateManager, snapshotFileName } from './producer-state.ts';

const logger = pino({ level: 'silent' });
const b = (firstSeq: number, lastSeq: number, firstOffset: number) => ({ firstSeq, lastSeq, firstOffset, lastOffset: firstOffset + lastSeq - firstSeq, timestamp: 1000 });

describe('ProducerStateManager', () => {
  it('follows Kafka\'s sequence rules', () => {
    const s = new ProducerStateManager('/nonexistent', logger);
    expect(s.check(7n, 0, 5, 9).kind).toBe('append'); // unknown producers may start anywhere
    s.update(7n, 0, b(5, 9, 100));
    expect(s.check(7n, 0, 10, 12).kind).toBe('append');
    expect(s.check(7n, 0, 12, 13).kind).toBe('out-of-order');
    expect(s.check(7n, 0, 5, 9)).toMatchObject({ kind: 'duplicate', batch: { firstOffset: 100 } });
    expect(s.check(7n, 1, 3, 4).kind).toBe('out-of-order'); // a new epoch starts at 0
    expect(s.check(7n, 1, 0, 4).kind).toBe('append');
    s.update(7n, 1, b(0, 4, 200));
    expect(s.check(7n, 0, 10, 12).kind).toBe('invalid-epoch');
  });

  it('keeps the last five batches for duplicate detection and wraps sequences at Int32.MAX', () => {
    const s = new ProducerStateManager('/nonexistent', logger);
    for (let i = 0; i < 7; i++) s.update(1n, 0, b(i * 10, i * 10 + 9, i * 10));
    expect(s.check(1n, 0, 0, 9).kind).toBe('out-of-order');
    expect(s.check(1n, 0, 20, 29).kind).toBe('duplicate');
    const w = new ProducerStateManager('/nonexistent', logger);
    w.update(2n, 0, b(2147483640, 2147483647, 0));
    expect(w.check(2n, 0, 0, 3).kind).toBe('append');
  });

  it('round-trips snapshots in Kafka\'s format and refuses a corrupt one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-ps-'));
    try {
      const s = new ProducerStateManager(dir, logger);
      s.update(42n, 3, b(0, 4, 10));
      s.update(43n, 0, b(7, 7, 15));
      s.mapEndOffset = 16;
      await s.takeSnapshot();
      expect(await readdir(dir)).toContain(snapshotFileName(16));
      const t = new ProducerStateManager(dir, logger);
      expect(await t.loadLatestSnapshot(16)).toBe(16);
      expect(t.check(42n, 3, 0, 4)).toMatchObject({ kind: 'duplicate', batch: { firstOffset: 10, lastOffset: 14 } });
      expect(t.check(43n, 0, 8, 8).kind).toBe('append');
      // A snapshot beyond the log end (the log was truncated) is removed, a corrupt one skipped.
      expect(await new ProducerStateManager(dir, logger).loadLatestSnapshot(12)).toBe(0);
      expect(await readdir(dir)).not.toContain(snapshotFileName(16));
      await writeFile(join(dir, snapshotFileName(5)), Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
      expect(await new ProducerStateManager(dir, logger).loadLatestSnapshot(12)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('wraps a batch\'s last sequence past Int32.MAX and writes it to a snapshot', async () => {
    expect(nextSequence(2147483647, 3)).toBe(2);
    expect(nextSequence(5, 3)).toBe(8);
    const dir = await mkdtemp(join(tmpdir(), 'samsa-ps-'));
    try {
      const s = new ProducerStateManager(dir, logger);
      s.update(7n, 0, b(2147483647, nextSequence(2147483647, 3), 0));
      s.mapEndOffset = 4;
      await s.takeSnapshot();
      const t = new ProducerStateManager(dir, logger);
      expect(await t.loadLatestSnapshot(4)).toBe(4);
      expect(t.check(7n, 0, 3, 5).kind).toBe('append');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
