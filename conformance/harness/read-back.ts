// Reads a partition back through Samsa's own client, for clients that cannot consume by manual
// assignment (kafkajs has only group consumers). Fetches from the log start up to the high
// watermark, decoding every batch; control batches are skipped as consumers skip them.
import { KafkaClient } from '../../protocol/client/client.ts';
import { decodeRecordBatch, iterateBatches, absoluteRecords, MAGIC_V2, type RecordBatchHeader } from '../../protocol/records/record-batch.ts';
import type { ReadRecord } from './records.ts';

export interface PartitionRead {
  records: ReadRecord[];
  /** Headers of the batches read, for checks on producer ids, sequences and compression. */
  batches: RecordBatchHeader[];
  highWatermark: number;
}

/** Reads every record of one partition; bounded by `maxFetches` round trips. */
export async function readPartition(client: KafkaClient, topic: string, partition: number, maxFetches = 200): Promise<PartitionRead> {
  const records: ReadRecord[] = [];
  const batches: RecordBatchHeader[] = [];
  let offset = 0n;
  let highWatermark = -1n;
  for (let n = 0; n < maxFetches; n++) {
    const answer = await client.fetch(topic, partition, offset, { maxWaitMs: 100 });
    highWatermark = answer.highWatermark;
    if (answer.logStartOffset !== undefined && offset < answer.logStartOffset) offset = answer.logStartOffset;
    if (offset >= highWatermark) return { records, batches, highWatermark: Number(highWatermark) };
    let progressed = false;
    for (const entry of iterateBatches(answer.records)) {
      if (entry.magic !== MAGIC_V2) throw new Error(`${topic}-${partition}: fetch returned a magic ${entry.magic} entry`);
      const batch = decodeRecordBatch(answer.records, entry.position);
      const last = batch.header.baseOffset + BigInt(batch.header.lastOffsetDelta);
      if (last < offset) continue;
      batches.push(batch.header);
      if (!batch.header.isControl) {
        for (const r of absoluteRecords(batch)) {
          if (r.offset < offset) continue;
          const headers: Record<string, string> = {};
          for (const h of r.headers) headers[h.key] = h.value?.toString() ?? '';
          records.push({ partition, offset: Number(r.offset), key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, headers, timestamp: Number(r.timestamp) });
        }
      }
      offset = last + 1n;
      progressed = true;
    }
    if (!progressed) throw new Error(`${topic}-${partition}: fetch at ${offset} below high watermark ${highWatermark} returned no whole batch`);
  }
  throw new Error(`${topic}-${partition}: not read to the high watermark ${highWatermark} in ${maxFetches} fetches`);
}

/** Reads every partition of a topic and concatenates the records. */
export async function readTopic(client: KafkaClient, topic: string, partitions: number): Promise<PartitionRead> {
  const out: PartitionRead = { records: [], batches: [], highWatermark: 0 };
  for (let p = 0; p < partitions; p++) {
    const r = await readPartition(client, topic, p);
    out.records.push(...r.records);
    out.batches.push(...r.batches);
    out.highWatermark += r.highWatermark;
  }
  return out;
}
