// Fetch against an in-process broker on loopback, driven by the internal client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import { decodeMessageSet } from '../../protocol/records/legacy-message-set.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches } from '../../protocol/records/record-batch.ts';

let started: StartedBroker;
let client: KafkaClient;
// A separate connection: responses on one connection come in request order, so a produce sent
// behind a waiting fetch on the same connection would be answered only after it.
let producer: KafkaClient;

async function createTopic(name: string, partitions = 1, configs: [string, string][] = []): Promise<string> {
  const ctx = started.broker.context;
  const [r] = await ctx.controller.createTopics(
    [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: configs.map(([n, v]) => ({ name: n, value: v })) }],
    false,
  );
  expect(r!.errorCode).toBe(ErrorCode.NONE);
  await ctx.metadata.waitFor(ctx.controller.image.offset);
  await client.metadata([name]);
  await producer.metadata([name]);
  return ctx.metadata.image.topicsByName.get(name)!.id;
}

function batch(values: string[], timestamp = Date.now()): Buffer {
  return encodeRecordBatch({
    baseTimestamp: BigInt(timestamp),
    records: values.map((v, i) => ({ timestampDelta: 0, offsetDelta: i, key: null, value: Buffer.from(v) })),
  });
}

async function produce(topic: string, partition: number, values: string[], timestamp?: number): Promise<bigint> {
  const r = await producer.produce(topic, partition, batch(values, timestamp), { acks: -1 });
  return r!.baseOffset;
}

function valuesOf(records: Buffer | null | undefined): string[] {
  const out: string[] = [];
  if (!records) return out;
  for (const e of iterateBatches(records)) {
    for (const r of decodeRecordBatch(records, e.position).records) out.push(r.value!.toString());
  }
  return out;
}

function fetchRequest(topics: { topic: string; topicId?: string; partitions: { partition: number; fetchOffset: bigint; maxBytes?: number; currentLeaderEpoch?: number }[] }[], over: Partial<FetchRequest> = {}): FetchRequest {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: topics.map((t) => ({
      topic: t.topic,
      topicId: t.topicId,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
        fetchOffset: p.fetchOffset,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: p.maxBytes ?? 1 << 20,
      })),
    })),
    forgottenTopicsData: [],
    rackId: '',
    ...over,
  };
}

async function fetch(req: FetchRequest, version = 12, timeoutMs = 30_000): Promise<FetchResponse> {
  return client.send('any', ApiKey.Fetch, req, { version, timeoutMs });
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function partitionsOf(res: FetchResponse): { topic: string | undefined; partition: number; errorCode: number; records: Buffer | null }[] {
  return res.responses.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partitionIndex, errorCode: p.errorCode, records: p.records })));
}

beforeAll(async () => {
  started = await startBroker();
  client = new KafkaClient({ bootstrapServers: started.bootstrap });
  await client.connect();
  producer = new KafkaClient({ bootstrapServers: started.bootstrap });
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await client?.close();
  await producer?.close();
  await started?.stop();
});

describe('Fetch', () => {
  it('returns produced records with high watermark, log start offset and last stable offset', async () => {
    await createTopic('basic');
    await produce('basic', 0, ['a', 'b']);
    await produce('basic', 0, ['c']);
    const res = await fetch(fetchRequest([{ topic: 'basic', partitions: [{ partition: 0, fetchOffset: 0n }] }]));
    const p = res.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(ErrorCode.NONE);
    expect(valuesOf(p.records)).toEqual(['a', 'b', 'c']);
    expect(p.highWatermark).toBe(3n);
    expect(p.lastStableOffset).toBe(3n);
    expect(p.logStartOffset).toBe(0n);
    expect(p.preferredReadReplica).toBe(-1);
    expect(p.abortedTransactions).toBeNull();
    // read_committed answers an empty aborted transaction list.
    const rc = await fetch(fetchRequest([{ topic: 'basic', partitions: [{ partition: 0, fetchOffset: 2n }] }], { isolationLevel: 1 }));
    expect(rc.responses[0]!.partitions[0]!.abortedTransactions).toEqual([]);
    expect(valuesOf(rc.responses[0]!.partitions[0]!.records)).toEqual(['c']);
  });

  it('answers OFFSET_OUT_OF_RANGE beyond the log end, unknown topics and newer leader epochs per partition', async () => {
    await createTopic('errs');
    await produce('errs', 0, ['x']);
    const res = await fetch(
      fetchRequest([
        { topic: 'errs', partitions: [{ partition: 0, fetchOffset: 5n }, { partition: 0, fetchOffset: 1n, currentLeaderEpoch: 99 }, { partition: 3, fetchOffset: 0n }] },
        { topic: 'no-such-topic', partitions: [{ partition: 0, fetchOffset: 0n }] },
      ]),
    );
    const ps = partitionsOf(res);
    expect(ps.map((p) => p.errorCode)).toEqual([ErrorCode.OFFSET_OUT_OF_RANGE, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const errored = res.responses[0]!.partitions[0]!;
    expect(errored.highWatermark).toBe(-1n);
    // At the log end: no error, no records.
    const atEnd = await fetch(fetchRequest([{ topic: 'errs', partitions: [{ partition: 0, fetchOffset: 1n }] }]));
    expect(atEnd.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(atEnd.responses[0]!.partitions[0]!.records!.length).toBe(0);
  });

  it('a replica id that is not one of the replicas gets NOT_LEADER_OR_FOLLOWER; v15 carries it in replicaState', async () => {
    await createTopic('follower');
    await produce('follower', 0, ['f']);
    const req = fetchRequest([{ topic: 'follower', partitions: [{ partition: 0, fetchOffset: 0n }] }]);
    const stranger = await fetch({ ...req, replicaId: 5 }, 12);
    expect(stranger.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const topicId = started.broker.context.metadata.image.topicsByName.get('follower')!.id;
    const byId = fetchRequest([{ topic: '', topicId, partitions: [{ partition: 0, fetchOffset: 0n }] }]);
    const v15 = await fetch({ ...byId, replicaState: { replicaId: 5, replicaEpoch: -1n } }, 15);
    expect(v15.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    // v16 names the current leader for NOT_LEADER_OR_FOLLOWER, with its endpoint.
    const v16 = await fetch({ ...byId, replicaState: { replicaId: 5, replicaEpoch: -1n } }, 16);
    const leader = v16.responses[0]!.partitions[0]!.currentLeader!;
    expect(leader.leaderId).toBe(started.broker.context.nodeId);
    expect(v16.nodeEndpoints!.map((n) => n.nodeId)).toEqual([started.broker.context.nodeId]);
    const self = await fetch({ ...req, replicaId: started.broker.context.nodeId }, 12);
    expect(valuesOf(self.responses[0]!.partitions[0]!.records)).toEqual(['f']);
  });

  it('names topics by id from v13 and answers UNKNOWN_TOPIC_ID for an unknown id', async () => {
    const id = await createTopic('by-id');
    await produce('by-id', 0, ['i']);
    const res = await fetch(
      fetchRequest([
        { topic: '', topicId: id, partitions: [{ partition: 0, fetchOffset: 0n }] },
        { topic: '', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partition: 0, fetchOffset: 0n }] },
      ]),
      16,
    );
    expect(res.responses[0]!.topicId).toBe(id);
    expect(valuesOf(res.responses[0]!.partitions[0]!.records)).toEqual(['i']);
    expect(res.responses[1]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });

  it('long poll: a waiting fetch is woken by an append and returns the record before maxWaitMs', async () => {
    await createTopic('poll');
    const maxWaitMs = 20_000;
    const t0 = Date.now();
    const pending = fetch(fetchRequest([{ topic: 'poll', partitions: [{ partition: 0, fetchOffset: 0n }] }], { maxWaitMs, minBytes: 1 }));
    let settled = false;
    void pending.then(() => (settled = true));
    await until(() => started.broker.context.fetchPurgatory!.waiting === 1);
    expect(settled).toBe(false);
    await produce('poll', 0, ['woke']);
    const res = await pending;
    expect(valuesOf(res.responses[0]!.partitions[0]!.records)).toEqual(['woke']);
    expect(Date.now() - t0).toBeLessThan(maxWaitMs);
    expect(started.broker.context.fetchPurgatory!.waiting).toBe(0);
  });

  it('long poll: appends to other partitions do not wake a waiting fetch; expiry answers empty', async () => {
    await createTopic('quiet', 2);
    const pending = fetch(fetchRequest([{ topic: 'quiet', partitions: [{ partition: 0, fetchOffset: 0n }] }], { maxWaitMs: 1500, minBytes: 1 }));
    await until(() => started.broker.context.fetchPurgatory!.waiting === 1);
    await produce('quiet', 1, ['elsewhere']);
    expect(started.broker.context.fetchPurgatory!.waiting).toBe(1);
    const res = await pending;
    expect(res.responses[0]!.partitions[0]!.records!.length).toBe(0);
  });

  it('honours partitionMaxBytes and maxBytes across partitions, but returns an oversized first batch (KIP-74)', async () => {
    await createTopic('limits', 2);
    const big = 'x'.repeat(3000);
    await produce('limits', 0, [big]);
    await produce('limits', 0, [big]);
    await produce('limits', 1, [big]);
    // partitionMaxBytes 100: the first batch still comes (KIP-74), only one.
    let res = await fetch(fetchRequest([{ topic: 'limits', partitions: [{ partition: 0, fetchOffset: 0n, maxBytes: 100 }, { partition: 1, fetchOffset: 0n, maxBytes: 100 }] }]));
    let ps = partitionsOf(res);
    expect(valuesOf(ps[0]!.records)).toEqual([big]);
    expect(ps[1]!.records!.length).toBe(0);
    // Request maxBytes 4000: partition 0 takes one batch (~3070 bytes), partition 1's batch no longer fits.
    res = await fetch(fetchRequest([{ topic: 'limits', partitions: [{ partition: 0, fetchOffset: 0n }, { partition: 1, fetchOffset: 0n }] }], { maxBytes: 4000 }));
    ps = partitionsOf(res);
    expect(valuesOf(ps[0]!.records)).toEqual([big]);
    expect(ps[1]!.records!.length).toBe(0);
    // Enough room: everything.
    res = await fetch(fetchRequest([{ topic: 'limits', partitions: [{ partition: 0, fetchOffset: 0n }, { partition: 1, fetchOffset: 0n }] }], { maxBytes: 1 << 20 }));
    ps = partitionsOf(res);
    expect(valuesOf(ps[0]!.records)).toEqual([big, big]);
    expect(valuesOf(ps[1]!.records)).toEqual([big]);
    // v2 has hard limits: an oversized first batch gives nothing.
    res = await fetch(fetchRequest([{ topic: 'limits', partitions: [{ partition: 0, fetchOffset: 0n, maxBytes: 100 }] }]), 2);
    expect(res.responses[0]!.partitions[0]!.records!.length).toBe(0);
  });

  it('down-converts to magic 0 (v0-v1) and magic 1 (v2-v3) message sets', async () => {
    await createTopic('old');
    const ts = 1_700_000_000_000;
    await produce('old', 0, ['m0', 'm1'], ts);
    await produce('old', 0, ['m2'], ts + 5);
    for (const [version, magic] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 1],
    ] as const) {
      const res = await fetch(fetchRequest([{ topic: 'old', partitions: [{ partition: 0, fetchOffset: 1n }] }]), version);
      const records = res.responses[0]!.partitions[0]!.records!;
      expect(records.readInt8(16)).toBe(magic);
      const msgs = decodeMessageSet(records).flatMap((m) => m.records);
      // Whole batches come back: the one holding offset 1 starts at 0.
      expect(msgs.map((m) => [m.offset, m.value!.toString()])).toEqual([
        [0n, 'm0'],
        [1n, 'm1'],
        [2n, 'm2'],
      ]);
      expect(msgs[2]!.timestamp).toBe(magic === 1 ? BigInt(ts + 5) : -1n);
    }
  });

  it('answers UNSUPPORTED_VERSION to old versions when log.message.downconversion.enable is false', async () => {
    const other = await startBroker({ overrides: { 'log.message.downconversion.enable': 'false' } });
    const c = new KafkaClient({ bootstrapServers: other.bootstrap });
    try {
      const ctx = other.broker.context;
      await ctx.controller.createTopics([{ name: 'no-down', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
      await ctx.metadata.waitFor(ctx.controller.image.offset);
      await c.produce('no-down', 0, batch(['v']), { acks: -1 });
      const req = fetchRequest([{ topic: 'no-down', partitions: [{ partition: 0, fetchOffset: 0n }] }]);
      const old = await c.send('any', ApiKey.Fetch, req, { version: 3 });
      expect(old.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
      const current = await c.send('any', ApiKey.Fetch, req, { version: 4 });
      expect(valuesOf(current.responses[0]!.partitions[0]!.records)).toEqual(['v']);
    } finally {
      await c.close();
      await other.stop();
    }
  });
});

describe('Fetch sessions', () => {
  it('full fetch opens a session; incremental fetches carry only partitions with news', async () => {
    await createTopic('sess', 3);
    await produce('sess', 0, ['p0']);
    await produce('sess', 1, ['p1']);
    const all = [0, 1, 2].map((partition) => ({ partition, fetchOffset: 0n }));
    const full = await fetch(fetchRequest([{ topic: 'sess', partitions: all }], { sessionId: 0, sessionEpoch: 0 }));
    expect(full.errorCode).toBe(ErrorCode.NONE);
    expect(full.sessionId).toBeGreaterThan(0);
    expect(partitionsOf(full).map((p) => p.partition)).toEqual([0, 1, 2]);
    const sessionId = full.sessionId!;

    // Nothing changed for the client: it moves its offsets past what it got.
    let epoch = 1;
    let inc = await fetch(
      fetchRequest([{ topic: 'sess', partitions: [{ partition: 0, fetchOffset: 1n }, { partition: 1, fetchOffset: 1n }] }], { sessionId, sessionEpoch: epoch++ }),
    );
    expect(inc.errorCode).toBe(ErrorCode.NONE);
    expect(inc.sessionId).toBe(sessionId);
    expect(partitionsOf(inc)).toEqual([]);
    inc = await fetch(fetchRequest([], { sessionId, sessionEpoch: epoch++ }));
    expect(partitionsOf(inc)).toEqual([]);

    // A produce makes the partition reappear, with its records.
    await produce('sess', 2, ['p2']);
    inc = await fetch(fetchRequest([], { sessionId, sessionEpoch: epoch++ }));
    const ps = partitionsOf(inc);
    expect(ps.map((p) => p.partition)).toEqual([2]);
    expect(valuesOf(ps[0]!.records)).toEqual(['p2']);

    // Forget partition 2: later appends there are not reported.
    inc = await fetch(fetchRequest([], { sessionId, sessionEpoch: epoch++, forgottenTopicsData: [{ topic: 'sess', partitions: [2] }] }));
    expect(partitionsOf(inc)).toEqual([]);
    await produce('sess', 2, ['p2b']);
    await produce('sess', 0, ['p0b']);
    inc = await fetch(fetchRequest([], { sessionId, sessionEpoch: epoch++ }));
    expect(partitionsOf(inc).map((p) => [p.partition, valuesOf(p.records)])).toEqual([[0, ['p0b']]]);

    // A wrong epoch is refused; an unknown session too.
    const wrong = await fetch(fetchRequest([], { sessionId, sessionEpoch: epoch + 5 }));
    expect(wrong.errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    const unknown = await fetch(fetchRequest([], { sessionId: sessionId + 1, sessionEpoch: 1 }));
    expect(unknown.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    expect(unknown.sessionId).toBe(0);

    // A sessionless full fetch naming the session closes it.
    const close = await fetch(fetchRequest([{ topic: 'sess', partitions: all }], { sessionId, sessionEpoch: -1 }));
    expect(close.sessionId).toBe(0);
    const after = await fetch(fetchRequest([], { sessionId, sessionEpoch: epoch }));
    expect(after.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('an incremental fetch waits for news and is woken by an append to a session partition', async () => {
    await createTopic('sess-wait', 2);
    const full = await fetch(fetchRequest([{ topic: 'sess-wait', partitions: [0, 1].map((partition) => ({ partition, fetchOffset: 0n })) }], { sessionEpoch: 0 }));
    const sessionId = full.sessionId!;
    const pending = fetch(fetchRequest([], { sessionId, sessionEpoch: 1, maxWaitMs: 20_000, minBytes: 1 }));
    await until(() => started.broker.context.fetchPurgatory!.waiting === 1);
    await produce('sess-wait', 1, ['late']);
    const res = await pending;
    expect(partitionsOf(res).map((p) => [p.partition, valuesOf(p.records)])).toEqual([[1, ['late']]]);
  });
});
