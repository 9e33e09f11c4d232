// The layout `samsa cluster start` gives a cluster on one machine, and each node's
// server.properties in Kafka's KRaft format. Either N combined nodes
// (process.roles=broker,controller, ids 1..N) or C controller-only nodes (ids 1..C) and B
// broker-only nodes (ids C+1..C+B). Every listener is on 127.0.0.1; ports are handed out in node
// order, a node's PLAINTEXT port, then its CONTROLLER port, then its HTTP port (/metrics, /health).
// Pure: no I/O, so the exact text is testable.
import { join } from 'node:path';
import { CliError } from './command-io.ts';

export const HOST = '127.0.0.1';
export const BROKER_LISTENER = 'PLAINTEXT';
export const CONTROLLER_LISTENER = 'CONTROLLER';

export type Role = 'broker' | 'controller';

export interface NodeLayout {
  nodeId: number;
  roles: Role[];
  /** Port of the PLAINTEXT listener (broker role). */
  brokerPort?: number;
  /** Port of the CONTROLLER listener (controller role). */
  controllerPort?: number;
  /** Port of the HTTP listener (metrics, health, console); every node has one. */
  httpPort?: number;
  /** <dir>/node-<id>: server.properties, pid, server.log and data/. */
  dir: string;
}

export interface ClusterShape {
  /** Combined broker+controller nodes. */
  combined: number;
  controllers: number;
  brokers: number;
}

/** Checks --nodes / --controllers / --brokers as the command takes them. */
export function clusterShape(o: { nodes?: number; controllers?: number; brokers?: number }): ClusterShape {
  const separate = o.controllers !== undefined || o.brokers !== undefined;
  if (separate) {
    if (o.controllers === undefined || o.brokers === undefined) throw new CliError('--controllers and --brokers go together: give both, or --nodes alone for combined nodes');
    if (o.controllers < 1) throw new CliError('--controllers must be at least 1');
    if (o.brokers < 1) throw new CliError('--brokers must be at least 1');
    if (o.nodes !== undefined && o.nodes !== o.controllers + o.brokers) {
      throw new CliError(`--nodes ${o.nodes} does not equal --controllers ${o.controllers} plus --brokers ${o.brokers}`);
    }
    return { combined: 0, controllers: o.controllers, brokers: o.brokers };
  }
  if (o.nodes === undefined) throw new CliError('Missing required option --nodes (or --controllers and --brokers)');
  if (o.nodes < 1) throw new CliError('--nodes must be at least 1');
  return { combined: o.nodes, controllers: 0, brokers: 0 };
}

/** How many ports a shape needs. */
export function portsNeeded(shape: ClusterShape): number {
  return shape.combined * 3 + shape.controllers * 2 + shape.brokers * 2;
}

/** The nodes of a shape, taking ports in order from `ports` (at least portsNeeded of them). */
export function planNodes(shape: ClusterShape, dir: string, ports: readonly number[]): NodeLayout[] {
  if (ports.length < portsNeeded(shape)) throw new Error(`${portsNeeded(shape)} ports needed, ${ports.length} given`);
  let next = 0;
  const take = (): number => ports[next++]!;
  const nodes: NodeLayout[] = [];
  const add = (roles: Role[]): void => {
    const nodeId = nodes.length + 1;
    const node: NodeLayout = { nodeId, roles, dir: join(dir, `node-${nodeId}`) };
    if (roles.includes('broker')) node.brokerPort = take();
    if (roles.includes('controller')) node.controllerPort = take();
    node.httpPort = take();
    nodes.push(node);
  };
  for (let i = 0; i < shape.combined; i++) add(['broker', 'controller']);
  for (let i = 0; i < shape.controllers; i++) add(['controller']);
  for (let i = 0; i < shape.brokers; i++) add(['broker']);
  return nodes;
}

export function listenersOf(node: NodeLayout): string[] {
  const out: string[] = [];
  if (node.brokerPort !== undefined) out.push(`${BROKER_LISTENER}://${HOST}:${node.brokerPort}`);
  if (node.controllerPort !== undefined) out.push(`${CONTROLLER_LISTENER}://${HOST}:${node.controllerPort}`);
  return out;
}

/** controller.quorum.voters of the cluster: id@host:port of every controller. */
export function quorumVoters(nodes: readonly NodeLayout[]): string {
  return nodes
    .filter((n) => n.controllerPort !== undefined)
    .map((n) => `${n.nodeId}@${HOST}:${n.controllerPort}`)
    .join(',');
}

/** The brokers' client listeners, comma-separated: what clients bootstrap from. */
export function bootstrapServers(nodes: readonly NodeLayout[]): string {
  return nodes
    .filter((n) => n.brokerPort !== undefined)
    .map((n) => `${HOST}:${n.brokerPort}`)
    .join(',');
}

/** One node's server.properties. Internal topics are replicated to min(3, brokers) nodes, as Kafka's defaults are for three or more. */
export function serverProperties(node: NodeLayout, nodes: readonly NodeLayout[]): string {
  const brokers = nodes.filter((n) => n.roles.includes('broker')).length;
  const replication = Math.min(3, brokers);
  const listeners = listenersOf(node).join(',');
  const lines = [
    `# Node ${node.nodeId} of a ${nodes.length}-node Samsa cluster on one machine (${node.roles.join(' and ')}).`,
    `# Written by samsa cluster start; started as: samsa server-start ${join(node.dir, 'server.properties')}`,
    '',
    `process.roles=${node.roles.join(',')}`,
    `node.id=${node.nodeId}`,
    `controller.quorum.voters=${quorumVoters(nodes)}`,
    '',
    `listeners=${listeners}`,
    `advertised.listeners=${listeners}`,
    `controller.listener.names=${CONTROLLER_LISTENER}`,
  ];
  if (node.roles.includes('broker')) lines.push(`inter.broker.listener.name=${BROKER_LISTENER}`);
  lines.push(`listener.security.protocol.map=${CONTROLLER_LISTENER}:PLAINTEXT,${BROKER_LISTENER}:PLAINTEXT`);
  if (node.httpPort !== undefined) lines.push(`http.listeners=http://${HOST}:${node.httpPort}`);
  lines.push(
    '',
    `log.dirs=${join(node.dir, 'data')}`,
    'num.partitions=1',
    `default.replication.factor=${replication}`,
    `offsets.topic.replication.factor=${replication}`,
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${Math.min(2, replication)}`,
  );
  return lines.join('\n') + '\n';
}
