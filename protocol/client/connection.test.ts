import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../errors.ts';
import { ApiKey } from '../generated/api-table.ts';
import type { ApiMessages } from '../generated/api-table.ts';
import { ConnectionError, TimeoutError } from './connection-errors.ts';
import { clientMaxVersion, KafkaConnection } from './connection.ts';
import { allApiVersions, FakePeer, type PeerHandler, type FakePeerOptions } from './fake-peer.ts';

type MetadataRequest = ApiMessages[3]['request'];

const peers: FakePeer[] = [];
const conns: KafkaConnection[] = [];

afterEach(async () => {
  for (const c of conns.splice(0)) await c.close();
  for (const p of peers.splice(0)) await p.stop();
});

async function peer(handler: PeerHandler, options?: FakePeerOptions): Promise<FakePeer> {
  const p = await FakePeer.start(handler, options);
  peers.push(p);
  return p;
}

async function connect(p: FakePeer, options: Parameters<typeof KafkaConnection.connect>[2] = {}): Promise<KafkaConnection> {
  const c = await KafkaConnection.connect('127.0.0.1', p.port, { clientId: 'test', ...options });
  conns.push(c);
  return c;
}

/** A Metadata response that names one topic: the echo of what was asked, to match answers. */
function echoTopic(request: unknown): { message: ApiMessages[3]['response'] } {
  const name = (request as MetadataRequest).topics?.[0]?.name ?? null;
  return { message: { brokers: [], topics: [{ errorCode: 0, name, partitions: [] }], controllerId: -1, clusterId: null } };
}

function metadataFor(name: string): MetadataRequest {
  return { topics: [{ name }], allowAutoTopicCreation: false };
}

/** A deterministic pseudo-random sequence for delays. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('ApiVersions negotiation', () => {
  it('sends ApiVersions v3 and picks the highest version both sides support', async () => {
    const versions = allApiVersions();
    versions.set(ApiKey.Metadata, { minVersion: 0, maxVersion: 4 });
    const p = await peer((req) => echoTopic(req.body), { apiVersions: versions });
    const c = await connect(p);
    expect(p.requestsFor(ApiKey.ApiVersions).map((r) => r.version)).toEqual([3]);
    expect(p.requestsFor(ApiKey.ApiVersions)[0]!.body).toMatchObject({ clientSoftwareName: 'samsa' });
    expect(c.apiVersions?.get(ApiKey.Metadata)).toEqual({ minVersion: 0, maxVersion: 4 });
    expect(c.versionFor(ApiKey.Metadata)).toBe(4);
    expect(c.versionFor(ApiKey.Produce)).toBe(clientMaxVersion(ApiKey.Produce));

    const res = await c.send(ApiKey.Metadata, metadataFor('a'));
    expect(res.topics[0]!.name).toBe('a');
    const forced = await c.send(ApiKey.Metadata, metadataFor('b'), { version: 1 });
    expect(forced.topics[0]!.name).toBe('b');
    expect(p.requestsFor(ApiKey.Metadata).map((r) => r.version)).toEqual([4, 1]);
    expect(p.requestsFor(ApiKey.Metadata)[0]!.header.clientId).toBe('test');
  });

  it('refuses a forced version or an API the broker does not serve, without sending', async () => {
    const versions = allApiVersions();
    versions.set(ApiKey.Metadata, { minVersion: 0, maxVersion: 4 });
    versions.delete(ApiKey.DescribeQuorum);
    const p = await peer((req) => echoTopic(req.body), { apiVersions: versions });
    const c = await connect(p);
    const tooNew = c.send(ApiKey.Metadata, metadataFor('a'), { version: 5 });
    await expect(tooNew).rejects.toBeInstanceOf(KafkaError);
    await expect(tooNew).rejects.toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_VERSION });
    await expect(c.send(ApiKey.DescribeQuorum, { topics: [] })).rejects.toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_VERSION });
    await expect(c.send(ApiKey.Metadata, metadataFor('a'), { version: 99 })).rejects.toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_VERSION });
    expect(p.requestsFor(ApiKey.Metadata)).toHaveLength(0);
    expect(c.isClosed).toBe(false);
  });

  it('retries with the ApiVersions version the broker advertises after UNSUPPORTED_VERSION', async () => {
    const versions = allApiVersions();
    versions.set(ApiKey.ApiVersions, { minVersion: 0, maxVersion: 2 });
    versions.set(ApiKey.Metadata, { minVersion: 0, maxVersion: 9 });
    const p = await peer((req) => echoTopic(req.body), { apiVersions: versions });
    const c = await connect(p);
    expect(p.requestsFor(ApiKey.ApiVersions).map((r) => r.version)).toEqual([3, 2]);
    expect(c.versionFor(ApiKey.Metadata)).toBe(9);
  });

  it('falls back to v0 against a broker that only serves ApiVersions v0', async () => {
    const versions = allApiVersions();
    versions.set(ApiKey.ApiVersions, { minVersion: 0, maxVersion: 0 });
    versions.set(ApiKey.Metadata, { minVersion: 0, maxVersion: 1 });
    const p = await peer((req) => echoTopic(req.body), { apiVersions: versions });
    const c = await connect(p);
    expect(p.requestsFor(ApiKey.ApiVersions).map((r) => r.version)).toEqual([3, 0]);
    expect(c.versionFor(ApiKey.Metadata)).toBe(1);
    expect((await c.send(ApiKey.Metadata, metadataFor('old'))).topics[0]!.name).toBe('old');
  });

  it('falls back to v0 when the broker names no ApiVersions range, and gives up after that', async () => {
    const versions = allApiVersions();
    versions.delete(ApiKey.ApiVersions);
    const p = await peer((req) => echoTopic(req.body), { apiVersions: versions });
    const attempt = KafkaConnection.connect('127.0.0.1', p.port, { clientId: 'test' });
    await expect(attempt).rejects.toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_VERSION });
    expect(p.requestsFor(ApiKey.ApiVersions).map((r) => r.version)).toEqual([3, 0]);
  });

  it('fails the connect when ApiVersions gets a non-retriable error', async () => {
    const p = await peer(() => ({ message: { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, apiKeys: [] } }), { handleApiVersions: true });
    await expect(KafkaConnection.connect('127.0.0.1', p.port)).rejects.toMatchObject({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED });
  });

  it('skips negotiation on request and then uses its own highest versions', async () => {
    const p = await peer((req) => echoTopic(req.body));
    const c = await connect(p, { skipApiVersions: true });
    expect(c.apiVersions).toBeUndefined();
    await c.send(ApiKey.Metadata, metadataFor('x'));
    expect(p.requests.map((r) => [r.apiKey, r.version])).toEqual([[ApiKey.Metadata, clientMaxVersion(ApiKey.Metadata)]]);
  });
});

describe('pipelining', () => {
  it('matches many requests in flight to their responses while the peer takes varying time', async () => {
    const random = lcg(42);
    let inFlight = 0;
    let maxInFlight = 0;
    const p = await peer(
      async (req) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, Math.floor(random() * 15)));
        inFlight--;
        return echoTopic(req.body);
      },
      { ordered: true },
    );
    const c = await connect(p);
    const names = Array.from({ length: 200 }, (_, i) => `topic-${i}`);
    const results = await Promise.all(names.map((n) => c.send(ApiKey.Metadata, metadataFor(n))));
    expect(results.map((r) => r.topics[0]!.name)).toEqual(names);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(c.inFlightCount).toBe(0);
    const ids = p.requestsFor(ApiKey.Metadata).map((r) => r.header.correlationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('closes the connection on a response out of order and rejects everything in flight', async () => {
    let first = true;
    const p = await peer(async (req) => {
      if (first) {
        first = false;
        await new Promise((r) => setTimeout(r, 30));
      }
      return echoTopic(req.body);
    });
    const c = await connect(p);
    const a = c.send(ApiKey.Metadata, metadataFor('a'));
    const b = c.send(ApiKey.Metadata, metadataFor('b'));
    const [ra, rb] = await Promise.allSettled([a, b]);
    for (const r of [ra, rb]) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as ConnectionError;
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.code).toBe('CORRELATION_MISMATCH');
    }
    expect(c.isClosed).toBe(true);
    await expect(c.send(ApiKey.Metadata, metadataFor('c'))).rejects.toMatchObject({ code: 'CORRELATION_MISMATCH' });
  });

  it('rejects a response nobody asked for', async () => {
    const p = await peer((req) => echoTopic(req.body));
    const c = await connect(p);
    const closed = new Promise<ConnectionError>((resolve) => c.onClose(resolve));
    // A stray frame: size 4, correlation id 999.
    p.sockets[0]!.write(Buffer.from([0, 0, 0, 4, 0, 0, 3, 231]));
    expect((await closed).code).toBe('CORRELATION_MISMATCH');
  });
});

describe('timeouts and closing', () => {
  it('times out a request, closes the connection and fails the others in flight', async () => {
    const p = await peer((req) => ((req.body as MetadataRequest).topics?.[0]?.name === 'answered' ? echoTopic(req.body) : new Promise(() => {})));
    const c = await connect(p);
    const slow = c.send(ApiKey.Metadata, metadataFor('never'), { timeoutMs: 50 });
    const other = c.send(ApiKey.Metadata, metadataFor('never-either'), { timeoutMs: 60_000 });
    const [rs, ro] = await Promise.allSettled([slow, other]);
    const slowErr = (rs as PromiseRejectedResult).reason;
    expect(slowErr).toBeInstanceOf(TimeoutError);
    expect(slowErr).toMatchObject({ code: 'REQUEST_TIMEOUT', timeoutMs: 50 });
    const otherErr = (ro as PromiseRejectedResult).reason;
    expect(otherErr).toBeInstanceOf(ConnectionError);
    expect(otherErr).toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(otherErr.cause).toBe(slowErr);
    expect(c.isClosed).toBe(true);
    await expect(c.send(ApiKey.Metadata, metadataFor('answered'))).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });

  it('times out a connect whose ApiVersions gets no answer', async () => {
    const p = await peer(() => new Promise(() => {}), { handleApiVersions: true });
    const attempt = KafkaConnection.connect('127.0.0.1', p.port, { requestTimeoutMs: 50 });
    await expect(attempt).rejects.toBeInstanceOf(TimeoutError);
  });

  it('rejects everything in flight when the peer closes the socket', async () => {
    const p = await peer((req, _peer, socket) => {
      if ((req.body as MetadataRequest).topics?.[0]?.name === 'close') socket.destroy();
      return new Promise(() => {});
    });
    const c = await connect(p);
    const sends = ['a', 'b', 'close'].map((n) => c.send(ApiKey.Metadata, metadataFor(n)));
    const results = await Promise.allSettled(sends);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'CONNECTION_CLOSED', broker: `127.0.0.1:${p.port}` });
    }
    expect(c.isClosed).toBe(true);
  });

  it('close() rejects what is in flight and every later send', async () => {
    const p = await peer(() => new Promise(() => {}));
    const c = await connect(p);
    const pending = c.send(ApiKey.Metadata, metadataFor('a'));
    const closing = c.close();
    await expect(pending).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    await closing;
    await expect(c.send(ApiKey.Metadata, metadataFor('b'))).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });

  it('reports a refused connect as CONNECT_FAILED', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    await expect(KafkaConnection.connect('127.0.0.1', port)).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
  });

  it('closes on a malformed response body', async () => {
    const p = await peer((req, _peer, socket) => {
      // The right correlation id and then a body too short for a Metadata response.
      const frame = Buffer.alloc(4 + 4 + 1);
      frame.writeInt32BE(5, 0);
      frame.writeInt32BE(req.header.correlationId, 4);
      socket.write(frame);
      return undefined;
    });
    const c = await connect(p);
    await expect(c.send(ApiKey.Metadata, metadataFor('a'), { version: 8 })).rejects.toMatchObject({ code: 'MALFORMED_RESPONSE' });
    expect(c.isClosed).toBe(true);
  });
});

describe('produce with acks=0', () => {
  it('resolves with null once written, and the next request still matches its answer', async () => {
    const p = await peer((req) => {
      if (req.apiKey === ApiKey.Produce) {
        const body = req.body as ApiMessages[0]['request'];
        return body.acks === 0
          ? undefined
          : { message: { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 12n }] }] } };
      }
      return echoTopic(req.body);
    });
    const c = await connect(p);
    const records = Buffer.from('batch');
    const produce = (acks: number) =>
      c.send(ApiKey.Produce, { transactionalId: null, acks, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] });
    expect(await produce(0)).toBeNull();
    expect(await produce(0)).toBeNull();
    const acked = await produce(1);
    expect(acked?.responses[0]!.partitionResponses[0]!.baseOffset).toBe(12n);
    expect((await c.send(ApiKey.Metadata, metadataFor('after'))).topics[0]!.name).toBe('after');
    expect(p.requestsFor(ApiKey.Produce).map((r) => (r.body as ApiMessages[0]['request']).acks)).toEqual([0, 0, 1]);
    expect(c.inFlightCount).toBe(0);
  });
});

describe('stream cutting', () => {
  it('reads responses written one byte per TCP write', async () => {
    const p = await peer((req) => echoTopic(req.body), { byteByByte: true, ordered: true });
    const c = await connect(p);
    const names = ['a', 'bb', 'ccc'];
    const res = await Promise.all(names.map((n) => c.send(ApiKey.Metadata, metadataFor(n))));
    expect(res.map((r) => r.topics[0]!.name)).toEqual(names);
  });

  it('carries a response of several MiB and a large request intact', async () => {
    const big = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i, i);
    let received: Buffer | null = null;
    const p = await peer((req) => {
      if (req.apiKey === ApiKey.Produce) {
        received = Buffer.from((req.body as ApiMessages[0]['request']).topicData[0]!.partitionData[0]!.records!);
        return { message: { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 0n }] }] } };
      }
      return {
        message: {
          throttleTimeMs: 0,
          errorCode: 0,
          sessionId: 0,
          responses: [{ topic: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 99n, records: big }] }],
        },
      };
    });
    const c = await connect(p);
    const fetched = await c.send(ApiKey.Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      topics: [{ topic: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 8 << 20 }] }],
    });
    const part = fetched.responses[0]!.partitions[0]!;
    expect(part.highWatermark).toBe(99n);
    expect(part.records!.length).toBe(big.length);
    expect(part.records!.equals(big)).toBe(true);

    await c.send(ApiKey.Produce, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: big }] }] });
    expect(received).not.toBeNull();
    expect(received!.equals(big)).toBe(true);
  });
});
