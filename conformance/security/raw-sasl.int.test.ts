// A raw-socket client on a SASL_PLAINTEXT listener of a broker process: before authentication it
// reaches ApiVersions and the SASL APIs and nothing else (any other request closes the
// connection); an unknown mechanism, a wrong password and a wrong SCRAM nonce are answered and
// the connection closed; v0's raw-token framing works; v1 answers carry the session lifetime.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey, API_SPECS } from '../../protocol/generated/api-table.ts';
import { FrameReader } from '../../protocol/framing.ts';
import { decodeResponseHeader, encodeRequestFrame } from '../../protocol/headers.ts';
import { BrokerProcess, freePort } from '../harness/broker-process.ts';
import { plainToken } from '../../broker/security/plain.ts';
import { ScramClient, saltedPassword, scramMechanism } from '../../broker/security/scram.ts';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";';

class RawConnection {
  private readonly socket: Socket;
  private readonly reader = new FrameReader();
  private readonly frames: Buffer[] = [];
  private waiting: (() => void) | null = null;
  closed = false;
  private correlationId = 0;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d) => {
      this.frames.push(...this.reader.push(d));
      this.waiting?.();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    this.socket.on('error', () => {});
  }

  send<K extends ApiKey>(apiKey: K, version: number, body: unknown): void {
    for (const c of encodeRequestFrame(apiKey, version, ++this.correlationId, 'raw-sasl', body as never)) this.socket.write(c);
  }

  sendRaw(token: Buffer): void {
    const size = Buffer.alloc(4);
    size.writeInt32BE(token.length);
    this.socket.write(Buffer.concat([size, token]));
  }

  /** The next frame, or null when the broker closed the connection first (bounded wait). */
  async nextFrame(waitMs = 10_000): Promise<Buffer | null> {
    const deadline = Date.now() + waitMs;
    while (this.frames.length === 0 && !this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiting = r;
        setTimeout(r, 100);
      });
    }
    return this.frames.shift() ?? null;
  }

  async response<K extends ApiKey>(apiKey: K, version: number) {
    const frame = await this.nextFrame();
    if (!frame) throw new Error('connection closed without a response');
    const { reader } = decodeResponseHeader(frame, apiKey, version);
    return API_SPECS[apiKey].decodeResponse(reader, version) as never as Record<string, unknown> & { errorCode: number };
  }

  async waitClosed(waitMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('raw SASL client', () => {
  let broker: BrokerProcess;
  let saslPort: number;

  beforeAll(async () => {
    saslPort = await freePort();
    const port = await freePort();
    const controller = await freePort();
    broker = await BrokerProcess.start({
      port,
      controllerPort: controller,
      overrides: {
        'listeners': `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controller}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'PLAINTEXT',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        'connections.max.reauth.ms': '600000',
      },
    });
    const admin = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'raw-sasl-admin' });
    const m = scramMechanism('SCRAM-SHA-256')!;
    const salt = Buffer.alloc(16, 1);
    const r = await admin.send('any', ApiKey.AlterUserScramCredentials, { deletions: [], upsertions: [{ name: 'dave', mechanism: 1, iterations: 4096, salt, saltedPassword: saltedPassword(m, 'dave-secret', salt, 4096) }] });
    expect(r.results[0]!.errorCode).toBe(ErrorCode.NONE);
    await admin.close();
  }, 90_000);

  afterAll(async () => {
    await broker?.destroy();
  });

  it('answers ApiVersions before authentication, advertising the SASL APIs', async () => {
    const c = new RawConnection(saslPort);
    c.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    const r = await c.response(ApiKey.ApiVersions, 3);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    const keys = (r.apiKeys as { apiKey: number }[]).map((k) => k.apiKey);
    expect(keys).toContain(ApiKey.SaslHandshake);
    expect(keys).toContain(ApiKey.SaslAuthenticate);
    c.close();
  }, 30_000);

  it('closes the connection on any other request before authentication', async () => {
    for (const [apiKey, version, body] of [
      [ApiKey.Metadata, 1, { topics: null }],
      [ApiKey.Produce, 3, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [] }],
      [ApiKey.FindCoordinator, 1, { key: 'g', keyType: 0 }],
    ] as const) {
      const c = new RawConnection(saslPort);
      c.send(apiKey, version, body);
      expect(await c.nextFrame()).toBeNull();
      expect(c.closed).toBe(true);
    }
    expect(broker.logs).toContain('closing connection: unexpected request of API key 3 during SASL handshake');
  }, 30_000);

  it('refuses a SaslAuthenticate before the handshake', async () => {
    const c = new RawConnection(saslPort);
    c.send(ApiKey.SaslAuthenticate, 1, { authBytes: plainToken('admin', 'admin-secret') });
    const r = await c.response(ApiKey.SaslAuthenticate, 1);
    expect(r.errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
    expect(await c.waitClosed()).toBe(true);
  }, 30_000);

  it('names the enabled mechanisms for an unsupported one, then closes', async () => {
    const c = new RawConnection(saslPort);
    c.send(ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' });
    const r = await c.response(ApiKey.SaslHandshake, 1);
    expect(r.errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    expect(r.mechanisms).toEqual(['PLAIN', 'SCRAM-SHA-256']);
    expect(await c.waitClosed()).toBe(true);
  }, 30_000);

  it('answers a wrong password with SASL_AUTHENTICATION_FAILED and closes the connection after it', async () => {
    const c = new RawConnection(saslPort);
    c.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    expect((await c.response(ApiKey.SaslHandshake, 1)).errorCode).toBe(ErrorCode.NONE);
    c.send(ApiKey.SaslAuthenticate, 2, { authBytes: plainToken('admin', 'nope') });
    const r = await c.response(ApiKey.SaslAuthenticate, 2);
    expect(r.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(r.errorMessage).toBe('Authentication failed: Invalid username or password');
    expect(await c.waitClosed()).toBe(true);
  }, 30_000);

  it('authenticates with PLAIN over SaslAuthenticate v2, tells the session lifetime, then serves Metadata', async () => {
    const c = new RawConnection(saslPort);
    c.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    await c.response(ApiKey.SaslHandshake, 1);
    c.send(ApiKey.SaslAuthenticate, 2, { authBytes: plainToken('admin', 'admin-secret') });
    const r = await c.response(ApiKey.SaslAuthenticate, 2);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.sessionLifetimeMs).toBe(600000n);
    c.send(ApiKey.Metadata, 1, { topics: null });
    expect((await c.response(ApiKey.Metadata, 1)).brokers).toBeDefined();
    c.close();
  }, 30_000);

  it('takes raw SASL tokens after a v0 handshake (SCRAM-SHA-256), then serves Metadata', async () => {
    const c = new RawConnection(saslPort);
    c.send(ApiKey.SaslHandshake, 0, { mechanism: 'SCRAM-SHA-256' });
    expect((await c.response(ApiKey.SaslHandshake, 0)).errorCode).toBe(ErrorCode.NONE);
    const scram = new ScramClient(scramMechanism('SCRAM-SHA-256')!, 'dave', 'dave-secret');
    c.sendRaw(scram.first());
    const serverFirst = (await c.nextFrame())!;
    c.sendRaw(scram.final(serverFirst));
    scram.verify((await c.nextFrame())!);
    c.send(ApiKey.Metadata, 1, { topics: null });
    expect((await c.response(ApiKey.Metadata, 1)).brokers).toBeDefined();
    c.close();
  }, 30_000);

  it('refuses a SCRAM final message with a changed nonce, and closes', async () => {
    const c = new RawConnection(saslPort);
    c.send(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' });
    await c.response(ApiKey.SaslHandshake, 1);
    const scram = new ScramClient(scramMechanism('SCRAM-SHA-256')!, 'dave', 'dave-secret');
    c.send(ApiKey.SaslAuthenticate, 1, { authBytes: scram.first() });
    const first = await c.response(ApiKey.SaslAuthenticate, 1);
    const final = scram.final(first.authBytes as Buffer).toString().replace(/,r=([^,]*)/, ',r=$1x');
    c.send(ApiKey.SaslAuthenticate, 1, { authBytes: Buffer.from(final) });
    const r = await c.response(ApiKey.SaslAuthenticate, 1);
    expect(r.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(r.errorMessage).toBe('Invalid client nonce in the final client message.');
    expect(await c.waitClosed()).toBe(true);
  }, 30_000);
});
