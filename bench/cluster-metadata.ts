// Metadata through the KRaft quorum, measured on real node processes:
// - metadata operations per second through a three-voter quorum (topics created one request at a
//   time, then config changes), beside the same operations on a single node in the same run
//   (its one-voter quorum commits on its own fsync, the peer a three-voter commit is read against);
// - time from SIGKILL of the active controller to a new leader reported by DescribeQuorum (p50,
//   p99 over N kills), against the configured floor controller.quorum.fetch.timeout.ms plus one
//   election timeout;
// - the RSS of each node at the end.
// Usage: npx tsx bench/cluster-metadata.ts [--topics 1000] [--configs 500] [--kills 20]
import { readFileSync } from 'node:fs';
import { ClusterProcess, type NodeProcess } from '../conformance/harness/cluster-process.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { KafkaConnection } from '../protocol/client/connection.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const TOPICS = arg('topics', 1000);
const CONFIGS = arg('configs', 500);
const KILLS = arg('kills', 20);
const ELECTION_TIMEOUT_MS = 1000;
const FETCH_TIMEOUT_MS = 2000;
const PROPERTIES = {
  'controller.quorum.election.timeout.ms': String(ELECTION_TIMEOUT_MS),
  'controller.quorum.fetch.timeout.ms': String(FETCH_TIMEOUT_MS),
  'broker.heartbeat.interval.ms': '500',
  'broker.session.timeout.ms': '4000',
};

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function leaderSeenBy(n: NodeProcess): Promise<number> {
  let c: KafkaConnection | undefined;
  try {
    c = await KafkaConnection.connect('127.0.0.1', n.controllerPort, { requestTimeoutMs: 1000, connectTimeoutMs: 500 });
    const r = await c.send(ApiKey.DescribeQuorum, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
    const p = r.topics[0]?.partitions[0];
    return p && p.errorCode === ErrorCode.NONE ? p.leaderId : -1;
  } catch {
    return -1;
  } finally {
    await c?.close();
  }
}

async function awaitLeader(cluster: ClusterProcess, exclude: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const n of cluster.controllers.filter((x) => x.running && x.id !== exclude)) {
      if ((await leaderSeenBy(n)) === n.id) return n.id;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no leader within ${timeoutMs} ms`);
}

/** Topic creations and config changes, one request at a time, against `bootstrap`. */
async function metadataOps(bootstrap: string[], prefix: string): Promise<{ createsPerSec: number; configsPerSec: number }> {
  const c = new KafkaClient({ bootstrapServers: bootstrap, clientId: 'bench-metadata', requestTimeoutMs: 30_000 });
  await c.connect();
  try {
    let t = Date.now();
    for (let i = 0; i < TOPICS; i++) {
      const r = await c.createTopics([{ name: `${prefix}-${i}`, numPartitions: 1, replicationFactor: 1 }]);
      if (r.topics[0]!.errorCode !== ErrorCode.NONE) throw new Error(`create ${prefix}-${i}: ${r.topics[0]!.errorCode}`);
    }
    const createsPerSec = TOPICS / ((Date.now() - t) / 1000);
    t = Date.now();
    for (let i = 0; i < CONFIGS; i++) {
      await c.incrementalAlterConfigs([{ resourceType: 2, resourceName: `${prefix}-0`, configs: [{ name: 'retention.ms', configOperation: 0, value: String(3_600_000 + i) }] }]);
    }
    const configsPerSec = CONFIGS / ((Date.now() - t) / 1000);
    return { createsPerSec, configsPerSec };
  } finally {
    await c.close();
  }
}

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  console.log(`cluster metadata benchmark: ${TOPICS} topic creations, ${CONFIGS} config changes, ${KILLS} leader kills`);
  const single = await ClusterProcess.start({ nodes: 1, properties: PROPERTIES });
  let one;
  try {
    one = await metadataOps(single.bootstrap, 'one');
  } finally {
    await single.destroy();
  }
  const cluster = await ClusterProcess.start({ nodes: 3, properties: PROPERTIES });
  try {
    const three = await metadataOps(cluster.bootstrap, 'three');
    console.log('\nmetadata operations per second (one request at a time)');
    console.log(`                 1 voter   3 voters   ratio`);
    console.log(`create topic   ${one.createsPerSec.toFixed(0).padStart(9)} ${three.createsPerSec.toFixed(0).padStart(10)}   ${(three.createsPerSec / one.createsPerSec).toFixed(2)}`);
    console.log(`alter config   ${one.configsPerSec.toFixed(0).padStart(9)} ${three.configsPerSec.toFixed(0).padStart(10)}   ${(three.configsPerSec / one.configsPerSec).toFixed(2)}`);

    const elections: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const leader = await awaitLeader(cluster, -1, 30_000);
      const victim = cluster.node(leader);
      const t = Date.now();
      await victim.kill();
      await awaitLeader(cluster, leader, 30_000);
      elections.push(Date.now() - t);
      await victim.start();
    }
    const floor = FETCH_TIMEOUT_MS + ELECTION_TIMEOUT_MS;
    console.log(`\nSIGKILL of the active controller to a new leader, ${KILLS} kills (fetch timeout ${FETCH_TIMEOUT_MS} ms, election timeout ${ELECTION_TIMEOUT_MS}-${2 * ELECTION_TIMEOUT_MS} ms)`);
    console.log(`p50 ${pct(elections, 50)} ms (${(pct(elections, 50) / floor).toFixed(2)} x fetch + election timeout), p99 ${pct(elections, 99)} ms (${(pct(elections, 99) / floor).toFixed(2)} x), max ${Math.max(...elections)} ms`);
    console.log(`\nRSS at the end: ${cluster.nodes.map((n) => `node ${n.id} ${rssMiB(n.pid).toFixed(0)} MiB`).join(', ')}`);
  } finally {
    await cluster.destroy();
  }
}

await main();
