// OAUTHBEARER with signed tokens on a broker process: the SASL_PLAINTEXT listener validates with
// OAuthBearerValidatorCallbackHandler against a file:// JWKS (listener-prefixed settings, the
// expected audience set broker-wide). kafkajs with a token signed by the set's key produces and
// consumes as the token's subject; a token signed by another key is answered with the
// invalid_token challenge and, on the client's \x01, SASL_AUTHENTICATION_FAILED.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthBearerClientFirst } from '../../broker/security/oauthbearer.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { FrameReader } from '../../protocol/framing.ts';
import { ApiKey, API_SPECS } from '../../protocol/generated/api-table.ts';
import { decodeResponseHeader, encodeRequestFrame } from '../../protocol/headers.ts';
import { BrokerProcess, freePort } from '../harness/broker-process.ts';

const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function token(key: KeyObject, sub: string): string {
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${enc({ alg: 'ES256', kid: 'k1', typ: 'JWT' })}.${enc({ sub, aud: 'samsa', iat: now, exp: now + 3600 })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** SaslHandshake and SaslAuthenticate v1 on a raw socket: the broker's answers as they are. */
async function saslExchange(port: number, tokens: Buffer[]): Promise<{ errorCode: number; errorMessage: string | null; authBytes: Buffer }[]> {
  const socket: Socket = connect(port, '127.0.0.1');
  const reader = new FrameReader();
  const frames: Buffer[] = [];
  socket.on('data', (d) => frames.push(...reader.push(d)));
  socket.on('error', () => {});
  const next = async (): Promise<Buffer> => {
    const deadline = Date.now() + 10_000;
    while (frames.length === 0) {
      if (Date.now() > deadline || socket.destroyed) throw new Error('no answer from the broker');
      await new Promise((r) => setTimeout(r, 20));
    }
    return frames.shift()!;
  };
  let correlationId = 0;
  const call = async <K extends ApiKey>(apiKey: K, body: unknown) => {
    for (const c of encodeRequestFrame(apiKey, 1, ++correlationId, 'jwks-test', body as never)) socket.write(c);
    const { reader: r } = decodeResponseHeader(await next(), apiKey, 1);
    return API_SPECS[apiKey].decodeResponse(r, 1) as never as { errorCode: number; errorMessage: string | null; authBytes: Buffer };
  };
  try {
    expect((await call(ApiKey.SaslHandshake, { mechanism: 'OAUTHBEARER' })).errorCode).toBe(ErrorCode.NONE);
    const answers = [];
    for (const t of tokens) answers.push(await call(ApiKey.SaslAuthenticate, { authBytes: t }));
    return answers;
  } finally {
    socket.destroy();
  }
}

describe('OAUTHBEARER with a JWKS (OAuthBearerValidatorCallbackHandler)', () => {
  let broker: BrokerProcess;
  let saslPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'samsa-jwks-int-'));

  beforeAll(async () => {
    const jwksPath = join(dir, 'jwks.json');
    writeFileSync(jwksPath, JSON.stringify({ keys: [{ ...signing.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
    const [port, controller] = [await freePort(), await freePort()];
    saslPort = await freePort();
    broker = await BrokerProcess.start({
      port,
      controllerPort: controller,
      overrides: {
        'listeners': `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controller}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'PLAINTEXT',
        'sasl.enabled.mechanisms': 'OAUTHBEARER',
        'listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
        'listener.name.sasl_plaintext.oauthbearer.sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(jwksPath).href,
        'sasl.oauthbearer.expected.audience': 'samsa',
      },
    });
  }, 60_000);

  afterAll(async () => {
    await broker?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('produces and consumes with a token signed by a key of the JWKS', async () => {
    const kafka = new Kafka({ clientId: 'jwks-kafkajs', brokers: [`127.0.0.1:${saslPort}`], logLevel: logLevel.NOTHING, connectionTimeout: 5000, requestTimeout: 15_000, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 }, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token(signing.privateKey, 'svc-orders') }) } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'jwks-topic', numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic: 'jwks-topic', messages: [{ value: 'one' }, { value: 'two' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'jwks-group', sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'jwks-topic', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} records consumed`)), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push(message.value!.toString());
            if (got.length === 2) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(got).toEqual(['one', 'two']);
    expect(broker.logs).toMatch(/"listener":"SASL_PLAINTEXT"[^\n]*"principal":"User:svc-orders"[^\n]*"msg":"created topic"/);
  }, 60_000);

  it('refuses a token signed by another key with SASL_AUTHENTICATION_FAILED', async () => {
    const [first, ack] = await saslExchange(saslPort, [oauthBearerClientFirst(token(other.privateKey, 'mallory')), Buffer.from('\x01')]);
    expect(first!.errorCode).toBe(ErrorCode.NONE);
    expect(first!.authBytes.toString()).toBe('{"status":"invalid_token"}');
    expect(ack!.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    // kafkajs takes the error challenge as the end of the exchange; its next request is refused.
    const kafka = new Kafka({ clientId: 'jwks-kafkajs-bad', brokers: [`127.0.0.1:${saslPort}`], logLevel: logLevel.NOTHING, connectionTimeout: 5000, requestTimeout: 5000, retry: { retries: 0 }, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token(other.privateKey, 'mallory') }) } });
    const admin = kafka.admin();
    const outcome = await admin.connect().then(() => admin.listTopics()).then(
      () => 'served',
      () => 'refused',
    );
    expect(outcome).toBe('refused');
    await admin.disconnect();
    expect(broker.logs).not.toContain('User:mallory"');
  }, 30_000);
});
