// A coordinator runtime's log on this broker: partitions of an internal topic through the replica
// manager. An append is one magic-2 batch (the topic's compression codec), validated as a produced
// batch would be and appended as leader with acks=-1 (refused with NOT_ENOUGH_REPLICAS when the
// ISR is below min.insync.replicas); the commit wait is the acks=all purgatory (the high watermark
// past the batch, or Kafka's produce error once `commitTimeoutMs` runs out). Loading reads the
// partition from its start offset to the end it had when loading began; transactional batches
// come with their producer id and control batches as commit/abort markers. A transactional write
// (TxnOffsetCommit's offsets) is one transactional batch of the producer, its sequence following
// the producer's last batch on the partition, as Kafka's coordinator-origin appends do.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches, MAGIC_V2 } from '../../protocol/records/record-batch.ts';
import type { MetadataPublisher } from '../metadata/metadata-publisher.ts';
import { validateProducedRecords } from '../replica/append-validator.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import type { CoordinatorPartitionLog, CoordinatorRecord, LoadedRecord, TransactionalProducer } from './partition-log.ts';

export interface ReplicaPartitionLogOptions {
  topic: string;
  replicaManager: ReplicaManager;
  metadata: MetadataPublisher;
  /** Kafka's codec id for appended batches (offsets.topic.compression.codec; 0 for transactions). */
  compressionCodec: number;
  /** *.load.buffer.size: bytes read per chunk when loading. */
  loadBufferSize: number;
  /** How long a write waits for the in-sync replicas (offsets.commit.timeout.ms, request.timeout.ms). */
  commitTimeoutMs: number;
  now(): number;
}

/** Control record key: [int16 version][int16 type], type 0 = ABORT, 1 = COMMIT. */
function controlType(key: Uint8Array | null): number {
  if (!key || key.length < 4) return -1;
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).readInt16BE(2);
}

export class ReplicaPartitionLog implements CoordinatorPartitionLog {
  private readonly opts: ReplicaPartitionLogOptions;

  constructor(opts: ReplicaPartitionLogOptions) {
    this.opts = opts;
  }

  async append(partition: number, records: readonly CoordinatorRecord[], producer?: TransactionalProducer): Promise<number> {
    const { replicaManager, metadata, topic } = this.opts;
    const p = replicaManager.leaderPartition(metadata.image, topic, partition);
    const now = this.opts.now();
    let txn = {};
    if (producer) {
      // Computed and appended in one turn of the event loop: the append records the batch in the
      // producer state synchronously, so the next write sees this sequence.
      const e = p.producerState.entry(producer.producerId);
      const last = e && e.producerEpoch === producer.producerEpoch ? (e.batches.at(-1)?.lastSeq ?? -1) : -1;
      txn = { isTransactional: true, producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: last < 0 ? 0 : (last + 1) % 2147483648 };
    }
    const batch = encodeRecordBatch({
      baseTimestamp: BigInt(now),
      compression: this.opts.compressionCodec,
      ...txn,
      records: records.map((r, i) => ({ timestampDelta: 0, offsetDelta: i, key: r.key, value: r.value })),
    });
    const validated = validateProducedRecords(batch, { apiVersion: 9, topicPartition: p.name, config: p.config, now });
    const appended = await p.appendAsLeader(validated, -1);
    return appended.lastOffset + 1;
  }

  async awaitCommit(partition: number, endOffset: number): Promise<void> {
    const { replicaManager, topic } = this.opts;
    const p = replicaManager.getPartition(topic, partition);
    if (!p) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This broker does not host ${topic}-${partition}`);
    const code = await replicaManager.delayedProduce.wait(p, endOffset, this.opts.commitTimeoutMs);
    if (code !== ErrorCode.NONE) throw new KafkaError(code as ErrorCode, `the write to ${p.name} was not replicated to the in-sync replicas`);
  }

  async *read(partition: number): AsyncIterable<readonly LoadedRecord[]> {
    const { topic } = this.opts;
    const p = this.opts.replicaManager.getPartition(topic, partition);
    if (!p) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This broker does not host ${topic}-${partition}`);
    const end = p.log.logEndOffset;
    let offset = p.log.logStartOffset;
    while (offset < end) {
      const { records } = await p.log.read(offset, this.opts.loadBufferSize, { minOneMessage: true });
      if (records.length === 0) break;
      const before = offset;
      const out: LoadedRecord[] = [];
      for (const entry of iterateBatches(records)) {
        if (entry.magic !== MAGIC_V2) continue;
        const batch = decodeRecordBatch(records, entry.position);
        const h = batch.header;
        const base = Number(h.baseOffset);
        const next = base + h.lastOffsetDelta + 1;
        if (next <= offset) continue;
        for (const r of batch.records) {
          const at = base + r.offsetDelta;
          if (at < offset) continue;
          if (h.isControl) {
            const type = controlType(r.key);
            if (type === 0 || type === 1) out.push({ kind: 'control', offset: at, producerId: h.producerId, commit: type === 1 });
            continue;
          }
          if (r.key === null) continue;
          out.push({ kind: 'record', offset: at, producerId: h.producerId, transactional: h.isTransactional, key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) });
        }
        offset = next;
      }
      yield out;
      if (offset === before) break;
    }
  }
}
