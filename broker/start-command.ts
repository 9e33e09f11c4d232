// The broker process `npm start` runs: package.json's start script, i.e. Node's flags and then
// broker/launch.cjs. `samsa server-start` hands over to this same process and the test harness
// starts it, so every broker runs with the start script's settings (libuv's thread pool, V8's
// heap), which a process that is already running cannot take on.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root: the first directory up with a package.json (this module may be bundled into broker/dist/). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const ROOT = projectRoot();

export const LAUNCHER = join(ROOT, 'broker/launch.cjs');

/** Set for a launcher whose parent waits on it: it stops cleanly when its stdin pipe closes. */
export const STOP_WITH_PARENT_ENV = 'SAMSA_STOP_WITH_PARENT';

/** The Node flags of package.json's start script (`node <flags> broker/launch.cjs`). */
export function startNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  if (words[0] !== 'node' || !words.at(-1)!.endsWith('launch.cjs')) throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return words.slice(1, -1);
}

/**
 * Runs the broker process in the foreground with `args` (`[server.properties] [--override k=v]...`):
 * its output is this process's, SIGINT and SIGTERM are passed on, and should this process die
 * without them the broker stops cleanly by itself (its stdin pipe closes). Resolves with its
 * exit code (128 + the signal's number if a signal ended it).
 */
export function runBrokerProcess(args: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...startNodeFlags(), LAUNCHER, ...args], {
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { ...process.env, [STOP_WITH_PARENT_ENV]: '1' },
  });
  const pass = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', pass);
  process.on('SIGTERM', pass);
  return new Promise((resolveExit, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', pass);
      process.off('SIGTERM', pass);
      resolveExit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
