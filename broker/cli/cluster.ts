// `samsa cluster start|stop|status`: the script an operator writes to run a KRaft cluster on one
// machine. `start` writes one server.properties per node into <dir>/node-<id>/ (cluster-layout.ts),
// formats every node with one new cluster id (as `samsa storage format` does), and starts each
// node in the background as `npm start` runs the broker, with its properties file as argument,
// its pid in <dir>/node-<id>/pid and its output appended to <dir>/node-<id>/server.log; it waits
// until every node is up and prints the bootstrap servers (the brokers' listeners) as its last
// line. A directory that already holds a cluster is started again as it is, data kept.
// `stop` sends SIGTERM to each node's pid, only after checking the process is still that node
// (its command line names the node's properties file, read from /proc), broker-only nodes before
// the others, waits for them to exit, and SIGKILLs any left after the timeout. `status` prints each node's id, roles, pid, state and listeners.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import type { Server } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { randomUuid } from '../../protocol/uuid.ts';
import { ConfigError } from '../config/config-error.ts';
import { parseServerProperties } from '../config/server-properties.ts';
import { LAUNCHER, startNodeFlags } from '../start-command.ts';
import { parseProperties } from '../../storage/java-properties.ts';
import { bootstrapServers, clusterShape, HOST, planNodes, portsNeeded, serverProperties } from './cluster-layout.ts';
import type { NodeLayout, Role } from './cluster-layout.ts';
import { CliError, parseInteger, processIo, runAction, sleep } from './command-io.ts';
import type { CommandIo } from './command-io.ts';
import { prettyTable } from './pretty-table.ts';
import { FormatterError, formatStorage } from './storage.ts';

const STARTED_LINE = '"msg":"broker started"';
const POLL_MS = 200;
const DEFAULT_TIMEOUT_MS = 60_000;
const KILL_WAIT_MS = 5_000;

/** A node found in a cluster directory. */
export interface ClusterNode {
  nodeId: number;
  dir: string;
  propertiesFile: string;
  roles: Role[];
  listeners: string[];
  /** host:port of the first client (non-controller) listener. */
  brokerAddress?: string;
  /** host:port of the first controller listener. */
  controllerAddress?: string;
}

const propertiesFileOf = (nodeDir: string): string => join(nodeDir, 'server.properties');
const pidFileOf = (nodeDir: string): string => join(nodeDir, 'pid');
const logFileOf = (nodeDir: string): string => join(nodeDir, 'server.log');

/** The nodes of a cluster directory (<dir>/node-<id>/server.properties), by id. */
export function readCluster(dir: string): ClusterNode[] {
  if (!existsSync(dir)) return [];
  const nodes: ClusterNode[] = [];
  for (const name of readdirSync(dir)) {
    const m = /^node-(\d+)$/.exec(name);
    const nodeDir = join(dir, name);
    if (m === null || !existsSync(propertiesFileOf(nodeDir))) continue;
    const props = parseProperties(readFileSync(propertiesFileOf(nodeDir), 'utf8'));
    const listeners = (props['listeners'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const controllerNames = new Set((props['controller.listener.names'] ?? '').split(',').map((s) => s.trim().toUpperCase()));
    const isController = (l: string): boolean => controllerNames.has(l.slice(0, l.indexOf('://')).toUpperCase());
    const address = (l: string | undefined): string | undefined => (l === undefined ? undefined : l.slice(l.indexOf('://') + 3));
    const broker = listeners.find((l) => !isController(l));
    nodes.push({
      nodeId: Number(props['node.id'] ?? m[1]),
      dir: nodeDir,
      propertiesFile: propertiesFileOf(nodeDir),
      roles: (props['process.roles'] ?? '').split(',').map((r) => r.trim()).filter((r): r is Role => r === 'broker' || r === 'controller'),
      listeners,
      brokerAddress: address(broker),
      controllerAddress: address(listeners.find(isController)),
    });
  }
  return nodes.sort((a, b) => a.nodeId - b.nodeId);
}

function readPid(nodeDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFileOf(nodeDir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Whether pid is a live process (not a zombie) whose command line names the node's properties file. */
export function isNodeProcess(pid: number, propertiesFile: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
  let cmdline: string;
  let stat: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // No /proc entry: the process is gone (or there is no /proc to check against); never signal it.
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && cmdline.split('\0').includes(propertiesFile);
}

/** The pid of a node's running process, or undefined (a stale pid file is not trusted). */
export function runningPid(node: ClusterNode): number | undefined {
  const pid = readPid(node.dir);
  return pid !== undefined && isNodeProcess(pid, node.propertiesFile) ? pid : undefined;
}

/** `count` distinct free loopback ports: from basePort upward (checked free), else ephemeral. */
export async function allocatePorts(count: number, basePort: number | undefined): Promise<number[]> {
  const held: Server[] = [];
  const listen = (port: number): Promise<Server> =>
    new Promise((resolveServer, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, HOST, () => resolveServer(s));
    });
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const wanted = basePort === undefined ? 0 : basePort + i;
      let s: Server;
      try {
        s = await listen(wanted);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CliError(`Port ${wanted} on ${HOST} is in use; choose another --base-port`);
        throw e;
      }
      held.push(s);
      const addr = s.address();
      ports.push(typeof addr === 'object' && addr !== null ? addr.port : wanted);
    }
    return ports;
  } finally {
    // Held until all are chosen, so the ephemeral ones are distinct.
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Writes every node's server.properties and formats it with one new cluster id. */
async function createCluster(io: CommandIo, dir: string, o: StartOptions): Promise<ClusterNode[]> {
  const shape = clusterShape(o);
  if (o.basePort !== undefined && (o.basePort < 1 || o.basePort + portsNeeded(shape) - 1 > 65535)) {
    throw new CliError(`--base-port ${o.basePort} leaves no room for ${portsNeeded(shape)} ports`);
  }
  const layout: NodeLayout[] = planNodes(shape, dir, await allocatePorts(portsNeeded(shape), o.basePort));
  const clusterId = randomUuid();
  io.out(`Creating a cluster of ${layout.length} node(s) in ${dir} with cluster id ${clusterId}\n`);
  for (const node of layout) {
    await mkdir(node.dir, { recursive: true });
    const text = serverProperties(node, layout);
    await writeFile(propertiesFileOf(node.dir), text);
    const config = parseServerProperties(text, propertiesFileOf(node.dir));
    await formatStorage(config, clusterId, { out: (line) => io.out(line + '\n') });
  }
  return readCluster(dir);
}

/** Starts a node's process in the background; resolves with its pid and where its output began. */
async function launchNode(node: ClusterNode): Promise<{ pid: number; logOffset: number }> {
  const log = logFileOf(node.dir);
  const logOffset = existsSync(log) ? statSync(log).size : 0;
  const fd = openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [...startNodeFlags(), LAUNCHER, node.propertiesFile], {
      cwd: dirname(dirname(LAUNCHER)),
      detached: true,
      stdio: ['ignore', fd, fd],
      env: process.env,
    });
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolvePid(child.pid!));
    });
    child.unref();
    await writeFile(pidFileOf(node.dir), `${pid}\n`);
    return { pid, logOffset };
  } finally {
    closeSync(fd);
  }
}

function logSince(node: ClusterNode, offset: number): string {
  try {
    return readFileSync(logFileOf(node.dir)).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/** Resolves once the node is up: a broker has logged that it started, a controller accepts connections. */
async function waitUntilUp(node: ClusterNode, pid: number, logOffset: number, deadline: number): Promise<void> {
  const controllerPort = node.controllerAddress?.split(':').pop();
  while (Date.now() < deadline) {
    if (!isNodeProcess(pid, node.propertiesFile)) {
      const tail = logSince(node, logOffset).split('\n').slice(-15).join('\n');
      throw new CliError(`Node ${node.nodeId} exited during startup; the end of ${logFileOf(node.dir)}:\n${tail}`);
    }
    if (node.roles.includes('broker')) {
      if (logSince(node, logOffset).includes(STARTED_LINE)) return;
    } else if (controllerPort !== undefined && (await accepts(Number(controllerPort)))) {
      return;
    }
    await sleep(POLL_MS);
  }
  throw new CliError(`Node ${node.nodeId} did not start within the timeout; see ${logFileOf(node.dir)}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolveAccepts) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolveAccepts(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, HOST, () => done(true));
  });
}

/** Sends SIGTERM to the nodes' processes, waits up to timeoutMs, then SIGKILLs what is left. */
async function stopNodes(io: CommandIo, nodes: readonly { node: ClusterNode; pid: number }[], timeoutMs: number): Promise<void> {
  for (const { pid } of nodes) process.kill(pid, 'SIGTERM');
  const waitFor = async (pending: { node: ClusterNode; pid: number }[], ms: number): Promise<{ node: ClusterNode; pid: number }[]> => {
    const deadline = Date.now() + ms;
    let left = pending;
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(POLL_MS);
      left = left.filter(({ node, pid }) => isNodeProcess(pid, node.propertiesFile));
    }
    return left;
  };
  let left = await waitFor([...nodes], timeoutMs);
  for (const { node, pid } of left) {
    io.err(`Node ${node.nodeId} (pid ${pid}) did not stop within ${timeoutMs} ms; killing it\n`);
    process.kill(pid, 'SIGKILL');
  }
  left = await waitFor(left, KILL_WAIT_MS);
  for (const { node, pid } of nodes) {
    if (left.some((l) => l.pid === pid)) continue;
    await rm(pidFileOf(node.dir), { force: true });
    io.out(`Stopped node ${node.nodeId} (pid ${pid})\n`);
  }
  if (left.length > 0) throw new CliError(`Node(s) ${left.map((l) => l.node.nodeId).join(', ')} still running after SIGKILL`);
}

interface StartOptions {
  nodes?: number;
  controllers?: number;
  brokers?: number;
  basePort?: number;
  timeoutMs: number;
}

export async function startCluster(io: CommandIo, dirOption: string, o: StartOptions): Promise<string> {
  const dir = resolve(dirOption);
  let nodes = readCluster(dir);
  if (nodes.length > 0) {
    for (const node of nodes) {
      const pid = runningPid(node);
      if (pid !== undefined) throw new CliError(`Node ${node.nodeId} is already running (pid ${pid}); run samsa cluster stop --dir ${dirOption} first`);
    }
    if (o.nodes !== undefined || o.controllers !== undefined || o.brokers !== undefined || o.basePort !== undefined) {
      io.err(`${dir} already holds a cluster: --nodes, --controllers, --brokers and --base-port are ignored\n`);
    }
    io.out(`Starting the existing cluster of ${nodes.length} node(s) in ${dir}\n`);
  } else {
    nodes = await createCluster(io, dir, o);
  }
  const started: { node: ClusterNode; pid: number; logOffset: number }[] = [];
  try {
    for (const node of nodes) {
      const { pid, logOffset } = await launchNode(node);
      started.push({ node, pid, logOffset });
      io.out(`Started node ${node.nodeId} (${node.roles.join(',')}), pid ${pid}, log ${logFileOf(node.dir)}\n`);
    }
    // Every node is launched before any is awaited: the controllers need a quorum to elect a leader.
    const deadline = Date.now() + o.timeoutMs;
    for (const { node, pid, logOffset } of started) await waitUntilUp(node, pid, logOffset, deadline);
  } catch (e) {
    const running = started.filter(({ node, pid }) => isNodeProcess(pid, node.propertiesFile));
    await stopNodes(io, running, KILL_WAIT_MS).catch(() => {});
    for (const { node } of started) await rm(pidFileOf(node.dir), { force: true });
    throw e;
  }
  const bootstrap = nodes.flatMap((n) => (n.brokerAddress === undefined ? [] : [n.brokerAddress])).join(',');
  io.out(`${bootstrap}\n`);
  return bootstrap;
}

export async function stopCluster(io: CommandIo, dirOption: string, timeoutMs: number): Promise<void> {
  const nodes = readCluster(resolve(dirOption));
  if (nodes.length === 0) throw new CliError(`No cluster found in ${dirOption}`);
  const running: { node: ClusterNode; pid: number }[] = [];
  for (const node of nodes) {
    const recorded = readPid(node.dir);
    const pid = runningPid(node);
    if (pid !== undefined) running.push({ node, pid });
    else {
      // A pid file naming another process (or none) is stale: the node is not running.
      if (recorded !== undefined) await rm(pidFileOf(node.dir), { force: true });
      io.out(`Node ${node.nodeId} is not running\n`);
    }
  }
  // Brokers first, as Kafka's operators stop them: a broker's controlled shutdown needs the controllers.
  const brokerOnly = running.filter(({ node }) => !node.roles.includes('controller'));
  await stopNodes(io, brokerOnly, timeoutMs);
  await stopNodes(io, running.filter((r) => !brokerOnly.includes(r)), timeoutMs);
}

export function clusterStatus(dirOption: string): string {
  const nodes = readCluster(resolve(dirOption));
  if (nodes.length === 0) throw new CliError(`No cluster found in ${dirOption}`);
  const rows = nodes.map((node) => {
    const pid = runningPid(node);
    return [String(node.nodeId), node.roles.join(','), pid === undefined ? '-' : String(pid), pid === undefined ? 'stopped' : 'running', node.listeners.join(',')];
  });
  return prettyTable(['NodeId', 'Roles', 'Pid', 'State', 'Listeners'], rows);
}

export function clusterCommand(io: CommandIo = processIo): Command {
  const cmd = new Command('cluster').description('Start, stop and inspect a KRaft cluster of Samsa nodes on this machine.');
  const run = (body: () => Promise<void>): Promise<void> =>
    runAction(io, '', async () => {
      try {
        await body();
      } catch (e) {
        if (e instanceof ConfigError || e instanceof FormatterError) throw new CliError(e.message);
        throw e;
      }
    });
  const timeout = (raw: string | undefined): number => parseInteger('--timeout-ms', raw, 1) ?? DEFAULT_TIMEOUT_MS;
  cmd
    .command('start')
    .description('Write, format and start the nodes (or start again the cluster already in --dir); prints the bootstrap servers last.')
    .requiredOption('--dir <dir>', 'the cluster directory: node-<id>/ with server.properties, pid, server.log and data/')
    .option('--nodes <n>', 'number of combined broker+controller nodes')
    .option('--controllers <c>', 'number of controller-only nodes (with --brokers)')
    .option('--brokers <b>', 'number of broker-only nodes (with --controllers)')
    .option('--base-port <port>', 'first listener port (default: free ports chosen by the system)')
    .option('--timeout-ms <ms>', 'how long to wait for the nodes to start', String(DEFAULT_TIMEOUT_MS))
    .action(async (o: { dir: string; nodes?: string; controllers?: string; brokers?: string; basePort?: string; timeoutMs?: string }) => {
      await run(async () => {
        await startCluster(io, o.dir, {
          nodes: parseInteger('--nodes', o.nodes),
          controllers: parseInteger('--controllers', o.controllers),
          brokers: parseInteger('--brokers', o.brokers),
          basePort: parseInteger('--base-port', o.basePort),
          timeoutMs: timeout(o.timeoutMs),
        });
      });
    });
  cmd
    .command('stop')
    .description('Stop the nodes started from --dir (SIGTERM, then SIGKILL after the timeout).')
    .requiredOption('--dir <dir>', 'the cluster directory')
    .option('--timeout-ms <ms>', 'how long to wait for the nodes to stop before killing them', '30000')
    .action(async (o: { dir: string; timeoutMs?: string }) => {
      await run(() => stopCluster(io, o.dir, timeout(o.timeoutMs)));
    });
  cmd
    .command('status')
    .description('Print each node: id, roles, pid, running or stopped, listeners.')
    .requiredOption('--dir <dir>', 'the cluster directory')
    .action(async (o: { dir: string }) => {
      await run(async () => io.out(clusterStatus(o.dir)));
    });
  return cmd;
}
