// Every node of the cluster as the console's overview lists it: brokers from the metadata image
// (fenced or not) and controllers from the quorum (voters and the endpoints DescribeQuorum or
// controller.quorum.voters give), each with its HTTP base URL and its own figures when found.
// Nodes do not register their HTTP listeners in the metadata, so the console looks, on the node's
// host, where `samsa cluster start --base-port` puts them (the port after the node's highest
// Kafka port) and on this node's own HTTP port (nodes on separate hosts configured alike), and
// trusts an answer only when /api/node there names the same cluster and node id. What a node
// says of itself (/api/node) needs no login: ids, roles, version, readiness and counts.
import { readFileSync } from 'node:fs';
import type { BrokerContext } from '../broker-context.ts';
import type { Readiness } from '../http/health.ts';
import type { HttpEndpoint } from '../http/http-server.ts';

const PROBE_MS = 1500;
const PROBE_TTL_MS = 30_000;

export const SAMSA_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

export interface NodeSelf {
  nodeId: number;
  clusterId: string;
  roles: string[];
  version: string;
  ready: boolean;
  reason: string | null;
  uptimeSeconds: number;
  rssBytes: number;
  /** Partitions this node holds a replica of, and leads. */
  replicas: number;
  leaders: number;
}

export function nodeSelf(ctx: BrokerContext, readiness: () => Readiness): NodeSelf {
  const r = readiness();
  let replicas = 0;
  let leaders = 0;
  for (const t of ctx.metadata.image.topicsByName.values()) {
    for (const p of t.partitions) {
      if (p.replicas.includes(ctx.nodeId)) replicas++;
      if (p.leader === ctx.nodeId) leaders++;
    }
  }
  return {
    nodeId: ctx.nodeId,
    clusterId: ctx.clusterId,
    roles: [...ctx.config.processRoles],
    version: SAMSA_VERSION,
    ready: r.ready,
    reason: r.reason,
    uptimeSeconds: Math.round(process.uptime()),
    rssBytes: process.memoryUsage.rss(),
    replicas,
    leaders,
  };
}

export interface NodeRow {
  id: number;
  roles: string[];
  endpoints: string[];
  rack: string | null;
  /** Broker state from the image; null for a controller-only node. */
  fenced: boolean | null;
  inControlledShutdown: boolean;
  /** The node's HTTP base URL, when known (this node's own, or found where the layout puts it). */
  http: string | null;
  self: NodeSelf | null;
}

export class NodeDirectory {
  private readonly found = new Map<number, { at: number; url: string | null; self: NodeSelf | null }>();

  constructor(
    private readonly ctx: BrokerContext,
    private readonly ownHttp: () => readonly HttpEndpoint[],
    private readonly readiness: () => Readiness,
  ) {}

  /** `controllers`: voter ids with endpoints ("host:port"), from the quorum. */
  async nodes(controllers: ReadonlyMap<number, string[]>): Promise<NodeRow[]> {
    const image = this.ctx.metadata.image;
    const rows = new Map<number, NodeRow>();
    for (const b of image.brokers.values()) {
      rows.set(b.id, { id: b.id, roles: ['broker'], endpoints: b.endpoints.map((e) => `${e.name}://${e.host}:${e.port}`), rack: b.rack, fenced: b.fenced, inControlledShutdown: b.inControlledShutdown, http: null, self: null });
    }
    for (const [id, eps] of controllers) {
      const row = rows.get(id);
      if (row) {
        row.roles.push('controller');
        for (const e of eps) if (!row.endpoints.includes(e)) row.endpoints.push(e);
      } else rows.set(id, { id, roles: ['controller'], endpoints: eps, rack: null, fenced: null, inControlledShutdown: false, http: null, self: null });
    }
    await Promise.all([...rows.values()].map((r) => this.locate(r)));
    return [...rows.values()].sort((a, b) => a.id - b.id);
  }

  private async locate(row: NodeRow): Promise<void> {
    if (row.id === this.ctx.nodeId) {
      const own = this.ownHttp()[0];
      row.http = own ? `http://${own.host && own.host !== '0.0.0.0' && own.host !== '::' ? (own.host.includes(':') ? `[${own.host}]` : own.host) : '127.0.0.1'}:${own.port}` : null;
      row.self = nodeSelf(this.ctx, this.readiness);
      return;
    }
    const cached = this.found.get(row.id);
    const now = this.ctx.now();
    if (cached?.url) {
      // Known: only its figures are asked again; a node that stopped answering is looked for anew.
      const body = await probe(cached.url);
      if (body && body.clusterId === this.ctx.clusterId && body.nodeId === row.id) {
        row.http = cached.url;
        row.self = body;
        return;
      }
    } else if (cached && now - cached.at < PROBE_TTL_MS) return;
    const addrs = row.endpoints.map((e) => /^(?:\w+:\/\/)?(\[[^\]]+\]|[^:]+):(\d+)$/.exec(e)).filter((m): m is RegExpExecArray => m !== null);
    let url: string | null = null;
    let self: NodeSelf | null = null;
    if (addrs.length > 0) {
      const host = addrs[0]![1]!;
      const ports = [Math.max(...addrs.map((m) => Number(m[2]))) + 1, ...this.ownHttp().map((h) => h.port)];
      for (const port of [...new Set(ports)]) {
        const candidate = `http://${host}:${port}`;
        const body = await probe(candidate);
        if (body && body.clusterId === this.ctx.clusterId && body.nodeId === row.id) {
          url = candidate;
          self = body;
          break;
        }
      }
    }
    this.found.set(row.id, { at: now, url, self });
    row.http = url;
    row.self = self;
  }
}

async function probe(base: string): Promise<NodeSelf | null> {
  try {
    const r = await fetch(`${base}/api/node`, { signal: AbortSignal.timeout(PROBE_MS) });
    return r.ok ? ((await r.json()) as NodeSelf) : null;
  } catch {
    // Nothing answers there, or not as a Samsa node.
    return null;
  }
}
