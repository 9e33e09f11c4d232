import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allocatePorts, clusterStatus, isNodeProcess, readCluster, runningPid, stopCluster } from './cluster.ts';
import { clusterShape, planNodes, serverProperties } from './cluster-layout.ts';
import type { CommandIo } from './command-io.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'samsa-cluster-unit-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeLayout(shape: { nodes?: number; controllers?: number; brokers?: number }): Promise<void> {
  const s = clusterShape(shape);
  const nodes = planNodes(s, root, [19101, 19102, 19103, 19104, 19105, 19106]);
  for (const n of nodes) {
    await mkdir(n.dir, { recursive: true });
    await writeFile(join(n.dir, 'server.properties'), serverProperties(n, nodes));
  }
}

describe('cluster directory', () => {
  it('reads its nodes back from their server.properties', async () => {
    await writeLayout({ controllers: 1, brokers: 2 });
    await mkdir(join(root, 'not-a-node'));
    expect(readCluster(root).map((n) => [n.nodeId, n.roles, n.brokerAddress, n.controllerAddress])).toEqual([
      [1, ['controller'], undefined, '127.0.0.1:19101'],
      [2, ['broker'], '127.0.0.1:19103', undefined],
      [3, ['broker'], '127.0.0.1:19105', undefined],
    ]);
    expect(readCluster(join(root, 'missing'))).toEqual([]);
  });

  it('trusts a pid file only for a live process whose command line names the node\'s properties file', async () => {
    await writeLayout({ nodes: 1 });
    const [node] = readCluster(root);
    expect(runningPid(node!)).toBeUndefined();
    // This test's own process is alive but is not the node: its pid file is stale.
    await writeFile(join(node!.dir, 'pid'), `${process.pid}\n`);
    expect(isNodeProcess(process.pid, node!.propertiesFile)).toBe(false);
    expect(runningPid(node!)).toBeUndefined();
    expect(clusterStatus(root)).toBe(
      'NodeId\tRoles            \tPid\tState  \tListeners                                               \t\n' +
        '1     \tbroker,controller\t-  \tstopped\tPLAINTEXT://127.0.0.1:19101,CONTROLLER://127.0.0.1:19102\t\n',
    );
    // stop leaves a process that is not the node alone and drops the stale pid file.
    let out = '';
    const io: CommandIo = { out: (t) => (out += t), err: () => {}, fail: () => {} };
    await stopCluster(io, root, 1000);
    expect(out).toBe('Node 1 is not running\n');
    expect(readCluster(root)).toHaveLength(1);
  });

  it('stops a process that is the node: its command line names the properties file', { timeout: 20_000 }, async () => {
    await writeLayout({ nodes: 1 });
    const [node] = readCluster(root);
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', node!.propertiesFile], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await new Promise((r) => child.once('spawn', r));
      await writeFile(join(node!.dir, 'pid'), `${child.pid}\n`);
      expect(runningPid(node!)).toBe(child.pid);
      expect(clusterStatus(root).split('\n')[1]).toMatch(new RegExp(`^1 +\tbroker,controller\t${child.pid}\trunning\t`));
      let out = '';
      await stopCluster({ out: (t) => (out += t), err: () => {}, fail: () => {} }, root, 5000);
      expect(out).toBe(`Stopped node 1 (pid ${child.pid})\n`);
      await exited;
      expect(runningPid(node!)).toBeUndefined();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

describe('ports', () => {
  let busy: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (busy ? busy.close(r) : r(undefined)));
    busy = undefined;
  });

  it('hands out distinct free ports, and refuses a --base-port range with a port in use', async () => {
    const free = await allocatePorts(4, undefined);
    expect(new Set(free).size).toBe(4);
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    await expect(allocatePorts(2, port - 1)).rejects.toThrow(`Port ${port} on 127.0.0.1 is in use; choose another --base-port`);
  });
});
