// Append throughput of the partition log with 1 KiB records in 16 KiB and 1 MiB batches, next to
// a plain sequential file write of the same bytes in the same run (target: >= 80% of it).
// `npx tsx bench/storage-append.ts` (BENCH_BYTES to change the volume, default 256 MiB per case, 3 interleaved rounds, medians).
import * as fs from 'node:fs';
import path from 'node:path';
import { defaultLogConfig } from '../storage/log-config.ts';
import { Log } from '../storage/log.ts';
import { MB, batchPool, benchDir, fmt, logger, plainWrite } from './storage-common.ts';

const TOTAL = Number(process.env.BENCH_BYTES ?? 256 * 1024 * 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function appendRun(dir: string, pool: Buffer[], inFlight: number): Promise<number> {
  const logDir = path.join(dir, `bench-${inFlight}`);
  const log = await Log.open({ dir: logDir, topic: 'bench', partition: 0, config: { ...defaultLogConfig }, logger });
  const batchSize = pool[0]!.length;
  const n = Math.ceil(TOTAL / batchSize);
  const start = performance.now();
  if (inFlight === 1) {
    // Awaited one at a time, exactly as the plain writes are (no bookkeeping of a window).
    for (let i = 0; i < n; i++) await log.append(pool[i % pool.length]!, { assignOffsets: true });
  } else {
    const pending = new Set<Promise<unknown>>();
    for (let i = 0; i < n; i++) {
      // A pool buffer is reused only after its previous append resolved.
      const p = log.append(pool[i % pool.length]!, { assignOffsets: true });
      pending.add(p);
      void p.finally(() => pending.delete(p));
      if (pending.size >= inFlight) await Promise.race(pending);
    }
    await Promise.all(pending);
  }
  const secs = (performance.now() - start) / 1000;
  await log.close();
  fs.rmSync(logDir, { recursive: true, force: true });
  return (n * batchSize) / MB / secs;
}

async function main(): Promise<void> {
  const dir = benchDir('append');
  console.log(`storage append: ${TOTAL / 1024 / 1024} MiB per case, ${ROUNDS} rounds (medians), 1 KiB records, page cache (no fsync)`);
  console.log('batch      plain-write MB/s   log 1-in-flight MB/s (%)   log 8-in-flight MB/s (%)');
  for (const [label, records] of [
    ['16 KiB', 16],
    ['1 MiB', 1024],
  ] as const) {
    const pool = batchPool(9, records);
    // Interleaved rounds and medians: the machine is shared and the page cache warms up.
    const plain: number[] = [];
    const one: number[] = [];
    const eight: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      plain.push(await plainWrite(dir, pool, TOTAL));
      one.push(await appendRun(dir, pool, 1));
      eight.push(await appendRun(dir, pool, 8));
    }
    const base = median(plain);
    const m1 = median(one);
    const m8 = median(eight);
    console.log(`${label.padEnd(8)} ${fmt(base)}            ${fmt(m1)} (${((m1 / base) * 100).toFixed(0)}%)         ${fmt(m8)} (${((m8 / base) * 100).toFixed(0)}%)`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
