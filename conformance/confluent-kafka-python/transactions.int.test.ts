// confluent-kafka-python (librdkafka) transactions against a broker process, through
// transactions.py beside this file: a transactional producer commits and aborts; a read_committed
// consumer gets exactly the committed records (no aborted ones, no control records), a
// read_uncommitted one every data record and still no control record; a second producer with the
// same transactional id fences the first (a zombie at the older epoch), whose commit then fails
// with a fatal error, and only the second's record is committed. Skipped, visibly, when Debian's
// python3-confluent-kafka is not installed.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../harness/broker-process.ts';
import { runJson } from '../harness/child-json.ts';
import { PYTHON, pythonModuleVersion } from '../harness/python.ts';
import { KafkaClient } from '../../protocol/client/client.ts';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'transactions.py');

const OVERRIDES = {
  'offsets.topic.num.partitions': '3',
  'transaction.state.log.num.partitions': '3',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
};

interface Message {
  partition: number;
  offset: number;
  value: string | null;
}

const detected = await pythonModuleVersion('confluent_kafka', 'confluent_kafka.version()[0] + " (librdkafka " + confluent_kafka.libversion()[0] + ")"', 'python3-confluent-kafka');
if ('unavailable' in detected) console.warn(`confluent-kafka-python transactions skipped: ${detected.unavailable}`);
const title = 'unavailable' in detected ? `confluent-kafka-python transactions (skipped: ${detected.unavailable})` : `confluent-kafka-python ${detected.version} transactions`;

describe.skipIf('unavailable' in detected)(title, () => {
  let broker: BrokerProcess;
  const call = <T>(req: Record<string, unknown>) => runJson<T>(PYTHON, [SCRIPT], { input: JSON.stringify({ bootstrap: broker.bootstrap, ...req }), timeoutMs: 90_000 });

  beforeAll(async () => {
    broker = await BrokerProcess.start({ overrides: OVERRIDES, startTimeoutMs: 60_000 });
    const client = new KafkaClient({ bootstrapServers: [broker.bootstrap] });
    try {
      const r = await client.createTopics([
        { name: 'ck-txn', numPartitions: 2, replicationFactor: 1 },
        { name: 'ck-zombie', numPartitions: 1, replicationFactor: 1 },
      ]);
      expect(r.topics.map((t) => t.errorCode)).toEqual([0, 0]);
    } finally {
      await client.close();
    }
  }, 90_000);

  afterAll(async () => {
    await broker?.destroy();
  }, 60_000);

  it('commit and abort: read_committed gets exactly the committed records, read_uncommitted every data record, neither a control record', async () => {
    const committed = ['c0', 'c1', 'c2', 'c3', 'c4'];
    const aborted = ['a0', 'a1', 'a2'];
    await call({
      op: 'transactions',
      topic: 'ck-txn',
      partitions: 2,
      transactionalId: 'ck-tx',
      transactions: [
        { values: committed.slice(0, 4), commit: true },
        { values: aborted, commit: false },
        { values: committed.slice(4), commit: true },
      ],
    });
    const rc = (await call<{ messages: Message[] }>({ op: 'consume', topic: 'ck-txn', partitions: 2, isolation: 'read_committed' })).messages;
    expect(rc.map((m) => m.value).sort()).toEqual(committed);
    const ru = (await call<{ messages: Message[] }>({ op: 'consume', topic: 'ck-txn', partitions: 2, isolation: 'read_uncommitted' })).messages;
    expect(ru.map((m) => m.value).sort()).toEqual([...aborted, ...committed].sort());
    // Partition 0 holds c0 c2 (commit marker) a0 a2 (abort marker) c4 (commit marker): the
    // markers take offsets 2, 5 and 7, and no consumer was handed them.
    const offsets = (ms: Message[]) => ms.filter((m) => m.partition === 0).map((m) => [m.value, m.offset]);
    expect(offsets(ru)).toEqual([['c0', 0], ['c2', 1], ['a0', 3], ['a2', 4], ['c4', 6]]);
    expect(offsets(rc)).toEqual([['c0', 0], ['c2', 1], ['c4', 6]]);
  }, 180_000);

  it('a zombie producer (same transactional id, older epoch) is fenced and its records are never committed', async () => {
    const z = await call<{ fenced: boolean; name?: string; fatal?: boolean }>({ op: 'zombie', topic: 'ck-zombie', transactionalId: 'ck-zombie-tx' });
    expect(z.fenced).toBe(true);
    expect(z.fatal).toBe(true);
    expect(['_FENCED', 'PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']).toContain(z.name);
    const rc = (await call<{ messages: Message[] }>({ op: 'consume', topic: 'ck-zombie', partitions: 1, isolation: 'read_committed' })).messages;
    expect(rc.map((m) => m.value)).toEqual(['fresh']);
  }, 180_000);
});
