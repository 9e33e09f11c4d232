// One kafkajs group member as its own process, so that a test can kill it for real. Takes a
// MemberConfig as JSON in argv[2] and prints MemberEvent JSON lines on stdout (group-member.ts):
// the assignment after each join, every record it processes, and each commit. Offsets are
// committed one record at a time, after the record is processed, and reported only once the
// broker accepted them. SIGTERM closes the consumer (leaving the group) and exits 0.
import { Kafka, logLevel } from 'kafkajs';
import type { MemberConfig, MemberEvent } from './group-member.ts';

const config = JSON.parse(process.argv[2]!) as MemberConfig;
const emit = (e: MemberEvent): void => void process.stdout.write(`${JSON.stringify(e)}\n`);

const kafka = new Kafka({
  clientId: config.clientId,
  brokers: config.bootstrap.split(','),
  logLevel: logLevel.NOTHING,
  retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
});
// kafkajs heartbeats (and learns of a rebalance) only between fetches: keep fetch waits short.
const consumer = kafka.consumer({ groupId: config.group, sessionTimeout: config.sessionTimeoutMs, rebalanceTimeout: 20_000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
consumer.on(consumer.events.GROUP_JOIN, (e) => emit({ event: 'assigned', partitions: e.payload.memberAssignment[config.topic] ?? [], incremental: false }));
consumer.on(consumer.events.CRASH, (e) => emit({ event: 'error', message: String(e.payload.error) }));

let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  consumer
    .disconnect()
    .then(() => {
      emit({ event: 'closed' });
      process.exit(0);
    })
    .catch((err: unknown) => {
      emit({ event: 'error', message: `disconnect: ${String(err)}` });
      process.exit(1);
    });
});

await consumer.connect();
await consumer.subscribe({ topic: config.topic, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachMessage: async ({ partition, message }) => {
    const offset = Number(message.offset);
    emit({ event: 'record', partition, offset, key: message.key?.toString() ?? '' });
    try {
      await consumer.commitOffsets([{ topic: config.topic, partition, offset: String(offset + 1) }]);
      emit({ event: 'committed', partition, offset: offset + 1 });
    } catch (err) {
      // Lost the partition in a rebalance: its next owner reads the record again, as it should.
      emit({ event: 'commit-failed', partition, offset: offset + 1, message: String(err) });
    }
  },
});
emit({ event: 'ready' });
