// Consumer-group rebalance benchmark: how long after a member goes the group is Stable again,
// with 3 and with 30 members of one group on a broker child process (the group's only
// coordinator). Members are `bench/group-member.ts` (classic protocol, range assignor, eager).
// Per case, `--repeats` times:
// - clean leave: one member sends LeaveGroup; the others learn of the rebalance from their next
//   heartbeat (REBALANCE_IN_PROGRESS), rejoin, and the leader's SyncGroup makes the group Stable.
// - crash: one member stops heartbeating and drops its connection; the coordinator removes it
//   when its session expires (session.timeout.ms after its last heartbeat), then as above.
// "Stable" is timed at the last remaining member's SyncGroup answer for the new generation, with
// every partition assigned exactly once among them (the coordinator answers every SyncGroup when
// the leader's arrives, which is when it moves the group to Stable). After each case a new member
// joins to bring the group back to its size (that join is timed too).
// With kafkajs consumers (`--kafkajs-sizes`), a clean leave is timed from kafkajs's LeaveGroup
// send to DescribeGroups showing the group Stable with one member fewer (polled every 10 ms).
// Every loop is bounded in count and time; the broker is stopped by pid at the end.
// Run: `npx tsx bench/group-rebalance.ts` (`--repeats 5 --sizes 3,30 --session-timeout 6000
// --kafkajs-sizes 3,30 --no-limits`).
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { parseArgs } from 'node:util';
import { KafkaClient } from '../protocol/client/client.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { coordinatorFor, type GroupBroker, max, median, num, printHeader, sleep, startGroupBroker } from './group-common.ts';
import { type Assignment, GroupMember, type MemberEvent } from './group-member.ts';

const TOPIC = 'bench-rebalance';
const REBALANCE_TIMEOUT_MS = 30_000;
const WATCHDOG_MS = 25 * 60_000;

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '3,30' },
    partitions: { type: 'string', default: '60' },
    'session-timeout': { type: 'string', default: '6000' },
    'kafkajs-sizes': { type: 'string', default: '3,30' },
    'no-limits': { type: 'boolean', default: false },
  },
  strict: true,
});
const repeats = Number(values.repeats);
const sizes = values.sizes.split(',').filter(Boolean).map(Number);
const partitions = Number(values.partitions);
const sessionTimeoutMs = Number(values['session-timeout']);
const heartbeatMs = Math.floor(sessionTimeoutMs / 3);
const kafkajsSizes = values['kafkajs-sizes'].split(',').filter(Boolean).map(Number);

// A fixed-seed generator, so the leave times (relative to heartbeats) and victims repeat per run.
let seed = 0x5a3a;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

interface Stable {
  at: number;
  generation: number;
}

/** The members of one group and what they report. */
class MemberSet {
  readonly members: GroupMember[] = [];
  readonly lastHeartbeat = new Map<GroupMember, number>();
  readonly lastJoinSent = new Map<GroupMember, number>();
  readonly noticed = new Map<GroupMember, number>();
  private readonly syncedAt = new Map<GroupMember, number>();
  private failure: unknown;
  private check: (() => void) | undefined;

  constructor(
    private readonly gb: GroupBroker,
    private readonly coordinator: { host: string; port: number },
    readonly groupId: string,
  ) {}

  async add(): Promise<GroupMember> {
    const m = new GroupMember({
      host: this.coordinator.host,
      port: this.coordinator.port,
      groupId: this.groupId,
      topics: [TOPIC],
      partitionCounts: this.gb.partitionCounts,
      sessionTimeoutMs,
      rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
      heartbeatIntervalMs: heartbeatMs,
      onEvent: (e) => this.onEvent(e),
    });
    this.members.push(m);
    await m.start();
    return m;
  }

  remove(m: GroupMember): void {
    this.members.splice(this.members.indexOf(m), 1);
  }

  private onEvent(e: MemberEvent): void {
    switch (e.kind) {
      case 'heartbeat-sent':
        this.lastHeartbeat.set(e.member, e.at);
        return;
      case 'join-sent':
        this.lastJoinSent.set(e.member, e.at);
        return;
      case 'rebalance-noticed':
        this.noticed.set(e.member, e.at);
        return;
      case 'synced':
        this.syncedAt.set(e.member, e.at);
        break;
      case 'failed':
        this.failure = e.error;
        break;
    }
    this.check?.();
  }

  /** Resolves once every current member is stable in one generation above `after`, covering all partitions. */
  waitStable(after: number, timeoutMs: number): Promise<Stable> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.check = undefined;
        const gens = this.members.map((m) => `${m.stable ? 's' : 'r'}${m.generation}`).join(' ');
        reject(new Error(`group ${this.groupId} not Stable above generation ${after} with ${this.members.length} members in ${timeoutMs} ms (${gens})`));
      }, timeoutMs);
      this.check = () => {
        if (this.failure !== undefined) {
          clearTimeout(timer);
          this.check = undefined;
          reject(this.failure instanceof Error ? this.failure : new Error(String(this.failure)));
          return;
        }
        const g = this.members[0]?.generation ?? -1;
        if (g <= after || !this.members.every((m) => m.stable && m.generation === g)) return;
        if (!coversExactly(this.members.map((m) => m.assignment), partitions)) return;
        clearTimeout(timer);
        this.check = undefined;
        resolve({ at: Math.max(...this.members.map((m) => this.syncedAt.get(m)!)), generation: g });
      };
      this.check();
    });
  }
}

function coversExactly(assignments: readonly Assignment[], count: number): boolean {
  const seen = new Array<number>(count).fill(0);
  for (const a of assignments) for (const p of a.get(TOPIC) ?? []) seen[p] = (seen[p] ?? 0) + 1;
  return seen.length === count && seen.every((n) => n === 1);
}

interface CaseFigures {
  size: number;
  kind: 'leave' | 'crash';
  /** Member gone (LeaveGroup sent / connection dropped) → Stable. */
  totalMs: number[];
  /** Member gone → the last remaining member told REBALANCE_IN_PROGRESS by a heartbeat. */
  noticedMs: number[];
  /** The last remaining member's JoinGroup sent → Stable: the coordinator's own share. */
  coordinatorMs: number[];
  /** Crash only: session expiry (last heartbeat + session timeout) → Stable. */
  afterExpiryMs: number[];
  /** A new member's first JoinGroup → Stable with it (restoring the size). */
  joinMs: number[];
}

async function runSize(gb: GroupBroker, size: number): Promise<{ setupMs: number; cases: CaseFigures[] }> {
  const groupId = `bench-rebalance-${size}`;
  const coordinator = await coordinatorFor(gb.broker.bootstrap, groupId);
  const set = new MemberSet(gb, coordinator, groupId);
  const setupStart = performance.now();
  try {
    await Promise.all(Array.from({ length: size }, () => set.add()));
    let stable = await set.waitStable(0, 60_000);
    const setupMs = stable.at - setupStart;
    console.log(`\n${size} members: initial join to Stable ${setupMs.toFixed(0)} ms (generation ${stable.generation})`);
    const cases: CaseFigures[] = [];
    for (const kind of ['leave', 'crash'] as const) {
      const f: CaseFigures = { size, kind, totalMs: [], noticedMs: [], coordinatorMs: [], afterExpiryMs: [], joinMs: [] };
      for (let r = 0; r < repeats; r++) {
        // Leave at a random point of the heartbeat cycle (members heartbeat in step after a sync).
        await sleep(heartbeatMs + random() * heartbeatMs);
        const victim = set.members[Math.floor(random() * set.members.length)]!;
        set.remove(victim);
        set.noticed.clear();
        set.lastJoinSent.clear();
        let goneAt: number;
        if (kind === 'leave') {
          goneAt = await victim.leave();
        } else {
          goneAt = performance.now();
          await victim.crash();
        }
        const lastHeartbeat = set.lastHeartbeat.get(victim) ?? goneAt;
        const wait = (kind === 'crash' ? sessionTimeoutMs : 0) + 4 * heartbeatMs + 30_000;
        const after = await set.waitStable(stable.generation, wait);
        f.totalMs.push(after.at - goneAt);
        const noticed = [...set.noticed.values()];
        f.noticedMs.push(noticed.length > 0 ? Math.max(...noticed) - goneAt : NaN);
        const joins = [...set.lastJoinSent.values()];
        f.coordinatorMs.push(joins.length > 0 ? after.at - Math.max(...joins) : NaN);
        if (kind === 'crash') f.afterExpiryMs.push(after.at - (lastHeartbeat + sessionTimeoutMs));
        const joinStart = performance.now();
        await set.add();
        stable = await set.waitStable(after.generation, 4 * heartbeatMs + 30_000);
        f.joinMs.push(stable.at - joinStart);
        const tail = kind === 'crash' ? ` (after expiry ${f.afterExpiryMs.at(-1)!.toFixed(0)} ms)` : '';
        console.log(`  ${kind} #${r + 1}: Stable after ${f.totalMs.at(-1)!.toFixed(0)} ms${tail}; rejoin ${f.coordinatorMs.at(-1)!.toFixed(1)} ms; new member in ${f.joinMs.at(-1)!.toFixed(0)} ms`);
      }
      cases.push(f);
    }
    return { setupMs, cases };
  } finally {
    await Promise.allSettled(set.members.map((m) => m.leave()));
  }
}

interface KafkajsFigures {
  size: number;
  setupMs: number;
  totalMs: number[];
}

async function runKafkajs(gb: GroupBroker, size: number): Promise<KafkajsFigures> {
  const groupId = `bench-rebalance-kafkajs-${size}`;
  const bootstrap = gb.broker.bootstrap;
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
  const admin = new KafkaClient({ bootstrapServers: bootstrap, clientId: 'samsa-bench' });
  const consumers: Consumer[] = [];
  const add = async (): Promise<Consumer> => {
    const c = kafka.consumer({ groupId, sessionTimeout: sessionTimeoutMs, heartbeatInterval: heartbeatMs, rebalanceTimeout: REBALANCE_TIMEOUT_MS, maxWaitTimeInMs: 100 });
    consumers.push(c);
    await c.connect();
    await c.subscribe({ topics: [TOPIC] });
    await c.run({ eachMessage: async () => undefined });
    return c;
  };
  // Polls DescribeGroups until the group is Stable with `members` members; the time it saw so.
  const waitStable = async (members: number, timeoutMs: number): Promise<number> => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const d = await admin.send('any', ApiKey.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
      const g = d.groups[0];
      if (g && g.groupState === 'Stable' && g.members.length === members && g.members.every((m) => m.memberAssignment.length > 0)) return Date.now();
      await sleep(10);
    }
    throw new Error(`kafkajs group ${groupId} not Stable with ${members} members in ${timeoutMs} ms`);
  };
  try {
    await admin.findCoordinator(groupId);
    const setupStart = Date.now();
    await Promise.all(Array.from({ length: size }, () => add()));
    const setupMs = (await waitStable(size, 120_000)) - setupStart;
    console.log(`\nkafkajs, ${size} consumers: initial join to Stable ${setupMs.toFixed(0)} ms`);
    const totalMs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      await sleep(heartbeatMs + random() * heartbeatMs);
      const victim = consumers.splice(Math.floor(random() * consumers.length), 1)[0]!;
      let sentAt: number | undefined;
      const off = victim.on(victim.events.REQUEST, (e) => {
        if (e.payload.apiName === 'LeaveGroup') sentAt = e.payload.sentAt;
      });
      const before = Date.now();
      const stableAt = waitStable(size - 1, 4 * heartbeatMs + 30_000);
      await victim.disconnect();
      off();
      totalMs.push((await stableAt) - (sentAt ?? before));
      await add();
      await waitStable(size, 4 * heartbeatMs + 30_000);
      console.log(`  leave #${r + 1}: Stable after ${totalMs.at(-1)!.toFixed(0)} ms${sentAt === undefined ? ' (LeaveGroup send not seen: timed from disconnect())' : ''}`);
    }
    return { size, setupMs, totalMs };
  } finally {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await admin.close();
  }
}

const command = `npx tsx bench/group-rebalance.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
await printHeader('consumer group rebalance', command, values['no-limits']);
console.log(
  `\nsettings: session.timeout.ms ${sessionTimeoutMs}, heartbeat.interval.ms ${heartbeatMs}, rebalance timeout ${REBALANCE_TIMEOUT_MS} ms, broker group.initial.rebalance.delay.ms=0; topic of ${partitions} partitions, range assignor; ${repeats} repeats per case`,
);

const gb = await startGroupBroker(TOPIC, partitions);
const watchdog = setTimeout(() => {
  console.error(`benchmark did not finish in ${WATCHDOG_MS / 60_000} minutes; stopping`);
  void gb.broker.destroy().finally(() => process.exit(2));
}, WATCHDOG_MS);
const results: Array<{ setupMs: number; cases: CaseFigures[] }> = [];
const kafkajsResults: KafkajsFigures[] = [];
try {
  for (const size of sizes) results.push(await runSize(gb, size));
  for (const size of kafkajsSizes) kafkajsResults.push(await runKafkajs(gb, size));
} finally {
  clearTimeout(watchdog);
  await gb.broker.destroy();
}

const both = (xs: number[], d = 0): string => `${num(median(xs), d, 7)} ${num(max(xs), d, 7)}`;
console.log(`\nsummary (ms, median and max of ${repeats}; session timeout ${sessionTimeoutMs} ms, heartbeat ${heartbeatMs} ms)`);
console.log('members  case    gone→Stable      gone→last told   last rejoin→Stable   expiry→Stable    new member→Stable');
console.log('                 median     max   median     max   median     max       median     max   median     max');
for (const r of results) {
  for (const c of r.cases) {
    const expiry = c.kind === 'crash' ? both(c.afterExpiryMs) : `${'-'.padStart(7)} ${'-'.padStart(7)}`;
    console.log(`${String(c.size).padStart(7)}  ${c.kind.padEnd(6)} ${both(c.totalMs)} ${both(c.noticedMs)} ${both(c.coordinatorMs, 1)}       ${expiry} ${both(c.joinMs)}`);
  }
}
for (const k of kafkajsResults) {
  console.log(`kafkajs ${String(k.size).padStart(3)} consumers, clean leave → Stable (DescribeGroups, 10 ms polls): median ${median(k.totalMs).toFixed(0)} ms, max ${max(k.totalMs).toFixed(0)} ms; initial join ${k.setupMs.toFixed(0)} ms`);
}
