// `samsa cluster start|status|stop` as an operator runs it: the command is a child process, the
// nodes it starts run detached from it, and clients reach them at the bootstrap address it prints.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { samsa as runSamsa } from '../../conformance/harness/samsa-cli.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { CompressionType } from '../../protocol/records/batch-header.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { isNodeProcess, readCluster } from './cluster.ts';

const CHILD_TIMEOUT_MS = 90_000;

/** Runs `samsa <args>`; the child is killed (by pid) if it outlives the timeout. */
function samsa(args: string[], timeoutMs = CHILD_TIMEOUT_MS) {
  return runSamsa(args, { timeoutMs });
}

function pidsOf(dir: string): number[] {
  return readCluster(dir).flatMap((n) => {
    try {
      return [Number(readFileSync(join(n.dir, 'pid'), 'utf8').trim())];
    } catch {
      return [];
    }
  });
}

let dir: string | undefined;

afterEach(async () => {
  if (dir === undefined) return;
  // A failed test may leave nodes running: kill those this test started (still naming their properties file).
  for (const node of readCluster(dir)) {
    try {
      const pid = Number(readFileSync(join(node.dir, 'pid'), 'utf8').trim());
      if (isNodeProcess(pid, node.propertiesFile)) process.kill(pid, 'SIGKILL');
    } catch {
      // no pid file: not running
    }
  }
  await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function produceAndRead(bootstrap: string, topic: string, replicationFactor: number): Promise<void> {
  const client = new KafkaClient({ bootstrapServers: bootstrap, clientId: 'cluster-int-test', retries: 10 });
  try {
    const created = await client.createTopics([{ name: topic, numPartitions: 1, replicationFactor }]);
    expect(created.topics[0]!.errorCode, `${created.topics[0]!.errorCode} ${created.topics[0]!.errorMessage}`).toBe(0);
    const batch = encodeRecordBatch({
      baseTimestamp: BigInt(Date.now()),
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      compression: CompressionType.None,
      records: [{ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k'), value: Buffer.from('hello cluster') }],
    });
    const produced = await client.produce(topic, 0, batch, { acks: -1 });
    expect(produced!.baseOffset).toBe(0n);
    // Polled as a consumer polls: the write shows once the high watermark has passed it.
    let records: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 20 && records.length === 0; i++) records = (await client.fetch(topic, 0, 0n, { maxWaitMs: 500 })).records;
    expect(records.length).toBeGreaterThan(0);
    expect(decodeRecordBatch(records, 0).records[0]!.value!.toString()).toBe('hello cluster');
  } finally {
    await client.close();
  }
}

async function stopAndCheck(d: string): Promise<void> {
  const pids = pidsOf(d);
  const stopped = await samsa(['cluster', 'stop', '--dir', d]);
  expect(stopped.code, stopped.stderr).toBe(0);
  for (const pid of pids) expect(stopped.stdout).toContain(`(pid ${pid})`);
  for (const node of readCluster(d)) expect(pids.some((pid) => isNodeProcess(pid, node.propertiesFile))).toBe(false);
  const status = await samsa(['cluster', 'status', '--dir', d]);
  expect(status.stdout.split('\n').slice(1, -1).every((l) => l.includes('\tstopped\t'))).toBe(true);
}

describe('samsa cluster', () => {
  it('starts one node, serves clients at the printed bootstrap, reports status, stops it, and starts it again with its data', { timeout: 180_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-cluster-'));
    const started = await samsa(['cluster', 'start', '--nodes', '1', '--dir', dir]);
    expect(started.code, started.stderr).toBe(0);
    const bootstrap = started.stdout.trim().split('\n').at(-1)!;
    expect(bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(started.stdout).toMatch(/^Creating a cluster of 1 node\(s\) in .* with cluster id [A-Za-z0-9_-]{22}\n/);

    const [node] = readCluster(dir);
    expect(node!.roles).toEqual(['broker', 'controller']);
    expect(readFileSync(node!.propertiesFile, 'utf8')).toContain(`listeners=PLAINTEXT://${bootstrap},CONTROLLER://127.0.0.1:`);
    const pid = pidsOf(dir)[0]!;
    expect(isNodeProcess(pid, node!.propertiesFile)).toBe(true);

    const status = await samsa(['cluster', 'status', '--dir', dir]);
    expect(status.code).toBe(0);
    expect(status.stdout.split('\n')[0]).toMatch(/^NodeId\tRoles +\tPid *\tState  \tListeners +\t$/);
    expect(status.stdout.split('\n')[1]).toMatch(new RegExp(`^1 +\tbroker,controller\t${pid}\\s*\trunning\tPLAINTEXT://${bootstrap},CONTROLLER://127\\.0\\.0\\.1:\\d+\t$`));

    const again = await samsa(['cluster', 'start', '--nodes', '1', '--dir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`Node 1 is already running (pid ${pid})`);

    await produceAndRead(bootstrap, 'cluster-cli-t1', 1);
    await stopAndCheck(dir);

    // Started again as it is: same listeners, data kept.
    const restarted = await samsa(['cluster', 'start', '--dir', dir]);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stdout).toContain('Starting the existing cluster of 1 node(s)');
    expect(restarted.stdout.trim().split('\n').at(-1)).toBe(bootstrap);
    const client = new KafkaClient({ bootstrapServers: bootstrap, retries: 10 });
    try {
      const fetched = await client.fetch('cluster-cli-t1', 0, 0n);
      expect(decodeRecordBatch(fetched.records, 0).records[0]!.value!.toString()).toBe('hello cluster');
    } finally {
      await client.close();
    }
    await stopAndCheck(dir);
  });

  it('runs a controller-only node beside a broker-only node', { timeout: 180_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-cluster-'));
    const started = await samsa(['cluster', 'start', '--controllers', '1', '--brokers', '1', '--dir', dir]);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const bootstrap = started.stdout.trim().split('\n').at(-1)!;
    const [controllerNode, brokerNode] = readCluster(dir);
    expect([controllerNode!.roles, brokerNode!.roles]).toEqual([['controller'], ['broker']]);
    expect(controllerNode!.listeners).toEqual([`CONTROLLER://${controllerNode!.controllerAddress}`]);
    expect(brokerNode!.listeners).toEqual([`PLAINTEXT://${bootstrap}`]);
    await produceAndRead(bootstrap, 'cluster-cli-t2', 1);
    await stopAndCheck(dir);
  });

  it('refuses a bad layout before writing anything', async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-cluster-'));
    const r = await samsa(['cluster', 'start', '--controllers', '3', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--controllers and --brokers go together');
    expect(readCluster(dir)).toEqual([]);
    const none = await samsa(['cluster', 'stop', '--dir', dir]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`No cluster found in ${dir}`);
  });
});

describe('samsa cluster with three nodes', () => {
  it('starts three combined nodes, elects one leader, replicates a write to all three, and stops them', { timeout: 240_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-cluster3-'));
    const started = await samsa(['cluster', 'start', '--nodes', '3', '--dir', dir]);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const bootstrap = started.stdout.trim().split('\n').at(-1)!;
    expect(bootstrap.split(',')).toHaveLength(3);
    const status = await samsa(['cluster', 'status', '--dir', dir]);
    expect(status.stdout.split('\n').slice(1, -1).filter((l) => l.includes('\trunning\t'))).toHaveLength(3);

    const controller = readCluster(dir)[0]!.controllerAddress!;
    const replication = await samsa(['metadata-quorum', '--bootstrap-controller', controller, 'describe', '--replication']);
    expect(replication.code, replication.stderr).toBe(0);
    const rows = replication.stdout.trim().split('\n').slice(1);
    expect(rows.filter((r) => r.includes('\tLeader'))).toHaveLength(1);
    expect(rows.filter((r) => r.includes('\tFollower'))).toHaveLength(2);

    await produceAndRead(bootstrap, 'cluster-cli-t3', 3);
    await stopAndCheck(dir);
  });
});
