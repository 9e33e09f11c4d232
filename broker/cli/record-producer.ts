// A small asynchronous producer for the console producer and the producer performance test,
// shaped like Kafka's Java producer: records are appended to an open batch per partition; a batch
// closes when it reaches batch.size or linger.ms has passed; closed batches are drained to their
// partition's leader, one batch per partition per Produce request, with up to
// max.in.flight.requests.per.connection requests outstanding per broker. Callbacks run when the
// broker answers (acks=1/-1) or when the request is written (acks=0).
// Invariants:
// - bufferedBytes counts records from send() until their batch completes; waitForCapacity()
//   resolves only once it is below buffer.memory, so memory stays bounded.
// - Records are written into their batch's bytes on send(), so a buffered record is no object.
// - A batch is encoded once, when first sent; retries resend the same bytes.
// - Idempotence (enable.idempotence, on by default with acks=all as in Kafka 3.x): a producer id
//   from InitProducerId, and per partition consecutive sequence numbers assigned at first send, so
//   the broker drops duplicates of a retried batch. Requeued batches go back in sequence order,
//   and OUT_OF_ORDER_SEQUENCE_NUMBER is retried while an earlier batch of the partition is still
//   pending (it was refused because of that batch). Without idempotence a retry may duplicate.
// - Retriable errors requeue the batch and refresh metadata until delivery.timeout.ms passes.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import type { KafkaClient } from '../../protocol/client/client.ts';
import { ConnectionError } from '../../protocol/client/connection-errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { ProduceResponse } from '../../protocol/generated/message/produce-response.ts';
import { CompressionType } from '../../protocol/records/batch-header.ts';
import type { RecordHeader } from '../../protocol/records/record-batch.ts';
import { BatchBuilder } from './batch-builder.ts';
import { DefaultPartitioner } from './partitioner.ts';

export interface ProducerSettings {
  acks: number;
  batchSize: number;
  lingerMs: number;
  compression: number;
  maxInFlight: number;
  requestTimeoutMs: number;
  deliveryTimeoutMs: number;
  bufferMemory: number;
  maxRequestSize: number;
  /** max.block.ms: how long to wait for a topic's metadata. */
  maxBlockMs: number;
  retryBackoffMs: number;
  /** enable.idempotence; undefined: on when acks=all, as Kafka 3.x decides when it is not set. */
  enableIdempotence?: boolean;
}

/** Kafka's producer defaults (enable.idempotence aside). */
export const DEFAULT_PRODUCER_SETTINGS: ProducerSettings = {
  acks: -1,
  batchSize: 16384,
  lingerMs: 0,
  compression: CompressionType.None,
  maxInFlight: 5,
  requestTimeoutMs: 30_000,
  deliveryTimeoutMs: 120_000,
  bufferMemory: 33_554_432,
  maxRequestSize: 1_048_576,
  maxBlockMs: 60_000,
  retryBackoffMs: 100,
};

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 when acks=0. */
  offset: bigint;
}

export type SendCallback = (err: Error | null, metadata: RecordMetadata | null) => void;

export interface ProducerRecord {
  topic: string;
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  timestamp?: number;
}

interface ProducerBatch {
  topic: string;
  partition: number;
  builder: BatchBuilder | null;
  count: number;
  /** Per-record callbacks, when any record of the batch has one. */
  callbacks: Array<SendCallback | undefined> | null;
  /** Per-record numbers given to send(), handed back by onBatchComplete. */
  contexts: number[] | null;
  /** Uncompressed size, counted in bufferedBytes until the batch completes. */
  bytes: number;
  createdMs: number;
  encoded: Buffer | null;
  /** Idempotent producers: the sequence of the first record, fixed at first send; else -1. */
  baseSequence: number;
}

/** A batch's outcome, for callers that track records in bulk (the perf test). */
export interface CompletedBatch {
  topic: string;
  partition: number;
  /** -1 when acks=0 or on error. */
  baseOffset: bigint;
  count: number;
  contexts: readonly number[] | null;
}

export interface ProducerHooks {
  onBatchComplete?: (err: Error | null, batch: CompletedBatch) => void;
}

interface PartitionQueue {
  topic: string;
  partition: number;
  open: ProducerBatch | null;
  ready: ProducerBatch[];
  /** Next sequence number to give a batch (idempotence). */
  nextSequence: number;
  /** Batches sent and not yet answered. */
  inFlight: Set<ProducerBatch>;
}

/** Per-record overhead in a batch, as an estimate: length, attributes, deltas, key/value lengths. */
const RECORD_OVERHEAD = 21;

export function compressionByName(name: string): number {
  const types: Record<string, number> = { none: CompressionType.None, gzip: CompressionType.Gzip, snappy: CompressionType.Snappy, lz4: CompressionType.Lz4, zstd: CompressionType.Zstd };
  const t = types[name.trim().toLowerCase()];
  if (t === undefined) throw new TypeError(`Unknown compression type '${name}': expected none, gzip, snappy, lz4 or zstd`);
  return t;
}

/** acks as Kafka reads it: "all" is -1. */
export function parseAcks(value: string): number {
  const v = value.trim().toLowerCase();
  if (v === 'all' || v === '-1') return -1;
  if (v === '0') return 0;
  if (v === '1') return 1;
  throw new TypeError(`Invalid value ${value} for configuration acks: String must be one of: all, -1, 0, 1`);
}

export class RecordProducer {
  readonly settings: ProducerSettings;
  private readonly client: KafkaClient;
  private readonly queues = new Map<string, PartitionQueue>();
  private readonly partitioners = new Map<string, DefaultPartitioner>();
  /** Partition counts from prepare(), so a metadata refresh in progress never stalls send(). */
  private readonly partitionCounts = new Map<string, number>();
  private readonly inFlightByNode = new Map<number, number>();
  private bufferedBytes = 0;
  /** Batches created and not yet completed. */
  private pendingBatches = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private drainScheduled = false;
  private refreshing: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private capacityWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly hooks: ProducerHooks;
  private readonly idempotent: boolean;
  private producerId = -1n;
  private producerEpoch = -1;

  constructor(client: KafkaClient, settings: Partial<ProducerSettings> = {}, hooks: ProducerHooks = {}) {
    this.client = client;
    this.settings = { ...DEFAULT_PRODUCER_SETTINGS, ...settings };
    this.hooks = hooks;
    this.idempotent = this.settings.enableIdempotence ?? this.settings.acks === -1;
    if (this.idempotent && this.settings.acks !== -1) {
      throw new TypeError('Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.');
    }
    if (this.idempotent && this.settings.maxInFlight > 5) {
      throw new TypeError('Must set max.in.flight.requests.per.connection to at most 5 to use the idempotent producer.');
    }
  }

  /** The producer id from InitProducerId (-1 without idempotence or before prepare()). */
  get producerIdentity(): { producerId: bigint; producerEpoch: number } {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }

  private async initProducerId(): Promise<void> {
    const response = await this.client.send('any', ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode as ErrorCodeValue);
    this.producerId = response.producerId;
    this.producerEpoch = response.producerEpoch;
  }

  /**
   * Waits until the topic's partitions are known (the Java producer's metadata wait), asking the
   * broker to create it if auto-creation is on, and returns the partition count.
   */
  async prepare(topic: string): Promise<number> {
    if (this.idempotent && this.producerId < 0n) await this.initProducerId();
    const deadline = Date.now() + this.settings.maxBlockMs;
    for (;;) {
      await this.client.metadata([topic], { allowAutoTopicCreation: true });
      const t = this.client.topic(topic);
      if (t && t.errorCode === ErrorCode.NONE && t.partitions.size > 0) {
        this.partitionCounts.set(topic, t.partitions.size);
        return t.partitions.size;
      }
      if (t && t.errorCode !== ErrorCode.NONE && !new KafkaError(t.errorCode as ErrorCodeValue).retriable) {
        throw new KafkaError(t.errorCode as ErrorCodeValue);
      }
      if (Date.now() >= deadline) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `Topic ${topic} not present in metadata after ${this.settings.maxBlockMs} ms.`);
      await new Promise((r) => setTimeout(r, this.settings.retryBackoffMs));
    }
  }

  /** True while buffered records are below buffer.memory. */
  get hasCapacity(): boolean {
    return this.bufferedBytes < this.settings.bufferMemory;
  }

  waitForCapacity(): Promise<void> {
    if (this.hasCapacity) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  /**
   * Appends a record to its partition's batch; prepare(topic) must have succeeded. The callback
   * gets the record's offset or the error that failed its batch; `context` is handed back with the
   * batch to hooks.onBatchComplete.
   */
  send(record: ProducerRecord, callback?: SendCallback, context?: number): void {
    if (this.closed) throw new Error('RecordProducer is closed');
    const numPartitions = this.client.topic(record.topic)?.partitions.size || this.partitionCounts.get(record.topic);
    if (numPartitions === undefined) throw new Error(`No metadata for topic ${record.topic}: call prepare() first`);
    const size = recordSize(record);
    let partition = record.partition;
    if (partition === undefined) {
      let p = this.partitioners.get(record.topic);
      if (!p) this.partitioners.set(record.topic, (p = new DefaultPartitioner({ batchSize: this.settings.batchSize })));
      partition = p.partition(record.key, size, numPartitions);
    }
    const q = this.queueFor(record.topic, partition);
    let batch = q.open;
    if (batch !== null && batch.count > 0 && batch.bytes + size > this.settings.batchSize) {
      this.closeBatch(q);
      batch = null;
    }
    const now = Date.now();
    const timestamp = record.timestamp ?? now;
    if (batch === null) {
      const builder = new BatchBuilder(timestamp, Math.max(this.settings.batchSize, size + 128));
      batch = { topic: record.topic, partition, builder, count: 0, callbacks: null, contexts: null, bytes: builder.sizeInBytes, createdMs: now, encoded: null, baseSequence: -1 };
      q.open = batch;
      this.bufferedBytes += batch.bytes;
      this.pendingBatches++;
      this.armLinger();
    }
    const builder = batch.builder!;
    builder.append(timestamp, record.key, record.value, record.headers);
    if (callback !== undefined) (batch.callbacks ??= [])[batch.count] = callback;
    if (context !== undefined) (batch.contexts ??= [])[batch.count] = context;
    batch.count++;
    this.bufferedBytes += builder.sizeInBytes - batch.bytes;
    batch.bytes = builder.sizeInBytes;
    if (batch.bytes >= this.settings.batchSize) {
      this.closeBatch(q);
      this.scheduleDrain();
    }
  }

  /** Sends everything buffered now (ignoring linger.ms) and resolves when all of it completed. */
  async flush(): Promise<void> {
    for (const q of this.queues.values()) if (q.open !== null) this.closeBatch(q);
    this.drain();
    if (this.pendingBatches === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    clearTimeout(this.lingerTimer);
    clearTimeout(this.retryTimer);
  }

  private queueFor(topic: string, partition: number): PartitionQueue {
    const k = `${topic}\u0000${partition}`;
    let q = this.queues.get(k);
    if (!q) this.queues.set(k, (q = { topic, partition, open: null, ready: [], nextSequence: 0, inFlight: new Set() }));
    return q;
  }

  private closeBatch(q: PartitionQueue): void {
    if (q.open === null) return;
    q.ready.push(q.open);
    q.open = null;
  }

  private armLinger(): void {
    if (this.settings.lingerMs <= 0) {
      this.scheduleDrain();
      return;
    }
    if (this.lingerTimer !== undefined) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.drain();
    }, this.settings.lingerMs);
  }

  // Records appended in the same turn of the event loop share a drain, as the Java sender does.
  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    const now = Date.now();
    let nextLinger = Infinity;
    const byNode = new Map<number, PartitionQueue[]>();
    let unknownLeader = false;
    for (const q of this.queues.values()) {
      if (q.open !== null) {
        const due = q.open.createdMs + this.settings.lingerMs;
        if (due <= now) this.closeBatch(q);
        else nextLinger = Math.min(nextLinger, due);
      }
      if (q.ready.length === 0) continue;
      const leader = this.client.topic(q.topic)?.partitions.get(q.partition)?.leaderId ?? -1;
      if (leader < 0) {
        unknownLeader = true;
        this.expire(q, now);
        continue;
      }
      let list = byNode.get(leader);
      if (!list) byNode.set(leader, (list = []));
      list.push(q);
    }
    for (const [nodeId, queues] of byNode) this.drainNode(nodeId, queues);
    if (unknownLeader) this.refreshMetadataSoon();
    if (nextLinger !== Infinity && this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.drain();
      }, Math.max(1, nextLinger - now));
    }
  }

  /** Fails batches that could not be sent within delivery.timeout.ms (no leader to send to). */
  private expire(q: PartitionQueue, now: number): void {
    while (q.ready.length > 0 && now - q.ready[0]!.createdMs >= this.settings.deliveryTimeoutMs) {
      const b = q.ready.shift()!;
      this.complete(b, new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `Expiring ${b.count} record(s) for ${b.topic}-${b.partition}: ${now - b.createdMs} ms has passed since batch creation`), -1n);
    }
    this.afterCompletion();
  }

  private drainNode(nodeId: number, queues: PartitionQueue[]): void {
    for (;;) {
      const inFlight = this.inFlightByNode.get(nodeId) ?? 0;
      if (inFlight >= this.settings.maxInFlight) return;
      const batches: ProducerBatch[] = [];
      let size = 0;
      for (const q of queues) {
        const b = q.ready[0];
        if (b === undefined) continue;
        if (b.encoded === null) {
          let stamp;
          if (this.idempotent) {
            b.baseSequence = q.nextSequence;
            // Sequences wrap to 0 after Integer.MAX_VALUE, as in Kafka.
            q.nextSequence = (q.nextSequence + b.count) % 0x80000000;
            stamp = { producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence: b.baseSequence };
          }
          b.encoded = b.builder!.build(this.settings.compression, undefined, stamp);
          b.builder = null;
        }
        if (batches.length > 0 && size + b.encoded.length > this.settings.maxRequestSize) break;
        q.ready.shift();
        q.inFlight.add(b);
        batches.push(b);
        size += b.encoded.length;
      }
      if (batches.length === 0) return;
      this.inFlightByNode.set(nodeId, inFlight + 1);
      void this.sendRequest(nodeId, batches);
    }
  }

  private async sendRequest(nodeId: number, batches: ProducerBatch[]): Promise<void> {
    const topics = new Map<string, Array<{ index: number; records: Buffer }>>();
    for (const b of batches) {
      let list = topics.get(b.topic);
      if (!list) topics.set(b.topic, (list = []));
      list.push({ index: b.partition, records: b.encoded! });
    }
    let response: ProduceResponse | null;
    try {
      const conn = await this.client.connectionFor({ nodeId });
      response = await conn.send(
        ApiKey.Produce,
        {
          transactionalId: null,
          acks: this.settings.acks,
          timeoutMs: this.settings.requestTimeoutMs,
          topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
        },
        { timeoutMs: this.settings.requestTimeoutMs + 5_000 },
      );
    } catch (err) {
      this.requestDone(nodeId, batches);
      const retriable = err instanceof ConnectionError || (err instanceof KafkaError && err.retriable);
      for (const b of batches) this.retryOrFail(b, err as Error, retriable);
      if (retriable) this.refreshMetadataSoon();
      return;
    }
    this.requestDone(nodeId, batches);
    if (response === null) {
      for (const b of batches) this.complete(b, null, -1n);
      this.afterCompletion();
      return;
    }
    let refresh = false;
    for (const b of batches) {
      const answer = response.responses.find((t) => t.name === b.topic)?.partitionResponses.find((p) => p.index === b.partition);
      if (!answer) {
        this.complete(b, new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `Produce response has no entry for ${b.topic}-${b.partition}`), -1n);
      } else if (answer.errorCode === ErrorCode.NONE) {
        this.complete(b, null, answer.baseOffset);
      } else if (answer.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER && this.idempotent) {
        // An earlier attempt of this batch was written: success, offset unknown (as Kafka's producer).
        this.complete(b, null, -1n);
      } else {
        const err = new KafkaError(answer.errorCode as ErrorCodeValue, answer.errorMessage ?? undefined);
        const retriable = err.retriable || (answer.errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && this.earlierPending(b));
        if (err.retriable) refresh = true;
        this.retryOrFail(b, err, retriable);
      }
    }
    if (refresh) this.refreshMetadataSoon();
    this.afterCompletion();
  }

  private requestDone(nodeId: number, batches: readonly ProducerBatch[]): void {
    this.inFlightByNode.set(nodeId, (this.inFlightByNode.get(nodeId) ?? 1) - 1);
    for (const b of batches) this.queueFor(b.topic, b.partition).inFlight.delete(b);
    this.scheduleDrain();
  }

  /** Whether a batch before b (by sequence) of its partition is still queued or in flight. */
  private earlierPending(b: ProducerBatch): boolean {
    if (!this.idempotent) return false;
    const q = this.queueFor(b.topic, b.partition);
    for (const other of q.ready) if (other.encoded !== null && other.baseSequence < b.baseSequence) return true;
    for (const other of q.inFlight) if (other.baseSequence < b.baseSequence) return true;
    return false;
  }

  private retryOrFail(b: ProducerBatch, err: Error, retriable: boolean): void {
    if (retriable && Date.now() - b.createdMs < this.settings.deliveryTimeoutMs && !this.closed) {
      // Back into its partition's queue before unsent batches, in sequence order, sent again
      // after retry.backoff.ms.
      const ready = this.queueFor(b.topic, b.partition).ready;
      let at = 0;
      while (at < ready.length && ready[at]!.encoded !== null && ready[at]!.baseSequence < b.baseSequence) at++;
      ready.splice(at, 0, b);
      if (this.retryTimer === undefined) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.drain();
        }, this.settings.retryBackoffMs);
      }
      return;
    }
    this.complete(b, err, -1n);
    this.afterCompletion();
  }

  private complete(b: ProducerBatch, err: Error | null, baseOffset: bigint): void {
    this.pendingBatches--;
    this.bufferedBytes -= b.bytes;
    this.hooks.onBatchComplete?.(err, { topic: b.topic, partition: b.partition, baseOffset: err ? -1n : baseOffset, count: b.count, contexts: b.contexts });
    const callbacks = b.callbacks;
    if (callbacks === null) return;
    for (let i = 0; i < callbacks.length; i++) {
      const cb = callbacks[i];
      if (cb === undefined) continue;
      if (err !== null) cb(err, null);
      else cb(null, { topic: b.topic, partition: b.partition, offset: baseOffset < 0n ? -1n : baseOffset + BigInt(i) });
    }
  }

  private afterCompletion(): void {
    if (this.hasCapacity && this.capacityWaiters.length > 0) {
      const waiters = this.capacityWaiters;
      this.capacityWaiters = [];
      for (const w of waiters) w();
    }
    if (this.pendingBatches === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private refreshMetadataSoon(): void {
    if (this.refreshing !== null) return;
    const topics = [...new Set([...this.queues.values()].map((q) => q.topic))];
    this.refreshing = this.client
      .metadata(topics)
      .then(
        () => undefined,
        () => new Promise<void>((r) => setTimeout(r, this.settings.retryBackoffMs)),
      )
      .then(() => {
        this.refreshing = null;
        this.drain();
      });
  }
}

function recordSize(r: ProducerRecord): number {
  let size = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  if (r.headers) for (const h of r.headers) size += 2 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return size;
}
