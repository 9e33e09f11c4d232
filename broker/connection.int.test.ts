// Connection behaviour through a real broker: responses in request order under pipelining with
// a small in-flight limit (reading pauses, nothing is lost), and idle connections closed after
// connections.max.idle.ms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../index.ts';
import { KafkaConnection } from '../protocol/client/connection.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { encodeRecordBatch } from '../protocol/records/record-batch.ts';

let started: StartedBroker;

beforeAll(async () => {
  started = await startBroker({ overrides: { 'queued.max.requests': '4', 'connections.max.idle.ms': '700' } });
});

afterAll(async () => {
  await started?.stop();
});

async function connect(): Promise<KafkaConnection> {
  const [host, port] = started.bootstrap.split(':');
  return KafkaConnection.connect(host!, Number(port), { clientId: 'conn-test', requestTimeoutMs: 20_000 });
}

describe('client connections', () => {
  it('answers 300 pipelined produce requests in order with only 4 in flight at the broker', async () => {
    const conn = await connect();
    try {
      await conn.send(ApiKey.Metadata, { topics: [{ name: 'pipe' }], allowAutoTopicCreation: true });
      const sends = Array.from({ length: 300 }, (_, i) =>
        conn.send(ApiKey.Produce, {
          acks: 1,
          timeoutMs: 5000,
          transactionalId: null,
          topicData: [{ name: 'pipe', partitionData: [{ index: 0, records: encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from(String(i)) }] }) }] }],
        }),
      );
      const offsets = (await Promise.all(sends)).map((r) => r!.responses[0]!.partitionResponses[0]!.baseOffset);
      expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)));
    } finally {
      await conn.close();
    }
  });

  it('closes a connection idle for longer than connections.max.idle.ms', async () => {
    const conn = await connect();
    const closed = new Promise<void>((resolve) => conn.onClose(() => resolve()));
    const t0 = Date.now();
    await closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });
});
