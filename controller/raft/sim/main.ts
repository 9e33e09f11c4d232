// Command line of the Raft simulation:
//   npx tsx controller/raft/sim/main.ts --seed 123            one seed, trace on failure
//   npx tsx controller/raft/sim/main.ts --seed 123 --verbose  one seed, every event printed
//   npx tsx controller/raft/sim/main.ts --seeds 10000 [--from 1]  many seeds, a summary
// Exits 1 if any seed fails, after printing each failure with its replay command.
import { formatFailure, runSeed } from './simulation.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const verbose = process.argv.includes('--verbose');
  const single = arg('seed');
  const from = Number(arg('from') ?? 1);
  const count = single !== undefined ? 1 : Number(arg('seeds') ?? 100);
  const durationMs = arg('duration') ? Number(arg('duration')) : undefined;
  const started = Date.now();
  let events = 0;
  let messages = 0;
  let committed = 0;
  let snapshots = 0;
  let snapshotFetches = 0;
  let dynamic = 0;
  let added = 0;
  let removed = 0;
  const failed: number[] = [];
  for (let i = 0; i < count; i++) {
    const seed = single !== undefined ? Number(single) : from + i;
    const r = await runSeed({ seed, verbose, durationMs });
    events += r.events;
    messages += r.messages;
    committed += r.committed;
    snapshots += r.snapshots;
    snapshotFetches += r.snapshotFetches;
    if (r.dynamic) dynamic++;
    added += r.votersAdded;
    removed += r.votersRemoved;
    if (!r.ok) {
      failed.push(seed);
      console.log(formatFailure(r));
    } else if (single !== undefined) {
      console.log(`seed ${seed} ok: ${r.voters} voters, ${r.events} events, ${r.messages} messages, ${r.committed} committed, ${r.leaders} leaders, ${r.snapshots} snapshots, ${r.snapshotFetches} fetched, ${r.dynamic ? `dynamic quorum: ${r.votersAdded} voters added, ${r.votersRemoved} removed, ` : ''}t=${r.virtualMs} ms`);
    }
    if (single === undefined && (i + 1) % 500 === 0) console.log(`${i + 1} seeds, ${events} events, ${failed.length} failed, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const wall = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`seeds ${from}..${from + count - 1}: ${count - failed.length} passed, ${failed.length} failed; ${events} events, ${messages} messages, ${committed} committed records, ${snapshots} snapshots written, ${snapshotFetches} fetched with FetchSnapshot; ${dynamic} dynamic quorums with ${added} voters added and ${removed} removed; ${wall} s wall`);
  if (failed.length > 0) {
    console.log(`failed seeds: ${failed.join(' ')}`);
    process.exitCode = 1;
  }
}

void main();
