// The HTTP server on loopback: routes and prefixes, GET/HEAD only, a handler that throws or
// rejects answers 500 and is contained (logged once, the server goes on), a taken port is
// skipped rather than fatal, port 0 reports the bound port, and stop closes keep-alive sockets.
import { createServer } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualScheduler, SystemScheduler } from '../../protocol/scheduler.ts';
import { type HttpHandler, HttpServer, parseHttpListeners, readBody, send } from './http-server.ts';

const logger = pino({ level: 'silent' });
const servers: HttpServer[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(routes: Record<string, HttpHandler>, scheduler = new ManualScheduler()): Promise<{ base: string; scheduler: ManualScheduler | SystemScheduler }> {
  const server = new HttpServer({ logger, scheduler, routes: new Map(Object.entries(routes)) });
  servers.push(server);
  const [bound] = await server.start([{ host: '127.0.0.1', port: 0 }]);
  expect(bound!.port).toBeGreaterThan(0);
  return { base: `http://127.0.0.1:${bound!.port}`, scheduler };
}

describe('HttpServer', () => {
  it('serves POST only on routes registered as POST, with the body read up to a limit', async () => {
    const { base } = await serve({
      '/a': (_q, res) => send(res, 200, 'text/plain', 'get'),
      'POST /a': async (q, res) => send(res, 200, 'text/plain', `post ${(await readBody(q, 8)).toString()}`),
    });
    expect(await (await fetch(`${base}/a`)).text()).toBe('get');
    expect(await (await fetch(`${base}/a`, { method: 'POST', body: 'xy' })).text()).toBe('post xy');
    expect((await fetch(`${base}/a`, { method: 'PUT', body: 'xy' })).status).toBe(405);
    const big = await fetch(`${base}/a`, { method: 'POST', body: 'x'.repeat(1000) }).then((r) => r.status, () => 'closed');
    expect(big === 500 || big === 'closed').toBe(true);
  });

  it('routes exact paths and prefixes, and answers 404 and 405 otherwise', async () => {
    const { base } = await serve({
      '/a': (_q, res) => send(res, 200, 'text/plain', 'a'),
      '/files/*': (_q, res, url) => send(res, 200, 'text/plain', url.pathname),
    });
    expect(await (await fetch(`${base}/a?x=1`)).text()).toBe('a');
    expect(await (await fetch(`${base}/files/x/y.js`)).text()).toBe('/files/x/y.js');
    expect((await fetch(`${base}/b`)).status).toBe(404);
    expect((await fetch(`${base}/files`)).status).toBe(404);
    expect((await fetch(`${base}/a/b`)).status).toBe(404);
    const post = await fetch(`${base}/a`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${base}/a`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('1');
  });

  it('contains a handler that throws or rejects: 500, one contained failure each, and the server serves on', async () => {
    const { base, scheduler } = await serve({
      '/throws': () => {
        throw new Error('boom');
      },
      '/rejects': async () => {
        await Promise.resolve();
        throw new Error('later');
      },
      '/ok': (_q, res) => send(res, 200, 'text/plain', 'ok'),
    });
    expect((await fetch(`${base}/throws`)).status).toBe(500);
    expect((await fetch(`${base}/rejects`)).status).toBe(500);
    expect((await fetch(`${base}/ok`)).status).toBe(200);
    const failures = (scheduler as ManualScheduler).failures;
    expect(failures.map((f) => [f.scope.unit, f.scope.context?.path, (f.err as Error).message])).toEqual([
      ['http-request', '/throws', 'boom'],
      ['http-request', '/rejects', 'later'],
    ]);
  });

  it('skips an address it cannot bind and reports the ones it bound', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      const server = new HttpServer({ logger, scheduler: new SystemScheduler({ logger }), routes: new Map() });
      servers.push(server);
      const bound = await server.start([
        { host: '127.0.0.1', port },
        { host: '127.0.0.1', port: 0 },
      ]);
      expect(bound).toHaveLength(1);
      expect(bound[0]!.port).not.toBe(port);
      expect(server.listeners).toEqual(bound);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('stop() closes idle keep-alive connections at once', async () => {
    const { base } = await serve({ '/': (_q, res) => send(res, 200, 'text/plain', 'x') });
    expect((await fetch(base)).status).toBe(200);
    const started = Date.now();
    await servers.pop()!.stop();
    expect(Date.now() - started).toBeLessThan(4000);
    await expect(fetch(base)).rejects.toThrow();
  });
});

describe('parseHttpListeners', () => {
  it('parses http://host:port entries and skips empty ones', () => {
    expect(parseHttpListeners(['http://127.0.0.1:9644', ' ', 'http://:0', 'http://[::1]:80/'])).toEqual([
      { host: '127.0.0.1', port: 9644 },
      { host: '', port: 0 },
      { host: '::1', port: 80 },
    ]);
    expect(parseHttpListeners([])).toEqual([]);
  });

  it('refuses other schemes, missing ports and ports out of range', () => {
    expect(() => parseHttpListeners(['https://a:1'])).toThrow(/http:\/\/host:port/);
    expect(() => parseHttpListeners(['http://a'])).toThrow(/http:\/\/host:port/);
    expect(() => parseHttpListeners(['http://a:70000'])).toThrow(/out of range/);
  });
});
