// Recovery time of a 1 GiB active segment after an unclean shutdown: every batch's size and
// CRC32C checked, offset and time indexes rebuilt (page cache warm, as after a process crash;
// a machine crash would add the disk read). Also shows the open time after a clean shutdown.
// `npx tsx bench/storage-recovery.ts` (BENCH_BYTES, default 1 GiB).
import * as fs from 'node:fs';
import path from 'node:path';
import { defaultLogConfig } from '../storage/log-config.ts';
import { Log } from '../storage/log.ts';
import { MB, batchPool, benchDir, logger } from './storage-common.ts';

const TOTAL = Number(process.env.BENCH_BYTES ?? 1024 * 1024 * 1024);

async function main(): Promise<void> {
  const root = benchDir('recovery');
  const dir = path.join(root, 'recovery-0');
  const config = { ...defaultLogConfig, segmentBytes: 2 * 1024 * 1024 * 1024 - 1 };
  const log = await Log.open({ dir, topic: 'recovery', partition: 0, config, logger });
  const pool = batchPool(8, 1024);
  const pending: Promise<unknown>[] = [];
  for (let i = 0, written = 0; written < TOTAL; i++, written += pool[0]!.length) {
    const slot = i % pool.length;
    if (pending[slot] !== undefined) await pending[slot];
    pending[slot] = log.append(pool[slot]!, { assignOffsets: true });
  }
  await Promise.all(pending);
  const leo = log.logEndOffset;
  const size = log.size;
  await log.closeHandles(); // as a crash: no clean-shutdown marker, indexes left preallocated
  const start = performance.now();
  const recovered = await Log.open({ dir, topic: 'recovery', partition: 0, config, logger, hadCleanShutdown: false, recoveryPoint: 0 });
  const secs = (performance.now() - start) / 1000;
  if (recovered.logEndOffset !== leo) throw new Error(`recovered to ${recovered.logEndOffset}, expected ${leo}`);
  await recovered.close();
  const cleanStart = performance.now();
  const clean = await Log.open({ dir, topic: 'recovery', partition: 0, config, logger, hadCleanShutdown: true });
  const cleanMs = performance.now() - cleanStart;
  await clean.close();
  console.log(`unclean recovery of a ${(size / 1024 / 1024).toFixed(0)} MiB active segment (${leo} records): ${(secs * 1000).toFixed(0)} ms, ${(size / MB / secs).toFixed(0)} MB/s`);
  console.log(`open after a clean shutdown: ${cleanMs.toFixed(1)} ms`);
  fs.rmSync(root, { recursive: true, force: true });
}

await main();
