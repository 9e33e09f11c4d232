// The node's HTTP listeners (http.listeners): Prometheus metrics, health checks and the console.
// Plain node:http: GET and HEAD for every route, POST only where a route is registered as
// `POST /path` (the console's actions). Each request is handled through the containment seam: a
// handler that throws or rejects is logged with the method and path and answered 500 (or its
// socket closed when the head was already sent); nothing else is affected. A listener whose
// address cannot be bound (a port already taken by another node on the same host) is logged and
// skipped: the node serves Kafka clients without it rather than not at all.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Scheduler } from '../../protocol/scheduler.ts';

export interface HttpEndpoint {
  host: string;
  port: number;
}

export type HttpHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => unknown;

export interface HttpServerOptions {
  logger: Logger;
  scheduler: Scheduler;
  /**
   * Exact paths, and prefixes written `/dir/*` (the longest one that matches serves the path);
   * keys starting `POST ` serve POST requests to that exact path.
   */
  routes: ReadonlyMap<string, HttpHandler>;
}

/** Parses http.listeners entries, `http://host:port` (an empty host binds every interface). */
export function parseHttpListeners(values: readonly string[]): HttpEndpoint[] {
  return values
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) => {
      const m = /^http:\/\/(\[[^\]]*\]|[^:/]*):(\d+)\/?$/i.exec(v);
      if (!m) throw new Error(`http.listeners: "${v}" is not http://host:port`);
      const port = Number(m[2]);
      if (port > 65535) throw new Error(`http.listeners: port ${port} of "${v}" is out of range`);
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
    });
}

export class HttpServer {
  private readonly opts: HttpServerOptions;
  private readonly servers: Server[] = [];
  private readonly bound: HttpEndpoint[] = [];

  constructor(opts: HttpServerOptions) {
    this.opts = opts;
  }

  /** Binds every endpoint it can; port 0 picks a free one (see `listeners`). */
  async start(endpoints: readonly HttpEndpoint[]): Promise<readonly HttpEndpoint[]> {
    const { logger, scheduler } = this.opts;
    for (const ep of endpoints) {
      const server = createServer((req, res) => {
        const scope = {
          unit: 'http-request',
          context: { method: req.method, path: req.url },
          onFailure: () => {
            if (res.headersSent) res.destroy();
            else send(res, 500, 'text/plain; charset=utf-8', 'internal server error\n');
          },
        };
        scheduler.run(scope, () => this.handle(req, res));
      });
      server.keepAliveTimeout = 5000;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: ep.host || undefined, port: ep.port }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        logger.warn({ err, host: ep.host, port: ep.port }, 'http listener not started: its address could not be bound');
        continue;
      }
      server.on('error', scheduler.wrap({ unit: 'http-listener', context: { port: ep.port } }, (err: Error) => logger.error({ err }, 'http listener error')));
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : ep.port;
      this.servers.push(server);
      this.bound.push({ host: ep.host, port });
      logger.info({ host: ep.host || '0.0.0.0', port }, 'http listening');
    }
    return this.bound;
  }

  get listeners(): readonly HttpEndpoint[] {
    return this.bound;
  }

  private handle(req: IncomingMessage, res: ServerResponse): unknown {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST') {
      const post = this.opts.routes.get(`POST ${url.pathname}`);
      if (post) return post(req, res, url);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return undefined;
    }
    const handler = this.route(url.pathname);
    if (!handler) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return undefined;
    }
    return handler(req, res, url);
  }

  private route(path: string): HttpHandler | undefined {
    const exact = this.opts.routes.get(path);
    if (exact) return exact;
    let best: string | undefined;
    for (const r of this.opts.routes.keys()) {
      if (r.endsWith('/*') && path.startsWith(r.slice(0, -1)) && (best === undefined || r.length > best.length)) best = r;
    }
    return best === undefined ? undefined : this.opts.routes.get(best);
  }

  /** Stops accepting and closes open (keep-alive) connections. Idempotent. */
  async stop(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }
}

export function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Reads a request body of at most `limit` bytes (a larger one rejects with an HttpBodyError). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        reject(new HttpBodyError(`request body over ${limit} bytes`));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class HttpBodyError extends Error {
  readonly code = 'HTTP_BODY_TOO_LARGE';
}
