// Record codec throughput: validate and decode of a 1 MiB produce payload of 1 KiB records (also as
// a whole Produce request: header, body and batch validation), and
// encode of a 1,000-record batch, uncompressed and with each codec, single-threaded. Figures are
// MB/s of uncompressed record bytes, printed under the machine's memcpy rate (the ceiling for
// anything that touches every byte). Run: `npx tsx bench/records-codec.ts`.

import { API_SPECS, ApiKey } from '../protocol/generated/api-table.ts';
import { decodeRequestHeader, encodeRequestFrame } from '../protocol/headers.ts';
import { CompressionType } from '../protocol/records/batch-header.ts';
import { compressionName } from '../protocol/records/compression.ts';
import { type RecordInput, decodeRecordBatch, encodeRecordBatch, validateBatch, validateRecords } from '../protocol/records/record-batch.ts';
import { measureMemcpy } from './limits.ts';

const MB = 1e6;
const RECORD_SIZE = 1024;
const RECORDS = 1000;
const CODECS = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

/** Values that compress roughly like JSON events do (repeated field names, varying numbers). */
function makeRecords(count: number): RecordInput[] {
  let seed = 42;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  return Array.from({ length: count }, (_, i) => {
    let text = '';
    while (text.length < RECORD_SIZE) text += `{"user":${rand() % 100000},"event":"click","ts":${1_700_000_000_000 + i},"v":${rand()}}`;
    return { offsetDelta: i, timestampDelta: i, key: Buffer.from(`key-${i % 100}`), value: Buffer.from(text.slice(0, RECORD_SIZE)), headers: [] };
  });
}

/** Runs `fn` for at least `minMillis` after a warm-up; returns operations per second. */
function rate(fn: () => unknown, minMillis = 700): number {
  for (let i = 0; i < 5; i++) fn();
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < minMillis) {
    fn();
    ops++;
  }
  return ops / ((performance.now() - start) / 1000);
}

const records = makeRecords(RECORDS);
const payloadBytes = records.reduce((n, r) => n + r.key!.length + r.value!.length, 0);
const memcpy = measureMemcpy();
const f = (n: number) => n.toFixed(0).padStart(8);

console.log(`node ${process.version}, ${RECORDS} records of ${RECORD_SIZE} B value (${(payloadBytes / 2 ** 20).toFixed(2)} MiB of keys+values per batch)`);
console.log(`memcpy ceiling: ${memcpy.toFixed(0)} MB/s\n`);
console.log('codec    wire KiB  validateBatch  validateRecords  decodeRecordBatch  encodeRecordBatch  produceRequest   (MB/s of uncompressed payload)');
for (const compression of CODECS) {
  const batch = encodeRecordBatch({ baseTimestamp: 1_700_000_000_000n, compression, records });
  const opts = { maxDecompressedBytes: 8 * 2 ** 20 };
  const v = rate(() => validateBatch(batch, 0)) * payloadBytes / MB;
  const w = rate(() => validateRecords(batch, 0, opts)) * payloadBytes / MB;
  const d = rate(() => decodeRecordBatch(batch, 0, opts)) * payloadBytes / MB;
  const e = rate(() => encodeRecordBatch({ baseTimestamp: 1_700_000_000_000n, compression, records })) * payloadBytes / MB;
  // The whole request as the broker receives it: header and body decoded, the batch validated.
  const frame = Buffer.concat(encodeRequestFrame(ApiKey.Produce, 9, 1, 'bench', { acks: 1, timeoutMs: 30000, transactionalId: null, topicData: [{ name: 'bench', partitionData: [{ index: 0, records: batch }] }] })).subarray(4);
  const q = rate(() => {
    const { reader } = decodeRequestHeader(frame);
    const req = API_SPECS[ApiKey.Produce].decodeRequest(reader, 9);
    validateRecords(req.topicData[0]!.partitionData[0]!.records!, 0, opts);
  }) * payloadBytes / MB;
  console.log(`${compressionName(compression).padEnd(7)} ${(batch.length / 1024).toFixed(0).padStart(9)} ${f(v)}       ${f(w)}         ${f(d)}           ${f(e)}          ${f(q)}`);
}
