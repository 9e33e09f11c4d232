// The node directory on loopback: a peer's console is linked, with its own figures, only where
// /api/node answers with the same cluster and the peer's id (at the port after its highest Kafka
// port, or at this node's HTTP port); an impostor or nothing at all leaves it unlinked; this
// node is always linked at its own listener. Controllers from the quorum join the list.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerContext } from '../broker-context.ts';
import { NodeDirectory, type NodeSelf } from './console-nodes.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** An HTTP server answering /api/node with `self`; resolves with its port. */
async function fakeNode(self: Partial<NodeSelf>, port = 0): Promise<number> {
  const s = createServer((req, res) => {
    if (req.url !== '/api/node') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(self));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

function context(brokers: { id: number; port: number }[]): BrokerContext {
  const registrations = new Map(brokers.map((b) => [b.id, { id: b.id, endpoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: b.port }], rack: null, fenced: b.id === 3, inControlledShutdown: false }]));
  return {
    nodeId: 1,
    clusterId: 'cluster-a',
    config: { processRoles: ['broker'] },
    metadata: { image: { brokers: registrations, topicsByName: new Map() } },
    now: () => Date.now(),
  } as unknown as BrokerContext;
}

describe('NodeDirectory', () => {
  it('links peers that answer as themselves, and only those', async () => {
    // Node 2's console sits one port above its Kafka port, as samsa cluster start --base-port lays it out.
    const peer = await fakeNode({ nodeId: 2, clusterId: 'cluster-a', version: '9.9.9', replicas: 4, leaders: 2 });
    const impostor = await fakeNode({ nodeId: 3, clusterId: 'cluster-b' });
    const own = await fakeNode({});
    // Node 4 answers on this node's HTTP port (separate hosts configured alike): here, own's port.
    const dir = new NodeDirectory(
      context([{ id: 1, port: 1 }, { id: 2, port: peer - 1 }, { id: 3, port: impostor - 1 }, { id: 5, port: 9 }]),
      () => [{ host: '127.0.0.1', port: own }],
      () => ({ ready: true, reason: null }),
    );
    const rows = await dir.nodes(new Map([[1, ['CONTROLLER://127.0.0.1:2']], [6, ['CONTROLLER://127.0.0.1:7']]]));
    expect(rows.map((r) => [r.id, r.roles, r.http])).toEqual([
      [1, ['broker', 'controller'], `http://127.0.0.1:${own}`],
      [2, ['broker'], `http://127.0.0.1:${peer}`],
      [3, ['broker'], null],
      [5, ['broker'], null],
      [6, ['controller'], null],
    ]);
    expect(rows[0]!.self).toMatchObject({ nodeId: 1, clusterId: 'cluster-a', ready: true });
    expect(rows[1]!.self).toMatchObject({ nodeId: 2, version: '9.9.9', replicas: 4, leaders: 2 });
    expect(rows[2]!.fenced).toBe(true);
    expect(rows[4]!.fenced).toBeNull();
    expect(rows[0]!.endpoints).toEqual(['PLAINTEXT://127.0.0.1:1', 'CONTROLLER://127.0.0.1:2']);
  }, 20_000);

  it('finds a peer on this node\'s own HTTP port', async () => {
    const peerHttp = await fakeNode({ nodeId: 4, clusterId: 'cluster-a' });
    const dir = new NodeDirectory(context([{ id: 4, port: 1 }]), () => [{ host: '127.0.0.1', port: peerHttp }], () => ({ ready: true, reason: null }));
    const rows = await dir.nodes(new Map());
    expect(rows.find((r) => r.id === 4)!.http).toBe(`http://127.0.0.1:${peerHttp}`);
  }, 20_000);
});
