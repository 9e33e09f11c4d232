// Machine-limit probes that benchmarks print beside their own figures, measured in the same run:
// memcpy rate, page-cache and fsync'd sequential disk writes (a short burst, and durable writes
// kept up for seconds), and loopback TCP between two Node processes. Each returns MB/s (10^6
// bytes per second). Run alone: `npx tsx bench/limits.ts`.

import { spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const MB = 1e6;

/** Buffer.copy throughput over a buffer larger than the caches. */
export function measureMemcpy(bytes = 64 * 1024 * 1024, minMillis = 500): number {
  const src = Buffer.alloc(bytes, 7);
  const dst = Buffer.allocUnsafe(bytes);
  src.copy(dst); // fault the pages in
  let copied = 0;
  const start = performance.now();
  while (performance.now() - start < minMillis) {
    src.copy(dst);
    copied += bytes;
  }
  return copied / MB / ((performance.now() - start) / 1000);
}

export interface DiskWriteResult {
  pageCacheMBps: number;
  fsyncMBps: number;
  /** Durable writes kept up for seconds (measureSustainedDiskWrite). */
  sustainedFsyncMBps: number;
}

/** Sequential 1 MiB writes to a temp file: once left to the page cache, once with a final fsync. */
export function measureDiskWrite(bytes = 128 * 1024 * 1024, dir = tmpdir()): DiskWriteResult {
  const root = mkdtempSync(join(dir, 'samsa-limits-'));
  const chunk = Buffer.alloc(1024 * 1024, 1);
  const run = (name: string, sync: boolean): number => {
    const fd = openSync(join(root, name), 'w');
    const start = performance.now();
    for (let done = 0; done < bytes; done += chunk.length) writeSync(fd, chunk);
    if (sync) fsyncSync(fd);
    const secs = (performance.now() - start) / 1000;
    closeSync(fd);
    return bytes / MB / secs;
  };
  try {
    return { pageCacheMBps: run('cache', false), fsyncMBps: run('fsync', true), sustainedFsyncMBps: measureSustainedDiskWrite(6, root) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Durable sequential writes kept up for `seconds`: 1 MiB writes to a new file, fdatasync after
 * every 64 MiB, as a log that grows for a whole benchmark run. A 128 MiB burst can land in
 * page-cache pages the kernel has at hand; a long run needs new pages all along, and on some
 * virtual machines those cost far more (here, writing 8 GiB to the page cache ran at ~0.5 GB/s
 * against ~5 GB/s for a burst). Bounded by time and by a quarter of the free space.
 */
export function measureSustainedDiskWrite(seconds = 6, dir = tmpdir()): number {
  const space = statfsSync(dir);
  const maxBytes = Math.min(32 * 1024 ** 3, Math.floor((space.bavail * space.bsize) / 4));
  const chunk = Buffer.alloc(1024 * 1024, 3);
  const file = join(dir, `sustained-${process.pid}`);
  const fd = openSync(file, 'w');
  let written = 0;
  const start = performance.now();
  try {
    while (performance.now() - start < seconds * 1000 && written + chunk.length <= maxBytes) {
      writeSync(fd, chunk);
      written += chunk.length;
      if (written % (64 * 1024 * 1024) === 0) fdatasyncSync(fd);
    }
    fdatasyncSync(fd);
    return written / MB / ((performance.now() - start) / 1000);
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

// The receiving process: listens on an ephemeral port, prints it, counts bytes until it has
// `total`, then answers one byte and exits.
const RECEIVER = `
const net = require('node:net');
const total = Number(process.argv[1]);
const server = net.createServer((s) => {
  let got = 0;
  s.on('data', (d) => { got += d.length; if (got >= total) { s.end('k'); server.close(); } });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** Loopback TCP bandwidth from this process to a child Node process. */
export async function measureLoopbackTcp(bytes = 512 * 1024 * 1024, timeoutMillis = 30_000): Promise<number> {
  const child = spawn(process.execPath, ['-e', RECEIVER, String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const timer = setTimeout(() => child.kill(), timeoutMillis);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', () => reject(new Error('receiver exited before listening')));
    });
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const chunk = Buffer.alloc(1024 * 1024, 2);
    const start = performance.now();
    const done = new Promise<void>((resolve, reject) => socket.once('data', () => resolve()).once('error', reject));
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
    }
    await done;
    const secs = (performance.now() - start) / 1000;
    socket.destroy();
    return bytes / MB / secs;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill();
  }
}

export interface MachineLimits {
  memcpyMBps: number;
  disk: DiskWriteResult;
  loopbackTcpMBps: number;
}

export async function measureLimits(): Promise<MachineLimits> {
  return { memcpyMBps: measureMemcpy(), disk: measureDiskWrite(), loopbackTcpMBps: await measureLoopbackTcp() };
}

export function formatLimits(l: MachineLimits): string {
  const f = (n: number) => n.toFixed(0).padStart(7);
  return [
    `memcpy                     ${f(l.memcpyMBps)} MB/s`,
    `disk write (page cache)    ${f(l.disk.pageCacheMBps)} MB/s`,
    `disk write (fsync)         ${f(l.disk.fsyncMBps)} MB/s  (128 MiB, one fsync)`,
    `disk write (fsync, 6 s)    ${f(l.disk.sustainedFsyncMBps)} MB/s  (kept up: fdatasync every 64 MiB)`,
    `loopback TCP (2 processes) ${f(l.loopbackTcpMBps)} MB/s`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatLimits(await measureLimits()));
}
