// Shared pieces of the storage benchmarks: temp dirs, a silent logger, batch pools of 1 KiB
// records, and the plain-file baselines (the same bytes written or read with positional fs calls,
// one chunk at a time, in the same run).
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { buildSimpleBatch } from '../storage/test-batches.ts';

export const MB = 1e6;
export const logger = pino({ level: 'silent' });

export function benchDir(name: string): string {
  return fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), `samsa-${name}-`));
}

/** `count` distinct batches of `recordsPerBatch` 1 KiB records (appends may be in flight together). */
export function batchPool(count: number, recordsPerBatch: number, recordSize = 1024): Buffer[] {
  return Array.from({ length: count }, (_, i) => buildSimpleBatch(recordsPerBatch, recordSize, { seed: i, timestamp: Date.now() }));
}

/** Writes `chunks` sequentially to a fresh file with awaited positional writes; MB/s. */
export async function plainWrite(dir: string, chunks: Buffer[], total: number): Promise<number> {
  const file = path.join(dir, 'plain.bin');
  const fh = await fs.promises.open(file, 'w');
  const start = performance.now();
  let pos = 0;
  // The same buffers in the same rotation as the log is given, so both write from the same memory.
  for (let i = 0; pos < total; i++) {
    const chunk = chunks[i % chunks.length]!;
    await fh.write(chunk, 0, chunk.length, pos);
    pos += chunk.length;
  }
  const secs = (performance.now() - start) / 1000;
  await fh.close();
  fs.rmSync(file);
  return pos / MB / secs;
}

/**
 * Reads `file` sequentially in `chunkSize` pieces with awaited positional reads; MB/s. With
 * `freshBuffers` every read gets a new buffer, as a fetch response must.
 */
export async function plainRead(file: string, chunkSize: number, freshBuffers = false): Promise<number> {
  const fh = await fs.promises.open(file, 'r');
  const size = (await fh.stat()).size;
  const buf = Buffer.allocUnsafe(chunkSize);
  const start = performance.now();
  let pos = 0;
  while (pos < size) {
    const target = freshBuffers ? Buffer.allocUnsafe(chunkSize) : buf;
    const { bytesRead } = await fh.read(target, 0, chunkSize, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
  }
  const secs = (performance.now() - start) / 1000;
  await fh.close();
  return pos / MB / secs;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function fmt(n: number, digits = 0): string {
  return n.toFixed(digits).padStart(8);
}
