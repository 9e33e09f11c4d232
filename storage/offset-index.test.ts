import * as fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';
import { tempDir } from './test-support.ts';

describe('OffsetIndex', () => {
  it('looks up the last entry at or below the target and persists entries in Kafka layout', async () => {
    const dir = tempDir();
    const file = path.join(dir, '00000000000000000100.index');
    const idx = new OffsetIndex(file, 100, 1024);
    await idx.openForAppend(1024);
    expect(fs.statSync(file).size).toBe(1024);
    idx.append(105, 4100);
    idx.append(110, 8300);
    idx.append(130, 12400);
    await idx.writeDirty();
    expect(idx.lookup(99)).toEqual({ offset: 100, position: 0 });
    expect(idx.lookup(104)).toEqual({ offset: 100, position: 0 });
    expect(idx.lookup(105)).toEqual({ offset: 105, position: 4100 });
    expect(idx.lookup(129)).toEqual({ offset: 110, position: 8300 });
    expect(idx.lookup(1000)).toEqual({ offset: 130, position: 12400 });
    expect(() => idx.append(120, 20000)).toThrow();
    await idx.trimAndClose();
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(24);
    expect(bytes.readInt32BE(0)).toBe(5);
    expect(bytes.readInt32BE(4)).toBe(4100);
    const again = new OffsetIndex(file, 100, 1024);
    expect(again.entries).toBe(3);
    expect(again.lookup(111)).toEqual({ offset: 110, position: 8300 });
    again.truncateTo(110);
    expect(again.entries).toBe(1);
    expect(again.isConsistent(5000)).toBe(true);
    expect(again.isConsistent(4000)).toBe(false);
  });

  it('is full at segment.index.bytes / 8 entries', async () => {
    const dir = tempDir();
    const idx = new OffsetIndex(path.join(dir, 'x.index'), 0, 32);
    await idx.openForAppend(32);
    for (let i = 1; i <= 4; i++) idx.append(i, i * 10);
    expect(idx.isFull).toBe(true);
    expect(() => idx.append(9, 90)).toThrow();
    await idx.trimAndClose();
  });
});

describe('TimeIndex', () => {
  it('appends only growing timestamps and finds the last entry at or below a time', async () => {
    const dir = tempDir();
    const file = path.join(dir, '00000000000000000000.timeindex');
    const idx = new TimeIndex(file, 0, 1200);
    await idx.openForAppend(1200);
    idx.maybeAppend(1000, 3);
    idx.maybeAppend(1000, 5); // not larger: skipped
    idx.maybeAppend(900, 6); // smaller: skipped
    idx.maybeAppend(2000, 9);
    expect(idx.entries).toBe(2);
    expect(idx.lookup(999)).toEqual({ timestamp: -1, offset: 0 });
    expect(idx.lookup(1500)).toEqual({ timestamp: 1000, offset: 3 });
    expect(idx.lookup(5000)).toEqual({ timestamp: 2000, offset: 9 });
    await idx.trimAndClose();
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(24);
    expect(bytes.readBigInt64BE(12)).toBe(2000n);
    expect(bytes.readInt32BE(20)).toBe(9);
    const again = new TimeIndex(file, 0, 1200);
    again.truncateTo(9);
    expect(again.lastEntry()).toEqual({ timestamp: 1000, offset: 3 });
  });

  it('keeps timestamps at the edge of a 64-bit long (they round past it as numbers) clamped to the long range', async () => {
    const dir = tempDir();
    const idx = new TimeIndex(path.join(dir, '00000000000000000000.timeindex'), 0, 1200);
    await idx.openForAppend(1200);
    expect(() => idx.maybeAppend(2 ** 63, 1)).not.toThrow();
    expect(idx.entries).toBe(1);
    await idx.trimAndClose();
    expect(fs.readFileSync(path.join(dir, '00000000000000000000.timeindex')).readBigInt64BE(0)).toBe(2n ** 63n - 1n);
  });
});
