// The web console: static files (plain HTML, CSS and a JavaScript module; no build step, nothing
// fetched from elsewhere) at / and /console/, fed by a small JSON API under /api/. The files are
// read once from broker/console/static/, found relative to this module both when it runs from
// source and from the bundle in broker/dist/ (both sit one folder below broker/).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BrokerContext } from '../broker-context.ts';
import { type HttpHandler, send } from '../http/http-server.ts';
import { clusterOverview, quorumState } from './console-api.ts';

const STATIC_DIR = fileURLToPath(new URL('../console/static/', import.meta.url));
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/console/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const JSON_TYPE = 'application/json; charset=utf-8';

export function consoleRoutes(ctx: BrokerContext): Map<string, HttpHandler> {
  const cache = new Map<string, Promise<Buffer>>();
  const routes = new Map<string, HttpHandler>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    routes.set(path, async (_req, res) => {
      let body = cache.get(file);
      if (!body) {
        cache.set(file, (body = readFile(`${STATIC_DIR}${file}`)));
        body.catch(() => cache.delete(file));
      }
      send(res, 200, type, await body);
    });
  }
  routes.set('/api/cluster', (_req, res) => send(res, 200, JSON_TYPE, JSON.stringify(clusterOverview(ctx))));
  routes.set('/api/quorum', async (_req, res) => {
    const q = await quorumState(ctx);
    send(res, 'error' in q ? 503 : 200, JSON_TYPE, JSON.stringify(q));
  });
  return routes;
}
