// The produce path through a real broker in this process: acks, validation errors, the
// idempotent producer's duplicate and sequence checks (also across a restart), old clients'
// message sets, and recompression to the topic's compression.type.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../conformance/harness/broker-process.ts';
import { startBroker, type StartedBroker } from '../index.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { connect } from 'node:net';
import { FrameReader } from '../protocol/framing.ts';
import { API_SPECS, ApiKey, type ApiMessages } from '../protocol/generated/api-table.ts';
import { decodeResponseHeader, encodeRequestFrame } from '../protocol/headers.ts';
import { CompressionType, readBatchHeader } from '../protocol/records/batch-header.ts';
import { encodeMessageSet } from '../protocol/records/legacy-message-set.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches } from '../protocol/records/record-batch.ts';

let dir: string;
let started: StartedBroker;
let client: KafkaClient;

async function boot(): Promise<void> {
  started = await startBroker({ logDir: dir, overrides: { 'num.partitions': '1' } });
  client = new KafkaClient({ bootstrapServers: [started.bootstrap], clientId: 'produce-test' });
  await client.connect();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-produce-'));
  await boot();
});

afterAll(async () => {
  await client?.close();
  await started?.stop();
  await rm(dir, { recursive: true, force: true });
});

function batch(values: string[], opts: { producerId?: bigint; epoch?: number; seq?: number; key?: string | null; compression?: number } = {}): Buffer {
  return encodeRecordBatch({
    baseTimestamp: BigInt(Date.now()),
    producerId: opts.producerId ?? -1n,
    producerEpoch: opts.epoch ?? -1,
    baseSequence: opts.seq ?? -1,
    compression: opts.compression ?? CompressionType.None,
    records: values.map((v, i) => ({ offsetDelta: i, timestampDelta: 0, key: opts.key === null ? null : Buffer.from(opts.key ?? 'k'), value: Buffer.from(v) })),
  });
}

async function createTopic(name: string, configs: Record<string, string> = {}): Promise<void> {
  const ctl = started.broker.context.controller;
  const [res] = await ctl.createTopics([{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }], false);
  expect(res!.errorCode).toBe(0);
  await started.broker.context.metadata.waitFor(ctl.image.offset);
}

async function readLog(topic: string): Promise<Buffer> {
  const p = started.broker.context.replicaManager.getPartition(topic, 0)!;
  return (await p.log.read(p.log.logStartOffset, 1 << 20)).records;
}

/** A request that must get a response (never acks=0). */
async function sendOrFail<K extends ApiKey>(apiKey: K, request: ApiMessages[K]['request'], options: { version?: number } = {}): Promise<ApiMessages[K]['response']> {
  const res = await client.send('any', apiKey, request, options);
  if (res === null) throw new Error('no response');
  return res as ApiMessages[K]['response'];
}

async function initProducerId(): Promise<bigint> {
  const res = await sendOrFail(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000 });
  expect(res.errorCode).toBe(0);
  return res.producerId;
}

describe('produce through a broker', () => {
  it('appends with acks 1 and -1 and assigns consecutive offsets', async () => {
    await createTopic('acks');
    const a = await client.produce('acks', 0, batch(['a', 'b']), { acks: 1 });
    const b = await client.produce('acks', 0, batch(['c']), { acks: -1 });
    expect(a!.errorCode).toBe(0);
    expect(a!.baseOffset).toBe(0n);
    expect(b!.baseOffset).toBe(2n);
    expect(await client.produce('acks', 0, batch(['d']), { acks: 0 })).toBeNull();
    // The acks=0 append was written before a later acknowledged one on the same connection.
    const c = await client.produce('acks', 0, batch(['e']), { acks: 1 });
    expect(c!.baseOffset).toBe(4n);
  });

  it('keeps every byte of pipelined requests larger than a socket read, and of fetch answers left waiting in the socket, whose memory is reused', async () => {
    await createTopic('big-frames');
    // 48 batches of 80-120 KiB, each record's value its own bytes, all sent at once on one
    // connection with acks 1, -1 and 0 mixed: a frame's memory is reused only once it is answered.
    const sent: string[][] = [];
    for (let i = 0; i < 48; i++) {
      const count = 20 + (i % 11) * 2;
      sent.push(Array.from({ length: count }, (_, r) => `${i}-${r}-`.padEnd(4096 + ((i * 7 + r) % 97), String.fromCharCode(97 + ((i + r) % 26)))));
    }
    const answers = await Promise.all(sent.map((values, i) => client.produce('big-frames', 0, batch(values), { acks: [1, -1, 0][i % 3]! })));
    for (const [i, a] of answers.entries()) {
      if (i % 3 === 2) expect(a).toBeNull();
      else expect(a!.errorCode).toBe(0);
    }
    const p = started.broker.context.replicaManager.getPartition('big-frames', 0)!;
    const { records } = await p.log.read(0, 64 << 20);
    const stored: string[][] = [];
    for (const e of iterateBatches(records)) stored.push(decodeRecordBatch(records, e.position).records.map((r) => r.value!.toString()));
    expect(stored).toEqual(sent);

    // Fetch answers reuse the log's read buffers once written. A connection that does not read
    // leaves 32 answers (~19 MB) waiting in the broker's socket buffers while another connection
    // fetches 24 times: each answer still carries exactly the log's bytes from its offset.
    const total = stored.flat().length;
    const fetchRequest = (fetchOffset: number): ApiMessages[typeof ApiKey.Fetch]['request'] => ({
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 4 << 20,
      isolationLevel: 0,
      topics: [{ topic: 'big-frames', partitions: [{ partition: 0, fetchOffset: BigInt(fetchOffset), partitionMaxBytes: 600 * 1024 }] }],
    });
    const slowOffsets = Array.from({ length: 32 }, (_, i) => (i * 13) % total);
    const [host, port] = started.bootstrap.split(':');
    const slow = connect({ host: host!, port: Number(port) });
    await new Promise<void>((resolve, reject) => slow.once('connect', resolve).once('error', reject));
    slow.pause();
    for (const [i, o] of slowOffsets.entries()) slow.write(Buffer.concat(encodeRequestFrame(ApiKey.Fetch, 11, i, 'slow-reader', fetchRequest(o))));
    await new Promise((r) => setTimeout(r, 500));
    const offsets = Array.from({ length: 24 }, (_, i) => (i * 37) % total);
    const fetches = await Promise.all(offsets.map((o) => sendOrFail(ApiKey.Fetch, fetchRequest(o), { version: 11 })));
    const want = async (offset: number): Promise<Buffer> => (await p.log.read(offset, 600 * 1024, { minOneMessage: true })).records;
    for (const [i, f] of fetches.entries()) expect(f.responses[0]!.partitions[0]!.records!.equals(await want(offsets[i]!))).toBe(true);
    const reader = new FrameReader();
    const slowAnswers: Buffer[] = [];
    slow.on('data', (chunk: Buffer) => slowAnswers.push(...reader.push(chunk)));
    slow.resume();
    const deadline = Date.now() + 20_000;
    while (slowAnswers.length < slowOffsets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    slow.destroy();
    expect(slowAnswers.length).toBe(slowOffsets.length);
    for (const frame of slowAnswers) {
      const { header, reader: r } = decodeResponseHeader(frame, ApiKey.Fetch, 11);
      const records = API_SPECS[ApiKey.Fetch].decodeResponse(r, 11).responses[0]!.partitions[0]!.records!;
      expect(records.length).toBeGreaterThan(0);
      expect(records.equals(await want(slowOffsets[header.correlationId]!))).toBe(true);
    }
  });

  it('refuses invalid acks, unknown partitions and oversized batches with Kafka error codes', async () => {
    await createTopic('limits', { 'max.message.bytes': '200' });
    const bad = await sendOrFail(ApiKey.Produce, { acks: 2, timeoutMs: 1000, transactionalId: null, topicData: [{ name: 'limits', partitionData: [{ index: 0, records: batch(['x']) }] }] });
    expect(bad.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
    const big = await sendOrFail(ApiKey.Produce, { acks: 1, timeoutMs: 1000, transactionalId: null, topicData: [{ name: 'limits', partitionData: [{ index: 0, records: batch(['x'.repeat(500)]) }, { index: 9, records: batch(['x']) }] }] });
    expect(big.responses[0]!.partitionResponses.map((p) => p.errorCode)).toEqual([ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  });

  it('hosts topics whose overrides storage does not act on', async () => {
    await createTopic('downconv', { 'message.downconversion.enable': 'false', 'leader.replication.throttled.replicas': '' });
    const res = await client.produce('downconv', 0, batch(['x']), { acks: 1 });
    expect(res!.errorCode).toBe(0);
  });

  it('refuses records without keys on compacted topics, naming the record', async () => {
    await createTopic('compacted', { 'cleanup.policy': 'compact' });
    const res = await sendOrFail(ApiKey.Produce, { acks: 1, timeoutMs: 1000, transactionalId: null, topicData: [{ name: 'compacted', partitionData: [{ index: 0, records: batch(['x'], { key: null }) }] }] });
    const p = res.responses[0]!.partitionResponses[0]!;
    expect(p.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(p.recordErrors![0]!.batchIndexErrorMessage).toMatch(/Compacted topic cannot accept message without key/);
  });

  it('acknowledges a retried idempotent batch with its first offsets and refuses gaps and old epochs', async () => {
    await createTopic('idem');
    const pid = await initProducerId();
    const first = await client.produce('idem', 0, batch(['1', '2'], { producerId: pid, epoch: 0, seq: 0 }), { acks: -1 });
    const dup = await client.produce('idem', 0, batch(['1', '2'], { producerId: pid, epoch: 0, seq: 0 }), { acks: -1 });
    expect(dup!.errorCode).toBe(0);
    expect(dup!.baseOffset).toBe(first!.baseOffset);
    const gap = await sendOrFail(ApiKey.Produce, { acks: -1, timeoutMs: 1000, transactionalId: null, topicData: [{ name: 'idem', partitionData: [{ index: 0, records: batch(['9'], { producerId: pid, epoch: 0, seq: 5 }) }] }] });
    expect(gap.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const next = await client.produce('idem', 0, batch(['3'], { producerId: pid, epoch: 1, seq: 0 }), { acks: -1 });
    expect(next!.baseOffset).toBe(2n);
    const fenced = await sendOrFail(ApiKey.Produce, { acks: -1, timeoutMs: 1000, transactionalId: null, topicData: [{ name: 'idem', partitionData: [{ index: 0, records: batch(['4'], { producerId: pid, epoch: 0, seq: 2 }) }] }] });
    expect(fenced.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const log = await readLog('idem');
    const values = [...iterateBatches(log)].flatMap((e) => decodeRecordBatch(log, e.position).records.map((r) => r.value!.toString()));
    expect(values).toEqual(['1', '2', '3']);
  });

  it('converts old clients\' magic 0 and 1 message sets to magic 2', async () => {
    await createTopic('legacy');
    for (const [magic, version] of [[0, 0], [1, 2]] as const) {
      const ms = encodeMessageSet({ magic, records: [{ offset: 0n, timestamp: magic === 1 ? 1700000000000n : -1n, key: Buffer.from('k'), value: Buffer.from(`m${magic}`) }] });
      const res = await sendOrFail(ApiKey.Produce, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'legacy', partitionData: [{ index: 0, records: ms }] }] }, { version });
      expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    }
    const log = await readLog('legacy');
    const batches = [...iterateBatches(log)].map((e) => decodeRecordBatch(log, e.position));
    expect(batches.map((b) => b.header.magic)).toEqual([2, 2]);
    expect(batches.map((b) => b.records[0]!.value!.toString())).toEqual(['m0', 'm1']);
  });

  it('recompresses to the topic\'s compression.type', async () => {
    await createTopic('gz', { 'compression.type': 'gzip' });
    await client.produce('gz', 0, batch(['plain', 'text'], { compression: CompressionType.Snappy }), { acks: 1 });
    const log = await readLog('gz');
    const h = readBatchHeader(log, 0);
    expect(h.attributes & 7).toBe(CompressionType.Gzip);
    expect(decodeRecordBatch(log, 0).records.map((r) => r.value!.toString())).toEqual(['plain', 'text']);
  });

  it('remembers producer state and data across a restart', async () => {
    await createTopic('restart');
    const pid = await initProducerId();
    const first = await client.produce('restart', 0, batch(['a'], { producerId: pid, epoch: 0, seq: 0 }), { acks: -1 });
    await client.close();
    await started.stop();
    await boot();
    const dup = await client.produce('restart', 0, batch(['a'], { producerId: pid, epoch: 0, seq: 0 }), { acks: -1 });
    expect(dup!.baseOffset).toBe(first!.baseOffset);
    const next = await client.produce('restart', 0, batch(['b'], { producerId: pid, epoch: 0, seq: 1 }), { acks: -1 });
    expect(next!.baseOffset).toBe(first!.baseOffset + 1n);
    expect(started.broker.context.metadata.image.topicsByName.has('acks')).toBe(true);
    // Logs loaded from disk at start take their topic's overrides from the metadata log.
    expect(started.broker.context.replicaManager.getPartition('limits', 0)!.log.config.maxMessageBytes).toBe(200);
    expect(started.broker.context.replicaManager.getPartition('gz', 0)!.log.config.compressionType).toBe('gzip');
    const pid2 = await initProducerId();
    expect(pid2).not.toBe(pid);
  });
});

describe('a client of a restarting broker', () => {
  it('is served only once the broker is unfenced and leads its partitions again', async () => {
    const restartDir = await mkdtemp(join(tmpdir(), 'samsa-produce-restart-'));
    const port = await freePort();
    const overrides = { 'num.partitions': '1', listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:0`, 'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}` };
    let node = await startBroker({ logDir: restartDir, overrides });
    let c = new KafkaClient({ bootstrapServers: [`127.0.0.1:${port}`], clientId: 'restart-test' });
    try {
      const ctl = node.broker.context.controller;
      const [res] = await ctl.createTopics([{ name: 'early', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
      expect(res!.errorCode).toBe(0);
      expect((await c.produce('early', 0, batch(['a']), { acks: -1 }))!.errorCode).toBe(0);
      await c.close();
      await node.stop();
      // The client knocks while the broker starts again: its listener is bound long before the
      // broker is registered, unfenced and leading again, and must answer nothing until then.
      let startDone = false;
      const restarting = startBroker({ logDir: restartDir, overrides }).then((b) => {
        startDone = true;
        return b;
      });
      c = new KafkaClient({ bootstrapServers: [`127.0.0.1:${port}`], clientId: 'restart-test', retries: 1000, retryBackoffMs: 10, retryBackoffMaxMs: 10 });
      await c.connect();
      expect(startDone).toBe(true);
      const next = await c.produce('early', 0, batch(['b']), { acks: -1 });
      expect(next!.errorCode).toBe(0);
      expect(next!.baseOffset).toBe(1n);
      node = await restarting;
    } finally {
      await c.close();
      await node.stop();
      await rm(restartDir, { recursive: true, force: true });
    }
  }, 60_000);
});
