// The web console: static files (plain HTML, CSS and JavaScript modules; no build step, nothing
// fetched from elsewhere) at / and /console/*, fed by a small JSON API under /api/. The files are
// read on first use from broker/console/static/, found relative to this module both when it runs
// from source and from the bundle in broker/dist/ (both sit one folder below broker/).
// Every /api/ route but /api/session, /api/login and /api/node needs a principal: a login session
// when the node's listeners use SASL (401 otherwise), User:ANONYMOUS when they do not. A POST
// must be JSON from the console's own origin (403 otherwise), so another site cannot act through
// a visitor's browser. Failed actions answer JSON { error, kafkaError }: 400 for a malformed
// request, 404 for an unknown topic or group, 409 with Kafka's error name for a Kafka outcome.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BrokerContext } from '../broker-context.ts';
import type { Readiness } from '../http/health.ts';
import { type HttpEndpoint, type HttpHandler, HttpBodyError, readBody, send } from '../http/http-server.ts';
import type { NodeMetrics } from '../metrics/node-metrics.ts';
import type { Router } from '../router.ts';
import { ConsoleAdmin, ConsoleError } from './console-admin.ts';
import { clusterOverview, quorumState } from './console-api.ts';
import { ConsoleAuth, sessionCookie } from './console-auth.ts';
import { groupDetail, listGroups, resetOffsets } from './console-groups.ts';
import { browse, produce } from './console-messages.ts';
import { NodeDirectory, nodeSelf } from './console-nodes.ts';
import { throughput } from './console-throughput.ts';
import { addPartitions, alterConfigs, createTopic, deleteTopic, describeConfigs, listTopics, RESOURCE_BROKER, RESOURCE_TOPIC, topicDetail } from './console-topics.ts';
import { mayDescribe } from './console-visibility.ts';
import * as input from './console-input.ts';

const STATIC_DIR = fileURLToPath(new URL('../console/static/', import.meta.url));
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_BODY = 1024 * 1024;

export interface ConsoleOptions {
  /** The broker listener's router: the console's actions are served by its handlers. */
  router: Router;
  metrics?: NodeMetrics;
  readiness: () => Readiness;
  /** This node's bound HTTP listeners (for its own link). */
  httpListeners: () => readonly HttpEndpoint[];
}

type ApiHandler = (q: { req: IncomingMessage; url: URL; principal: string; body: () => Promise<unknown> }) => Promise<unknown> | unknown;

export function consoleRoutes(ctx: BrokerContext, opts: ConsoleOptions): Map<string, HttpHandler> {
  const admin = new ConsoleAdmin(ctx, opts.router);
  const auth = new ConsoleAuth(ctx);
  const directory = new NodeDirectory(ctx, opts.httpListeners, opts.readiness);
  const cache = new Map<string, Promise<Buffer>>();
  const routes = new Map<string, HttpHandler>();

  const serveFile = async (res: ServerResponse, file: string) => {
    const type = TYPES[file.slice(file.lastIndexOf('.') + 1)];
    if (!type || !/^[a-z0-9-]+\.(js|css|html)$/.test(file)) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    let body = cache.get(file);
    if (!body) {
      cache.set(file, (body = readFile(`${STATIC_DIR}${file}`)));
      body.catch(() => cache.delete(file));
    }
    let bytes: Buffer;
    try {
      bytes = await body;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      throw err;
    }
    send(res, 200, type, bytes);
  };
  routes.set('/', (_req, res) => serveFile(res, 'index.html'));
  routes.set('/console/*', (_req, res, url) => serveFile(res, url.pathname.slice('/console/'.length)));

  const json = (res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>) => send(res, status, JSON_TYPE, JSON.stringify(body), headers);
  const api = (path: string, handler: ApiHandler, method: 'GET' | 'POST' = 'GET', open = false) => {
    routes.set(method === 'POST' ? `POST ${path}` : path, async (req, res, url) => {
      if (method === 'POST' && !sameOriginJson(req)) return json(res, 403, { error: 'a console action must be a JSON request from the console itself' });
      const principal = open ? 'User:ANONYMOUS' : auth.principal(req);
      if (principal === null) return json(res, 401, { error: 'log in first: this node requires SASL credentials' });
      const body = async () => {
        const raw = await readBody(req, MAX_BODY);
        try {
          return raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
        } catch {
          throw new ConsoleError(400, 'the request body is not JSON');
        }
      };
      let out: unknown;
      try {
        out = await handler({ req, url, principal, body });
      } catch (err) {
        if (err instanceof ConsoleError) return json(res, err.status, { error: err.message, kafkaError: err.kafkaError });
        if (err instanceof input.InputError) return json(res, 400, { error: err.message, kafkaError: null });
        if (err instanceof HttpBodyError) return json(res, 413, { error: err.message, kafkaError: null });
        throw err;
      }
      if (out instanceof Reply) return json(res, out.status, out.body, out.headers);
      json(res, 200, out ?? { ok: true });
    });
  };

  api('/api/session', ({ req }) => ({ required: auth.required, user: auth.required ? (auth.principal(req)?.replace(/^User:/, '') ?? null) : null }), 'GET', true);
  api('/api/login', async ({ body }) => {
    const b = input.object(await body());
    const ok = auth.login(input.string(b, 'user'), input.string(b, 'password'));
    if (!ok) {
      ctx.logger.info({ module: 'console' }, 'console login refused');
      return new Reply(401, { error: 'Authentication failed: Invalid username or password' });
    }
    ctx.logger.info({ module: 'console', user: ok.outcome.user, mechanism: ok.outcome.mechanism }, 'console login');
    return new Reply(200, { user: ok.outcome.user, mechanism: ok.outcome.mechanism }, { 'set-cookie': sessionCookie(ok.session) });
  }, 'POST', true);
  api('/api/logout', ({ req }) => {
    auth.logout(req);
    return new Reply(200, { ok: true }, { 'set-cookie': sessionCookie('', 0) });
  }, 'POST', true);
  api('/api/node', () => nodeSelf(ctx, opts.readiness), 'GET', true);

  api('/api/cluster', ({ principal }) => {
    const c = clusterOverview(ctx);
    return { ...c, topics: c.topics.filter((t) => mayDescribe(ctx, principal, { type: 'topic', name: t.name })) };
  });
  api('/api/quorum', async () => {
    const q = await quorumState(ctx);
    return 'error' in q ? new Reply(503, q) : q;
  });
  api('/api/nodes', async () => {
    const q = await quorumState(ctx);
    const voters = new Map<number, string[]>();
    if (!('error' in q)) for (const v of q.voters) voters.set(v.id, q.endpoints[v.id] ?? []);
    else for (const v of ctx.config.quorumVoters) voters.set(v.id, [`${v.host}:${v.port}`]);
    return { nodeId: ctx.nodeId, nodes: await directory.nodes(voters) };
  });
  api('/api/broker-configs', ({ url, principal }) => {
    const id = url.searchParams.get('id') ?? String(ctx.nodeId);
    if (!/^\d+$/.test(id)) throw new input.InputError('id must be a broker id');
    return describeConfigs(admin, principal, RESOURCE_BROKER, id);
  });
  api('/api/throughput', () => throughput(opts.metrics, ctx.now()));

  api('/api/topics', ({ principal }) => listTopics(admin, principal));
  api('/api/topic', ({ url, principal }) => topicDetail(admin, principal, input.param(url, 'name')));
  api('/api/topics/create', async ({ body, principal }) => createTopic(admin, principal, input.newTopic(await body())), 'POST');
  api('/api/topics/delete', async ({ body, principal }) => deleteTopic(admin, principal, input.string(input.object(await body()), 'name')), 'POST');
  api('/api/topics/partitions', async ({ body, principal }) => {
    const b = input.object(await body());
    return addPartitions(admin, principal, input.string(b, 'name'), input.integer(b, 'count', 1));
  }, 'POST');
  api('/api/topics/configs', async ({ body, principal }) => {
    const b = input.object(await body());
    return alterConfigs(admin, principal, RESOURCE_TOPIC, input.string(b, 'name'), input.configChanges(b));
  }, 'POST');

  api('/api/messages', ({ url, principal }) => browse(admin, principal, input.browseQuery(url)));
  api('/api/messages/produce', async ({ body, principal }) => produce(admin, principal, input.produceInput(await body())), 'POST');

  api('/api/groups', ({ principal }) => listGroups(admin, principal));
  api('/api/group', ({ url, principal }) => groupDetail(admin, principal, input.param(url, 'id')));
  api('/api/groups/reset', async ({ body, principal }) => resetOffsets(admin, principal, input.resetRequest(await body())), 'POST');
  return routes;
}

/**
 * Whether a POST can only have come from the console's own page: its body is declared JSON (which
 * a page elsewhere cannot send without a CORS preflight, never answered here) and its Origin, when
 * the browser sends one, is this server. An open console (no SASL) has no cookie to protect it.
 */
function sameOriginJson(req: IncomingMessage): boolean {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** An answer other than 200, or with headers. */
class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers?: Record<string, string>,
  ) {}
}
