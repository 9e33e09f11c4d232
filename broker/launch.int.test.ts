// The process `npm start` runs (broker/launch.cjs with the start script's Node flags, as the
// harness starts it): libuv's thread pool really has 16 threads (an ES module entry would have
// started the pool at its default 4 before setting the size) and V8 got the heap flag.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BrokerProcess } from '../conformance/harness/broker-process.ts';
import { startNodeFlags } from './start-command.ts';

const hasProc = existsSync('/proc/self/task');

describe('npm start process', () => {
  it('takes the start script flags', () => {
    expect(startNodeFlags()).toContain('--initial-old-space-size=128');
  });

  it.skipIf(!hasProc)('runs with a 16-thread libuv pool and the heap flag', async () => {
    const broker = await BrokerProcess.start();
    try {
      const pid = broker.pid!;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline).toContain('--initial-old-space-size=128');
      // The pool's threads are unnamed, so count them all: the main thread, V8's platform
      // workers (4 by default) and 16 pool threads make at least 21; a 4-thread pool gives ~13.
      expect(readdirSync(`/proc/${pid}/task`).length).toBeGreaterThanOrEqual(21);
    } finally {
      await broker.destroy();
    }
  });
});
