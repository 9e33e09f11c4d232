// The command line both simulations share:
//   --seed 123 [--verbose]        one seed, its trace on failure (every event with --verbose)
//   --seeds 10000 [--from 1]      many seeds, a progress line now and then and a summary
//   --duration ms                 virtual time of the faulty part of each run
// Exits 1 if any seed fails, after printing each failure with its replay command.

export interface SeedRun {
  seed: number;
  ok: boolean;
  events: number;
}

export interface LongMode<R extends SeedRun> {
  run(seed: number, options: { verbose: boolean; durationMs?: number }): Promise<R>;
  formatFailure(r: R): string;
  /** The line printed for a single seed that passed. */
  describe(r: R): string;
  /** Adds a run to the totals `summary` prints. */
  add(r: R): void;
  /** The totals, after "seeds a..b: n passed, m failed; " and before "; x s wall". */
  summary(): string;
  /** A progress line every so many seeds. */
  progressEvery: number;
}

export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export async function runLongMode<R extends SeedRun>(mode: LongMode<R>): Promise<void> {
  const verbose = flag('verbose');
  const single = arg('seed');
  const from = Number(arg('from') ?? 1);
  const count = single !== undefined ? 1 : Number(arg('seeds') ?? 100);
  const durationMs = arg('duration') ? Number(arg('duration')) : undefined;
  const started = Date.now();
  let events = 0;
  const failed: number[] = [];
  for (let i = 0; i < count; i++) {
    const seed = single !== undefined ? Number(single) : from + i;
    const r = await mode.run(seed, { verbose, durationMs });
    events += r.events;
    mode.add(r);
    if (!r.ok) {
      failed.push(seed);
      console.log(mode.formatFailure(r));
    } else if (single !== undefined) {
      console.log(mode.describe(r));
    }
    if (single === undefined && (i + 1) % mode.progressEvery === 0) console.log(`${i + 1} seeds, ${events} events, ${failed.length} failed, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const wall = ((Date.now() - started) / 1000).toFixed(1);
  const first = single !== undefined ? Number(single) : from;
  console.log(`seeds ${first}..${first + count - 1}: ${count - failed.length} passed, ${failed.length} failed; ${mode.summary()}; ${wall} s wall`);
  if (failed.length > 0) {
    console.log(`failed seeds: ${failed.join(' ')}`);
    process.exitCode = 1;
  }
}
