import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { type DiscardSink, startDiscardSink } from './discard-sink.ts';
import { batchPool, scanBatches } from './record-batches.ts';

let sink: DiscardSink;
let conn: KafkaConnection;

beforeAll(async () => {
  sink = await startDiscardSink({ partitions: 4, fetchBlockBytes: 256 * 1024 });
  conn = await KafkaConnection.connect('127.0.0.1', sink.port);
});

afterAll(async () => {
  await conn?.close();
  await sink?.close();
});

describe('discard sink', () => {
  it('advertises what it serves and names itself leader of every partition', async () => {
    expect(conn.apiVersions?.has(ApiKey.Produce)).toBe(true);
    expect(conn.apiVersions?.has(ApiKey.Fetch)).toBe(true);
    expect(conn.apiVersions?.has(ApiKey.CreateTopics)).toBe(false);
    const md = await conn.send(ApiKey.Metadata, { topics: [{ name: 't' }], allowAutoTopicCreation: false });
    expect(md.brokers).toEqual([expect.objectContaining({ nodeId: 1, port: sink.port })]);
    expect(md.topics[0]!.partitions.map((p) => p.leaderId)).toEqual([1, 1, 1, 1]);
  });

  it('acknowledges produce with advancing offsets', async () => {
    const [batch] = batchPool({ recordSize: 1024, batchBytes: 8192 }, 1);
    const send = () => conn.send(ApiKey.Produce, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 2, records: batch! }] }] });
    const a = await send();
    const b = await send();
    expect(a!.responses[0]!.partitionResponses[0]).toMatchObject({ index: 2, errorCode: 0 });
    expect(b!.responses[0]!.partitionResponses[0]!.baseOffset - a!.responses[0]!.partitionResponses[0]!.baseOffset).toBe(8n);
  });

  it('answers fetch with whole batches under the partition limit', async () => {
    const md = await conn.send(ApiKey.Metadata, { topics: [{ name: 'f' }], allowAutoTopicCreation: false });
    const res = await conn.send(ApiKey.Fetch, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 'f', topicId: md.topics[0]!.topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 100_000 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const records = res.responses[0]!.partitions[0]!.records!;
    expect(records.length).toBeLessThanOrEqual(100_000);
    const scan = scanBatches(records);
    expect(scan.bytes).toBe(records.length);
    expect(scan.records).toBeGreaterThan(0);
  });
});
