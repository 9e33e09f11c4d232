// Command line of the Raft simulation (options in testing/sim/long-mode.ts):
//   npx tsx controller/raft/sim/main.ts --seed 123 [--verbose]
//   npx tsx controller/raft/sim/main.ts --seeds 10000 [--from 1]
import { runLongMode } from '../../../testing/sim/long-mode.ts';
import { formatFailure, runSeed, type SimResult } from './simulation.ts';

const t = { events: 0, messages: 0, committed: 0, snapshots: 0, snapshotFetches: 0, dynamic: 0, added: 0, removed: 0, virtualMs: 0 };

void runLongMode<SimResult>({
  run: (seed, o) => runSeed({ seed, ...o }),
  formatFailure,
  describe: (r) =>
    `seed ${r.seed} ok: ${r.voters} voters, ${r.events} events, ${r.messages} messages, ${r.committed} committed, ${r.leaders} leaders, ${r.snapshots} snapshots, ${r.snapshotFetches} fetched, ${r.dynamic ? `dynamic quorum: ${r.votersAdded} voters added, ${r.votersRemoved} removed, ` : ''}t=${r.virtualMs} ms`,
  add: (r) => {
    t.events += r.events;
    t.messages += r.messages;
    t.committed += r.committed;
    t.snapshots += r.snapshots;
    t.snapshotFetches += r.snapshotFetches;
    if (r.dynamic) t.dynamic++;
    t.added += r.votersAdded;
    t.removed += r.votersRemoved;
    t.virtualMs += r.virtualMs;
  },
  summary: () =>
    `${t.events} events, ${t.messages} messages, ${t.committed} committed records, ${t.snapshots} snapshots written, ${t.snapshotFetches} fetched with FetchSnapshot; ${t.dynamic} dynamic quorums with ${t.added} voters added and ${t.removed} removed; ${(t.virtualMs / 1000).toFixed(0)} s virtual`,
  progressEvery: 500,
});
