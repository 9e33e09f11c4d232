// Runs a client program (Python, Go, kcat) as a child process with a hard timeout and returns
// its output. Programs print one JSON document as the last line of stdout; anything they say on
// stderr is kept for the error message. The child is killed by its own pid on timeout.
import { spawn } from 'node:child_process';

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a program and parses the JSON on the last non-empty line of its stdout; throws on failure. */
export async function runJson<T>(command: string, args: readonly string[], options: RunOptions = {}): Promise<T> {
  const r = await run(command, args, options);
  const what = `${command} ${args.join(' ')}`;
  if (r.timedOut) throw new Error(`${what} timed out after ${options.timeoutMs ?? 30_000} ms\nstderr:\n${tail(r.stderr)}\nstdout:\n${tail(r.stdout)}`);
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code ?? r.signal}: ${lastLine(r.stdout) || lastLine(r.stderr)}\nstderr:\n${tail(r.stderr)}`);
  const line = lastLine(r.stdout);
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what} printed no JSON: ${tail(r.stdout)}\nstderr:\n${tail(r.stderr)}`);
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1] ?? '';
}

function tail(text: string, n = 3000): string {
  return text.length > n ? `...${text.slice(-n)}` : text;
}
