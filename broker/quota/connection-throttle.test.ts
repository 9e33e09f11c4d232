// The connection's side of client quotas (KIP-219), on a real socket with a virtual clock: a
// throttled answer carries throttle_time_ms and reading stops for the throttle time after it;
// an answer at a version before KIP-219 waits out the throttle instead.
import { connect, createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, API_SPECS } from '../../protocol/generated/api-table.ts';
import { decodeResponseHeader, encodeRequestFrame } from '../../protocol/headers.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { Connection } from '../connection.ts';
import { defineHandler } from '../handlers/api-handler.ts';
import { Router } from '../router.ts';
import { clientThrottles } from './client-throttle-versions.ts';
import type { RequestThrottle } from './request-quotas.ts';

const THROTTLE_MS = 1000;
let server: Server | undefined;
let client: Socket | undefined;

afterEach(async () => {
  client?.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

async function setup() {
  const scheduler = new ManualScheduler();
  const router = new Router().register(
    defineHandler({
      apiKey: ApiKey.Metadata,
      handle: () => ({ throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: -1, topics: [] }),
      errorResponse: () => ({ throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: -1, topics: [] }),
    }),
  );
  const throttle: RequestThrottle = {
    check: (s) => ({ throttleMs: THROTTLE_MS, response: { ...(s.response as object), throttleTimeMs: THROTTLE_MS }, clientThrottles: clientThrottles(s.ctx.apiKey, s.ctx.apiVersion), quota: 'request_percentage' }),
  };
  server = createServer((socket) => {
    new Connection(socket, { listenerName: 'PLAINTEXT', router, logger: pino({ level: 'silent' }), maxRequestSize: 1 << 20, idleTimeoutMs: 0, maxInFlight: 16, maxQueuedBytes: 1 << 20, scheduler, throttle });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const frames: Buffer[] = [];
  let buffered = Buffer.alloc(0);
  client = await new Promise<Socket>((resolve) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
  });
  client.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      const size = buffered.readInt32BE(0);
      frames.push(buffered.subarray(4, 4 + size));
      buffered = buffered.subarray(4 + size);
    }
  });
  const send = (version: number, correlationId: number) => {
    for (const c of encodeRequestFrame(ApiKey.Metadata, version, correlationId, 'throttled-client', { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })) client!.write(c);
  };
  const answered = async (count: number, waitMs = 10_000) => {
    for (let waited = 0; frames.length < count && waited < waitMs; waited += 10) await new Promise((r) => setTimeout(r, 10));
    return frames.length >= count;
  };
  const throttleOf = (frame: Buffer, version: number) => {
    const { header, reader } = decodeResponseHeader(frame, ApiKey.Metadata, version);
    return { correlationId: header.correlationId, throttleTimeMs: API_SPECS[ApiKey.Metadata].decodeResponse(reader, version).throttleTimeMs };
  };
  return { scheduler, frames, send, answered, throttleOf };
}

describe('throttling on the connection', () => {
  it('answers a KIP-219 version at once with throttle_time_ms, then reads nothing until the throttle ends', async () => {
    const t = await setup();
    t.send(12, 1);
    expect(await t.answered(1)).toBe(true);
    expect(t.throttleOf(t.frames[0]!, 12)).toEqual({ correlationId: 1, throttleTimeMs: THROTTLE_MS });
    t.send(12, 2);
    // The virtual clock stands still: the muted connection does not read the second request.
    expect(await t.answered(2, 300)).toBe(false);
    t.scheduler.advance(THROTTLE_MS);
    expect(await t.answered(2)).toBe(true);
    expect(t.throttleOf(t.frames[1]!, 12).correlationId).toBe(2);
  });

  it('holds the answer of an older version for the throttle time', async () => {
    const t = await setup();
    t.send(5, 7);
    expect(await t.answered(1, 300)).toBe(false);
    t.scheduler.advance(THROTTLE_MS);
    expect(await t.answered(1)).toBe(true);
    expect(t.throttleOf(t.frames[0]!, 5)).toEqual({ correlationId: 7, throttleTimeMs: THROTTLE_MS });
  });
});
