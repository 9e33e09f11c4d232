// Command line of the replication simulation:
//   npx tsx broker/replica/sim/main.ts --seed 123            one seed, trace on failure
//   npx tsx broker/replica/sim/main.ts --seed 123 --verbose  one seed, every event printed
//   npx tsx broker/replica/sim/main.ts --seeds 10000 [--from 1]  many seeds, a summary
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
  const total = { events: 0, messages: 0, produced: 0, acked: 0, committed: 0, faults: 0, crashes: 0, virtualMs: 0, convergeMax: 0 };
  const failed: number[] = [];
  for (let i = 0; i < count; i++) {
    const seed = single !== undefined ? Number(single) : from + i;
    const r = await runSeed({ seed, verbose, durationMs, staleLeadership: process.argv.includes('--stale-leadership') });
    total.events += r.events;
    total.messages += r.messages;
    total.produced += r.produced;
    total.acked += r.acked;
    total.committed += r.committed;
    total.faults += r.faults;
    total.crashes += r.crashes;
    total.virtualMs += r.virtualMs;
    total.convergeMax = Math.max(total.convergeMax, r.convergeMs);
    if (!r.ok) {
      failed.push(seed);
      console.log(formatFailure(r));
    } else if (single !== undefined) {
      console.log(`seed ${seed} ok: ${r.events} events, ${r.messages} messages, ${r.produced} produced, ${r.acked} acked (acks=all), ${r.committed} committed offsets, ${r.faults} faults (${r.crashes} crashes), converged ${r.convergeMs} ms after healing, t=${r.virtualMs} ms`);
    }
    if (single === undefined && (i + 1) % 100 === 0) console.log(`${i + 1} seeds, ${total.events} events, ${failed.length} failed, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const wall = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `seeds ${from}..${from + count - 1}: ${count - failed.length} passed, ${failed.length} failed; ${total.events} events, ${total.messages} messages, ${total.produced} produced, ${total.acked} acked (acks=all), ${total.committed} committed offsets, ${total.faults} faults (${total.crashes} crashes), ${(total.virtualMs / 1000).toFixed(0)} s virtual, slowest convergence ${total.convergeMax} ms; ${wall} s wall`,
  );
  if (failed.length > 0) {
    console.log(`failed seeds: ${failed.join(' ')}`);
    process.exitCode = 1;
  }
}

void main();
