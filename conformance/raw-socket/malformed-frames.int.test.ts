// Malformed input against a real broker process: each bad frame gets Kafka's answer (an error
// code, or the connection closed) and a warning in the broker's log, and clients on other
// connections keep working throughout.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { decodeApiVersionsResponse } from '../../protocol/generated/message/api-versions-response.ts';
import { decodeProduceResponse } from '../../protocol/generated/message/produce-response.ts';
import { encodeRequestFrame } from '../../protocol/headers.ts';
import { FrameReader } from '../../protocol/framing.ts';
import { Reader } from '../../protocol/reader.ts';
import { CRC_OFFSET, ATTRIBUTES_OFFSET } from '../../protocol/records/batch-header.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { crc32c } from '../../protocol/records/crc.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { BrokerProcess } from '../harness/broker-process.ts';

let broker: BrokerProcess;
let healthy: KafkaClient;

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: { 'socket.request.max.bytes': String(1024 * 1024) } });
  healthy = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'healthy' });
  await healthy.connect();
  await healthy.metadata(['raw'], { allowAutoTopicCreation: true });
});

afterAll(async () => {
  await healthy?.close();
  await broker?.destroy();
});

interface Outcome {
  closed: boolean;
  frames: Buffer[];
}

/**
 * Sends bytes on a fresh connection; collects response frames until the broker closes, `frames`
 * responses arrived, or `waitMs` passes.
 */
function exchange(bytes: Buffer | Buffer[], expectFrames = Infinity, waitMs = 1500): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket: Socket = connect(broker.port, '127.0.0.1');
    const reader = new FrameReader();
    const frames: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed, frames });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d) => {
      frames.push(...reader.push(d));
      if (frames.length >= expectFrames) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) socket.write(b);
    });
  });
}

function sized(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

async function stillHealthy(): Promise<void> {
  const md = await healthy.metadata(['raw']);
  expect(md.topics[0]!.errorCode).toBe(0);
}

function produceFrame(records: Buffer, version = 9): Buffer[] {
  return encodeRequestFrame(ApiKey.Produce, version, 7, 'raw-test', { acks: 1, timeoutMs: 5000, transactionalId: null, topicData: [{ name: 'raw', partitionData: [{ index: 0, records }] }] });
}

function goodBatch(): Buffer {
  return encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k'), value: Buffer.from('v') }] });
}

function partitionError(frame: Buffer): number {
  // Produce v9 responses use header v1: correlation id then an empty tagged-field section.
  const r = new Reader(frame, 5);
  return decodeProduceResponse(r, 9).responses[0]!.partitionResponses[0]!.errorCode;
}

describe('malformed input against a broker process', () => {
  it('closes the connection on garbage', async () => {
    const out = await exchange(sized(Buffer.from('this is not a kafka request at all')));
    expect(out.closed).toBe(true);
    await stillHealthy();
  });

  it('closes the connection on a request body cut short', async () => {
    const frame = Buffer.concat(encodeRequestFrame(ApiKey.Metadata, 9, 1, 'cut', { topics: [{ name: 'raw' }], allowAutoTopicCreation: false }));
    const body = frame.subarray(4, frame.length - 6);
    const out = await exchange(sized(body));
    expect(out.closed).toBe(true);
    await stillHealthy();
  });

  it('closes the connection on a frame larger than socket.request.max.bytes, before reading it', async () => {
    const header = Buffer.alloc(4);
    header.writeInt32BE(64 * 1024 * 1024);
    const out = await exchange([header, Buffer.alloc(1024)]);
    expect(out.closed).toBe(true);
    expect(broker.logs).toMatch(/closing connection/);
    await stillHealthy();
  });

  it('closes the connection on a negative frame size', async () => {
    const out = await exchange(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]));
    expect(out.closed).toBe(true);
  });

  it('closes the connection on an unknown API key', async () => {
    const body = Buffer.alloc(10);
    body.writeInt16BE(999, 0);
    body.writeInt16BE(0, 2);
    body.writeInt32BE(5, 4);
    body.writeInt16BE(-1, 8);
    const out = await exchange(sized(body));
    expect(out.closed).toBe(true);
    // The broker's log line travels through its stdout pipe: it may arrive just after the close.
    for (let i = 0; i < 40 && !/unknown or unserved API key 999/.test(broker.logs); i++) await new Promise((r) => setTimeout(r, 50));
    expect(broker.logs).toMatch(/unknown or unserved API key 999/);
  });

  it('closes the connection on an unsupported version of an API', async () => {
    const body = Buffer.alloc(10);
    body.writeInt16BE(ApiKey.Metadata, 0);
    body.writeInt16BE(99, 2);
    body.writeInt32BE(5, 4);
    body.writeInt16BE(-1, 8);
    const out = await exchange(sized(body));
    expect(out.closed).toBe(true);
  });

  it('answers an unsupported ApiVersions version with v0 and UNSUPPORTED_VERSION', async () => {
    // A future ApiVersions version is flexible: request header v2 (client id, then tagged fields).
    const body = Buffer.alloc(11);
    body.writeInt16BE(ApiKey.ApiVersions, 0);
    body.writeInt16BE(99, 2);
    body.writeInt32BE(42, 4);
    body.writeInt16BE(-1, 8);
    body.writeUInt8(0, 10);
    const out = await exchange(sized(body));
    expect(out.frames).toHaveLength(1);
    const frame = out.frames[0]!;
    expect(frame.readInt32BE(0)).toBe(42);
    const res = decodeApiVersionsResponse(new Reader(frame, 4), 0);
    expect(res.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(res.apiKeys.map((k) => k.apiKey)).toEqual([ApiKey.ApiVersions]);
    expect(res.apiKeys[0]!.maxVersion).toBeGreaterThanOrEqual(3);
  });

  it('answers a batch with a corrupt CRC with CORRUPT_MESSAGE', async () => {
    const batch = goodBatch();
    batch[batch.length - 1] ^= 0xff;
    const out = await exchange(produceFrame(batch), 1);
    expect(out.closed).toBe(false);
    expect(partitionError(out.frames[0]!)).toBe(ErrorCode.CORRUPT_MESSAGE);
    await stillHealthy();
  });

  it('answers an unknown compression codec with UNSUPPORTED_COMPRESSION_TYPE and bad compressed bytes with CORRUPT_MESSAGE', async () => {
    const unknownCodec = goodBatch();
    unknownCodec.writeInt16BE(7, ATTRIBUTES_OFFSET);
    unknownCodec.writeUInt32BE(crc32c(unknownCodec, ATTRIBUTES_OFFSET, unknownCodec.length), CRC_OFFSET);
    const a = await exchange(produceFrame(unknownCodec), 1);
    expect(partitionError(a.frames[0]!)).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);

    const notGzip = goodBatch();
    notGzip.writeInt16BE(1, ATTRIBUTES_OFFSET);
    notGzip.writeUInt32BE(crc32c(notGzip, ATTRIBUTES_OFFSET, notGzip.length), CRC_OFFSET);
    const b = await exchange(produceFrame(notGzip), 1);
    expect(partitionError(b.frames[0]!)).toBe(ErrorCode.CORRUPT_MESSAGE);
    await stillHealthy();
  });

  it('keeps serving a well-behaved client on another connection throughout', async () => {
    const res = await healthy.produce('raw', 0, goodBatch(), { acks: 1 });
    expect(res?.errorCode).toBe(0);
    const again = await healthy.produce('raw', 0, goodBatch(), { acks: 1 });
    expect(again!.baseOffset).toBe(res!.baseOffset + 1n);
  });
});
