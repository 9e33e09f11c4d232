import * as fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLogConfig, type LogConfig } from './log-config.ts';
import { Log } from './log.ts';
import { buildSimpleBatch } from './test-batches.ts';
import { capturingLogger, silentLogger, tempDir } from './test-support.ts';

const config: LogConfig = { ...defaultLogConfig, segmentBytes: 2000, indexIntervalBytes: 200 };

async function writeLog(dir: string, batches: number): Promise<number[]> {
  const log = await Log.open({ dir, topic: 'r', partition: 0, config, logger: silentLogger() });
  const ends: number[] = [];
  for (let i = 0; i < batches; i++) ends.push((await log.append(buildSimpleBatch(3, 60, { seed: i }), { assignOffsets: true })).lastOffset + 1);
  await log.close();
  return ends;
}

/** Every batch from the log start, through as many reads as segments need. */
async function readEverything(log: Log): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = log.logStartOffset;
  for (let guard = 0; offset < log.logEndOffset && guard < 10_000; guard++) {
    const r = (await log.read(offset, 1 << 20, { minOneMessage: true })).records;
    parts.push(r);
    let pos = 0;
    while (pos < r.length) {
      offset = Number(r.readBigInt64BE(pos)) + r.readInt32BE(pos + 23) + 1;
      pos += 12 + r.readInt32BE(pos + 8);
    }
  }
  return Buffer.concat(parts);
}

function lastSegmentFile(dir: string): string {
  return path.join(dir, fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort().at(-1)!);
}

describe('recovery after an unclean shutdown', () => {
  it('truncates a torn batch at the tail and logs the file and offset', async () => {
    const dir = path.join(tempDir(), 'r-0');
    const ends = await writeLog(dir, 30);
    const file = lastSegmentFile(dir);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 17);
    const { logger, lines } = capturingLogger();
    const log = await Log.open({ dir, topic: 'r', partition: 0, config, logger, hadCleanShutdown: false });
    expect(log.logEndOffset).toBe(ends.at(-2));
    const warn = lines.find((l) => l.msg === 'truncating invalid bytes at the end of a segment')!;
    expect(warn).toBeDefined();
    expect(warn.file).toBe(file);
    expect(warn.offset).toBe(ends.at(-2));
    const again = await log.append(buildSimpleBatch(1, 10), { assignOffsets: true });
    expect(again.firstOffset).toBe(ends.at(-2));
    await log.close();
  });

  it('truncates at a batch whose bytes were flipped (bad CRC) and everything after it', async () => {
    const dir = path.join(tempDir(), 'r-0');
    const ends = await writeLog(dir, 30);
    const file = lastSegmentFile(dir);
    const bytes = fs.readFileSync(file);
    const second = 12 + bytes.readInt32BE(8);
    bytes[second + 100] ^= 0x55;
    fs.writeFileSync(file, bytes);
    const base = Number(path.basename(file).slice(0, 20));
    const log = await Log.open({ dir, topic: 'r', partition: 0, config, logger: silentLogger(), hadCleanShutdown: false });
    expect(log.logEndOffset).toBe(base + 3);
    expect(fs.statSync(file).size).toBe(second);
    expect(ends).toContain(base + 3);
    await log.close();
  });

  it('drops zeroed preallocated garbage after the last batch and rebuilds untrimmed indexes', async () => {
    const dir = path.join(tempDir(), 'r-0');
    const ends = await writeLog(dir, 30);
    const file = lastSegmentFile(dir);
    fs.appendFileSync(file, Buffer.alloc(5000));
    const prefix = file.slice(0, -4);
    fs.truncateSync(`${prefix}.index`, 10 * 1024 * 1024);
    fs.truncateSync(`${prefix}.timeindex`, 10 * 1024 * 1024);
    const log = await Log.open({ dir, topic: 'r', partition: 0, config, logger: silentLogger(), hadCleanShutdown: false });
    expect(log.logEndOffset).toBe(ends.at(-1));
    const r = await log.read(ends.at(-2)!, 10_000);
    expect(r.firstOffset).toBe(ends.at(-2));
    await log.close();
    expect(fs.statSync(`${prefix}.index`).size % 8).toBe(0);
    expect(fs.statSync(`${prefix}.index`).size).toBeLessThan(100);
  });

  it('rebuilds a missing or inconsistent index even after a clean shutdown', async () => {
    const dir = path.join(tempDir(), 'r-0');
    await writeLog(dir, 30);
    const first = path.join(dir, '00000000000000000000');
    const good = fs.readFileSync(`${first}.index`);
    expect(good.length).toBeGreaterThan(0);
    fs.rmSync(`${first}.index`);
    const bad = Buffer.from(good);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.index')).sort();
    const second = path.join(dir, files[1]!);
    const secondGood = fs.readFileSync(second);
    bad.writeInt32BE(0x7fffffff, 4); // position far past the end of the file
    fs.writeFileSync(second, bad.subarray(0, Math.min(bad.length, secondGood.length || 8)));
    const log = await Log.open({ dir, topic: 'r', partition: 0, config, logger: silentLogger(), hadCleanShutdown: true });
    expect(fs.readFileSync(`${first}.index`).equals(good)).toBe(true);
    for (let o = 0; o < log.logEndOffset; o += 7) expect((await log.read(o, 100_000, { minOneMessage: true })).records.length).toBeGreaterThan(0);
    await log.close();
    expect(fs.readFileSync(second).equals(secondGood)).toBe(true);
  });

  it('finishes interrupted swaps and removes .cleaned and .deleted leftovers', async () => {
    const dir = path.join(tempDir(), 'r-0');
    await writeLog(dir, 30);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    expect(files.length).toBeGreaterThan(3);
    // Pretend segments 0 and 1 were cleaned into one swap file holding only segment 0's data.
    const seg0 = path.join(dir, files[0]!);
    fs.copyFileSync(seg0, `${seg0}.swap`);
    fs.writeFileSync(path.join(dir, `${files[2]!.slice(0, 20)}.log.cleaned`), 'junk');
    fs.writeFileSync(path.join(dir, `${files[2]!.slice(0, 20)}.index.deleted`), 'junk');
    const seg1Base = Number(files[1]!.slice(0, 20));
    const log = await Log.open({ dir, topic: 'r', partition: 0, config, logger: silentLogger(), hadCleanShutdown: true });
    const names = fs.readdirSync(dir);
    expect(names.some((n) => n.endsWith('.swap') || n.endsWith('.cleaned') || n.endsWith('.deleted'))).toBe(false);
    expect(names).toContain(files[1]);
    expect(log.logSegments().map((s) => s.baseOffset)).toContain(seg1Base);
    await log.close();
  });

  it('completes a swap that replaces several segments, as after a crash in the middle of a cleaning', async () => {
    const dir = path.join(tempDir(), 'r-0');
    await writeLog(dir, 30);
    const before = await Log.open({ dir, topic: 'r', partition: 0, config, logger: silentLogger(), hadCleanShutdown: true });
    const all = await readEverything(before);
    const leo = before.logEndOffset;
    await before.close();
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    // A cleaned copy of the first three segments (no records removed), left as `.swap`; one old
    // segment already renamed `.deleted`, the others still in place.
    const merged = Buffer.concat(files.slice(0, 3).map((f) => fs.readFileSync(path.join(dir, f))));
    fs.writeFileSync(path.join(dir, `${files[0]!.slice(0, 20)}.log.swap`), merged);
    fs.renameSync(path.join(dir, files[1]!), path.join(dir, `${files[1]!}.deleted`));
    const log = await Log.open({ dir, topic: 'r', partition: 0, config, logger: silentLogger(), hadCleanShutdown: false });
    const names = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    expect(names).toEqual([files[0], ...files.slice(3)]);
    expect(fs.statSync(path.join(dir, files[0]!)).size).toBe(merged.length);
    expect(log.logEndOffset).toBe(leo);
    expect((await readEverything(log)).equals(all)).toBe(true);
    expect((await log.read(0, 1 << 20)).records.length).toBe(merged.length);
    await log.close();
  });
});
