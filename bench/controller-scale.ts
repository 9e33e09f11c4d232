// The controller with many partitions: one controller-only node process (as `npm start` starts
// it) holds the metadata of N partitions (default 100,000: 100 topics of 1,000 partitions, three
// replicas each) placed on three brokers. The brokers are stand-ins that only register and
// heartbeat over the controller listener (BrokerRegistration, BrokerHeartbeat), as real brokers
// do, so the figure is the controller's alone and no broker has to open 300,000 replica logs.
// Reported: the time to create the topics, the controller's RSS before and after, the newest
// metadata snapshot's size, and the restart time from that snapshot (the node's own log line).
// `npx tsx bench/controller-scale.ts [--partitions 100000] [--per-topic 1000]`
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SUPPORTED_FEATURES } from '../broker/handlers/api-versions.ts';
import { parseSnapshotFileName } from '../controller/raft/snapshot-format.ts';
import { ClusterProcess, type NodeProcess } from '../conformance/harness/cluster-process.ts';
import { KafkaConnection } from '../protocol/client/connection.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { randomUuid } from '../protocol/uuid.ts';

const { values } = parseArgs({ args: process.argv.slice(2), options: { partitions: { type: 'string', default: '100000' }, 'per-topic': { type: 'string', default: '1000' } }, strict: true });
const PARTITIONS = Number(values.partitions);
const PER_TOPIC = Number(values['per-topic']);
const TOPICS = Math.ceil(PARTITIONS / PER_TOPIC);
const BROKERS = [101, 102, 103];
const HEARTBEAT_MS = 500;

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function logLine(logs: string, msg: string): Record<string, unknown> | undefined {
  const line = logs.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).at(-1);
  return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
}

/** The controller's high watermark, which a stand-in broker reports as its metadata offset. */
async function committedOffset(c: KafkaConnection): Promise<bigint> {
  const r = await c.send(ApiKey.DescribeQuorum, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
  return r.topics[0]?.partitions[0]?.highWatermark ?? -1n;
}

/** Registers the stand-in brokers and heartbeats for them until stopped. */
async function standInBrokers(controller: NodeProcess, clusterId: string): Promise<{ unfenced: Promise<void>; stop(): void }> {
  const c = await KafkaConnection.connect('127.0.0.1', controller.controllerPort, { requestTimeoutMs: 30_000 });
  const epochs = new Map<number, bigint>();
  for (const id of BROKERS) {
    const r = await c.send(ApiKey.BrokerRegistration, {
      brokerId: id,
      clusterId,
      incarnationId: randomUuid(),
      listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 1 + id, securityProtocol: 0 }],
      features: SUPPORTED_FEATURES.map((f) => ({ name: f.name, minSupportedVersion: f.minVersion, maxSupportedVersion: f.maxVersion })),
      rack: null,
      isMigratingZkBroker: false,
      logDirs: [randomUuid()],
      previousBrokerEpoch: -1n,
    });
    if (r.errorCode !== ErrorCode.NONE) throw new Error(`BrokerRegistration ${id}: error ${r.errorCode}`);
    epochs.set(id, r.brokerEpoch);
  }
  let stopped = false;
  let markUnfenced!: () => void;
  const unfenced = new Promise<void>((resolve) => (markUnfenced = resolve));
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const offset = await committedOffset(c);
      let fenced = 0;
      for (const id of BROKERS) {
        const r = await c.send(ApiKey.BrokerHeartbeat, { brokerId: id, brokerEpoch: epochs.get(id)!, currentMetadataOffset: offset, wantFence: false, wantShutDown: false, offlineLogDirs: [] });
        if (r.errorCode !== ErrorCode.NONE || r.isFenced) fenced++;
      }
      if (fenced === 0) markUnfenced();
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS));
    }
  };
  const running = loop().catch((err: unknown) => {
    if (!stopped) console.error(`stand-in brokers stopped heartbeating: ${String(err)}`);
  });
  return {
    unfenced,
    stop: () => {
      stopped = true;
      void running.finally(() => c.close());
    },
  };
}

function snapshots(node: NodeProcess): { name: string; bytes: number }[] {
  const dir = join(node.dir, 'data', '__cluster_metadata-0');
  return readdirSync(dir)
    .filter((f) => parseSnapshotFileName(f) !== undefined)
    .sort()
    .map((name) => ({ name, bytes: statSync(join(dir, name)).size }));
}

const cluster = await ClusterProcess.start({
  controllers: 1,
  brokers: 0,
  properties: { 'broker.session.timeout.ms': '30000', 'metadata.log.max.record.bytes.between.snapshots': String(4 * 1024 * 1024) },
});
try {
  const controller = cluster.controllers[0]!;
  const idleRss = rssMiB(controller.pid);
  const brokers = await standInBrokers(controller, cluster.clusterId);
  await Promise.race([brokers.unfenced, new Promise((_, reject) => setTimeout(() => reject(new Error('stand-in brokers not unfenced within 60 s')), 60_000))]);
  const admin = await KafkaConnection.connect('127.0.0.1', controller.controllerPort, { requestTimeoutMs: 120_000 });
  const started = Date.now();
  try {
    for (let t = 0; t < TOPICS; t++) {
      const numPartitions = Math.min(PER_TOPIC, PARTITIONS - t * PER_TOPIC);
      const r = await admin.send(ApiKey.CreateTopics, { topics: [{ name: `scale-${t}`, numPartitions, replicationFactor: BROKERS.length, assignments: [], configs: [] }], timeoutMs: 120_000, validateOnly: false });
      const code = r.topics[0]?.errorCode;
      if (code !== ErrorCode.NONE) throw new Error(`CreateTopics scale-${t}: error ${code} ${r.topics[0]?.errorMessage ?? ''}`);
    }
  } finally {
    await admin.close();
  }
  const createMs = Date.now() - started;
  // Let the snapshot that the last records crossed be written, and the heap settle.
  await new Promise((r) => setTimeout(r, 5000));
  const loadedRss = rssMiB(controller.pid);
  brokers.stop();
  const written = snapshots(controller);
  await controller.stop('SIGTERM');
  const restartStarted = Date.now();
  await controller.start();
  const restartMs = Date.now() - restartStarted;
  const loaded = logLine(controller.logs, 'loaded metadata snapshot');
  const restartedRss = rssMiB(controller.pid);
  console.log(`controller with ${PARTITIONS} partitions (${TOPICS} topics x ${PER_TOPIC}, replication factor ${BROKERS.length}), ${new Date().toISOString()}, node ${process.version}`);
  console.log(`create topics: ${createMs} ms (${((PARTITIONS / createMs) * 1000).toFixed(0)} partitions/s, one CreateTopics of ${PER_TOPIC} partitions at a time)`);
  console.log(`controller RSS: ${idleRss.toFixed(0)} MiB idle, ${loadedRss.toFixed(0)} MiB with the partitions, ${restartedRss.toFixed(0)} MiB after a restart`);
  console.log(`snapshots: ${written.map((s) => `${s.name} ${(s.bytes / 1048576).toFixed(1)} MiB`).join(', ') || 'none'}`);
  console.log(`restart: ${restartMs} ms to started; snapshot loaded in ${String(loaded?.ms ?? '?')} ms (${String(loaded?.records ?? '?')} records)`);
} finally {
  await cluster.destroy();
}
