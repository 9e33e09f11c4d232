// The samsa command as an operator runs it (package.json's bin, broker/cli/samsa.cjs), as a child
// process with a hard time bound, killed by its own pid when it outlives it.
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from './child-json.ts';

export type { RunResult };

export const SAMSA_BIN = fileURLToPath(new URL('../../broker/cli/samsa.cjs', import.meta.url));

/** Node's arguments that run `samsa <args>`. */
export function samsaArgs(args: readonly string[]): string[] {
  return [SAMSA_BIN, ...args];
}

/** Runs `samsa <args>` (with `input` on its stdin); throws if it does not finish in time. */
export async function samsa(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const r = await run(process.execPath, samsaArgs(args), { input: opts.input, timeoutMs });
  if (r.timedOut) throw new Error(`samsa ${args.join(' ')} did not finish in ${timeoutMs} ms; stdout: ${r.stdout} stderr: ${r.stderr}`);
  return r;
}
