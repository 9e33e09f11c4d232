// Sequential read throughput of the partition log (fetch-style reads of up to 1 MiB from the
// start to the end, whole batches, CRC checked or not) next to a plain sequential read of the
// same segment file in 1 MiB chunks, both from the page cache (target: >= 80%).
// `npx tsx bench/storage-read.ts` (BENCH_BYTES, default 256 MiB).
import * as fs from 'node:fs';
import path from 'node:path';
import { defaultLogConfig } from '../storage/log-config.ts';
import { Log } from '../storage/log.ts';
import { MB, batchPool, benchDir, fmt, logger, plainRead } from './storage-common.ts';

const TOTAL = Number(process.env.BENCH_BYTES ?? 256 * 1024 * 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FETCH_BYTES = 1024 * 1024;

async function buildLog(dir: string, recordsPerBatch: number): Promise<void> {
  const log = await Log.open({ dir, topic: 'read', partition: 0, config: { ...defaultLogConfig }, logger });
  const pool = batchPool(1, recordsPerBatch);
  for (let written = 0; written < TOTAL; written += pool[0]!.length) await log.append(pool[0]!, { assignOffsets: true });
  await log.close();
}

/** MB/s of a first pass (CRCs checked unless disabled) and a second pass (already verified). */
async function readAll(dir: string, verifyCrcOnRead: boolean): Promise<[number, number]> {
  const log = await Log.open({ dir, topic: 'read', partition: 0, config: { ...defaultLogConfig }, logger, hadCleanShutdown: true, verifyCrcOnRead });
  const first = await pass(log);
  const second = await pass(log);
  await log.close();
  return [first, second];
}

async function pass(log: Log): Promise<number> {
  const start = performance.now();
  let offset = 0;
  let bytes = 0;
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, FETCH_BYTES, { minOneMessage: true });
    const recs = r.records;
    let pos = 0;
    let last = offset;
    while (pos < recs.length) {
      last = Number(recs.readBigInt64BE(pos)) + recs.readInt32BE(pos + 23);
      pos += 12 + recs.readInt32BE(pos + 8);
    }
    bytes += recs.length;
    offset = last + 1;
  }
  const secs = (performance.now() - start) / 1000;
  return bytes / MB / secs;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

async function main(): Promise<void> {
  const root = benchDir('read');
  console.log(`storage read: ${TOTAL / 1024 / 1024} MiB log, fetches of ${FETCH_BYTES / 1024} KiB, ${ROUNDS} rounds (medians), page cache`);
  console.log('batch      plain read MB/s           log read MB/s (% of plain with fresh buffers)');
  console.log('           reused / fresh buffers   1st pass, CRC checked    2nd pass (verified)    CRC check off');
  for (const [label, records] of [
    ['16 KiB', 16],
    ['1 MiB', 1024],
  ] as const) {
    const dir = path.join(root, `read-${records}`);
    await buildLog(dir, records);
    const file = path.join(dir, '00000000000000000000.log');
    const plain: number[] = [];
    const fresh: number[] = [];
    const crc: number[] = [];
    const again: number[] = [];
    const noCrc: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      plain.push(await plainRead(file, FETCH_BYTES));
      fresh.push(await plainRead(file, FETCH_BYTES, true));
      const [a, b] = await readAll(dir, true);
      crc.push(a);
      again.push(b);
      noCrc.push((await readAll(dir, false))[0]);
    }
    const reused = median(plain);
    const base = median(fresh);
    const pct = (x: number): string => `${fmt(x)} (${((x / base) * 100).toFixed(0).padStart(3)}%)`;
    console.log(`${label.padEnd(8)} ${fmt(reused)} / ${fmt(base)}       ${pct(median(crc))}        ${pct(median(again))}      ${pct(median(noCrc))}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.rmSync(root, { recursive: true, force: true });
}

await main();
