// A consume–transform–produce processor with kafkajs transactions, run as a child process by
// eos-pipeline.int.test.ts: `node eos-processor-kafkajs.mjs BOOTSTRAP INPUT OUTPUT GROUP
// TRANSACTIONAL_ID`. Plain JavaScript: it starts again and again, and a TypeScript loader would
// add seconds to every start on a busy machine. A group member (subscribe) reading read_committed; each chunk of at most
// 25 records of a fetched batch is written transformed ("out:" + value, same key and partition) to
// OUTPUT in one transaction together with the chunk's input offset (sendOffsets), so every input
// record is in OUTPUT's committed data exactly once however often the process is killed. The
// producer connects first: its InitProducerId fences the previous incarnation and aborts that
// one's open transaction before the group's committed offsets are read. One JSON line per event
// on stdout, as eos_processor.py: "sent" once a chunk is written inside the open transaction (the
// test kills there), "committed" after its commit. It runs until stopped.
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, input, output, groupId, transactionalId] = process.argv.slice(2);
const CHUNK = 25;

function say(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

const kafka = new Kafka({ clientId: 'eos-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
await producer.connect();
const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 2000, heartbeatInterval: 300, rebalanceTimeout: 3000, maxWaitTimeInMs: 100 });
await consumer.connect();
await consumer.subscribe({ topic: input, fromBeginning: true });
say('started');
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
    for (let i = 0; i < batch.messages.length && isRunning() && !isStale(); i += CHUNK) {
      const chunk = batch.messages.slice(i, i + CHUNK);
      const last = chunk[chunk.length - 1];
      const txn = await producer.transaction();
      try {
        await txn.send({ topic: output, messages: chunk.map((m) => ({ key: m.key, value: `out:${m.value.toString()}`, partition: batch.partition })) });
        say('sent', { records: chunk.length });
        await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }] }] });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => undefined);
        throw err;
      }
      resolveOffset(last.offset);
      say('committed', { records: chunk.length });
      await heartbeat();
    }
  },
});
