// A connection serves Produce and Fetch beside earlier unanswered requests, and any other request
// only once every earlier one is answered (Kafka serves a connection one request at a time): a
// Metadata request sent behind a Produce parked in a purgatory is answered from the state after
// that Produce, not from the state of when it arrived.
import { createServer, type Server } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaConnection } from '../protocol/client/connection.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { SystemScheduler } from '../protocol/scheduler.ts';
import { Connection } from './connection.ts';
import { defineHandler } from './handlers/api-handler.ts';
import { Router } from './router.ts';

const logger = pino({ level: 'silent' });
let server: Server | undefined;
let client: KafkaConnection | undefined;

afterEach(async () => {
  await client?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  client = server = undefined;
});

/** A connection on a loopback socket whose Produce answers only when released; Metadata and Fetch answer at once with what `leader()` says then. */
async function serve(leader: () => number) {
  const handled: string[] = [];
  let release!: () => void;
  const parked = new Promise<void>((resolve) => (release = resolve));
  const router = new Router()
    .register(
      defineHandler({
        apiKey: ApiKey.Produce,
        async handle() {
          handled.push('produce');
          await parked;
          return { responses: [], throttleTimeMs: 0 };
        },
        errorResponse: () => ({ responses: [], throttleTimeMs: 0 }),
      }),
    )
    .register(
      defineHandler({
        apiKey: ApiKey.Metadata,
        handle() {
          handled.push('metadata');
          return { throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: leader(), topics: [], clusterAuthorizedOperations: -2147483648 };
        },
        errorResponse: () => ({ throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: -1, topics: [], clusterAuthorizedOperations: -2147483648 }),
      }),
    )
    .register(
      defineHandler({
        apiKey: ApiKey.Fetch,
        handle() {
          handled.push('fetch');
          return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [], nodeEndpoints: [] };
        },
        errorResponse: () => ({ throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [], nodeEndpoints: [] }),
      }),
    );
  const scheduler = new SystemScheduler({ logger });
  server = createServer((socket) => new Connection(socket, { listenerName: 'PLAINTEXT', router, logger, maxRequestSize: 1 << 20, idleTimeoutMs: 0, maxInFlight: 100, maxQueuedBytes: 1 << 20, scheduler }));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  client = await KafkaConnection.connect('127.0.0.1', typeof address === 'object' && address ? address.port : 0, { clientId: 'order-test', requestTimeoutMs: 10_000, skipApiVersions: true });
  return { client, handled, release };
}

const produce = { acks: -1, timeoutMs: 30_000, transactionalId: null, topicData: [] };
const fetch = { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [], forgottenTopicsData: [], rackId: '' };

describe('request order on one connection', () => {
  it('handles a Metadata request sent behind a parked Produce only once the Produce is answered', async () => {
    let leader = 1;
    const { client, handled, release } = await serve(() => leader);
    const produced = client.send(ApiKey.Produce, produce);
    const metadata = client.send(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const fetched = client.send(ApiKey.Fetch, fetch);
    // Fetch is served beside the parked Produce; Metadata waits for it.
    await expect.poll(() => handled, { timeout: 5000 }).toEqual(['produce', 'fetch']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(handled).toEqual(['produce', 'fetch']);
    // What the Produce's wait changed is what the Metadata answer says.
    leader = 2;
    release();
    await produced;
    expect((await metadata)!.controllerId).toBe(2);
    await fetched;
    expect(handled).toEqual(['produce', 'fetch', 'metadata']);
  });

  it('handles a request at once when nothing earlier is unanswered', async () => {
    const { client, handled } = await serve(() => 7);
    expect((await client.send(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }))!.controllerId).toBe(7);
    expect(handled).toEqual(['metadata']);
  });
});
