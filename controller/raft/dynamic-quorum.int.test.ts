// A dynamic metadata quorum (KIP-853) with real node processes: controller 1 formatted
// --standalone and a broker; metadata written until the leader has snapshots and its log start
// moved; controllers 2 and 3 formatted --no-initial-controllers start empty with
// controller.quorum.bootstrap.servers, catch up as observers (through FetchSnapshot) and are
// added with `samsa metadata-quorum add-controller`; DescribeQuorum shows three voters with their
// directory ids; the leader is killed (SIGKILL), a new one is elected and metadata writes go on;
// a controller is removed with `remove-controller`.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { formatStorage } from '../../broker/cli/storage.ts';
import type { CommandIo } from '../../broker/cli/command-io.ts';
import { metadataQuorumCommand } from '../../broker/cli/metadata-quorum.ts';
import { loadServerProperties } from '../../broker/config/server-properties.ts';
import { freePort } from '../../conformance/harness/broker-process.ts';
import { NodeChild } from '../../conformance/harness/node-child.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { randomUuid } from '../../protocol/uuid.ts';
import { readMetaProperties } from '../../storage/meta-properties.ts';

interface Node {
  id: number;
  dir: string;
  props: string;
  port: number;
  child: NodeChild;
}

const nodes: Node[] = [];
let root = '';

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.child.stop('SIGKILL')));
  if (root) await rm(root, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  let code = 0;
  const io: CommandIo = { out: (t) => (out += t), err: (t) => (err += t), fail: (c) => (code = c) };
  const cmd: Command = metadataQuorumCommand(io);
  await cmd.parseAsync(args, { from: 'user' });
  return { out, err, code };
}

/** Retries `fn` until it returns without throwing, up to `ms`. */
async function eventually<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

describe('dynamic metadata quorum', () => {
  it('grows from one controller to three with add-controller, survives the leader\'s SIGKILL and shrinks with remove-controller', { timeout: 150_000 }, async () => {
    onTestFailed(() => {
      for (const n of nodes) console.error(`--- node ${n.id} (last lines)\n${n.child.logs.split('\n').slice(-25).join('\n')}`);
    });
    root = await mkdtemp(join(tmpdir(), 'samsa-dynamic-quorum-'));
    const clusterId = randomUuid();
    const controllerPorts = [await freePort(), await freePort(), await freePort()];
    const brokerPort = await freePort();
    const bootstrapServers = `127.0.0.1:${controllerPorts[0]}`;
    const common = {
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      'controller.quorum.bootstrap.servers': bootstrapServers,
      'metadata.log.max.record.bytes.between.snapshots': '2000',
      'metadata.log.segment.bytes': '4096',
      'num.partitions': '1',
      'offsets.topic.replication.factor': '1',
    };
    const make = async (id: number, roles: string, listeners: string, extra: Record<string, string>): Promise<Node> => {
      const dir = join(root, `node-${id}`);
      await mkdir(dir, { recursive: true });
      const props = join(dir, 'server.properties');
      const all = { 'process.roles': roles, 'node.id': String(id), listeners, 'log.dirs': join(dir, 'data'), ...common, ...extra };
      await writeFile(props, Object.entries(all).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
      const n: Node = { id, dir, props, port: id === 4 ? brokerPort : controllerPorts[id - 1]!, child: new NodeChild(`node ${id}`) };
      nodes.push(n);
      return n;
    };
    const c1 = await make(1, 'controller', `CONTROLLER://127.0.0.1:${controllerPorts[0]}`, {});
    const broker = await make(4, 'broker', `PLAINTEXT://127.0.0.1:${brokerPort}`, { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${brokerPort}`, 'inter.broker.listener.name': 'PLAINTEXT' });
    await formatStorage(await loadServerProperties(c1.props), clusterId, { standalone: true });
    await formatStorage(await loadServerProperties(broker.props), clusterId);
    const start = (n: Node): Promise<void> => n.child.start({ launcherArgs: [n.props], timeoutMs: 60_000 });
    await Promise.all([start(c1), start(broker)]);

    // Metadata writes until the leader has taken snapshots and moved its log start.
    const kafka = new Kafka({ clientId: 'dynamic-quorum', brokers: [`127.0.0.1:${brokerPort}`], logLevel: logLevel.NOTHING, retry: { retries: 10 } });
    const admin = kafka.admin();
    await admin.connect();
    let round = 0;
    const writeMetadata = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++, round++) {
        const topic = `t-${round}`;
        await eventually(30_000, () => admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false }));
        await eventually(30_000, () => admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: String(1000 + round) }] }] }));
      }
    };
    const metadataDir = join(c1.dir, 'data', '__cluster_metadata-0');
    const snapshotsOf = async (): Promise<string[]> => (await readdir(metadataDir)).filter((f) => f.endsWith('.checkpoint') && !f.startsWith('00000000000000000000-'));
    for (let i = 0; i < 20 && (await snapshotsOf()).length < 2; i++) await writeMetadata(5);
    expect((await snapshotsOf()).length).toBeGreaterThanOrEqual(2);

    // Two empty controllers join as observers, catch up through the leader's snapshot, and are added.
    const joiners: Node[] = [];
    for (const id of [2, 3]) {
      const n = await make(id, 'controller', `CONTROLLER://127.0.0.1:${controllerPorts[id - 1]}`, {});
      await formatStorage(await loadServerProperties(n.props), clusterId, { noInitialControllers: true });
      joiners.push(n);
    }
    await Promise.all(joiners.map(start));
    for (const n of joiners) {
      await eventually(30_000, async () => {
        const r = await run(['--bootstrap-controller', bootstrapServers, 'add-controller', '--command-config', n.props]);
        if (r.code !== 0) throw new Error(r.err);
        expect(r.out).toMatch(new RegExp(`^Added controller ${n.id} with directory id `));
      });
    }
    expect(joiners.some((n) => n.child.logs.includes('installed the leader\'s snapshot'))).toBe(true);
    const replication = await run(['--bootstrap-controller', bootstrapServers, 'describe', '--replication']);
    expect(replication.err).toBe('');
    const rows = replication.out.trim().split('\n').slice(1).map((l) => l.split('\t').map((c) => c.trim()));
    const voters = rows.filter((r) => r[6] === 'Leader' || r[6] === 'Follower');
    expect(voters.map((r) => Number(r[0])).sort()).toEqual([1, 2, 3]);
    for (const n of [c1, ...joiners]) {
      const meta = await readMetaProperties(join(n.dir, 'data'));
      expect(voters.find((r) => Number(r[0]) === n.id)?.[1]).toBe(meta!.directoryId);
    }
    // Clients with bootstrap.controllers (KIP-919) are told the voters of the log, not the
    // (empty) static list.
    const conn = await KafkaConnection.connect('127.0.0.1', controllerPorts[0]!, { requestTimeoutMs: 5000 });
    try {
      const described = await conn.send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 2 }, { version: 1 });
      expect(described.brokers.map((b) => [b.brokerId, b.port]).sort()).toEqual(controllerPorts.map((port, i) => [i + 1, port]));
    } finally {
      await conn.close();
    }

    // The leader (node 1) is killed: the other two elect a leader and metadata writes go on.
    await c1.child.stop('SIGKILL');
    // The CLI asks the first controller it reaches, and only the leader describes the quorum.
    const survivors = [`127.0.0.1:${controllerPorts[1]}`, `127.0.0.1:${controllerPorts[2]}`];
    let leaderAddress = '';
    await eventually(60_000, async () => {
      for (const address of survivors) {
        const r = await run(['--bootstrap-controller', address, 'describe', '--status']);
        const leader = /LeaderId:\s+(\d+)/.exec(r.out)?.[1];
        if (leader === '2' || leader === '3') {
          leaderAddress = `127.0.0.1:${controllerPorts[Number(leader) - 1]}`;
          return;
        }
      }
      throw new Error('no new leader yet');
    });
    await writeMetadata(3);

    // Node 1 is removed for good.
    const dir1 = (await readMetaProperties(join(c1.dir, 'data')))!.directoryId!;
    await eventually(30_000, async () => {
      // A follower passes the request to the leader.
      const follower = survivors.find((a) => a !== leaderAddress)!;
      const r = await run(['--bootstrap-controller', follower, 'remove-controller', '--controller-id', '1', '--controller-directory-id', dir1]);
      if (r.code !== 0) throw new Error(r.err);
    });
    const after = await run(['--bootstrap-controller', leaderAddress, 'describe', '--replication']);
    const remaining = after.out.trim().split('\n').slice(1).map((l) => l.split('\t').map((c) => c.trim())).filter((r) => r[6] === 'Leader' || r[6] === 'Follower');
    expect(remaining.map((r) => Number(r[0])).sort()).toEqual([2, 3]);
    await writeMetadata(1);
    await admin.disconnect();
  });
});
