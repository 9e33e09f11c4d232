// Command line of the replication simulation (options in testing/sim/long-mode.ts):
//   npx tsx broker/replica/sim/main.ts --seed 123 [--verbose]
//   npx tsx broker/replica/sim/main.ts --seeds 10000 [--from 1]
//   npx tsx broker/replica/sim/main.ts --seed 25 --stale-leadership   without awaitRegistration
import { flag, runLongMode } from '../../../testing/sim/long-mode.ts';
import { formatFailure, runSeed, type SimResult } from './simulation.ts';

const t = { events: 0, messages: 0, produced: 0, acked: 0, committed: 0, faults: 0, crashes: 0, virtualMs: 0, convergeMax: 0 };

void runLongMode<SimResult>({
  run: (seed, o) => runSeed({ seed, ...o, staleLeadership: flag('stale-leadership') }),
  formatFailure,
  describe: (r) =>
    `seed ${r.seed} ok: ${r.events} events, ${r.messages} messages, ${r.produced} produced, ${r.acked} acked (acks=all), ${r.committed} committed offsets, ${r.faults} faults (${r.crashes} crashes), converged ${r.convergeMs} ms after healing, t=${r.virtualMs} ms`,
  add: (r) => {
    t.events += r.events;
    t.messages += r.messages;
    t.produced += r.produced;
    t.acked += r.acked;
    t.committed += r.committed;
    t.faults += r.faults;
    t.crashes += r.crashes;
    t.virtualMs += r.virtualMs;
    t.convergeMax = Math.max(t.convergeMax, r.convergeMs);
  },
  summary: () =>
    `${t.events} events, ${t.messages} messages, ${t.produced} produced, ${t.acked} acked (acks=all), ${t.committed} committed offsets, ${t.faults} faults (${t.crashes} crashes), ${(t.virtualMs / 1000).toFixed(0)} s virtual, slowest convergence ${t.convergeMax} ms`,
  progressEvery: 100,
});
