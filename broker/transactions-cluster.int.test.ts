// Transactions across replicas: on a three-node cluster (replication factor 3, min.insync.replicas
// 2), transactional batches and markers written to a partition's leader are replicated like any
// batch; after the leader is killed, the new leader (a former follower) answers read_committed
// fetches with the same last stable offset, aborted-transaction list and records, and takes the
// marker that ends the transaction left open. The producers are made up (no coordinator takes
// part), so partition verification (KIP-890) is switched off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterProcess } from '../conformance/harness/cluster-process.ts';
import { CLUSTER_PROPERTIES } from '../conformance/harness/target.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import type { FetchResponse } from '../protocol/generated/message/fetch-response.ts';
import { CONTROL_MASK } from '../protocol/records/batch-header.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches } from '../protocol/records/record-batch.ts';

const TOPIC = 'txn-replicated';
let cluster: ClusterProcess;
let client: KafkaClient;

async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
      await client.metadata([TOPIC]).catch(() => undefined);
    }
  }
}

function batch(value: string, pid: bigint, seq: number, txn: boolean): Buffer {
  return encodeRecordBatch({
    baseTimestamp: BigInt(Date.now()),
    producerId: pid,
    producerEpoch: pid >= 0n ? 0 : -1,
    baseSequence: pid >= 0n ? seq : -1,
    isTransactional: txn,
    records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from(value) }],
  });
}

async function produce(value: string, pid = -1n, txn = false): Promise<bigint> {
  const r = await client.produce(TOPIC, 0, batch(value, pid, 0, txn), { acks: -1, transactionalId: txn ? `t-${pid}` : undefined });
  return r!.baseOffset;
}

async function marker(pid: bigint, commit: boolean): Promise<void> {
  await retry('WriteTxnMarkers', async () => {
    const r = await client.send({ topic: TOPIC, partition: 0 }, ApiKey.WriteTxnMarkers, {
      markers: [{ producerId: pid, producerEpoch: 0, transactionResult: commit, coordinatorEpoch: 0, topics: [{ name: TOPIC, partitionIndexes: [0] }] }],
    });
    const code = r.markers[0]!.topics[0]!.partitions[0]!.errorCode;
    if (code !== ErrorCode.NONE) throw new Error(`marker answered ${code}`);
  });
}

interface Committed {
  lastStableOffset: bigint;
  aborted: { producerId: bigint; firstOffset: bigint }[];
  values: string[];
}

/** What a read_committed consumer gets from the leader from offset 0 (aborted batches dropped). */
async function readCommitted(): Promise<Committed> {
  const res: FetchResponse = await client.send({ topic: TOPIC, partition: 0 }, ApiKey.Fetch, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 1,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  }, { version: 12 });
  const p = res.responses[0]!.partitions[0]!;
  if (p.errorCode !== ErrorCode.NONE) throw new Error(`fetch answered ${p.errorCode}`);
  const aborted = p.abortedTransactions ?? [];
  const abortedPids = new Set(aborted.map((a) => a.producerId));
  const values: string[] = [];
  for (const e of iterateBatches(p.records ?? Buffer.alloc(0))) {
    const b = decodeRecordBatch(p.records!, e.position);
    if ((b.header.attributes & CONTROL_MASK) !== 0 || (b.header.isTransactional && abortedPids.has(b.header.producerId))) continue;
    for (const r of b.records) values.push(r.value!.toString());
  }
  return { lastStableOffset: p.lastStableOffset ?? -1n, aborted: aborted.map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset })), values };
}

beforeAll(async () => {
  cluster = await ClusterProcess.start({ nodes: 3, properties: { ...CLUSTER_PROPERTIES, 'transaction.partition.verification.enable': 'false' }, startTimeoutMs: 90_000 });
  client = new KafkaClient({ bootstrapServers: cluster.brokers.map((n) => n.bootstrap) });
  await retry('connect', () => client.connect());
  await retry('create topic', async () => {
    const r = await client.createTopics([{ name: TOPIC, numPartitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    const code = r.topics[0]!.errorCode;
    if (code !== ErrorCode.NONE && code !== ErrorCode.TOPIC_ALREADY_EXISTS) throw new Error(`create answered ${code}`);
  });
  await retry('leader known', async () => {
    const md = await client.metadata([TOPIC]);
    if ((md.topics[0]?.partitions[0]?.leaderId ?? -1) < 0) throw new Error('no leader yet');
  });
}, 180_000);

afterAll(async () => {
  await client?.close();
  await cluster?.destroy();
});

describe('transactions replicated to followers', () => {
  it('a new leader answers read_committed as the old one did and takes the marker of the open transaction', async () => {
    await retry('first produce', () => produce('p0'));
    const a = await produce('a', 10n, true); // aborted below
    await produce('c', 20n, true);
    await marker(10n, false);
    await marker(20n, true);
    const open = await produce('o', 30n, true); // left open
    await produce('p1');
    const before = await readCommitted();
    expect(before).toEqual({ lastStableOffset: open, aborted: [{ producerId: 10n, firstOffset: a }], values: ['p0', 'c'] });

    const md = await client.metadata([TOPIC]);
    const leaderId = md.topics[0]!.partitions[0]!.leaderId;
    await cluster.node(leaderId).kill();
    // The new leader has every acknowledged batch and rebuilt the same transaction state from them.
    const after = await retry('read_committed from the new leader', async () => {
      const m = await client.metadata([TOPIC]);
      const l = m.topics[0]!.partitions[0]!.leaderId;
      if (l === leaderId || l < 0) throw new Error('no new leader yet');
      const r = await readCommitted();
      if (r.lastStableOffset !== open) throw new Error(`LSO ${r.lastStableOffset}, waiting for ${open}`);
      return r;
    });
    expect(after).toEqual(before);

    await marker(30n, true);
    const done = await retry('LSO past the committed transaction', async () => {
      const r = await readCommitted();
      if (r.lastStableOffset <= open + 1n) throw new Error(`LSO ${r.lastStableOffset}`);
      return r;
    });
    expect(done.values).toEqual(['p0', 'c', 'o', 'p1']);
    expect(done.aborted).toEqual([{ producerId: 10n, firstOffset: a }]);
  }, 240_000);
});
