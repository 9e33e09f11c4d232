// Behaviour of the generated codecs on input that is not a valid message: every truncation and
// every corruption raises a DecodeError (never another error), and unknown tagged fields survive.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from './decode-error.ts';
import { API_SPECS, ApiKey, apiSpec } from './generated/api-table.ts';
import { decodeApiVersionsRequest, encodeApiVersionsRequest } from './generated/message/api-versions-request.ts';
import { decodeFetchRequest, encodeFetchRequest, type FetchRequest } from './generated/message/fetch-request.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

function expectDecodeErrorOrValue(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

const fetch: FetchRequest = {
  replicaId: -1,
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 1,
  sessionId: 7,
  sessionEpoch: 2,
  topics: [{ topic: 'orders', topicId: 'Yy1hCIOJQiG8o_wIk4Qk7w', partitions: [{ partition: 3, fetchOffset: 123n, partitionMaxBytes: 65536, currentLeaderEpoch: 4 }] }],
  forgottenTopicsData: [],
  rackId: 'rack-a',
  clusterId: 'c1',
};

function enc(v: number): Buffer {
  const w = new Writer();
  encodeFetchRequest(w, v, fetch);
  return w.toBuffer();
}

describe('generated codecs on bad input', () => {
  it('raise DecodeError on truncation at every offset, for every Fetch version', () => {
    for (let v = 0; v <= 17; v++) {
      const bytes = enc(v);
      for (let cut = 0; cut < bytes.length; cut++) {
        expect(() => {
          const r = new Reader(bytes.subarray(0, cut));
          decodeFetchRequest(r, v);
        }, `v${v} cut at ${cut}`).toThrow(DecodeError);
      }
    }
  });

  it('raise only DecodeError on random mutations of real requests of every API', () => {
    const samples: { key: number; v: number; bytes: Buffer }[] = [];
    for (const spec of Object.values(API_SPECS)) {
      for (const v of [spec.minVersion, spec.maxVersion]) {
        const w = new Writer();
        spec.encodeRequest(w, v, {} as never);
        samples.push({ key: spec.apiKey, v, bytes: w.toBuffer() });
      }
    }
    fc.assert(
      fc.property(fc.nat(samples.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.uint8Array({ maxLength: 16 }), (i, flips, tail) => {
        const s = samples[i]!;
        const bytes = Buffer.concat([s.bytes, Buffer.from(tail)]);
        for (const [at, val] of flips) if (bytes.length) bytes[at % bytes.length] = val;
        expectDecodeErrorOrValue(() => apiSpec(s.key)!.decodeRequest(new Reader(bytes), s.v));
      }),
      { numRuns: 5000, seed: 7 },
    );
  });

  it('reject absurd lengths without allocating them', () => {
    // ApiVersions v3 ClientSoftwareName: compact string whose length says 2^31.
    const bytes = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07, 0x61]);
    expect(() => decodeApiVersionsRequest(new Reader(bytes), 3)).toThrow(DecodeError);
    // Metadata v1 topics array of length 0x7fffffff.
    const big = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
    expect(() => apiSpec(ApiKey.Metadata)!.decodeRequest(new Reader(big), 1)).toThrow(/array length/);
    // Negative string length (other than -1) is invalid.
    expect(() => apiSpec(ApiKey.Metadata)!.decodeRequest(new Reader(Buffer.from([0, 0, 0, 1, 0xff, 0xfe])), 1)).toThrow(/negative/);
  });

  it('reject invalid UTF-8 and invalid varints', () => {
    const w = new Writer();
    encodeApiVersionsRequest(w, 3, { clientSoftwareName: 'ab', clientSoftwareVersion: '1' });
    const bytes = w.toBuffer();
    bytes[1] = 0xc3; // a lone lead byte followed by 'b'
    expect(() => decodeApiVersionsRequest(new Reader(bytes), 3)).toThrow(/UTF-8/);
    expect(() => decodeApiVersionsRequest(new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), 3)).toThrow(/varint/);
  });

  it('keep unknown tagged fields through a round trip', () => {
    // The request ends with its top-level tagged section; replace it with known tag 0 and unknown tag 9.
    const w = new Writer();
    encodeFetchRequest(w, 12, { ...fetch, clusterId: null });
    const base = w.toBuffer();
    expect(base[base.length - 1]).toBe(0);
    const withTags = Buffer.concat([base.subarray(0, base.length - 1), Buffer.from([2, 0, 3, 3, 0x41, 0x42, 9, 2, 0xca, 0xfe])]);
    const decoded = decodeFetchRequest(new Reader(withTags), 12);
    expect(decoded.clusterId).toBe('AB');
    expect(decoded._unknownTaggedFields).toEqual([{ tag: 9, data: Buffer.from([0xca, 0xfe]) }]);
    const again = new Writer();
    encodeFetchRequest(again, 12, decoded);
    expect(again.toBuffer().equals(withTags)).toBe(true);
  });

  it('refuse versions outside the schema', () => {
    expect(() => decodeFetchRequest(new Reader(Buffer.alloc(64)), 18)).toThrow(DecodeError);
  });
});
