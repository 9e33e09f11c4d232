// What replication costs on the produce path: one three-node cluster of real node processes
// (each broker and controller, started as `npm start` starts them), one topic with replication
// factor 1 (acks=1) and one with replication factor 3 and min.insync.replicas=2 (acks=all), each
// of one partition whose leader takes the load. In the same run, alternated round by round so a
// busy machine weighs on both alike: peak produce throughput (1 KiB records, as fast as they are
// acknowledged), then produce→acknowledgement latency at 1,000 records/s. Goals: RF=3 acks=all at
// least 0.5 x RF=1 acks=1 in throughput (three brokers sharing the machine's cores), p99 at
// 1,000 records/s within 5 ms. Beside the peak, the CPU seconds all three node processes spend
// per GB acknowledged, and that divided by the replication factor: the CPU per GB per replica,
// to read against RF=1's (the leader's append alone).
// `npx tsx bench/replication.ts [--duration 10] [--rounds 3]`
import { parseArgs } from 'node:util';
import { CLUSTER_PROPERTIES } from '../conformance/harness/target.ts';
import { ClusterProcess } from '../conformance/harness/cluster-process.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { benchOptions, cpuSeconds, describeErrors, fmt, KiB, produce } from './broker-common.ts';

const { values } = parseArgs({ args: process.argv.slice(2), options: { rounds: { type: 'string', default: '3' } }, strict: false });
const rounds = Number(values.rounds);
const opts = benchOptions(process.argv.slice(2).filter((a, i, all) => a !== '--rounds' && all[i - 1] !== '--rounds'));

interface Case {
  name: string;
  topic: string;
  rf: number;
  acks: number;
  port: number;
  peakMBps: number[];
  /** CPU seconds of all nodes per GB acknowledged in the peak run. */
  cpuPerGB: number[];
  p50: number[];
  p99: number[];
  p999: number[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Creates the topic and returns its leader's client port once every replica is in the ISR. */
async function createLed(cluster: ClusterProcess, topic: string, rf: number): Promise<number> {
  const client = new KafkaClient({ bootstrapServers: cluster.bootstrap, clientId: 'samsa-bench', retries: 5 });
  try {
    await client.connect();
    const r = await client.createTopics([{ name: topic, numPartitions: 1, replicationFactor: rf, configs: rf > 1 ? { 'min.insync.replicas': '2' } : {} }]);
    if (r.topics[0]?.errorCode !== 0) throw new Error(`CreateTopics ${topic}: error ${r.topics[0]?.errorCode}`);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const p = (await client.metadata([topic])).topics[0]?.partitions[0];
      if (p && p.errorCode === 0 && p.leaderId >= 0 && p.isrNodes.length === rf) return cluster.node(p.leaderId).port;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`${topic}: no leader with a full ISR within 60 s`);
  } finally {
    await client.close();
  }
}

/** CPU seconds all node processes have used so far (the warm-up is counted as part of the run). */
async function clusterCpu(): Promise<number> {
  let total = 0;
  for (const n of cluster.nodes) total += await cpuSeconds(n.pid!);
  return total;
}

const cluster = await ClusterProcess.start({
  nodes: 3,
  properties: { ...CLUSTER_PROPERTIES, 'replica.fetch.wait.max.ms': '500', 'replica.fetch.max.bytes': String(4 * 1024 * KiB), ...opts.brokerOverrides },
});
try {
  const cases: Case[] = [];
  for (const [rf, acks] of [
    [1, 1],
    [3, -1],
  ] as const) {
    const topic = `bench-rf${rf}`;
    cases.push({ name: `RF=${rf} acks=${acks === 1 ? '1' : 'all'}`, topic, rf, acks, port: await createLed(cluster, topic, rf), peakMBps: [], cpuPerGB: [], p50: [], p99: [], p999: [] });
  }
  console.log(`replication: ${rounds} rounds of ${opts.duration} s per case, 1 KiB records, one partition, three combined nodes on this machine`);
  console.log('round  case              peak MB/s  CPU s/GB  per replica  | at 1,000 records/s: p50     p99    p99.9 ms');
  for (let round = 1; round <= rounds; round++) {
    for (const c of cases) {
      const run = { host: '127.0.0.1', port: c.port, topic: c.topic, partitions: 1, acks: c.acks };
      const cpuBefore = await clusterCpu();
      const peak = await produce(opts, run);
      c.cpuPerGB.push(((await clusterCpu()) - cpuBefore) / ((peak.mbps * (opts.duration + opts.warmup)) / 1000));
      // 1,000 records/s of 1 KiB, in batches of one record so each record is one request.
      const paced = await produce({ ...opts, batchBytes: KiB }, { ...run, rateBytesPerSec: 1000 * KiB, maxInFlight: 64 });
      c.peakMBps.push(peak.mbps);
      c.p50.push(paced.latency.percentileMillis(50));
      c.p99.push(paced.latency.percentileMillis(99));
      c.p999.push(paced.latency.percentileMillis(99.9));
      console.log(
        `${fmt(round, 0, 5)}  ${c.name.padEnd(16)} ${fmt(peak.mbps, 1, 9)} ${fmt(c.cpuPerGB.at(-1)!, 2, 9)} ${fmt(c.cpuPerGB.at(-1)! / c.rf, 2, 12)}  | ${fmt(c.p50.at(-1)!, 2, 25)} ${fmt(c.p99.at(-1)!, 2, 7)} ${fmt(c.p999.at(-1)!, 2, 8)}${describeErrors(peak)}${describeErrors(paced)}`,
      );
    }
  }
  const [rf1, rf3] = cases as [Case, Case];
  console.log('\nmedians over the rounds');
  for (const c of cases) {
    console.log(`${c.name.padEnd(16)} peak ${median(c.peakMBps).toFixed(1)} MB/s, ${median(c.cpuPerGB).toFixed(2)} CPU s/GB (all nodes), ${(median(c.cpuPerGB) / c.rf).toFixed(2)} per replica; at 1,000 records/s p50 ${median(c.p50).toFixed(2)} ms, p99 ${median(c.p99).toFixed(2)} ms, p99.9 ${median(c.p999).toFixed(2)} ms`);
  }
  console.log(`RF=3 acks=all / RF=1 acks=1 peak throughput: ${(median(rf3.peakMBps) / median(rf1.peakMBps)).toFixed(2)} (goal >= 0.5)`);
  console.log(`RF=3 acks=all / RF=1 acks=1 CPU per GB per replica: ${(median(rf3.cpuPerGB) / 3 / median(rf1.cpuPerGB)).toFixed(2)}`);
  console.log(`RF=3 acks=all p99 at 1,000 records/s: ${median(rf3.p99).toFixed(2)} ms (goal <= 5 ms)`);
  // The machine is shared: latency relative to the unreplicated case of the same run weighs less on its load.
  console.log(`RF=3 acks=all / RF=1 acks=1 at 1,000 records/s: p50 ${(median(rf3.p50) / median(rf1.p50)).toFixed(2)}, p99 ${(median(rf3.p99) / median(rf1.p99)).toFixed(2)}`);
} finally {
  await cluster.destroy();
}
