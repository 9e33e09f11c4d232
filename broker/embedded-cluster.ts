// A small KRaft cluster inside the calling process, for test suites (ours and other projects'):
// each node is a Broker with its own loopback ports, log directory and server.properties, laid
// out as `samsa cluster start` lays out a cluster (combined broker+controller nodes, or
// controller-only and broker-only ones), formatted with one cluster id. Nodes can be stopped
// (controlled shutdown), killed (halted as a crash looks to the others: no controlled shutdown,
// no resignation, no clean-shutdown marker) and started again on the same ports and data.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { randomUuid } from '../protocol/uuid.ts';
import { Broker } from './broker.ts';
import { allocatePorts } from './cli/cluster.ts';
import { type ClusterShape, HOST, type NodeLayout, planNodes, portsNeeded, type Role, serverProperties } from './cli/cluster-layout.ts';
import { formatStorage } from './cli/storage.ts';
import { loadServerProperties } from './config/server-properties.ts';

export interface StartClusterOptions {
  /** Nodes with the broker role (3 by default). */
  brokers?: number;
  /**
   * Controller-only nodes. Without it the first min(brokers, 3) brokers are also the quorum's
   * voters (process.roles=broker,controller), as small Kafka clusters are often run.
   */
  controllers?: number;
  /** Kafka properties for every node, e.g. { 'min.insync.replicas': '2' }. */
  overrides?: Readonly<Record<string, string>>;
  /** A pino logger, each node's lines tagged with its node id; silent by default. */
  logger?: Logger;
  /** Where the nodes keep their files; a new temporary directory (removed by stop()) by default. */
  dir?: string;
}

export interface ClusterNode {
  readonly nodeId: number;
  readonly roles: readonly Role[];
  /** host:port of its client listener, for broker nodes. */
  readonly bootstrap: string | undefined;
  readonly running: boolean;
  /** The running Broker, while it runs. */
  readonly broker: Broker | undefined;
  /** Starts the node (again) on its ports and data; resolves once it serves. */
  start(): Promise<void>;
  /** Graceful stop: controlled shutdown, resignation from the quorum, clean-shutdown marker. */
  stop(): Promise<void>;
  /** Halts the node as a crash would (see Broker.halt). */
  kill(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
}

export interface StartedCluster {
  clusterId: string;
  /** Client listeners of every broker node, comma-separated, for bootstrap.servers. */
  bootstrap: string;
  nodes: readonly ClusterNode[];
  node(nodeId: number): ClusterNode;
  /**
   * Ends every running node: halted when the directory was made here (it is removed, so a clean
   * shutdown would buy nothing and a quorum stopping all at once would wait out its timeouts),
   * stopped gracefully otherwise.
   */
  stop(): Promise<void>;
}

class EmbeddedNode implements ClusterNode {
  private current: Broker | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly layout: NodeLayout,
    private readonly overrides: readonly string[],
    private readonly logger: Logger,
  ) {}

  get nodeId(): number {
    return this.layout.nodeId;
  }

  get roles(): readonly Role[] {
    return this.layout.roles;
  }

  get bootstrap(): string | undefined {
    return this.layout.brokerPort === undefined ? undefined : `${HOST}:${this.layout.brokerPort}`;
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  get broker(): Broker | undefined {
    return this.current;
  }

  get propertiesFile(): string {
    return join(this.layout.dir, 'server.properties');
  }

  start(): Promise<void> {
    this.starting ??= (async () => {
      try {
        if (this.current) return;
        const config = await loadServerProperties(this.propertiesFile, this.overrides);
        this.current = await Broker.start(config, this.logger.child({ node: this.nodeId }));
      } finally {
        this.starting = undefined;
      }
    })();
    return this.starting;
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const b = this.current;
    this.current = undefined;
    await b?.stop();
  }

  async kill(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const b = this.current;
    this.current = undefined;
    await b?.halt();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** The layout of `brokers`/`controllers` as StartClusterOptions describes it. */
export function embeddedShape(brokers: number, controllers: number | undefined): ClusterShape {
  if (!Number.isInteger(brokers) || brokers < 1) throw new Error(`brokers must be a positive integer, not ${brokers}`);
  if (controllers === undefined) {
    const combined = Math.min(brokers, 3);
    return { combined, controllers: 0, brokers: brokers - combined };
  }
  if (!Number.isInteger(controllers) || controllers < 1) throw new Error(`controllers must be a positive integer, not ${controllers}`);
  return { combined: 0, controllers, brokers };
}

/** Lays out, formats and starts a cluster in this process; resolves once every node serves. */
export async function startCluster(options: StartClusterOptions = {}): Promise<StartedCluster> {
  const shape = embeddedShape(options.brokers ?? 3, options.controllers);
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'samsa-cluster-')));
  const logger = options.logger ?? pino({ level: 'silent' });
  const overrides = Object.entries(options.overrides ?? {}).map(([k, v]) => `${k}=${v}`);
  const layouts = planNodes(shape, dir, await allocatePorts(portsNeeded(shape), undefined));
  const clusterId = randomUuid();
  const nodes: EmbeddedNode[] = [];
  for (const layout of layouts) {
    await mkdir(layout.dir, { recursive: true });
    const node = new EmbeddedNode(layout, overrides, logger);
    await writeFile(node.propertiesFile, serverProperties(layout, layouts));
    await formatStorage(await loadServerProperties(node.propertiesFile, overrides), clusterId);
    nodes.push(node);
  }
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((n) => (ownDir ? n.kill() : n.stop())));
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };
  // Brokers wait for the quorum to unfence them, so every node starts at once.
  const started = await Promise.allSettled(nodes.map((n) => n.start()));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw (failed as PromiseRejectedResult).reason;
  }
  // Each node was serving once its own image showed it unfenced; an earlier node may not yet have
  // heard of a later one. Every node catches up to the furthest image, so any broker's first
  // Metadata answer lists them all.
  let furthest = -1n;
  for (const n of nodes) {
    const offset = n.broker?.context.metadata.image.offset ?? -1n;
    if (offset > furthest) furthest = offset;
  }
  await Promise.all(nodes.map((n) => n.broker?.context.metadata.waitFor(furthest)));
  return {
    clusterId,
    bootstrap: nodes.flatMap((n) => (n.bootstrap ? [n.bootstrap] : [])).join(','),
    nodes,
    node(nodeId: number): ClusterNode {
      const n = nodes.find((x) => x.nodeId === nodeId);
      if (!n) throw new Error(`no node ${nodeId} in this cluster`);
      return n;
    },
    stop: stopAll,
  };
}
