// Deterministic file I/O for the replication simulation. The partition logs (storage/log.ts) use
// real files, whose asynchronous operations complete in an order the OS picks; two brokers'
// appends finishing in either order would change what happens next and break replay by seed.
// While installed, every promise-returning operation of `fs.promises` and of FileHandle runs
// alone, in the order it was called (one global queue), so completions come in call order and a
// run is a function of its seed. `idle()` tells the driver when no operation is queued or running.
// Synchronous calls (readSync, statSync, ...) are deterministic already and are left alone.
import * as fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

type AnyFn = (...args: unknown[]) => unknown;

let tail: Promise<unknown> = Promise.resolve();
let pending = 0;
let installs = 0;
const restore: (() => void)[] = [];

/** No file operation queued or running. */
export function diskIdle(): boolean {
  return pending === 0;
}

function serialize(target: Record<string, unknown>, name: string): void {
  const orig = target[name];
  if (typeof orig !== 'function') return;
  const original = orig as AnyFn;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    pending++;
    const run = tail.then(() => original.apply(this, args));
    const done = run.finally(() => {
      pending--;
    });
    tail = done.catch(() => undefined);
    return done;
  };
  target[name] = wrapped;
  restore.push(() => {
    target[name] = original;
  });
}

/** Serializes file I/O until `uninstallDiskSerializer`; nested installs are counted. */
export async function installDiskSerializer(): Promise<void> {
  if (installs++ > 0) return;
  // FileHandle's prototype is reachable only through an open handle.
  const probe = path.join(os.tmpdir(), `samsa-sim-probe-${process.pid}`);
  const fh = await fs.promises.open(probe, 'w');
  const proto = Object.getPrototypeOf(fh) as Record<string, unknown>;
  await fh.close();
  await fs.promises.rm(probe, { force: true });
  for (const name of ['read', 'readv', 'write', 'writev', 'sync', 'datasync', 'truncate', 'stat', 'close', 'readFile', 'writeFile', 'appendFile', 'chmod']) serialize(proto, name);
  const p = fs.promises as unknown as Record<string, unknown>;
  for (const name of Object.keys(p)) if (name !== 'constants' && typeof p[name] === 'function') serialize(p, name);
  syncBuiltinESMExports();
}

export function uninstallDiskSerializer(): void {
  if (--installs > 0) return;
  while (restore.length > 0) restore.pop()!();
  syncBuiltinESMExports();
}
