import * as fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEpochCheckpoint, readOffsetCheckpoint, writeOffsetCheckpoint } from './checkpoint.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';
import { defaultLogConfig, logConfigFromProperties } from './log-config.ts';
import { tempDir } from './test-support.ts';

describe('checkpoint files', () => {
  it('write Kafka text format atomically and read it back', async () => {
    const file = path.join(tempDir(), 'recovery-point-offset-checkpoint');
    await writeOffsetCheckpoint(file, [
      { topic: 'a-b', partition: 0, offset: 12 },
      { topic: 'c', partition: 7, offset: 0 },
    ]);
    expect(fs.readFileSync(file, 'utf8')).toBe('0\n2\na-b 0 12\nc 7 0\n');
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    expect(await readOffsetCheckpoint(file)).toEqual([
      { topic: 'a-b', partition: 0, offset: 12 },
      { topic: 'c', partition: 7, offset: 0 },
    ]);
    expect(await readOffsetCheckpoint(path.join(tempDir(), 'missing'))).toEqual([]);
  });

  it('rejects malformed files with a typed error', async () => {
    const dir = tempDir();
    for (const [name, text] of [
      ['badversion', '1\n0\n'],
      ['badcount', '0\n2\na 0 1\n'],
      ['badline', '0\n1\na 0\n'],
      ['badnumber', '0\n1\na 0 x\n'],
    ] as const) {
      fs.writeFileSync(path.join(dir, name), text);
      await expect(readOffsetCheckpoint(path.join(dir, name))).rejects.toMatchObject({ code: 'CHECKPOINT_FORMAT' });
    }
  });
});

describe('LeaderEpochCache', () => {
  it('assigns, truncates from both ends and persists', async () => {
    const dir = tempDir();
    const cache = await LeaderEpochCache.load(dir);
    expect(cache.assign(1, 0)).toBe(true);
    expect(cache.assign(1, 5)).toBe(false);
    expect(cache.assign(3, 10)).toBe(true);
    expect(cache.assign(5, 20)).toBe(true);
    expect(cache.endOffsetForEpoch(5, 30)).toEqual({ epoch: 5, endOffset: 30 });
    expect(cache.endOffsetForEpoch(4, 30)).toEqual({ epoch: 3, endOffset: 20 });
    expect(cache.endOffsetForEpoch(-1, 30)).toEqual({ epoch: -1, endOffset: -1 });
    cache.truncateFromStart(12);
    expect(cache.epochEntries).toEqual([
      { epoch: 3, startOffset: 12 },
      { epoch: 5, startOffset: 20 },
    ]);
    cache.truncateFromEnd(20);
    await cache.flush();
    expect(await readEpochCheckpoint(path.join(dir, 'leader-epoch-checkpoint'))).toEqual([{ epoch: 3, startOffset: 12 }]);
    // A new leader epoch at a lower offset (after an unclean election) drops the later entries.
    cache.assign(4, 15);
    cache.assign(6, 14);
    expect(cache.epochEntries).toEqual([
      { epoch: 3, startOffset: 12 },
      { epoch: 6, startOffset: 14 },
    ]);
  });
});

describe('LogConfig', () => {
  it('maps Kafka keys to fields with Kafka defaults and broker precedence', () => {
    expect(defaultLogConfig.retentionMs).toBe(604_800_000);
    expect(defaultLogConfig.segmentBytes).toBe(1 << 30);
    const c = logConfigFromProperties({ 'cleanup.policy': 'compact,delete', 'retention.bytes': '100', 'min.cleanable.dirty.ratio': '0.1' });
    expect(c.cleanupPolicy).toEqual(['compact', 'delete']);
    expect(c.retentionBytes).toBe(100);
    expect(c.minCleanableDirtyRatio).toBe(0.1);
    expect(() => logConfigFromProperties({ 'retention.ms': 'soon' })).toThrow(/retention.ms/);
    expect(() => logConfigFromProperties({ 'no.such': '1' })).toThrow(/unknown/);
  });
});
