// Runs a child process with a time bound, for the security suites (the samsa CLI, kcat, python).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    // A child that exits without reading its input must not fail the run with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

const SAMSA = fileURLToPath(new URL('../../broker/cli/samsa.ts', import.meta.url));

/** The samsa CLI, as an operator runs it. */
export function samsa(args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  return run(process.execPath, ['--import', 'tsx', SAMSA, ...args], { timeoutMs });
}

export async function hasCommand(cmd: string, versionArgs: readonly string[] = ['-V']): Promise<boolean> {
  try {
    const r = await run(cmd, versionArgs, { timeoutMs: 10_000 });
    return !r.timedOut && r.code !== null;
  } catch {
    return false;
  }
}
