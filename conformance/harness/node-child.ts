// One Samsa node run as a child process, the way `npm start` runs it (broker/launch.cjs), for the
// harnesses of single brokers and of clusters: start and wait for "broker started", keep
// everything it printed across restarts, stop with a signal (SIGKILL after a bounded wait).
// Only the process started here is signalled, by its pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAUNCHER, startNodeFlags } from '../../broker/start-command.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// Nodes still running when the test process exits are killed with it: a hook that times out
// while a cluster starts leaves no handle to stop it by, and its nodes would outlive the run.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class NodeChild {
  private child: ChildProcess | null = null;
  private output = '';
  /** Names the node in errors ("broker", "node 3"). */
  private readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Everything the node printed in all its runs (pino JSON lines). */
  get logs(): string {
    return this.output;
  }

  /**
   * Starts the launcher with `args` (Node flags come first, the command prefix before Node) and resolves once this run logged
   * "broker started"; rejects if it exits before, or after `timeoutMs`.
   */
  async start(args: { nodeArgs?: readonly string[]; launcherArgs: readonly string[]; timeoutMs: number; commandPrefix?: readonly string[] }): Promise<void> {
    if (this.child) throw new Error(`${this.name} is already running`);
    // A prefix (`ip netns exec <ns>`) execs into Node, so the pid signalled is still the node's.
    const command = [...(args.commandPrefix ?? []), process.execPath, ...startNodeFlags(), ...(args.nodeArgs ?? []), LAUNCHER, ...args.launcherArgs];
    const child = spawn(command[0]!, command.slice(1), {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: process.env.SAMSA_TEST_LOG_LEVEL ?? 'info' },
    });
    this.child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    // `logs` keeps every run's output; only this run's counts as having started.
    const runStart = this.output.length;
    await new Promise<void>((resolveStart, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start within ${args.timeoutMs} ms:\n${this.output.slice(-4000)}`)), args.timeoutMs);
      const onData = (d: Buffer): void => {
        this.output += d.toString();
        if (this.output.indexOf('"msg":"broker started"', runStart) >= 0) {
          clearTimeout(timer);
          resolveStart();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) this.child = null;
        reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before starting:\n${this.output.slice(-4000)}`));
      });
    });
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`); resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
