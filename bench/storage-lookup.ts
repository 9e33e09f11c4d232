// Offset and timestamp lookup latency (p50/p99/max) on a log of 10 million records (target: p99
// < 100 µs). The log is built quickly from batches of 1,000 small records; offset lookups go
// through the segment list, the sparse offset index and a scan of at most one index interval;
// timestamp lookups (ListOffsets) through the time index, the offset index, a header scan and the
// records of the batch found. `npx tsx bench/storage-lookup.ts` (BENCH_RECORDS, BENCH_LOOKUPS).
import * as fs from 'node:fs';
import path from 'node:path';
import { defaultLogConfig } from '../storage/log-config.ts';
import { Log } from '../storage/log.ts';
import { fixCrc } from '../storage/test-batches.ts';
import { batchPool, benchDir, logger, percentile } from './storage-common.ts';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000_000);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 200_000);
const PER_BATCH = 1000;
const T0 = 1_700_000_000_000;

async function main(): Promise<void> {
  const root = benchDir('lookup');
  const dir = path.join(root, 'lookup-0');
  const config = { ...defaultLogConfig, segmentBytes: 64 * 1024 * 1024 };
  const log = await Log.open({ dir, topic: 'lookup', partition: 0, config, logger });
  const pool = batchPool(8, PER_BATCH, 16);
  const buildStart = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i * PER_BATCH < RECORDS; i++) {
    const slot = i % pool.length;
    if (pending[slot] !== undefined) await pending[slot];
    const b = pool[slot]!;
    // Each batch covers one second of record timestamps (base + index).
    b.writeBigInt64BE(BigInt(T0 + i * 1000), 27);
    b.writeBigInt64BE(BigInt(T0 + i * 1000 + PER_BATCH - 1), 35);
    fixCrc(b);
    pending[slot] = log.append(b, { assignOffsets: true });
  }
  await Promise.all(pending);
  const buildSecs = (performance.now() - buildStart) / 1000;
  const leo = log.logEndOffset;
  console.log(`built ${leo} records in ${log.logSegments().length} segments (${(log.size / 1e6).toFixed(0)} MB) in ${buildSecs.toFixed(1)} s`);

  const time = (fn: (i: number) => void): number[] => {
    for (let i = 0; i < 2000; i++) fn(i); // warm-up
    const samples = new Array<number>(LOOKUPS);
    for (let i = 0; i < LOOKUPS; i++) {
      const t = performance.now();
      fn(i);
      samples[i] = (performance.now() - t) * 1000;
    }
    return samples.sort((a, b) => a - b);
  };
  let rnd = 12345;
  const next = (): number => {
    rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
    return rnd / 0x80000000;
  };
  const offsets = time(() => {
    const o = Math.floor(next() * leo);
    const found = log.locate(o);
    if (found === null || found.batch.baseOffset > o || found.batch.lastOffset < o) throw new Error(`lookup of ${o} failed`);
  });
  const lastTs = T0 + (leo / PER_BATCH) * 1000;
  const times = time(() => {
    const ts = T0 + Math.floor(next() * (lastTs - T0));
    const found = log.findOffsetByTimestamp(ts);
    if (found === null || found.timestamp !== ts) throw new Error(`time lookup of ${ts} failed: ${JSON.stringify(found)}`);
  });
  const row = (name: string, s: number[]): string =>
    `${name.padEnd(22)} p50 ${percentile(s, 50).toFixed(1).padStart(6)} µs   p99 ${percentile(s, 99).toFixed(1).padStart(6)} µs   max ${s.at(-1)!.toFixed(0).padStart(6)} µs`;
  console.log(`${LOOKUPS} random lookups each (page cache warm):`);
  console.log(row('offset → batch', offsets));
  console.log(row('timestamp → offset', times));
  await log.close();
  fs.rmSync(root, { recursive: true, force: true });
}

await main();
