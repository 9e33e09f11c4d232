// A KRaft cluster of real node processes on loopback, for cluster and fault tests: one
// `server.properties` per node written as an operator writes it (node.id, process.roles,
// listeners, controller.quorum.voters, ...), storage formatted with one cluster id, each node
// started as `npm start` starts it with its file. Nodes can be killed (SIGKILL), stopped
// (SIGTERM) and started again on the same ports and data. Only processes started here are
// signalled, by pid; `destroy` ends them all and removes the directory.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatStorage } from '../../broker/cli/storage.ts';
import { loadServerProperties } from '../../broker/config/server-properties.ts';
import { randomUuid } from '../../protocol/uuid.ts';
import { freePort } from './broker-process.ts';
import type { NetLab } from './net-lab.ts';
import { NodeChild } from './node-child.ts';

export type Role = 'broker' | 'controller';

export interface ClusterOptions {
  /** Nodes running both roles (ids 1..n), unless controllers/brokers are given. */
  nodes?: number;
  /** Controller-only nodes (ids 1..c) and broker-only nodes (ids c+1..c+b). */
  controllers?: number;
  brokers?: number;
  /** Extra properties for every node. */
  properties?: Record<string, string>;
  startTimeoutMs?: number;
  /** Run each node in its own network namespace of this lab (for partition faults). */
  lab?: NetLab;
}

export class NodeProcess {
  readonly id: number;
  readonly roles: readonly Role[];
  readonly dir: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly propertiesFile: string;
  private readonly child: NodeChild;
  private readonly startTimeoutMs: number;

  /** The node's address: loopback, or its namespace's address in a NetLab. */
  readonly host: string;
  private readonly commandPrefix: readonly string[];

  constructor(id: number, roles: readonly Role[], dir: string, port: number, controllerPort: number, startTimeoutMs: number, lab?: NetLab) {
    this.host = lab ? lab.hostOf(id) : '127.0.0.1';
    this.commandPrefix = lab ? lab.commandPrefix(id) : [];
    this.id = id;
    this.roles = roles;
    this.dir = dir;
    this.port = port;
    this.controllerPort = controllerPort;
    this.propertiesFile = join(dir, 'server.properties');
    this.startTimeoutMs = startTimeoutMs;
    this.child = new NodeChild(`node ${id}`);
  }

  get isBroker(): boolean {
    return this.roles.includes('broker');
  }

  get isController(): boolean {
    return this.roles.includes('controller');
  }

  get bootstrap(): string {
    return `${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.child.running;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get logs(): string {
    return this.child.logs;
  }

  /** Starts the node; resolves once it logged "broker started" (for a broker: registered and unfenced). */
  start(): Promise<void> {
    return this.child.start({ launcherArgs: [this.propertiesFile], timeoutMs: this.startTimeoutMs, commandPrefix: this.commandPrefix });
  }

  /** Sends `signal` and waits (bounded) for the exit; resolves with the exit code. */
  stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    return this.child.stop(signal, timeoutMs);
  }

  kill(): Promise<number | null> {
    return this.stop('SIGKILL');
  }
}

export class ClusterProcess {
  readonly dir: string;
  readonly clusterId: string;
  readonly nodes: readonly NodeProcess[];

  private constructor(dir: string, clusterId: string, nodes: NodeProcess[]) {
    this.dir = dir;
    this.clusterId = clusterId;
    this.nodes = nodes;
  }

  /** Writes every node's server.properties, formats their storage and starts them all. */
  static async start(opts: ClusterOptions = {}): Promise<ClusterProcess> {
    const c = await ClusterProcess.prepare(opts);
    try {
      await Promise.all(c.nodes.map((n) => n.start()));
    } catch (err) {
      await c.destroy();
      throw err;
    }
    return c;
  }

  /** Writes and formats, without starting. */
  static async prepare(opts: ClusterOptions = {}): Promise<ClusterProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-cluster-'));
    const layout: Role[][] = [];
    if (opts.controllers !== undefined || opts.brokers !== undefined) {
      for (let i = 0; i < (opts.controllers ?? 0); i++) layout.push(['controller']);
      for (let i = 0; i < (opts.brokers ?? 0); i++) layout.push(['broker']);
    } else {
      for (let i = 0; i < (opts.nodes ?? 3); i++) layout.push(['broker', 'controller']);
    }
    const nodes: NodeProcess[] = [];
    for (const [i, roles] of layout.entries()) {
      const id = i + 1;
      // In a NetLab each node has its own address and port space: Kafka's usual ports do.
      const [port, controllerPort] = opts.lab ? [9092, 9093] : [await freePort(), await freePort()];
      nodes.push(new NodeProcess(id, roles, join(dir, `node-${id}`), port, controllerPort, opts.startTimeoutMs ?? 60_000, opts.lab));
    }
    const voters = nodes.filter((n) => n.isController).map((n) => `${n.id}@${n.host}:${n.controllerPort}`).join(',');
    const clusterId = randomUuid();
    for (const n of nodes) {
      await mkdir(n.dir, { recursive: true });
      const listeners = [...(n.isBroker ? [`PLAINTEXT://${n.host}:${n.port}`] : []), ...(n.isController ? [`CONTROLLER://${n.host}:${n.controllerPort}`] : [])];
      const props: Record<string, string> = {
        'process.roles': n.roles.join(','),
        'node.id': String(n.id),
        'controller.quorum.voters': voters,
        listeners: listeners.join(','),
        ...(n.isBroker ? { 'advertised.listeners': `PLAINTEXT://${n.host}:${n.port}`, 'inter.broker.listener.name': 'PLAINTEXT' } : {}),
        'controller.listener.names': 'CONTROLLER',
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        'log.dirs': join(n.dir, 'data'),
        // Metrics and health on a free port: nodes of concurrent tests would share a fixed one.
        'http.listeners': `http://${n.host}:0`,
        'num.partitions': '1',
        'offsets.topic.replication.factor': '1',
        'transaction.state.log.replication.factor': '1',
        'transaction.state.log.min.isr': '1',
        ...opts.properties,
      };
      const text = ['# Written by the test cluster harness', ...Object.entries(props).map(([k, v]) => `${k}=${v}`), ''].join('\n');
      await writeFile(n.propertiesFile, text);
      await formatStorage(await loadServerProperties(n.propertiesFile), clusterId);
    }
    return new ClusterProcess(dir, clusterId, nodes);
  }

  node(id: number): NodeProcess {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  get brokers(): NodeProcess[] {
    return this.nodes.filter((n) => n.isBroker);
  }

  get controllers(): NodeProcess[] {
    return this.nodes.filter((n) => n.isController);
  }

  /** Bootstrap servers of the running brokers. */
  get bootstrap(): string[] {
    return this.brokers.filter((n) => n.running).map((n) => n.bootstrap);
  }

  /** Ends every running node (SIGKILL) and removes the cluster's directory. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
