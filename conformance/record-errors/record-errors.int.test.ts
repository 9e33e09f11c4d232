// Per-record produce errors (KIP-467) against a broker process: a batch with some records that
// break a record-level rule is refused whole, and the partition's answer names each of them
// (record_errors, from Produce v8) with Kafka's summary (error_message). Shown on the wire at
// every Produce version, then through real clients, each doing what Kafka's answer leads it to:
//   - @platformatic/kafka speaks Produce v11 and reports the record errors with the failure;
//   - librdkafka from 2.4 fails exactly the named records with INVALID_RECORD and the rest of the
//     batch with _INVALID_DIFFERENT_RECORD, which the application may send again; older
//     librdkafka (Produce v7, before record errors) fails every record of the batch;
//   - kafkajs (Produce v7) fails the whole send() with INVALID_RECORD, not retriable.
// Sent one record per batch, every client fails exactly the keyless records. Nothing refused is
// ever stored.
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer as PlatformaticProducer, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { decodeProduceResponse, type PartitionProduceResponse } from '../../protocol/generated/message/produce-response.ts';
import { FrameReader } from '../../protocol/framing.ts';
import { decodeResponseHeader, encodeRequestFrame } from '../../protocol/headers.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { BrokerProcess } from '../harness/broker-process.ts';
import { runJson } from '../harness/child-json.ts';
import { PYTHON, pythonModuleVersion } from '../harness/python.ts';
import { readPartition } from '../harness/read-back.ts';

const DRIVER = join(dirname(fileURLToPath(import.meta.url)), 'produce_keyless.py');
const COUNT = 100;
/** Every tenth record has no key, as in librdkafka's own test of this case. */
const KEYLESS = Array.from({ length: COUNT / 10 }, (_, i) => i * 10);
const KEYED = Array.from({ length: COUNT }, (_, i) => i).filter((i) => !KEYLESS.includes(i));

let broker: BrokerProcess;
let admin: KafkaClient;
let topicSeq = 0;

beforeAll(async () => {
  broker = await BrokerProcess.start();
  admin = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'record-errors-admin', retries: 8 });
  await admin.connect();
}, 60_000);

afterAll(async () => {
  await admin?.close();
  await broker?.destroy();
});

/** A new one-partition topic with `configs` (compacted by default). */
async function newTopic(prefix: string, configs: Record<string, string> = { 'cleanup.policy': 'compact' }): Promise<string> {
  const name = `${prefix}-${++topicSeq}`;
  const res = await admin.createTopics([{ name, numPartitions: 1, replicationFactor: 1, configs }]);
  expect(res.topics.map((t) => t.errorCode)).toEqual([ErrorCode.NONE]);
  await admin.metadata([name]);
  return name;
}

/** Values stored in the topic's only partition, in offset order; every stored record must have a key. */
async function storedValues(topic: string): Promise<string[]> {
  const { records } = await readPartition(admin, topic, 0);
  expect(records.filter((r) => r.key === null)).toEqual([]);
  return records.map((r) => r.value!);
}

function compactedMessage(topic: string): string {
  return `Compacted topic cannot accept message without key in topic partition ${topic}-0`;
}

/** Kafka's error_message for a batch refused for keyless records only. */
function invalidRecordMessage(topic: string, indices: number[]): string {
  const shown = indices
    .slice(0, 3)
    .map((i) => `RecordError(batchIndex=${i}, message='${compactedMessage(topic)}')`)
    .join(', ');
  return `One or more records have been rejected due to ${indices.length} record errors in total, and only showing the first three errors at most: [${shown}]`;
}

function batch(count: number, keyless: readonly number[], timestampOf: (i: number) => number = () => Date.now()): Buffer {
  const base = timestampOf(0);
  return encodeRecordBatch({
    baseTimestamp: BigInt(base),
    records: Array.from({ length: count }, (_, i) => ({
      offsetDelta: i,
      timestampDelta: timestampOf(i) - base,
      key: keyless.includes(i) ? null : Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
    })),
  });
}

/**
 * Sends one Produce request of `version` on a fresh connection and decodes the answer; `trailing`
 * is what the frame held beyond the fields of that version (none, if nothing else was sent).
 */
function rawProduce(version: number, topic: string, records: Buffer): Promise<{ partition: PartitionProduceResponse; trailing: number }> {
  const frame = encodeRequestFrame(ApiKey.Produce, version, 1, 'record-errors-raw', { acks: -1, timeoutMs: 5000, transactionalId: null, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  return new Promise((resolve, reject) => {
    const socket = connect(broker.port, '127.0.0.1');
    const reader = new FrameReader();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no Produce v${version} response within 10 s`));
    }, 10_000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (d) => {
      const [answer] = reader.push(d);
      if (!answer) return;
      clearTimeout(timer);
      socket.destroy();
      const { reader: body } = decodeResponseHeader(answer, ApiKey.Produce, version);
      const decoded = decodeProduceResponse(body, version);
      resolve({ partition: decoded.responses[0]!.partitionResponses[0]!, trailing: body.remaining });
    });
    socket.on('connect', () => {
      for (const chunk of frame) socket.write(chunk);
    });
  });
}

describe('Produce answers record errors as Kafka does', () => {
  it('names every keyless record from v8 on, with Kafka\'s message, and sends neither field before v8', async () => {
    const topic = await newTopic('wire');
    for (let version = 3; version <= 11; version++) {
      const { partition, trailing } = await rawProduce(version, topic, batch(COUNT, KEYLESS));
      expect(trailing, `v${version}`).toBe(0);
      expect(partition.errorCode, `v${version}`).toBe(ErrorCode.INVALID_RECORD);
      expect(partition.baseOffset).toBe(-1n);
      if (version >= 5) expect(partition.logStartOffset, `v${version}`).toBe(0n);
      if (version >= 8) {
        expect(partition.recordErrors, `v${version}`).toEqual(KEYLESS.map((batchIndex) => ({ batchIndex, batchIndexErrorMessage: compactedMessage(topic) })));
        expect(partition.errorMessage, `v${version}`).toBe(invalidRecordMessage(topic, KEYLESS));
      } else {
        // The decoder of these versions reads neither field, and nothing was left over above.
        expect(partition.recordErrors ?? [], `v${version}`).toEqual([]);
        expect(partition.errorMessage ?? null, `v${version}`).toBeNull();
      }
    }
    expect(await storedValues(topic)).toEqual([]);
  });

  it('names records outside the timestamp window, also under the deprecated message.timestamp.difference.max.ms', async () => {
    const hour = 3_600_000;
    const late = [2, 7, 8];
    const windows: Record<string, string>[] = [{ 'message.timestamp.after.max.ms': String(hour) }, { 'message.timestamp.difference.max.ms': String(hour) }];
    for (const configs of windows) {
      const topic = await newTopic('timestamps', configs);
      const now = Date.now();
      const { partition } = await rawProduce(11, topic, batch(10, [], (i) => (late.includes(i) ? now + 2 * hour : now)));
      expect(partition.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
      expect(partition.errorMessage).toBe('One or more records have been rejected due to invalid timestamp');
      expect(partition.recordErrors!.map((e) => e.batchIndex)).toEqual(late);
      expect(partition.recordErrors![0]!.batchIndexErrorMessage).toMatch(new RegExp(`^Timestamp ${now + 2 * hour} of message with offset 2 is out of range. The timestamp should be within \\[-?\\d+, \\d+\\]$`));
      expect(await storedValues(topic)).toEqual([]);
    }
  });

  it('sends no message and no record errors for a batch-level refusal', async () => {
    const topic = await newTopic('batch-level', { 'cleanup.policy': 'compact', 'max.message.bytes': '200' });
    const { partition } = await rawProduce(11, topic, batch(COUNT, KEYLESS));
    expect(partition).toMatchObject({ errorCode: ErrorCode.MESSAGE_TOO_LARGE, recordErrors: [], errorMessage: null, logStartOffset: -1n });
  });
});

/** The ProduceResponse a @platformatic/kafka failure carries, wherever it nests it. */
function platformaticResponse(err: unknown, depth = 0): { responses: { partitionResponses: PartitionProduceResponse[] }[] } | undefined {
  if (err === null || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as { response?: { responses?: unknown }; errors?: unknown };
  if (e.response && Array.isArray(e.response.responses)) return e.response as never;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = platformaticResponse(inner, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

describe('@platformatic/kafka (Produce v11)', () => {
  it('fails the batch, reporting exactly the keyless records', async () => {
    const topic = await newTopic('platformatic');
    const producer = new PlatformaticProducer({ clientId: 'record-errors-platformatic', bootstrapBrokers: [broker.bootstrap], retries: 2, retryDelay: 100, timeout: 10_000, serializers: stringSerializers, autocreateTopics: false });
    try {
      const messages = Array.from({ length: COUNT }, (_, i) => ({ topic, partition: 0, key: KEYLESS.includes(i) ? undefined : `k${i}`, value: `v${i}` }));
      const failure = await producer.send({ messages }).then(
        () => undefined,
        (err: unknown) => err,
      );
      const p = platformaticResponse(failure)?.responses[0]?.partitionResponses[0];
      expect(p, String(failure)).toBeDefined();
      expect(p!.errorCode).toBe(ErrorCode.INVALID_RECORD);
      expect(p!.recordErrors!.map((e) => e.batchIndex)).toEqual(KEYLESS);
      expect(p!.errorMessage).toBe(invalidRecordMessage(topic, KEYLESS));
    } finally {
      await producer.close();
    }
    expect(await storedValues(topic)).toEqual([]);
  });
});

describe('kafkajs (Produce v7)', () => {
  const kafka = (): Kafka => new Kafka({ clientId: 'record-errors-kafkajs', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } });
  const messages = (indices: readonly number[]) => indices.map((i) => ({ partition: 0, key: KEYLESS.includes(i) ? null : `k${i}`, value: `v${i}` }));

  it('fails a whole send() with INVALID_RECORD, not retriable, and stores none of it', async () => {
    const topic = await newTopic('kafkajs-batch');
    const producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const all = Array.from({ length: COUNT }, (_, i) => i);
      await expect(producer.send({ topic, messages: messages(all) })).rejects.toMatchObject({ name: 'KafkaJSProtocolError', type: 'INVALID_RECORD', retriable: false });
    } finally {
      await producer.disconnect();
    }
    expect(await storedValues(topic)).toEqual([]);
  });

  it('fails exactly the keyless records sent one per request', async () => {
    const topic = await newTopic('kafkajs-single');
    const producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const outcomes: (string | null)[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        outcomes.push(await producer.send({ topic, messages: messages([i]) }).then(() => null, (err: { type?: string }) => err.type ?? String(err)));
      }
    } finally {
      await producer.disconnect();
    }
    expect(outcomes).toEqual(Array.from({ length: 30 }, (_, i) => (KEYLESS.includes(i) ? 'INVALID_RECORD' : null)));
    expect(await storedValues(topic)).toEqual(KEYED.filter((i) => i < 30).map((i) => `v${i}`));
  });
});

interface DriverAnswer {
  librdkafka: string;
  produceVersions: number[];
  /** Each record's delivery error name, null when delivered. */
  outcomes: (string | null)[];
  /** Index -> outcome of the records produced again. */
  resent: Record<string, string | null>;
  /** Record count of each batch of the first round, in the order sent. */
  batches: number[];
}

const librdkafka = await pythonModuleVersion('confluent_kafka', 'confluent_kafka.libversion()[0]', 'python3-confluent-kafka');
if ('unavailable' in librdkafka) console.warn(`[conformance] record errors through librdkafka skipped: ${librdkafka.unavailable}`);

/** librdkafka 2.4 implemented KIP-467 (Produce v8+ with record errors). */
function hasRecordErrors(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 4);
}

describe.skipIf('unavailable' in librdkafka)(`librdkafka ${'version' in librdkafka ? librdkafka.version : ''} (confluent-kafka-python)`, () => {
  const produce = (topic: string, oneBatch: boolean, count = COUNT): Promise<DriverAnswer> =>
    runJson<DriverAnswer>(PYTHON, [DRIVER], { input: JSON.stringify({ bootstrap: broker.bootstrap, topic, count, keyless: KEYLESS, oneBatch, resend: ['_INVALID_DIFFERENT_RECORD'] }), timeoutMs: 90_000 });

  it('fails the keyless records of one batch as Kafka\'s answer leads this librdkafka to, and stores none of the batch', async () => {
    const topic = await newTopic('librdkafka-batch');
    const answer = await produce(topic, true);
    // librdkafka normally sends the lingering records as one batch, but a starved driver may see it
    // split them; each record is judged by the batch it travelled in, and at least one batch must
    // mix keyed and keyless records for the case to be shown at all.
    expect(answer.batches.reduce((a, b) => a + b, 0)).toBe(COUNT);
    const batchOf: number[][] = [];
    let next = 0;
    for (const size of answer.batches) batchOf.push(Array.from({ length: size }, () => next++));
    const refused = (batch: number[]): boolean => batch.some((i) => KEYLESS.includes(i));
    expect(batchOf.some((batch) => refused(batch) && batch.some((i) => KEYED.includes(i)))).toBe(true);
    const withRecordErrors = hasRecordErrors(answer.librdkafka);
    // Exactly the named records fail as invalid; the rest were refused only for sharing their batch.
    // Before record errors (Produce v7) INVALID_RECORD is fatal for every record of the batch.
    const expected = batchOf.flatMap((batch) =>
      batch.map((i) => (!refused(batch) ? null : KEYLESS.includes(i) || !withRecordErrors ? 'INVALID_RECORD' : '_INVALID_DIFFERENT_RECORD')),
    );
    expect(answer.outcomes).toEqual(expected);
    const cleanlyDelivered = batchOf.filter((batch) => !refused(batch)).flat();
    if (withRecordErrors) {
      const resent = KEYED.filter((i) => !cleanlyDelivered.includes(i));
      expect(answer.resent).toEqual(Object.fromEntries(resent.map((i) => [String(i), null])));
      expect([...(await storedValues(topic))].sort()).toEqual(KEYED.map((i) => `v${i}`).sort());
    } else {
      expect(Math.max(...answer.produceVersions)).toBeLessThan(8);
      expect(answer.resent).toEqual({});
      expect(await storedValues(topic)).toEqual(cleanlyDelivered.map((i) => `v${i}`));
    }
  });

  it('fails exactly the keyless records sent one per batch, delivering the others', async () => {
    const topic = await newTopic('librdkafka-single');
    const answer = await produce(topic, false, 30);
    expect(answer.outcomes).toEqual(Array.from({ length: 30 }, (_, i) => (KEYLESS.includes(i) ? 'INVALID_RECORD' : null)));
    expect(await storedValues(topic)).toEqual(KEYED.filter((i) => i < 30).map((i) => `v${i}`));
  });
});
