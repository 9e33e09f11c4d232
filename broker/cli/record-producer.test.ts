import { describe, expect, it } from 'vitest';
import type { KafkaClient, TopicMetadata } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import type { ProduceRequest } from '../../protocol/generated/message/produce-request.ts';
import type { ProduceResponse } from '../../protocol/generated/message/produce-response.ts';
import { absoluteRecords, decodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { RecordProducer } from './record-producer.ts';

/** A client whose one broker (node 1) leads every partition and answers Produce from a script. */
function fakeClient(partitions: number, answer: (req: ProduceRequest, n: number) => number = () => ErrorCode.NONE) {
  const requests: ProduceRequest[] = [];
  const logEnd = new Map<number, bigint>();
  const topic: TopicMetadata = {
    name: 't',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
    errorCode: 0,
    isInternal: false,
    partitions: new Map(Array.from({ length: partitions }, (_, p) => [p, { partition: p, errorCode: 0, leaderId: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] }])),
  };
  let metadataCalls = 0;
  const conn = {
    async send(_apiKey: number, req: ProduceRequest): Promise<ProduceResponse | null> {
      requests.push(req);
      const code = answer(req, requests.length);
      if (req.acks === 0) return null;
      return {
        throttleTimeMs: 0,
        responses: req.topicData.map((td) => ({
          name: td.name,
          partitionResponses: td.partitionData.map((pd) => {
            const base = logEnd.get(pd.index) ?? 0n;
            if (code === ErrorCode.NONE) logEnd.set(pd.index, base + BigInt(decodeRecordBatch(pd.records!).records.length));
            return { index: pd.index, errorCode: code, baseOffset: code === ErrorCode.NONE ? base : -1n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null };
          }),
        })),
      } as ProduceResponse;
    },
  };
  const client = {
    // InitProducerId, the only request an idempotent producer sends through send().
    send: async () => ({ throttleTimeMs: 0, errorCode: 0, producerId: 42n, producerEpoch: 3 }),
    topic: (name: string) => (name === 't' ? topic : undefined),
    metadata: async () => {
      metadataCalls++;
      return {};
    },
    connectionFor: async () => conn,
  } as unknown as KafkaClient;
  return { client, requests, metadataCalls: () => metadataCalls };
}

function stampsOf(req: ProduceRequest): Array<{ partition: number; producerId: bigint; epoch: number; seq: number; count: number }> {
  return req.topicData.flatMap((td) =>
    td.partitionData.map((pd) => {
      const h = decodeRecordBatch(pd.records!).header;
      return { partition: pd.index, producerId: h.producerId, epoch: h.producerEpoch, seq: h.baseSequence, count: h.recordsCount };
    }),
  );
}

function valuesOf(req: ProduceRequest): string[] {
  return req.topicData.flatMap((td) => td.partitionData.flatMap((pd) => absoluteRecords(decodeRecordBatch(pd.records!)).map((r) => r.value!.toString())));
}

describe('RecordProducer', () => {
  it('closes a batch at batch.size and reports each record\'s offset', async () => {
    const { client, requests } = fakeClient(1);
    const producer = new RecordProducer(client, { batchSize: 200, lingerMs: 0, acks: 1 });
    await producer.prepare('t');
    const offsets: bigint[] = [];
    for (let i = 0; i < 10; i++) producer.send({ topic: 't', key: null, value: Buffer.alloc(50, 65 + i) }, (err, md) => offsets.push(err ? -2n : md!.offset));
    await producer.flush();
    expect(offsets.sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
    // 50-byte values with their overhead fill a 200-byte batch after two records.
    const sizes = requests.flatMap((r) => r.topicData[0]!.partitionData.map((pd) => decodeRecordBatch(pd.records!).records.length));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('waits for linger.ms to fill a batch', async () => {
    const { client, requests } = fakeClient(1);
    const producer = new RecordProducer(client, { lingerMs: 30, acks: 1 });
    await producer.prepare('t');
    producer.send({ topic: 't', key: null, value: Buffer.from('a') });
    await new Promise((r) => setTimeout(r, 5));
    producer.send({ topic: 't', key: null, value: Buffer.from('b') });
    expect(requests).toHaveLength(0);
    await producer.flush();
    expect(requests).toHaveLength(1);
    expect(valuesOf(requests[0]!)).toEqual(['a', 'b']);
  });

  it('sends keyed records to murmur2 partitions and batches of several partitions in one request', async () => {
    const { client, requests } = fakeClient(4);
    const producer = new RecordProducer(client, { acks: -1 });
    await producer.prepare('t');
    const placed = new Map<string, number>();
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) producer.send({ topic: 't', key: Buffer.from(k), value: Buffer.from(k) }, (_e, md) => placed.set(k, md!.partition));
    await producer.flush();
    expect(requests).toHaveLength(1);
    expect(requests[0]!.acks).toBe(-1);
    expect(new Set(placed.values()).size).toBeGreaterThan(1);
  });

  it('retries a retriable error after refreshing metadata, and fails a fatal one', async () => {
    const flaky = fakeClient(1, (_req, n) => (n === 1 ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE));
    const p1 = new RecordProducer(flaky.client, { acks: 1, retryBackoffMs: 1 });
    await p1.prepare('t');
    let result: string | undefined;
    p1.send({ topic: 't', key: null, value: Buffer.from('x') }, (err, md) => (result = err ? err.message : `ok@${md!.offset}`));
    await p1.flush();
    expect(result).toBe('ok@0');
    expect(flaky.requests).toHaveLength(2);
    expect(flaky.metadataCalls()).toBeGreaterThan(1);

    const fatal = fakeClient(1, () => ErrorCode.MESSAGE_TOO_LARGE);
    const p2 = new RecordProducer(fatal.client, { acks: 1 });
    await p2.prepare('t');
    let failure: Error | null = null;
    p2.send({ topic: 't', key: null, value: Buffer.from('x') }, (err) => (failure = err));
    await p2.flush();
    expect((failure as Error | null)?.message).toMatch(/larger than the max message size/);
    expect(fatal.requests).toHaveLength(1);
  });

  it('completes acks=0 records when written, with offset -1', async () => {
    const { client } = fakeClient(1);
    const producer = new RecordProducer(client, { acks: 0 });
    await producer.prepare('t');
    let offset: bigint | undefined;
    producer.send({ topic: 't', key: null, value: Buffer.from('x') }, (_e, md) => (offset = md!.offset));
    await producer.flush();
    expect(offset).toBe(-1n);
  });

  it('keeps buffered bytes bounded by buffer.memory', async () => {
    const { client } = fakeClient(1);
    const producer = new RecordProducer(client, { bufferMemory: 1000, batchSize: 500, acks: 1 });
    await producer.prepare('t');
    for (let i = 0; i < 20; i++) producer.send({ topic: 't', key: null, value: Buffer.alloc(100) });
    expect(producer.hasCapacity).toBe(false);
    await producer.waitForCapacity();
    await producer.flush();
    expect(producer.hasCapacity).toBe(true);
  });

  it('is idempotent with acks=all: producer id and consecutive sequences per partition', async () => {
    const { client, requests } = fakeClient(2);
    const producer = new RecordProducer(client, { acks: -1, batchSize: 120 });
    await producer.prepare('t');
    for (let i = 0; i < 12; i++) producer.send({ topic: 't', partition: i % 2, key: null, value: Buffer.alloc(40) });
    await producer.flush();
    const stamps = requests.flatMap(stampsOf);
    expect(new Set(stamps.map((s) => `${s.producerId}/${s.epoch}`))).toEqual(new Set(['42/3']));
    for (const partition of [0, 1]) {
      let next = 0;
      for (const s of stamps.filter((x) => x.partition === partition)) {
        expect(s.seq).toBe(next);
        next += s.count;
      }
      expect(next).toBe(6);
    }
    // acks=1 leaves idempotence off unless asked, as Kafka 3.x does; asking for it with acks=1 is refused.
    const plain = fakeClient(1);
    const p2 = new RecordProducer(plain.client, { acks: 1 });
    await p2.prepare('t');
    p2.send({ topic: 't', key: null, value: Buffer.from('x') });
    await p2.flush();
    expect(stampsOf(plain.requests[0]!)[0]).toMatchObject({ producerId: -1n, seq: -1 });
    expect(() => new RecordProducer(plain.client, { acks: 1, enableIdempotence: true })).toThrow(/acks to all/);
  });

  it('resends a failed batch with its sequence, and the batches refused behind it in order', async () => {
    // A broker that checks sequences as Kafka's producer state does; its first answer is
    // NOT_LEADER_OR_FOLLOWER (nothing written), so the batches pipelined behind it are out of order.
    let expected = 0;
    const flaky = fakeClient(1, (req, n) => {
      if (n === 1) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
      const h = decodeRecordBatch(req.topicData[0]!.partitionData[0]!.records!).header;
      if (h.baseSequence < expected) return ErrorCode.DUPLICATE_SEQUENCE_NUMBER;
      if (h.baseSequence > expected) return ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
      expected += h.recordsCount;
      return ErrorCode.NONE;
    });
    const producer = new RecordProducer(flaky.client, { acks: -1, batchSize: 100, retryBackoffMs: 1 });
    await producer.prepare('t');
    const results: string[] = [];
    for (let i = 0; i < 4; i++) producer.send({ topic: 't', key: null, value: Buffer.alloc(40, 97 + i) }, (err) => results.push(err ? err.message : 'ok'));
    await producer.flush();
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok']);
    const sent = flaky.requests.flatMap(stampsOf).map((x) => x.seq);
    expect(sent.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(sent.slice(4)).toEqual([0, 1, 2, 3]);
    expect(expected).toBe(4);
  });

  it('fails an out-of-order batch with nothing before it pending', async () => {
    const { client } = fakeClient(1, () => ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const producer = new RecordProducer(client, { acks: -1 });
    await producer.prepare('t');
    let failure: Error | null = null;
    producer.send({ topic: 't', key: null, value: Buffer.from('x') }, (err) => (failure = err));
    await producer.flush();
    expect((failure as Error | null)?.message).toMatch(/out of order sequence/);
  });
});
