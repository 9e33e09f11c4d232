// The routes one node serves over HTTP: /metrics (Prometheus text format, 404 when
// metrics.enabled is false), /health/live and /health/ready, and any others given (the console).
import type { NodeMetrics } from '../metrics/node-metrics.ts';
import type { Readiness } from './health.ts';
import { type HttpHandler, send } from './http-server.ts';

export interface NodeRoutesOptions {
  metrics: NodeMetrics | undefined;
  readiness: () => Readiness;
  /** More routes, e.g. the console's. */
  extra?: ReadonlyMap<string, HttpHandler>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function nodeRoutes(opts: NodeRoutesOptions): Map<string, HttpHandler> {
  const routes = new Map<string, HttpHandler>(opts.extra);
  routes.set('/metrics', async (_req, res) => {
    if (!opts.metrics) return send(res, 404, 'text/plain; charset=utf-8', 'metrics are disabled (metrics.enabled=false)\n');
    const body = await opts.metrics.text();
    send(res, 200, opts.metrics.contentType, body);
  });
  routes.set('/health/live', (_req, res) => send(res, 200, JSON_TYPE, '{"status":"live"}\n'));
  routes.set('/health/ready', (_req, res) => {
    const r = opts.readiness();
    send(res, r.ready ? 200 : 503, JSON_TYPE, `${JSON.stringify(r.ready ? { status: 'ready' } : { status: 'not ready', reason: r.reason })}\n`);
  });
  return routes;
}
