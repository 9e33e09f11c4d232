import { describe, expect, it } from 'vitest';
import { ApiKey, API_SPECS } from './generated/api-table.ts';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestFrame,
  encodeResponseFrame,
  encodeResponseMessageFrame,
  peekResponseCorrelationId,
} from './headers.ts';
import { ZERO_UUID } from './uuid.ts';

function withoutPrefix(chunks: Buffer[]): Buffer {
  const all = Buffer.concat(chunks);
  expect(all.readInt32BE(0)).toBe(all.length - 4);
  return all.subarray(4);
}

describe('request frames', () => {
  it('uses header v1 for a non-flexible request and v2 for a flexible one', () => {
    const v1 = withoutPrefix(encodeRequestFrame(ApiKey.Metadata, 8, 7, 'cli', { topics: null, allowAutoTopicCreation: false }));
    const h1 = decodeRequestHeader(v1);
    expect(h1.headerVersion).toBe(1);
    expect(h1.header).toMatchObject({ requestApiKey: 3, requestApiVersion: 8, correlationId: 7, clientId: 'cli' });
    // int16 key, int16 version, int32 correlation id, int16 length + 3 bytes of client id.
    expect(h1.reader.pos).toBe(2 + 2 + 4 + 2 + 3);
    expect(API_SPECS[ApiKey.Metadata].decodeRequest(h1.reader, 8).topics).toBeNull();

    const v2 = withoutPrefix(encodeRequestFrame(ApiKey.Metadata, 12, 8, 'cli', { topics: [{ name: 'a', topicId: ZERO_UUID }] }));
    const h2 = decodeRequestHeader(v2);
    expect(h2.headerVersion).toBe(2);
    // The client id stays a classic int16-length string in header v2, then an empty tag section.
    expect(v2.readInt16BE(8)).toBe(3);
    expect(v2[8 + 2 + 3]).toBe(0);
    expect(h2.reader.pos).toBe(8 + 2 + 3 + 1);
    expect(API_SPECS[ApiKey.Metadata].decodeRequest(h2.reader, 12).topics?.[0]?.name).toBe('a');
  });

  it('encodes a null client id as length -1', () => {
    const f = withoutPrefix(encodeRequestFrame(ApiKey.ApiVersions, 3, 1, null, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }));
    expect(f.readInt16BE(8)).toBe(-1);
    expect(decodeRequestHeader(f).header.clientId).toBeNull();
  });

  it('uses header v0 for ControlledShutdown v0', () => {
    const f = withoutPrefix(encodeRequestFrame(ApiKey.ControlledShutdown, 0, 5, 'cli', { brokerId: 1 }));
    const h = decodeRequestHeader(f);
    expect(h.headerVersion).toBe(0);
    expect(h.reader.pos).toBe(8);
  });

  it('keeps a large record batch as its own chunk, uncopied', () => {
    const records = Buffer.alloc(1 << 20, 7);
    const chunks = encodeRequestFrame(ApiKey.Produce, 9, 1, 'cli', {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 't', partitionData: [{ index: 0, records }] }],
    });
    expect(chunks.some((c) => c === records)).toBe(true);
    const f = withoutPrefix(chunks);
    const h = decodeRequestHeader(f);
    const body = API_SPECS[ApiKey.Produce].decodeRequest(h.reader, 9);
    expect(body.topicData[0]!.partitionData[0]!.records!.equals(records)).toBe(true);
  });

  it('rejects a frame too short for a header', () => {
    expect(() => decodeRequestHeader(Buffer.alloc(3))).toThrow(/no room/);
    expect(() => decodeRequestHeader(Buffer.from([0, 3, 0, 1, 0, 0]))).toThrow();
  });
});

describe('response frames', () => {
  it('answers ApiVersions with header v0 even at a flexible version', () => {
    const f = withoutPrefix(encodeResponseMessageFrame(ApiKey.ApiVersions, 3, 42, { errorCode: 0, apiKeys: [] }));
    expect(peekResponseCorrelationId(f)).toBe(42);
    const h = decodeResponseHeader(f, ApiKey.ApiVersions, 3);
    expect(h.headerVersion).toBe(0);
    expect(h.reader.pos).toBe(4);
    expect(API_SPECS[ApiKey.ApiVersions].decodeResponse(h.reader, 3).errorCode).toBe(0);
  });

  it('uses header v1 for flexible responses and v0 otherwise', () => {
    const flexible = withoutPrefix(encodeResponseFrame(ApiKey.Metadata, 12, 9, (w) => w.writeInt8(5)));
    expect(flexible.length).toBe(4 + 1 + 1);
    const h1 = decodeResponseHeader(flexible, ApiKey.Metadata, 12);
    expect(h1.headerVersion).toBe(1);
    expect(h1.header.correlationId).toBe(9);
    expect(h1.reader.readInt8()).toBe(5);

    const classic = withoutPrefix(encodeResponseFrame(ApiKey.Metadata, 8, 10, (w) => w.writeInt8(6)));
    expect(classic.length).toBe(4 + 1);
    expect(decodeResponseHeader(classic, ApiKey.Metadata, 8).reader.readInt8()).toBe(6);
  });

  it('keeps fetched records as their own chunk', () => {
    const records = Buffer.alloc(3 << 20, 1);
    const chunks = encodeResponseMessageFrame(ApiKey.Fetch, 12, 3, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 10n, records }] }],
    });
    expect(chunks.some((c) => c === records)).toBe(true);
    const f = withoutPrefix(chunks);
    const body = API_SPECS[ApiKey.Fetch].decodeResponse(decodeResponseHeader(f, ApiKey.Fetch, 12).reader, 12);
    expect(body.responses[0]!.partitions[0]!.records!.equals(records)).toBe(true);
  });
});
