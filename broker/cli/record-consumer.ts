// A consumer with manual assignment, for the console consumer and the consumer performance test:
// the partitions of one topic, each with a position; poll() sends one Fetch per leader broker
// (all of that broker's partitions in one request), decodes what comes back and advances the
// positions. No group: positions live only in this process.
// Invariants:
// - Records before a partition's position are dropped (a fetch returns whole batches).
// - The position moves past every batch seen, control and empty batches included.
// - read_committed drops control records and the records of aborted transactions, using the
//   response's aborted transactions as Kafka's consumer does.
// - OFFSET_OUT_OF_RANGE resets to auto.offset.reset (earliest or latest) or fails if "none".
// - One fetch per broker may be sent ahead (before the last answer is decoded); it is used only
//   if it asked for exactly the positions the consumer then has, so records are never skipped.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import { OffsetSpec } from '../../protocol/client/client.ts';
import type { KafkaClient } from '../../protocol/client/client.ts';
import { ConnectionError } from '../../protocol/client/connection-errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchResponse, PartitionData } from '../../protocol/generated/message/fetch-response.ts';
import { BASE_OFFSET_OFFSET, LAST_OFFSET_DELTA_OFFSET, TimestampType } from '../../protocol/records/batch-header.ts';
import { parseControlRecordKey, ControlRecordType } from '../../protocol/records/control-record.ts';
import { decodeLegacyMessage } from '../../protocol/records/legacy-message-set.ts';
import { MAGIC_V2, decodeRecordBatch, iterateBatches, recordTimestamp } from '../../protocol/records/record-batch.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import type { FormattableRecord } from './message-formatter.ts';

export type OffsetResetPolicy = 'earliest' | 'latest' | 'none';
/** Where a partition starts: a policy, or an absolute offset. */
export type StartPosition = 'earliest' | 'latest' | bigint;

export interface ConsumerSettings {
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number;
  /** fetch.max.bytes */
  maxBytes: number;
  /** max.partition.fetch.bytes */
  partitionMaxBytes: number;
  maxWaitMs: number;
  minBytes: number;
  autoOffsetReset: OffsetResetPolicy;
}

export const DEFAULT_CONSUMER_SETTINGS: ConsumerSettings = {
  isolationLevel: 0,
  maxBytes: 52_428_800,
  partitionMaxBytes: 1_048_576,
  maxWaitMs: 500,
  minBytes: 1,
  autoOffsetReset: 'latest',
};

export interface ConsumedRecord extends FormattableRecord {
  topic: string;
}

export class RecordConsumer {
  readonly topic: string;
  readonly settings: ConsumerSettings;
  private readonly client: KafkaClient;
  /** Next offset to fetch, by partition. */
  readonly positions = new Map<number, bigint>();
  /** A fetch sent ahead per broker, keyed by the partitions and offsets it asked for. */
  private readonly prefetched = new Map<number, { key: string; response: Promise<FetchResponse | null> }>();

  constructor(client: KafkaClient, topic: string, settings: Partial<ConsumerSettings> = {}) {
    this.client = client;
    this.topic = topic;
    this.settings = { ...DEFAULT_CONSUMER_SETTINGS, ...settings };
  }

  /** The topic's partitions, in order; throws KafkaError if it does not exist. */
  async partitions(): Promise<number[]> {
    await this.client.metadata([this.topic]);
    const t = this.client.topic(this.topic);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (t.errorCode !== ErrorCode.NONE) throw new KafkaError(t.errorCode as ErrorCodeValue);
    return [...t.partitions.keys()].sort((a, b) => a - b);
  }

  async assign(partitions: readonly number[], start: StartPosition): Promise<void> {
    this.positions.clear();
    this.prefetched.clear();
    await Promise.all(partitions.map(async (p) => this.positions.set(p, await this.resolve(p, start))));
  }

  /** One round of fetches; returns the records in partition order within each response. */
  async poll(): Promise<ConsumedRecord[]> {
    await this.ensureMetadata();
    const t = this.client.topic(this.topic);
    const byNode = new Map<number, number[]>();
    for (const p of this.positions.keys()) {
      const leader = t?.partitions.get(p)?.leaderId ?? -1;
      if (leader < 0) continue;
      let list = byNode.get(leader);
      if (!list) byNode.set(leader, (list = []));
      list.push(p);
    }
    if (byNode.size === 0) {
      // No leader known for any partition: ask again after a pause.
      await this.client.metadata([this.topic]).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      return [];
    }
    const answers = await Promise.all([...byNode].map(([node, parts]) => this.fetchFrom(node, parts)));
    return answers.flat();
  }

  private async ensureMetadata(): Promise<void> {
    if (!this.client.topic(this.topic)) await this.client.metadata([this.topic]);
  }

  private async resolve(partition: number, start: StartPosition): Promise<bigint> {
    if (typeof start === 'bigint') {
      if (start >= 0n) return start;
      // A negative offset counts back from the end, as the console consumer's --offset does not,
      // but is what -1/-2 mean elsewhere in Kafka's tools: treat -1 as latest and -2 as earliest.
      start = start === -2n ? 'earliest' : 'latest';
    }
    const spec = start === 'earliest' ? OffsetSpec.EARLIEST : OffsetSpec.LATEST;
    const answer = await this.client.listOffsets(this.topic, partition, spec, { isolationLevel: this.settings.isolationLevel });
    // ListOffsets v0 answers with a list of offsets instead of one.
    return answer.offset ?? answer.oldStyleOffsets?.[0] ?? 0n;
  }

  private async fetchFrom(nodeId: number, partitions: number[]): Promise<ConsumedRecord[]> {
    const key = fetchKey(partitions, this.positions);
    const prefetched = this.prefetched.get(nodeId);
    this.prefetched.delete(nodeId);
    const response = prefetched !== undefined && prefetched.key === key ? await prefetched.response : await this.sendFetch(nodeId, partitions, this.positions);
    if (response === null) return [];
    // The next fetch goes out before this one is decoded, when its offsets follow from the batch
    // headers alone; a later poll uses it only if the positions still match.
    const next = nextPositions(response, partitions, this.positions);
    if (next !== null) {
      const ahead = this.sendFetch(nodeId, partitions, next);
      ahead.catch(() => undefined);
      this.prefetched.set(nodeId, { key: fetchKey(partitions, next), response: ahead });
    }
    return this.handleResponse(response);
  }

  /** One Fetch for the partitions at the given offsets; null if the connection failed (metadata is refreshed). */
  private async sendFetch(nodeId: number, partitions: number[], positions: ReadonlyMap<number, bigint>): Promise<FetchResponse | null> {
    let conn;
    try {
      conn = await this.client.connectionFor({ nodeId });
    } catch (err) {
      if (err instanceof ConnectionError) {
        await this.client.metadata([this.topic]).catch(() => undefined);
        return null;
      }
      throw err;
    }
    const topicId = this.client.topic(this.topic)?.topicId ?? ZERO_UUID;
    let version = conn.versionFor(ApiKey.Fetch);
    if (version >= 13 && topicId === ZERO_UUID) version = 12;
    const request: FetchRequest = {
      replicaId: -1,
      maxWaitMs: this.settings.maxWaitMs,
      minBytes: this.settings.minBytes,
      maxBytes: this.settings.maxBytes,
      isolationLevel: this.settings.isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: this.topic,
          topicId,
          partitions: partitions.map((p) => ({
            partition: p,
            currentLeaderEpoch: -1,
            fetchOffset: positions.get(p)!,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: this.settings.partitionMaxBytes,
          })),
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    };
    try {
      return await conn.send(ApiKey.Fetch, request, { version, timeoutMs: conn.requestTimeoutMs + this.settings.maxWaitMs });
    } catch (err) {
      if (err instanceof ConnectionError) {
        await this.client.metadata([this.topic]).catch(() => undefined);
        return null;
      }
      throw err;
    }
  }

  private async handleResponse(response: FetchResponse): Promise<ConsumedRecord[]> {
    if (response.errorCode !== undefined && response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode as ErrorCodeValue);
    const out: ConsumedRecord[] = [];
    let refresh = false;
    for (const topicAnswer of response.responses) {
      for (const answer of topicAnswer.partitions) {
        if (!this.positions.has(answer.partitionIndex)) continue;
        const code = answer.errorCode;
        if (code === ErrorCode.NONE) {
          this.take(answer, out);
        } else if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
          if (this.settings.autoOffsetReset === 'none') {
            throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `Fetch position ${this.positions.get(answer.partitionIndex)} is out of range for partition ${this.topic}-${answer.partitionIndex}`);
          }
          this.positions.set(answer.partitionIndex, await this.resolve(answer.partitionIndex, this.settings.autoOffsetReset));
        } else if (new KafkaError(code as ErrorCodeValue).retriable) {
          refresh = true;
        } else {
          throw new KafkaError(code as ErrorCodeValue);
        }
      }
    }
    if (refresh) {
      await this.client.metadata([this.topic]).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  }

  /** Decodes one partition's records past its position and advances the position. */
  private take(answer: PartitionData, out: ConsumedRecord[]): void {
    const partition = answer.partitionIndex;
    const taken = recordsFromFetch(answer.records ?? Buffer.alloc(0), {
      topic: this.topic,
      partition,
      position: this.positions.get(partition)!,
      readCommitted: this.settings.isolationLevel === 1,
      abortedTransactions: answer.abortedTransactions ?? [],
    });
    for (const r of taken.records) out.push(r);
    this.positions.set(partition, taken.position);
  }
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  /** The next offset the consumer wants; earlier records are dropped. */
  position: bigint;
  readCommitted: boolean;
  abortedTransactions: ReadonlyArray<{ producerId: bigint; firstOffset: bigint }>;
}

/**
 * The records a consumer delivers from one partition's fetched bytes, and its next position.
 * Under read_committed, a transactional batch is dropped when its producer has an aborted
 * transaction starting at or before it and that transaction's ABORT marker has not yet been
 * passed (Kafka's consumer-side filtering); control batches are never delivered.
 */
export function recordsFromFetch(buf: Buffer, f: FetchedPartition): { records: ConsumedRecord[]; position: bigint } {
  const { topic, partition } = f;
  const out: ConsumedRecord[] = [];
  let position = f.position;
  const aborted = [...f.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<bigint>();
  for (const entry of iterateBatches(buf)) {
    if (entry.magic < MAGIC_V2) {
      const message = decodeLegacyMessage(buf, entry.position);
      const type = message.magic === 0 ? null : message.timestampType === TimestampType.LogAppendTime ? 'LogAppendTime' : 'CreateTime';
      for (const r of message.records) {
        if (r.offset < position) continue;
        out.push({ topic, partition, offset: r.offset, timestamp: r.timestamp, timestampType: type, key: r.key, value: r.value, headers: [] });
        position = r.offset + 1n;
      }
      continue;
    }
    const batch = decodeRecordBatch(buf, entry.position);
    const h = batch.header;
    const next = h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
    if (f.readCommitted) {
      while (aborted.length > 0 && aborted[0]!.firstOffset <= next - 1n) abortedProducers.add(aborted.shift()!.producerId);
    }
    if (next <= position) continue;
    if (h.isControl) {
      if (f.readCommitted && parseControlRecordKey(batch.records[0]?.key ?? null).type === ControlRecordType.Abort) abortedProducers.delete(h.producerId);
      position = next;
      continue;
    }
    if (f.readCommitted && h.isTransactional && abortedProducers.has(h.producerId)) {
      position = next;
      continue;
    }
    const type = h.timestampType === TimestampType.LogAppendTime ? 'LogAppendTime' : 'CreateTime';
    for (const r of batch.records) {
      const offset = h.baseOffset + BigInt(r.offsetDelta);
      if (offset < position) continue;
      out.push({ topic, partition, offset, timestamp: recordTimestamp(h, r), timestampType: type, key: r.key, value: r.value, headers: r.headers });
    }
    position = next;
  }
  return { records: out, position };
}

function fetchKey(partitions: readonly number[], positions: ReadonlyMap<number, bigint>): string {
  return partitions.map((p) => `${p}@${positions.get(p)}`).join(',');
}

/**
 * The positions after a response, read from batch headers only, as recordsFromFetch would leave
 * them; null when that needs more (an error, or a legacy message whose inner offsets are compressed).
 */
export function nextPositions(response: FetchResponse, partitions: readonly number[], positions: ReadonlyMap<number, bigint>): Map<number, bigint> | null {
  if (response.errorCode !== undefined && response.errorCode !== ErrorCode.NONE) return null;
  const next = new Map<number, bigint>();
  for (const p of partitions) next.set(p, positions.get(p)!);
  for (const t of response.responses) {
    for (const answer of t.partitions) {
      let position = next.get(answer.partitionIndex);
      if (position === undefined) continue;
      if (answer.errorCode !== ErrorCode.NONE) return null;
      const buf = answer.records ?? Buffer.alloc(0);
      for (const entry of iterateBatches(buf)) {
        if (entry.magic < MAGIC_V2) return null;
        const last = buf.readBigInt64BE(entry.position + BASE_OFFSET_OFFSET) + BigInt(buf.readInt32BE(entry.position + LAST_OFFSET_DELTA_OFFSET));
        if (last + 1n > position) position = last + 1n;
      }
      next.set(answer.partitionIndex, position);
    }
  }
  return next;
}
