import * as fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOffsetCheckpoint } from './checkpoint.ts';
import { defaultLogConfig, logConfigFromProperties, type LogConfig } from './log-config.ts';
import { CLEAN_SHUTDOWN_FILE, LogManager, parseTopicPartitionDir } from './log-manager.ts';
import { readMetaProperties } from './meta-properties.ts';
import { buildBatch, buildSimpleBatch } from './test-batches.ts';
import { ManualClock, silentLogger, tempDir } from './test-support.ts';

const config: LogConfig = { ...defaultLogConfig, segmentBytes: 1500 };

function start(dirs: string[], extra: Partial<Parameters<typeof LogManager.start>[0]> = {}): Promise<LogManager> {
  return LogManager.start({ logDirs: dirs, defaultConfig: config, logger: silentLogger(), scheduleTasks: false, meta: { clusterId: 'c1', nodeId: 1 }, ...extra });
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe('LogManager', () => {
  it('parses partition directory names with dashes in topics', () => {
    expect(parseTopicPartitionDir('my-topic-12')).toEqual({ topic: 'my-topic', partition: 12 });
    expect(parseTopicPartitionDir('meta.properties')).toBeNull();
    expect(parseTopicPartitionDir('t-x')).toBeNull();
  });

  it('writes meta.properties, spreads logs over log dirs, checkpoints and reloads after a clean shutdown', async () => {
    const root = tempDir();
    const dirs = [path.join(root, 'a'), path.join(root, 'b')];
    const mgr = await start(dirs);
    const meta = await readMetaProperties(dirs[0]!);
    expect(meta).toMatchObject({ version: 1, clusterId: 'c1', nodeId: 1 });
    expect(meta!.directoryId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(fs.readFileSync(path.join(dirs[0]!, 'meta.properties'), 'utf8')).toMatch(/^version=1$/m);
    const logs = await Promise.all([0, 1, 2, 3].map((p) => mgr.getOrCreateLog('orders', p)));
    expect(new Set(logs.map((l) => path.dirname(l.dir))).size).toBe(2);
    for (const log of logs) {
      for (let i = 0; i < 10; i++) await log.append(buildSimpleBatch(2, 100), { assignOffsets: true });
      log.updateHighWatermark(log.logEndOffset);
    }
    await logs[0]!.deleteRecordsBefore(6);
    await mgr.shutdown();
    expect(fs.existsSync(path.join(dirs[0]!, CLEAN_SHUTDOWN_FILE))).toBe(true);
    const dirOf0 = path.dirname(logs[0]!.dir);
    const rp = await readOffsetCheckpoint(path.join(dirOf0, 'recovery-point-offset-checkpoint'));
    expect(rp).toContainEqual({ topic: 'orders', partition: 0, offset: 20 });
    expect(fs.readFileSync(path.join(dirOf0, 'log-start-offset-checkpoint'), 'utf8')).toBe('0\n1\norders 0 6\n');
    const hw = await readOffsetCheckpoint(path.join(dirOf0, 'replication-offset-checkpoint'));
    expect(hw.find((e) => e.partition === 0)?.offset).toBe(20);

    // Damage the tail of a log: after a clean shutdown nothing is scanned, so it stays until read.
    const seg = path.join(logs[1]!.dir, fs.readdirSync(logs[1]!.dir).filter((f) => f.endsWith('.log')).sort().at(-1)!);
    const sizeBefore = fs.statSync(seg).size;
    const again = await start(dirs);
    expect(fs.existsSync(path.join(dirs[0]!, CLEAN_SHUTDOWN_FILE))).toBe(false);
    expect(again.getLog('orders', 0)!.logStartOffset).toBe(6);
    expect(again.getLog('orders', 0)!.highWatermark).toBe(20);
    expect(again.getLog('orders', 3)!.logEndOffset).toBe(20);
    expect(fs.statSync(seg).size).toBe(sizeBefore);
    await again.shutdown();
  });

  it('recovers from the recovery point after an unclean shutdown', async () => {
    const root = tempDir();
    const dirs = [path.join(root, 'a')];
    const mgr = await start(dirs);
    const log = await mgr.getOrCreateLog('t', 0);
    for (let i = 0; i < 20; i++) await log.append(buildSimpleBatch(2, 100), { assignOffsets: true });
    await log.flush();
    await mgr.checkpointRecoveryOffsets();
    await log.append(buildSimpleBatch(2, 100), { assignOffsets: true });
    await log.closeHandles(); // the process dies here: no clean shutdown marker
    const seg = path.join(log.dir, fs.readdirSync(log.dir).filter((f) => f.endsWith('.log')).sort().at(-1)!);
    fs.truncateSync(seg, fs.statSync(seg).size - 5);
    const again = await start(dirs);
    expect(again.getLog('t', 0)!.logEndOffset).toBe(40);
    await again.shutdown();
  });

  it('rejects a log dir formatted for another cluster', async () => {
    const root = tempDir();
    const mgr = await start([root]);
    await mgr.shutdown();
    await expect(start([root], { meta: { clusterId: 'other', nodeId: 1 } })).rejects.toThrow(/Invalid cluster.id/);
  });

  it('deletes a partition by renaming its directory and removing it after the delay', async () => {
    const root = tempDir();
    const mgr = await start([root], { fileDeleteDelayMs: 500 });
    const log = await mgr.getOrCreateLog('gone', 3);
    await log.append(buildSimpleBatch(1, 10), { assignOffsets: true });
    expect(await mgr.deleteLog('gone', 3)).toBe(true);
    expect(mgr.getLog('gone', 3)).toBeUndefined();
    const names = fs.readdirSync(root);
    expect(names.some((n) => /^gone-3\.[0-9a-f]{32}-delete$/.test(n))).toBe(true);
    for (let i = 0; i < 250 && fs.readdirSync(root).some((n) => n.endsWith('-delete')); i++) await sleep(20);
    expect(fs.readdirSync(root).some((n) => n.endsWith('-delete'))).toBe(false);
    await mgr.shutdown();
  });

  it('applies retention.ms and retention.bytes to whole sealed segments, never the active one', async () => {
    const root = tempDir();
    const clock = new ManualClock(1_000_000);
    const mgr = await start([root], { clock });
    const timed = await mgr.getOrCreateLog('timed', 0, logConfigFromProperties({ 'retention.ms': '10000', 'segment.bytes': '1500', 'file.delete.delay.ms': '500' }));
    const sized = await mgr.getOrCreateLog('sized', 0, logConfigFromProperties({ 'retention.bytes': '3000', 'segment.bytes': '1500', 'retention.ms': '-1' }));
    for (let i = 0; i < 12; i++) {
      await timed.append(buildSimpleBatch(2, 200, { timestamp: 1_000_000 + i * 1000 }), { assignOffsets: true });
      await sized.append(buildSimpleBatch(2, 200, { timestamp: 1_000_000 }), { assignOffsets: true });
    }
    timed.updateHighWatermark(timed.logEndOffset);
    sized.updateHighWatermark(sized.logEndOffset);
    const timedSegments = timed.logSegments();
    expect(timedSegments.length).toBeGreaterThan(3);
    clock.time = 1_000_000 + 5 * 1000 + 10_001; // batches with timestamps up to +5s are expired
    await mgr.retentionCheck();
    for (const s of timed.logSegments().slice(0, -1)) expect(s.largestTimestamp).toBeGreaterThanOrEqual(clock.time - 10_000);
    expect(timed.logStartOffset).toBe(timed.logSegments()[0]!.baseOffset);
    expect(timed.logStartOffset).toBeGreaterThan(0);
    expect(fs.readdirSync(timed.dir).some((n) => n.endsWith('.log.deleted'))).toBe(true);
    // Kafka's rule: whole segments go while the excess covers them, so less than one remains.
    expect(sized.logStartOffset).toBeGreaterThan(0);
    expect(sized.size - 3000).toBeLessThan(sized.logSegments()[0]!.size);
    expect(sized.size + 1).toBeGreaterThan(3000);
    clock.time += 1_000_000_000;
    await mgr.retentionCheck();
    expect(timed.logSegments().length).toBe(1);
    expect(timed.logStartOffset).toBe(timed.activeSegment.baseOffset);
    for (let i = 0; i < 250 && fs.readdirSync(timed.dir).some((n) => n.endsWith('.deleted')); i++) await sleep(20);
    expect(fs.readdirSync(timed.dir).some((n) => n.endsWith('.deleted'))).toBe(false);
    await mgr.shutdown();
  });

  it('runs the cleaner on dirty compacted logs and checkpoints how far it cleaned', async () => {
    const root = tempDir();
    const clock = new ManualClock(1_000_000);
    const mgr = await start([root], { clock, dedupeBufferSize: 1024 * 1024 });
    const log = await mgr.getOrCreateLog('compacted', 0, logConfigFromProperties({ 'cleanup.policy': 'compact', 'segment.bytes': '2000' }));
    const plain = await mgr.getOrCreateLog('plain', 0, config);
    for (let i = 0; i < 100; i++) {
      await plain.append(buildSimpleBatch(1, 50, { timestamp: clock.now() }), { assignOffsets: true });
      // Same key for every record: everything but the last is garbage.
      await log.append(buildBatch([{ key: Buffer.from('same'), value: Buffer.alloc(50, i) }]), { assignOffsets: true });
    }
    await log.roll();
    log.updateHighWatermark(log.logEndOffset);
    log.updateLastStableOffset(log.logEndOffset);
    const before = log.size;
    expect(await mgr.cleanLogs()).toBe(log);
    expect(log.size).toBeLessThan(before / 10);
    expect(fs.readFileSync(path.join(root, 'cleaner-offset-checkpoint'), 'utf8')).toBe(`0\n1\ncompacted 0 ${log.activeSegment.baseOffset}\n`);
    expect(await mgr.cleanLogs()).toBeNull();
    await mgr.shutdown();
    const again = await start([root], { clock });
    expect(again.cleanerCheckpoints.get('compacted-0')).toBe(log.activeSegment.baseOffset);
    await again.shutdown();
  });
});
