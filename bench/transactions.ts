// Transactions on one broker process (as `npm start` starts it), driven request by request through
// Samsa's own client so the broker, not a client library, is measured:
// - committed transactions per second: each transaction is AddPartitionsToTxn, one Produce of 10
//   records (100 B values) and EndTxn(commit); a producer whose next AddPartitionsToTxn meets the
//   previous transaction's markers still being written (CONCURRENT_TRANSACTIONS) retries after
//   5 ms, as clients do. Two shapes: the 10 records to 1 partition, and 1 record to each of 10
//   partitions (ten markers per commit). `--producers` transactional ids run at once.
// - fetch throughput of read_committed against read_uncommitted over the same log (committed
//   transactions of 100 records, one in ten aborted), scanned from offset 0 to the end with 1 MiB
//   fetches, the two isolation levels alternated round by round.
// `npx tsx bench/transactions.ts [--duration 10] [--producers 4] [--rounds 3]`
import { parseArgs } from 'node:util';
import { BrokerProcess } from '../conformance/harness/broker-process.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { encodeRecordBatch } from '../protocol/records/record-batch.ts';
import { fmt } from './broker-common.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { duration: { type: 'string', default: '10' }, producers: { type: 'string', default: '4' }, rounds: { type: 'string', default: '3' } },
  strict: false,
});
const durationMs = Number(values.duration) * 1000;
const producers = Number(values.producers);
const rounds = Number(values.rounds);
const VALUE = Buffer.alloc(100, 'x');
const RETRIABLE: ReadonlySet<number> = new Set([ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls until the answer is not retriable; throws on any other error. */
async function until(what: string, call: () => Promise<number>): Promise<void> {
  for (let n = 0; ; n++) {
    const code = await call();
    if (code === ErrorCode.NONE) return;
    if (!RETRIABLE.has(code) || n > 2000) throw new Error(`${what}: error ${code}`);
    await sleep(5);
  }
}

class TxnProducer {
  private readonly seq = new Map<string, number>();
  private pid = -1n;
  private epoch = -1;

  constructor(
    private readonly client: KafkaClient,
    private readonly id: string,
  ) {}

  async init(): Promise<void> {
    await until('InitProducerId', async () => {
      const r = await this.client.send('any', ApiKey.InitProducerId, { transactionalId: this.id, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
      [this.pid, this.epoch] = [r.producerId, r.producerEpoch];
      return r.errorCode;
    });
  }

  /** One transaction: `records` records spread round-robin over `partitions` of `topic`, then its commit (or abort). */
  async transaction(topic: string, partitions: number, records: number, commit = true): Promise<void> {
    const ps = Array.from({ length: Math.min(partitions, records) }, (_, i) => i);
    await until('AddPartitionsToTxn', async () => {
      const r = await this.client.send(
        'any',
        ApiKey.AddPartitionsToTxn,
        { v3AndBelowTransactionalId: this.id, v3AndBelowProducerId: this.pid, v3AndBelowProducerEpoch: this.epoch, v3AndBelowTopics: [{ name: topic, partitions: ps }] },
        { version: 3 },
      );
      return r.resultsByTopicV3AndBelow!.flatMap((t) => t.resultsByPartition).find((p) => p.partitionErrorCode !== ErrorCode.NONE)?.partitionErrorCode ?? ErrorCode.NONE;
    });
    const partitionData = ps.map((p) => {
      const count = Math.floor(records / ps.length) + (p < records % ps.length ? 1 : 0);
      const key = `${topic}-${p}`;
      const seq = this.seq.get(key) ?? 0;
      this.seq.set(key, seq + count);
      const rs = Array.from({ length: count }, (_, i) => ({ timestampDelta: 0, offsetDelta: i, key: null, value: VALUE }));
      return { index: p, records: encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), isTransactional: true, producerId: this.pid, producerEpoch: this.epoch, baseSequence: seq, records: rs }) };
    });
    const res = await this.client.send('any', ApiKey.Produce, { transactionalId: this.id, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData }] });
    const failed = res!.responses.flatMap((t) => t.partitionResponses).find((p) => p.errorCode !== ErrorCode.NONE);
    if (failed) throw new Error(`Produce: error ${failed.errorCode}`);
    await until('EndTxn', async () => (await this.client.send('any', ApiKey.EndTxn, { transactionalId: this.id, producerId: this.pid, producerEpoch: this.epoch, committed: commit })).errorCode);
  }
}

/** Committed transactions per second with `producers` transactional ids for `durationMs`. */
async function committedPerSecond(bootstrap: string, topic: string, partitions: number, tag: string): Promise<number> {
  const clients = Array.from({ length: producers }, (_, i) => new KafkaClient({ bootstrapServers: [bootstrap], clientId: `bench-${tag}-${i}` }));
  try {
    const ps = clients.map((c, i) => new TxnProducer(c, `bench-${tag}-${i}`));
    await Promise.all(ps.map((p) => p.init()));
    // Warm-up: one transaction each.
    await Promise.all(ps.map((p) => p.transaction(topic, partitions, 10)));
    let done = 0;
    const start = performance.now();
    const end = start + durationMs;
    await Promise.all(
      ps.map(async (p) => {
        while (performance.now() < end) {
          await p.transaction(topic, partitions, 10);
          done++;
        }
      }),
    );
    return done / ((performance.now() - start) / 1000);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** Scans `topic`'s partition 0 from offset 0 to `end` with one fetch after another; MB/s and bytes read. */
async function scan(client: KafkaClient, topic: string, isolationLevel: number, end: bigint): Promise<{ mbps: number; bytes: number }> {
  let offset = 0n;
  let bytes = 0;
  const start = performance.now();
  while (offset < end) {
    const res = await client.send('any', ApiKey.Fetch, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    }, { version: 12 });
    const p = res.responses[0]!.partitions[0]!;
    const records = p.records ?? Buffer.alloc(0);
    if (p.errorCode !== ErrorCode.NONE || records.length < 61) throw new Error(`Fetch at ${offset}: error ${p.errorCode}, ${records.length} bytes`);
    bytes += records.length;
    // Past the last whole batch: its base offset plus its last offset delta, plus one.
    let pos = 0;
    let next = offset;
    while (pos + 61 <= records.length) {
      const len = records.readInt32BE(pos + 8);
      if (pos + 12 + len > records.length) break;
      next = records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + 23)) + 1n;
      pos += 12 + len;
    }
    if (next <= offset) throw new Error(`no whole batch at ${offset}`);
    offset = next;
  }
  return { mbps: bytes / 1e6 / ((performance.now() - start) / 1000), bytes };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const broker = await BrokerProcess.start({
  overrides: { 'transaction.state.log.num.partitions': '10', 'transaction.state.log.replication.factor': '1', 'transaction.state.log.min.isr': '1' },
  startTimeoutMs: 90_000,
});
try {
  const admin = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'bench-admin' });
  await admin.connect();
  const created = await admin.createTopics([
    { name: 'bench-txn-1', numPartitions: 1, replicationFactor: 1 },
    { name: 'bench-txn-10', numPartitions: 10, replicationFactor: 1 },
    { name: 'bench-txn-read', numPartitions: 1, replicationFactor: 1 },
  ]);
  if (created.topics.some((t) => t.errorCode !== ErrorCode.NONE)) throw new Error(`CreateTopics: ${created.topics.map((t) => t.errorCode)}`);
  await admin.metadata(['bench-txn-1', 'bench-txn-10', 'bench-txn-read']);

  console.log(`== Transactions on one broker process: ${producers} transactional producers, ${durationMs / 1000} s per case, ${rounds} rounds`);
  const one: number[] = [];
  const ten: number[] = [];
  for (let r = 0; r < rounds; r++) {
    one.push(await committedPerSecond(broker.bootstrap, 'bench-txn-1', 1, `one-${r}`));
    ten.push(await committedPerSecond(broker.bootstrap, 'bench-txn-10', 10, `ten-${r}`));
    console.log(`round ${r + 1}: 10 records to 1 partition ${fmt(one[r]!, 1)} txn/s   1 record to each of 10 partitions ${fmt(ten[r]!, 1)} txn/s`);
  }

  // The log read back: 1,000 transactions of 100 records, every tenth aborted.
  const filler = new TxnProducer(admin, 'bench-fill');
  await filler.init();
  for (let i = 0; i < 1000; i++) await filler.transaction('bench-txn-read', 1, 100, i % 10 !== 9);
  // EndTxn is answered before the markers are written: wait for the last one.
  let hw = -1n;
  let lso = -2n;
  for (const deadline = Date.now() + 60_000; lso !== hw && Date.now() < deadline; await sleep(50)) {
    hw = (await admin.listOffsets('bench-txn-read', 0, -1)).offset!;
    lso = (await admin.listOffsets('bench-txn-read', 0, -1, { isolationLevel: 1 })).offset!;
  }
  if (lso !== hw) throw new Error(`the last transaction of bench-txn-read did not complete: LSO ${lso}, high watermark ${hw}`);
  const committed: number[] = [];
  const uncommitted: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const u = await scan(admin, 'bench-txn-read', 0, hw);
    const c = await scan(admin, 'bench-txn-read', 1, lso);
    uncommitted.push(u.mbps);
    committed.push(c.mbps);
    console.log(`round ${r + 1}: fetch read_uncommitted ${fmt(u.mbps, 1)} MB/s   read_committed ${fmt(c.mbps, 1)} MB/s   (${(u.bytes / 1e6).toFixed(1)} MB, ${hw} offsets)`);
  }
  await admin.close();
  console.log('\nmedians:');
  console.log(`  committed transactions/s, 10 records to 1 partition:            ${fmt(median(one), 1)}`);
  console.log(`  committed transactions/s, 1 record to each of 10 partitions:    ${fmt(median(ten), 1)}`);
  console.log(`  fetch MB/s read_uncommitted / read_committed:                   ${fmt(median(uncommitted), 1)} / ${fmt(median(committed), 1)}`);
} finally {
  await broker.destroy();
}
