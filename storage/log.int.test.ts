// Crash tests with real processes: a child appends in a loop and is killed with SIGKILL at
// random moments; after each kill the log must hold every acknowledged batch, be a prefix of
// what was written, and have indexes that agree with a full scan of the segments.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CRASH_LOG_CONFIG, crashBatch } from './crash-append-child.ts';
import { Log } from './log.ts';
import { silentLogger, tempDir } from './test-support.ts';

const CHILD = fileURLToPath(new URL('./crash-append-child.ts', import.meta.url));

interface ChildRun {
  acked: number; // highest acknowledged seq + 1
  readyLeo: number;
}

function runChildAndKill(dir: string, startSeq: number, killAfterMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(startSeq)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let acked = startSeq;
    let readyLeo = -1;
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [kind, a] = line.split(' ');
        if (kind === 'ready') {
          readyLeo = Number(a);
          timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        } else if (kind === 'ack') {
          acked = Math.max(acked, Number(a) + 1);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(giveUp);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}: ${stderr}`));
      else resolve({ acked, readyLeo });
    });
  });
}

/** Every batch of every segment file, in order, straight from the bytes. */
function scanSegments(dir: string): { file: string; batches: { position: number; base: number; last: number; maxTs: number; size: number }[] }[] {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  return files.map((file) => {
    const bytes = fs.readFileSync(path.join(dir, file));
    const batches = [];
    let pos = 0;
    while (pos < bytes.length) {
      const size = 12 + bytes.readInt32BE(pos + 8);
      const base = Number(bytes.readBigInt64BE(pos));
      batches.push({ position: pos, base, last: base + bytes.readInt32BE(pos + 23), maxTs: Number(bytes.readBigInt64BE(pos + 35)), size });
      pos += size;
    }
    expect(pos).toBe(bytes.length);
    return { file, batches };
  });
}

function checkIndexes(dir: string): void {
  for (const { file, batches } of scanSegments(dir)) {
    const prefix = file.slice(0, 20);
    const base = Number(prefix);
    const index = fs.readFileSync(path.join(dir, `${prefix}.index`));
    const timeIndex = fs.readFileSync(path.join(dir, `${prefix}.timeindex`));
    // Every offset index entry names a batch boundary and that batch's last offset.
    for (let i = 0; i < index.length; i += 8) {
      const off = base + index.readInt32BE(i);
      const pos = index.readInt32BE(i + 4);
      const b = batches.find((x) => x.position === pos);
      expect(b?.last).toBe(off);
    }
    // Consecutive entries are at most one interval (plus a batch) apart, so lookups stay bounded.
    const positions = [0];
    for (let i = 0; i < index.length; i += 8) positions.push(index.readInt32BE(i + 4));
    const end = batches.length === 0 ? 0 : batches.at(-1)!.position + batches.at(-1)!.size;
    positions.push(end);
    for (let i = 1; i < positions.length; i++) expect(positions[i]! - positions[i - 1]!).toBeLessThanOrEqual(CRASH_LOG_CONFIG.indexIntervalBytes + 2 * 8 * 1024);
    // Time index entries are increasing, and each timestamp is the running max at its offset.
    let prev = -Infinity;
    let bi = 0;
    let runningMax = -1;
    for (let i = 0; i < timeIndex.length; i += 12) {
      const ts = Number(timeIndex.readBigInt64BE(i));
      const off = base + timeIndex.readInt32BE(i + 8);
      expect(ts).toBeGreaterThan(prev);
      prev = ts;
      while (bi < batches.length && batches[bi]!.last <= off) runningMax = Math.max(runningMax, batches[bi++]!.maxTs);
      expect(runningMax).toBe(ts);
    }
    if (batches.length > 0) expect(prev).toBe(Math.max(...batches.map((x) => x.maxTs)));
  }
}

describe('crash recovery with real processes', () => {
  it('keeps every acknowledged append across SIGKILLs and rebuilds consistent indexes', async () => {
    const dir = path.join(tempDir(), 'crash-0');
    let nextSeq = 0;
    for (let round = 0; round < 8; round++) {
      const { acked } = await runChildAndKill(dir, nextSeq, 100 + Math.floor(Math.random() * 1900));
      const log = await Log.open({ dir, topic: 'crash', partition: 0, config: CRASH_LOG_CONFIG, logger: silentLogger(), hadCleanShutdown: false });
      let offset = 0;
      let seq = 0;
      while (offset < log.logEndOffset) {
        const r = await log.read(offset, 1 << 20, { minOneMessage: true });
        let pos = 0;
        while (pos < r.records.length) {
          const size = 12 + r.records.readInt32BE(pos + 8);
          const got = r.records.subarray(pos, pos + size);
          const want = crashBatch(seq);
          want.writeBigInt64BE(BigInt(offset), 0);
          expect(got.equals(want)).toBe(true);
          offset += want.readInt32BE(23) + 1;
          seq++;
          pos += size;
        }
      }
      expect(seq).toBeGreaterThanOrEqual(acked);
      await log.close();
      checkIndexes(dir);
      nextSeq = seq;
    }
    expect(nextSeq).toBeGreaterThan(0);
    const bytes = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    console.log(`crash test: ${nextSeq} batches, ${bytes} bytes after 8 kills`);
  }, 120_000);
});
