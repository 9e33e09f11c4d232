// Offset-commit throughput for one consumer group on a broker child process: OffsetCommit
// requests from the group's one member (a `bench/group-member.ts` member, joined and
// heartbeating on its own connection, so commits carry a live generation and member id), sent on
// a second connection to the coordinator with 1 or 50 partitions per commit, one request at a
// time and several in flight (pipelined on that one connection).
// The coordinator answers a commit only after its records are appended to `__consumer_offsets`
// (acks=-1, as Kafka's coordinator writes them; replication factor 1 here, page cache, no fsync).
// Each case checks what it measured: every partition's answer is NONE, the offsets topic grew by
// one record per committed partition, and OffsetFetch returns the last offset sent for each
// partition. Every loop is bounded by a duration and a count; the broker is stopped by pid.
// Run: `npx tsx bench/group-commit.ts` (`--duration 10 --in-flight 1,8 --per-commit 1,50
// --no-limits`).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GROUP_METADATA_TOPIC_NAME, partitionForGroup } from '../broker/group/offsets-topic.ts';
import { KafkaClient, OffsetSpec } from '../protocol/client/client.ts';
import { KafkaConnection } from '../protocol/client/connection.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import type { OffsetCommitRequestTopic } from '../protocol/generated/message/offset-commit-request.ts';
import { coordinatorFor, num, printHeader, quantile, startGroupBroker } from './group-common.ts';
import { GroupMember } from './group-member.ts';

const TOPIC = 'bench-commit';
const PARTITIONS = 50;
const GROUP = 'bench-commit-group';
const MAX_COMMITS_PER_CASE = 2_000_000;
const WATCHDOG_MS = 15 * 60_000;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    'in-flight': { type: 'string', default: '1,8' },
    'per-commit': { type: 'string', default: '1,50' },
    'no-limits': { type: 'boolean', default: false },
  },
  strict: true,
});
const durationMs = Number(values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const inFlights = values['in-flight'].split(',').map(Number);
const perCommits = values['per-commit'].split(',').map(Number);
if (perCommits.some((n) => n < 1 || n > PARTITIONS)) throw new Error(`--per-commit must be within 1..${PARTITIONS}`);

/** User + system CPU seconds of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface CaseResult {
  perCommit: number;
  inFlight: number;
  commits: number;
  seconds: number;
  latenciesMs: number[];
  errors: number;
  brokerCpu: number;
  /** This process's CPU (the member, the committing connection and encoding). */
  clientCpu: number;
  /** Records appended to the offsets topic beyond one per committed partition (0 expected). */
  appended: bigint;
  verified: string;
}

const command = `npx tsx bench/group-commit.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
await printHeader('offset commit throughput', command, values['no-limits']);
console.log(
  `\nsettings: one group, one member (generation and member id checked); topic of ${PARTITIONS} partitions; ${values.duration} s per case after ${values.warmup} s warm-up; broker group.initial.rebalance.delay.ms=0, __consumer_offsets of 50 partitions, replication factor 1`,
);

const gb = await startGroupBroker(TOPIC, PARTITIONS);
const watchdog = setTimeout(() => {
  console.error(`benchmark did not finish in ${WATCHDOG_MS / 60_000} minutes; stopping`);
  void gb.broker.destroy().finally(() => process.exit(2));
}, WATCHDOG_MS);
const results: CaseResult[] = [];
try {
  const coordinator = await coordinatorFor(gb.broker.bootstrap, GROUP);
  let failure: unknown;
  const member = new GroupMember({
    ...coordinator,
    groupId: GROUP,
    topics: [TOPIC],
    partitionCounts: gb.partitionCounts,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    onEvent: (e) => {
      if (e.kind === 'failed') failure = e.error;
    },
  });
  await member.start();
  for (let i = 0; i < 200 && !member.stable; i++) await new Promise((r) => setTimeout(r, 25));
  if (!member.stable) throw new Error(`the member did not join ${GROUP}: ${String(failure)}`);
  const conn = await KafkaConnection.connect(coordinator.host, coordinator.port, { clientId: 'samsa-bench-commit' });
  const admin = new KafkaClient({ bootstrapServers: gb.broker.bootstrap, clientId: 'samsa-bench' });
  const offsetsPartition = partitionForGroup(GROUP, (await admin.metadata([GROUP_METADATA_TOPIC_NAME])).topics[0]!.partitions.length);
  const offsetsEnd = async (): Promise<bigint> => (await admin.listOffsets(GROUP_METADATA_TOPIC_NAME, offsetsPartition, OffsetSpec.LATEST)).offset ?? -1n;
  let next = 1n; // offsets only grow, across cases, so the last one sent is the one to fetch back
  try {
    for (const perCommit of perCommits) {
      for (const inFlight of inFlights) {
        const lastSent = new Map<number, bigint>();
        let cursor = 0; // which partitions the next commit names, rotating over all of them
        const request = (): OffsetCommitRequestTopic[] => {
          const partitions = [];
          for (let k = 0; k < perCommit; k++) {
            const p = (cursor + k) % PARTITIONS;
            const committedOffset = next++;
            lastSent.set(p, committedOffset);
            partitions.push({ partitionIndex: p, committedOffset, committedLeaderEpoch: -1, committedMetadata: '' });
          }
          cursor = (cursor + perCommit) % PARTITIONS;
          return [{ name: TOPIC, partitions }];
        };
        const latencies: number[] = [];
        let commits = 0;
        let errors = 0;
        let measuring = false;
        const start = performance.now();
        let measureStart = start + warmupMs;
        const end = measureStart + durationMs;
        let cpuStart = cpuSeconds(gb.broker.pid!);
        let clientCpuStart = process.cpuUsage();
        const endBefore = await offsetsEnd();
        let sent = 0;
        const lane = async (): Promise<void> => {
          while (performance.now() < end && sent < MAX_COMMITS_PER_CASE) {
            sent++;
            const t0 = performance.now();
            const r = await conn.send(ApiKey.OffsetCommit, { groupId: GROUP, generationIdOrMemberEpoch: member.generation, memberId: member.memberId, groupInstanceId: null, topics: request() });
            const t1 = performance.now();
            if (!measuring && t1 >= measureStart) {
              // The warm-up is over: start counting from here for every lane.
              measuring = true;
              measureStart = t1;
              cpuStart = cpuSeconds(gb.broker.pid!);
              clientCpuStart = process.cpuUsage();
              continue;
            }
            if (!measuring || t0 < measureStart) continue;
            commits++;
            latencies.push(t1 - t0);
            for (const t of r.topics) for (const p of t.partitions) if (p.errorCode !== ErrorCode.NONE) errors++;
          }
        };
        await Promise.all(Array.from({ length: inFlight }, () => lane()));
        const seconds = (performance.now() - measureStart) / 1000;
        const brokerCpu = (cpuSeconds(gb.broker.pid!) - cpuStart) / seconds;
        const used = process.cpuUsage(clientCpuStart);
        const clientCpu = (used.user + used.system) / 1e6 / seconds;
        const appended = (await offsetsEnd()) - endBefore;
        // What the coordinator kept must be the last offset sent for every partition.
        const fetched = await conn.send(ApiKey.OffsetFetch, { groups: [{ groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [...lastSent.keys()] }] }], requireStable: true });
        let wrong = 0;
        for (const p of fetched.groups![0]!.topics[0]!.partitions) if (p.errorCode !== ErrorCode.NONE || p.committedOffset !== lastSent.get(p.partitionIndex)) wrong++;
        const verified = wrong === 0 ? `OffsetFetch matches the last of ${lastSent.size} partitions` : `${wrong} of ${lastSent.size} partitions do not fetch back their last commit`;
        latencies.sort((a, b) => a - b);
        const res: CaseResult = { perCommit, inFlight, commits, seconds, latenciesMs: latencies, errors, brokerCpu, clientCpu, appended: appended - BigInt(sent * perCommit), verified };
        results.push(res);
        console.log(
          `\n${perCommit} partition(s)/commit, ${inFlight} in flight: ${(commits / seconds).toFixed(0)} commits/s, ${((commits * perCommit) / seconds).toFixed(0)} offsets/s, p50 ${quantile(latencies, 0.5).toFixed(2)} ms, p99 ${quantile(latencies, 0.99).toFixed(2)} ms, broker CPU ${(brokerCpu * 100).toFixed(0)}%, bench process CPU ${(clientCpu * 100).toFixed(0)}%`,
        );
        console.log(`  ${errors} partition errors; __consumer_offsets grew by ${appended} records for ${sent} commits of ${perCommit} (warm-up included); ${verified}`);
        if (failure !== undefined) throw failure;
        if (!member.stable) throw new Error('the member left the Stable group during the case');
      }
    }
  } finally {
    await conn.close();
    await admin.close();
    await member.leave().catch(() => undefined);
  }
} finally {
  clearTimeout(watchdog);
  await gb.broker.destroy();
}

console.log(`\nsummary (${values.duration} s per case; commits/s and partition offsets/s; latency per request)`);
console.log('per commit  in flight   commits/s   offsets/s   p50 ms   p99 ms   max ms   broker CPU  bench CPU   errors   extra records   fetched back');
for (const r of results) {
  const l = r.latenciesMs;
  console.log(
    `${String(r.perCommit).padStart(10)} ${String(r.inFlight).padStart(10)} ${num(r.commits / r.seconds, 0, 11)} ${num((r.commits * r.perCommit) / r.seconds, 0, 11)} ${num(quantile(l, 0.5), 2)} ${num(quantile(l, 0.99), 2)} ${num(l.at(-1) ?? NaN, 2)} ${num(r.brokerCpu * 100, 0, 11)}% ${num(r.clientCpu * 100, 0, 9)}% ${String(r.errors).padStart(8)} ${String(r.appended).padStart(15)}   ${r.verified.startsWith('OffsetFetch') ? 'yes' : 'NO'}`,
  );
}
