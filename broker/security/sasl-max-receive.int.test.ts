// sasl.server.max.receive.size on a SASL listener, as Kafka applies it: before and during the
// first authentication a request larger than the limit (512 KB by default) closes the connection
// unanswered, so an unauthenticated client cannot make the broker buffer socket.request.max.bytes;
// once authenticated, requests up to socket.request.max.bytes are served.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { FrameReader } from '../../protocol/framing.ts';
import { API_SPECS, ApiKey } from '../../protocol/generated/api-table.ts';
import { decodeResponseHeader, encodeRequestFrame } from '../../protocol/headers.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { plainToken } from './plain.ts';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";';

/** A raw client: requests out, answers (or the close) in. */
class Raw {
  private readonly socket: Socket;
  private readonly reader = new FrameReader();
  private readonly frames: Buffer[] = [];
  private correlationId = 0;
  closed = false;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d) => this.frames.push(...this.reader.push(d)));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => {});
  }

  send<K extends ApiKey>(apiKey: K, version: number, body: unknown): void {
    this.socket.write(Buffer.concat(encodeRequestFrame(apiKey, version, ++this.correlationId, 'max-receive', body as never)));
  }

  /** The next answer decoded, or null once the broker has closed the connection without one. */
  async answer<K extends ApiKey>(apiKey: K, version: number): Promise<Record<string, unknown> | null> {
    const deadline = Date.now() + 15_000;
    while (this.frames.length === 0 && !this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const frame = this.frames.shift();
    if (!frame) return null;
    const { reader } = decodeResponseHeader(frame, apiKey, version);
    return API_SPECS[apiKey].decodeResponse(reader, version) as never;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('sasl.server.max.receive.size', () => {
  let started: StartedBroker;
  let port: number;

  beforeAll(async () => {
    started = await startBroker({
      overrides: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0',
        'advertised.listeners': 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'PLAINTEXT',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
      },
    });
    port = started.broker.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port;
  }, 60_000);

  afterAll(async () => {
    await started?.stop();
  });

  it('answers a request under the limit before authentication and closes, unanswered, one over it', async () => {
    const under = new Raw(port);
    under.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 'M'.repeat(500_000), clientSoftwareVersion: '1' });
    expect(await under.answer(ApiKey.ApiVersions, 3)).not.toBeNull();
    under.destroy();
    const over = new Raw(port);
    over.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 'M'.repeat(530_000), clientSoftwareVersion: '1' });
    expect(await over.answer(ApiKey.ApiVersions, 3)).toBeNull();
    expect(over.closed).toBe(true);
  }, 30_000);

  it('holds a token mid-exchange to the limit too', async () => {
    const c = new Raw(port);
    c.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    expect((await c.answer(ApiKey.SaslHandshake, 1))?.errorCode).toBe(ErrorCode.NONE);
    c.send(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.concat([plainToken('alice', 'alice-secret'), Buffer.alloc(600_000)]) });
    expect(await c.answer(ApiKey.SaslAuthenticate, 2)).toBeNull();
    expect(c.closed).toBe(true);
  }, 30_000);

  it('serves requests up to socket.request.max.bytes once authenticated', async () => {
    const c = new Raw(port);
    c.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    await c.answer(ApiKey.SaslHandshake, 1);
    c.send(ApiKey.SaslAuthenticate, 2, { authBytes: plainToken('alice', 'alice-secret') });
    expect((await c.answer(ApiKey.SaslAuthenticate, 2))?.errorCode).toBe(ErrorCode.NONE);
    const records = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.alloc(700_000, 1) }] });
    c.send(ApiKey.Metadata, 9, { topics: [{ name: 'big' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
    await c.answer(ApiKey.Metadata, 9);
    c.send(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: 'big', partitionData: [{ index: 0, records }] }] });
    const r = (await c.answer(ApiKey.Produce, 9)) as { responses: { partitionResponses: { errorCode: number }[] }[] } | null;
    expect(r).not.toBeNull();
    expect(c.closed).toBe(false);
    expect([ErrorCode.NONE, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]).toContain(r!.responses[0]!.partitionResponses[0]!.errorCode);
    c.destroy();
  }, 30_000);
});
