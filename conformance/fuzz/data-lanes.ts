// Data-path sequences: produce with random producer ids, epochs and sequences (idempotent,
// "transactional" without a transaction, acks 0/1/all, every codec); InitProducerId; topics and
// partitions created, deleted and re-created while others produce and fetch to them; Fetch (v7+)
// sessions with random, reused and stale ids and epochs and forgotten partitions, by name and by
// topic id; DeleteRecords and ListOffsets racing the appends. Each lane owns one connection at a
// time and reopens it when the broker closes it.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { CompressionType } from '../../protocol/records/batch-header.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import type { FuzzContext } from './context.ts';
import { sleep } from './context.ts';
import type { Prng } from './prng.ts';
import type { Wire } from './wire.ts';

/** Topics the runner creates before the lanes start; churn topics come and go. */
export const STEADY_TOPICS = ['fz-t0', 'fz-t1'];
export const CHURN_TOPICS = ['fz-c0', 'fz-c1', 'fz-c2'];
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

function topicOf(rng: Prng): string {
  return rng.weighted([[5, rng.pick(STEADY_TOPICS)], [5, rng.pick(CHURN_TOPICS)], [1, 'fz-missing'], [1, rng.pick(['', '..', 'a'.repeat(260), 'bad/name', '__consumer_offsets'])]] as const);
}

function partitionOf(rng: Prng): number {
  return rng.weighted([[10, rng.int(4)], [1, rng.pick([-1, 100, 0x7fffffff])]] as const);
}

function batchOf(ctx: FuzzContext, rng: Prng, producerId: bigint, epoch: number, sequence: number): { batch: Buffer; count: number } {
  const n = rng.weighted([[8, rng.range(1, 5)], [1, rng.range(50, 300)]] as const);
  const records = [];
  for (let i = 0; i < n; i++) {
    records.push({ offsetDelta: i, timestampDelta: i, key: rng.chance(0.5) ? null : Buffer.from(`k${i}`), value: rng.bytes(rng.int(rng.chance(0.05) ? 20_000 : 64)), headers: rng.chance(0.2) ? [{ key: 'h', value: Buffer.from('v') }] : [] });
  }
  const compression = rng.weighted([[6, CompressionType.None], [1, CompressionType.Gzip], [1, CompressionType.Snappy], [1, CompressionType.Lz4], [1, CompressionType.Zstd]] as const);
  // Sometimes any int64, ends of the range included; within 2^52 of zero when those are avoided.
  const baseTimestamp = rng.chance(0.9) ? BigInt(Date.now()) : ctx.avoid.has(EDGE_TIMESTAMPS) ? rng.int64() >> 11n : rng.int64();
  const batch = encodeRecordBatch({
    baseTimestamp,
    // Given, so an edge base timestamp plus the deltas cannot overflow the field.
    maxTimestamp: baseTimestamp,
    producerId,
    producerEpoch: epoch,
    baseSequence: sequence,
    isTransactional: rng.chance(0.05),
    compression,
    records,
  });
  return { batch, count: n };
}

/** Runs `step` until the run ends, reopening the lane's connection as needed. */
export async function laneLoop(ctx: FuzzContext, lane: string, pauseMs: [number, number], rng: Prng, step: (w: Wire) => Promise<void>): Promise<void> {
  let wire: Wire | undefined;
  while (ctx.running) {
    try {
      if (!wire || wire.closed) {
        if (wire) ctx.close(wire);
        wire = await ctx.open();
      }
      await step(wire);
      await sleep(rng.range(pauseMs[0], pauseMs[1]));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'WIRE_CLOSED' && code !== 'WIRE_TIMEOUT' && code !== 'ECONNREFUSED' && code !== 'ECONNRESET') ctx.fault(lane, err as Error);
      await sleep(50);
    }
  }
  if (wire) ctx.close(wire);
}

export function runProducer(ctx: FuzzContext, rng: Prng, lane: string): Promise<void> {
  const log = (a: string): void => ctx.journal.add(lane, a);
  const sequences = new Map<string, number>();
  return laneLoop(ctx, lane, [0, 20], rng, async (w) => {
    if (rng.chance(0.1)) {
      const v = ctx.version(rng, ApiKey.InitProducerId);
      if (v === undefined) return;
      const known = ctx.pickFrom(rng, ctx.producerIds, { id: -1n, epoch: -1 });
      const body = {
        transactionalId: rng.chance(0.85) ? null : rng.pick(['fz-tx0', 'fz-tx1', '']),
        transactionTimeoutMs: rng.pick([60_000, 1, -1, 0x7fffffff]),
        producerId: rng.chance(0.5) ? known.id : rng.pick([-1n, rng.int64()]),
        producerEpoch: rng.chance(0.5) ? known.epoch : rng.pick([-1, 0, 0x7fff]),
      };
      log(`InitProducerId v${v} ${JSON.stringify(body, (_k, x) => (typeof x === 'bigint' ? String(x) : x))}`);
      const r = await ctx.call(lane, w, ApiKey.InitProducerId, v, body, { timeoutMs: 6000 });
      if (r && r.errorCode === 0) ctx.remember(ctx.producerIds, { id: r.producerId, epoch: r.producerEpoch });
      return;
    }
    const v = ctx.version(rng, ApiKey.Produce, 3);
    if (v === undefined) return;
    const idempotent = rng.chance(0.5);
    const known = ctx.pickFrom(rng, ctx.producerIds, { id: rng.int64(), epoch: rng.int(3) });
    const producerId = idempotent ? (rng.chance(0.8) ? known.id : rng.int64()) : -1n;
    const epoch = idempotent ? rng.weighted([[8, known.epoch], [1, ((known.epoch + 1) << 16) >> 16], [1, rng.range(-1, 0x7fff)]] as const) : -1;
    const topic = topicOf(rng);
    const partition = partitionOf(rng);
    const key = `${topic}/${partition}/${producerId}`;
    const next = sequences.get(key) ?? 0;
    // Sequences wrap at 2^31 as Kafka's do.
    const sequence = idempotent ? rng.weighted([[8, next], [1, (next + rng.range(1, 3)) | 0], [1, rng.pick([(next - 1) | 0, -1, 0x7fffffff, 0])]] as const) : -1;
    const first = batchOf(ctx, rng, producerId, epoch, sequence);
    const batches: Buffer[] = [first.batch];
    if (rng.chance(0.1)) batches.push(batchOf(ctx, rng, producerId, epoch, (sequence + first.count) | 0).batch);
    const acks = rng.weighted([[6, 1], [3, -1], [1, 0], [1, rng.pick([2, -2])]] as const);
    const records = Buffer.concat(batches);
    log(`Produce v${v} ${topic}-${partition} acks=${acks} pid=${producerId} epoch=${epoch} seq=${sequence} batches=${batches.length} bytes=${records.length}`);
    const r = await ctx.call(lane, w, ApiKey.Produce, v, {
      transactionalId: null,
      acks,
      timeoutMs: rng.pick([5000, 0, 100]),
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    }, { timeoutMs: 8000, expectResponse: acks !== 0 });
    const err = r?.responses[0]?.partitionResponses[0]?.errorCode;
    if (err === 0 && idempotent) sequences.set(key, (sequence + first.count) | 0);
  });
}

/** A partition count Kafka refuses (over 10000 per request); a small one when the run avoids it. */
function hugeCount(ctx: FuzzContext): number {
  return ctx.avoid.has(HUGE_PARTITION_COUNTS) ? 5 : 0x7fffffff;
}

export const HUGE_PARTITION_COUNTS = 'huge-partition-counts';
export const EDGE_TIMESTAMPS = 'edge-timestamps';

export function runTopics(ctx: FuzzContext, rng: Prng, lane: string): Promise<void> {
  const log = (a: string): void => ctx.journal.add(lane, a);
  return laneLoop(ctx, lane, [20, 200], rng, async (w) => {
    const name = rng.chance(0.9) ? rng.pick(CHURN_TOPICS) : topicOf(rng);
    switch (rng.weighted([[5, 'create'], [4, 'delete'], [3, 'partitions'], [2, 'metadata']] as const)) {
      case 'create': {
        const v = ctx.version(rng, ApiKey.CreateTopics);
        if (v === undefined) return;
        const numPartitions = rng.weighted([[8, rng.range(1, 4)], [1, rng.pick([-1, 0, -2, hugeCount(ctx)])]] as const);
        const configs = rng.chance(0.2) ? [{ name: rng.pick(['segment.bytes', 'retention.ms', 'cleanup.policy', 'fz.bogus']), value: rng.pick(['1', '-1', 'compact', 'x', null]) }] : [];
        const body = { topics: [{ name, numPartitions, replicationFactor: rng.chance(0.9) ? -1 : rng.pick([1, 3, 0]), assignments: [], configs }], timeoutMs: rng.pick([5000, 0]), validateOnly: rng.chance(0.1) };
        log(`CreateTopics v${v} ${name} partitions=${numPartitions} rf=${body.topics[0]!.replicationFactor} configs=${JSON.stringify(configs)} validateOnly=${body.validateOnly}`);
        const r = await ctx.call(lane, w, ApiKey.CreateTopics, v, body, { timeoutMs: 8000 });
        const t = r?.topics[0];
        if (t && t.errorCode === 0 && t.topicId) ctx.topicIds.set(name, t.topicId);
        return;
      }
      case 'delete': {
        const v = ctx.version(rng, ApiKey.DeleteTopics);
        if (v === undefined) return;
        const byId = v >= 6 && rng.chance(0.4);
        const id = ctx.topicIds.get(name) ?? ZERO_UUID;
        log(`DeleteTopics v${v} ${byId ? `id ${id} (${name})` : name}`);
        const body = v >= 6 ? { topics: [byId ? { name: null, topicId: id } : { name, topicId: ZERO_UUID }], timeoutMs: 5000 } : { topicNames: [name], timeoutMs: 5000 };
        await ctx.call(lane, w, ApiKey.DeleteTopics, v, body, { timeoutMs: 8000 });
        return;
      }
      case 'partitions': {
        const v = ctx.version(rng, ApiKey.CreatePartitions);
        if (v === undefined) return;
        const count = rng.weighted([[8, rng.range(1, 6)], [1, rng.pick([0, -1, hugeCount(ctx)])]] as const);
        log(`CreatePartitions v${v} ${name} count=${count}`);
        await ctx.call(lane, w, ApiKey.CreatePartitions, v, { topics: [{ name, count, assignments: null }], timeoutMs: 5000, validateOnly: rng.chance(0.1) }, { timeoutMs: 8000 });
        return;
      }
      case 'metadata': {
        const v = ctx.version(rng, ApiKey.Metadata, 1);
        if (v === undefined) return;
        log(`Metadata v${v}`);
        const r = await ctx.call(lane, w, ApiKey.Metadata, v, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }, { timeoutMs: 5000 });
        for (const t of r?.topics ?? []) if (t.name && t.topicId && t.topicId !== ZERO_UUID) ctx.topicIds.set(t.name, t.topicId);
        return;
      }
    }
  });
}

export function runFetcher(ctx: FuzzContext, rng: Prng, lane: string): Promise<void> {
  const log = (a: string): void => ctx.journal.add(lane, a);
  let session = { id: 0, epoch: 0 };
  return laneLoop(ctx, lane, [0, 30], rng, async (w) => {
    const v = ctx.version(rng, ApiKey.Fetch, rng.chance(0.9) ? 7 : 0);
    if (v === undefined) return;
    const other = ctx.pickFrom(rng, ctx.fetchSessions, { id: rng.int32(), epoch: rng.int32() });
    const pick = rng.weighted([[6, 'own'], [2, 'new'], [1, 'other'], [1, 'random'], [1, 'close']] as const);
    const s = pick === 'own' ? { id: session.id, epoch: rng.chance(0.85) ? session.epoch : session.epoch + rng.range(-2, 2) }
      : pick === 'new' ? { id: 0, epoch: 0 }
        : pick === 'other' ? other
          : pick === 'random' ? { id: rng.int32(), epoch: rng.int32() }
            : { id: session.id, epoch: -1 };
    const topics = [];
    for (let i = rng.range(0, 2); i >= 0; i--) {
      const name = topicOf(rng);
      const unknownId = rng.chance(0.5) ? ZERO_UUID : 'fzfzfzfzfzfzfzfzfzfzfw';
      const id = ctx.topicIds.get(name) ?? unknownId;
      topics.push({ topic: name, topicId: id, partitions: [{ partition: partitionOf(rng), fetchOffset: rng.weighted([[6, BigInt(rng.int(50))], [1, rng.int64()]] as const), partitionMaxBytes: rng.pick([1 << 20, 0, -1, 100]), currentLeaderEpoch: rng.range(-1, 2), lastFetchedEpoch: -1, logStartOffset: -1n }] });
    }
    const forgotten = rng.chance(0.3) ? [{ topic: topicOf(rng), topicId: ctx.topicIds.get(rng.pick(CHURN_TOPICS)) ?? ZERO_UUID, partitions: [partitionOf(rng), partitionOf(rng)] }] : [];
    const body = {
      replicaId: -1,
      maxWaitMs: rng.pick([0, 10, 100, 500]),
      minBytes: rng.pick([0, 1, 1 << 20]),
      maxBytes: rng.pick([1 << 20, 0, 0x7fffffff]),
      isolationLevel: rng.int(2),
      sessionId: s.id,
      sessionEpoch: s.epoch,
      topics,
      forgottenTopicsData: forgotten,
      rackId: '',
    };
    log(`Fetch v${v} session=${s.id}/${s.epoch} topics=${topics.map((t) => `${t.topic}-${t.partitions[0]!.partition}@${t.partitions[0]!.fetchOffset}`).join(',')} forgotten=${forgotten.length} wait=${body.maxWaitMs}`);
    const r = await ctx.call(lane, w, ApiKey.Fetch, v, body, { timeoutMs: 6000 });
    if (r && r.errorCode === 0 && (r.sessionId ?? 0) !== 0) {
      if (r.sessionId !== session.id) ctx.remember(ctx.fetchSessions, { id: r.sessionId!, epoch: 1 });
      session = { id: r.sessionId!, epoch: s.id === r.sessionId ? s.epoch + 1 : 1 };
    }
  });
}

export function runRecords(ctx: FuzzContext, rng: Prng, lane: string): Promise<void> {
  const log = (a: string): void => ctx.journal.add(lane, a);
  return laneLoop(ctx, lane, [0, 40], rng, async (w) => {
    const topic = topicOf(rng);
    const partition = partitionOf(rng);
    if (rng.chance(0.4)) {
      const v = ctx.version(rng, ApiKey.DeleteRecords);
      if (v === undefined) return;
      const offset = rng.weighted([[4, BigInt(rng.int(100))], [2, -1n], [1, rng.int64()]] as const);
      log(`DeleteRecords v${v} ${topic}-${partition} before ${offset}`);
      await ctx.call(lane, w, ApiKey.DeleteRecords, v, { topics: [{ name: topic, partitions: [{ partitionIndex: partition, offset }] }], timeoutMs: rng.pick([5000, 0]) }, { timeoutMs: 8000 });
      return;
    }
    const v = ctx.version(rng, ApiKey.ListOffsets);
    if (v === undefined) return;
    const timestamp = rng.weighted([[6, rng.pick([-1n, -2n, -3n, -4n, -5n])], [2, BigInt(Date.now() - rng.int(60_000))], [1, rng.int64()]] as const);
    log(`ListOffsets v${v} ${topic}-${partition} at ${timestamp}`);
    await ctx.call(lane, w, ApiKey.ListOffsets, v, { replicaId: -1, isolationLevel: rng.int(2), topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: rng.range(-1, 1), timestamp, maxNumOffsets: rng.pick([1, 0, 1000]) }] }] }, { timeoutMs: 6000 });
  });
}
