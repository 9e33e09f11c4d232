// Child processes of the security suites (the samsa CLI, kcat, python), each with a time bound.
import { run } from '../harness/child-json.ts';
import { samsa as runSamsa, type RunResult } from '../harness/samsa-cli.ts';

export { run };

/** The samsa CLI, as an operator runs it. */
export function samsa(args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  return runSamsa(args, { timeoutMs });
}

export async function hasCommand(cmd: string, versionArgs: readonly string[] = ['-V']): Promise<boolean> {
  try {
    const r = await run(cmd, versionArgs, { timeoutMs: 10_000 });
    return !r.timedOut && r.code !== null;
  } catch {
    return false;
  }
}
