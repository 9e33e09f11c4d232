// Ports for the listeners of the processes tests start. A port the kernel hands out for listen(0)
// comes from the ephemeral range, which outgoing connections draw from too: between a test picking
// it and its broker binding it, some client's socket may take it. So ports come from below the
// ephemeral range, each vitest worker from its own slice (workers run test files side by side),
// and a port is handed out only after a bind to it succeeded.
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

const LOW = 10_000;
const SLICES = 8;

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOW + SLICES * 100 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const sliceSize = Math.floor((ephemeralLow() - LOW) / SLICES);
const worker = (Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 0) || process.pid) % SLICES;
const sliceStart = LOW + worker * sliceSize;
// A random start: the files a worker runs one after another each begin afresh.
let next = Math.floor(Math.random() * sliceSize);

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** A port no one listens on, outside the ephemeral range, for a listener of a process under test. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let tries = 0; tries < sliceSize; tries++) {
    const port = sliceStart + (next++ % sliceSize);
    if (await canBind(port, host)) return port;
  }
  throw new Error(`no free port in ${sliceStart}-${sliceStart + sliceSize - 1}`);
}
