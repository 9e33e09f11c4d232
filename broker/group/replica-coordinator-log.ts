// The group coordinator's log on this broker: `__consumer_offsets` partitions through the replica
// manager. Appends are built as one magic-2 batch (offsets.topic.compression.codec), validated as
// a produced batch would be and appended as leader with acks=-1, resolving once the in-sync
// replicas have it (the high watermark passed it) or failing with Kafka's produce error when
// offsets.commit.timeout.ms runs out or the ISR is too small. TxnOffsetCommit records go as one
// transactional batch of the producer, its sequence following the producer's last batch on the
// partition (the coordinator writes for the producer, as Kafka's coordinator-origin appends do).
// Reads walk the partition's log from its start offset to the end it had when loading began;
// transactional records carry their producer id and transaction markers come as `marker` entries.
import type { Logger } from 'pino';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches, MAGIC_V2 } from '../../protocol/records/record-batch.ts';
import type { MetadataPublisher } from '../metadata/metadata-publisher.ts';
import { validateProducedRecords } from '../replica/append-validator.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import type { CoordinatorLog, CoordinatorRecord, ProducerIdAndEpoch } from './coordinator-log.ts';
import { GROUP_METADATA_TOPIC_NAME } from './offsets-topic.ts';

export interface ReplicaCoordinatorLogOptions {
  replicaManager: ReplicaManager;
  metadata: MetadataPublisher;
  /** offsets.topic.compression.codec (Kafka's codec ids). */
  compressionCodec: number;
  /** offsets.load.buffer.size. */
  loadBufferSize: number;
  /** offsets.commit.timeout.ms: how long a write waits for the in-sync replicas. */
  commitTimeoutMs: number;
  now(): number;
  logger: Logger;
}

export class ReplicaCoordinatorLog implements CoordinatorLog {
  private readonly opts: ReplicaCoordinatorLogOptions;

  constructor(opts: ReplicaCoordinatorLogOptions) {
    this.opts = opts;
  }

  append(partition: number, records: readonly CoordinatorRecord[]): Promise<void> {
    return this.write(partition, records, null);
  }

  appendTransactional(partition: number, records: readonly CoordinatorRecord[], producer: ProducerIdAndEpoch): Promise<void> {
    return this.write(partition, records, producer);
  }

  private async write(partition: number, records: readonly CoordinatorRecord[], producer: ProducerIdAndEpoch | null): Promise<void> {
    const { replicaManager, metadata } = this.opts;
    const p = replicaManager.leaderPartition(metadata.image, GROUP_METADATA_TOPIC_NAME, partition);
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
    const code = await replicaManager.delayedProduce.wait(p, appended.lastOffset + 1, this.opts.commitTimeoutMs);
    if (code !== ErrorCode.NONE) throw new KafkaError(code as ErrorCode, `the write to ${p.name} was not replicated to the in-sync replicas`);
  }

  async *read(partition: number): AsyncIterable<readonly CoordinatorRecord[]> {
    const p = this.opts.replicaManager.getPartition(GROUP_METADATA_TOPIC_NAME, partition);
    if (!p) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This broker does not host ${GROUP_METADATA_TOPIC_NAME}-${partition}`);
    const end = p.log.logEndOffset;
    let offset = p.log.logStartOffset;
    while (offset < end) {
      const { records } = await p.log.read(offset, this.opts.loadBufferSize, { minOneMessage: true });
      if (records.length === 0) break;
      const before = offset;
      const out: CoordinatorRecord[] = [];
      for (const entry of iterateBatches(records)) {
        if (entry.magic !== MAGIC_V2) continue;
        const batch = decodeRecordBatch(records, entry.position);
        const h = batch.header;
        const next = Number(h.baseOffset) + h.lastOffsetDelta + 1;
        if (next <= offset) continue;
        for (const r of batch.records) {
          if (Number(h.baseOffset) + r.offsetDelta < offset || r.key === null) continue;
          if (h.isControl) {
            // Control record key: [int16 version][int16 type], 0 = ABORT, 1 = COMMIT.
            const type = r.key.length >= 4 ? Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength).readInt16BE(2) : -1;
            if (type === 0 || type === 1) out.push({ key: Buffer.alloc(0), value: null, producerId: h.producerId, marker: type === 1, offset: Number(h.baseOffset) + r.offsetDelta });
            continue;
          }
          const rec: CoordinatorRecord = { key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) };
          if (h.isTransactional) rec.producerId = h.producerId;
          out.push(rec);
        }
        offset = next;
      }
      yield out;
      if (offset === before) break;
    }
  }
}
