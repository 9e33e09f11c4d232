// Invariants of the replication simulation, checked after every event:
// - below its high watermark every replica holds exactly the batches (bytes, offsets, leader
//   epochs) every other replica holds there: the first replica to show a batch below its high
//   watermark fixes it ("committed"), every later sight must be byte for byte the same;
// - an acknowledged acks=all write is committed at the offsets it was acknowledged with, with
//   its values, and stays so (checked as soon as the committed log reaches it, and at the end);
// - each replica's high watermark never passes its log end;
// - leader epochs only grow: in the controller's image, and on each broker across its lives;
//   no log holds a batch of an epoch the controller never gave.
import type { Log } from '../../../storage/log.ts';
import { decodeRecordBatch, iterateBatches } from '../../../protocol/records/record-batch.ts';
import { readBatchHeader } from '../../../protocol/records/batch-header.ts';

export class InvariantError extends Error {}

interface CommittedBatch {
  lastOffset: number;
  bytes: Buffer;
}

interface PartitionHistory {
  batches: Map<number, CommittedBatch>;
  /** One past the last committed offset. */
  end: number;
  /** Acknowledged acks=all writes by base offset: their values. */
  acked: Map<number, string[]>;
}

const READ_BYTES = 4 << 20;

export class ReplicaInvariants {
  private readonly partitions: PartitionHistory[];
  /** How far each log object (one per partition per broker life) has been compared. */
  private readonly checked = new WeakMap<Log, number>();
  private readonly brokerEpochs = new Map<string, number>();
  private readonly controllerEpochs: number[];
  /** Times a replica cut its log below a point already compared (allowed; counted). */
  truncationsBelowChecked = 0;
  ackedCount = 0;

  constructor(partitionCount: number) {
    this.partitions = Array.from({ length: partitionCount }, () => ({ batches: new Map(), end: 0, acked: new Map() }));
    this.controllerEpochs = Array.from({ length: partitionCount }, () => -1);
  }

  committedEnd(partition: number): number {
    return this.partitions[partition]!.end;
  }

  onControllerEpoch(partition: number, leaderEpoch: number): void {
    const prev = this.controllerEpochs[partition]!;
    if (leaderEpoch < prev) throw new InvariantError(`controller: leader epoch of partition ${partition} went back from ${prev} to ${leaderEpoch}`);
    this.controllerEpochs[partition] = leaderEpoch;
  }

  onBrokerEpoch(broker: number, partition: number, leaderEpoch: number): void {
    if (leaderEpoch < 0) return;
    const key = `${broker}/${partition}`;
    const prev = this.brokerEpochs.get(key) ?? -1;
    if (leaderEpoch < prev) throw new InvariantError(`broker ${broker}: leader epoch of partition ${partition} went back from ${prev} to ${leaderEpoch}`);
    if (leaderEpoch > this.controllerEpochs[partition]!) throw new InvariantError(`broker ${broker}: leader epoch ${leaderEpoch} of partition ${partition} is newer than the controller's ${this.controllerEpochs[partition]}`);
    this.brokerEpochs.set(key, leaderEpoch);
  }

  /** An acks=all write of `values` acknowledged at `baseOffset`. */
  onAcked(partition: number, baseOffset: number, values: string[]): void {
    const h = this.partitions[partition]!;
    if (h.acked.has(baseOffset)) throw new InvariantError(`partition ${partition}: two writes acknowledged at offset ${baseOffset}`);
    h.acked.set(baseOffset, values);
    this.ackedCount++;
    this.checkAcked(partition, baseOffset);
  }

  private checkAcked(partition: number, baseOffset: number): void {
    const h = this.partitions[partition]!;
    const values = h.acked.get(baseOffset);
    if (!values || baseOffset >= h.end) return;
    const b = h.batches.get(baseOffset);
    const got = b ? valuesOf(b.bytes) : [];
    if (!b || got.join('|') !== values.join('|')) {
      throw new InvariantError(`partition ${partition}: acknowledged write [${values.join(',')}] at offset ${baseOffset} is lost or changed: committed ${b ? `[${got.join(',')}]` : 'no batch starting there'}`);
    }
  }

  /** Compares `log` (a replica of `partition` on `broker`) with the committed history up to its high watermark. */
  async checkLog(broker: number, partition: number, log: Log): Promise<void> {
    const hw = log.highWatermark;
    const leo = log.logEndOffset;
    if (hw > leo) throw new InvariantError(`broker ${broker} partition ${partition}: high watermark ${hw} is past the log end ${leo}`);
    const latest = log.leaderEpochCache.latestEpoch() ?? -1;
    if (latest > this.controllerEpochs[partition]!) throw new InvariantError(`broker ${broker} partition ${partition}: log holds epoch ${latest}, newer than the controller's ${this.controllerEpochs[partition]}`);
    let from = this.checked.get(log) ?? log.logStartOffset;
    if (from > leo) {
      this.truncationsBelowChecked++;
      from = leo;
    }
    const h = this.partitions[partition]!;
    while (from < hw) {
      const { records } = await log.read(from, READ_BYTES, { maxOffset: hw, minOneMessage: true });
      if (records.length === 0) break;
      let moved = false;
      for (const e of iterateBatches(records)) {
        const head = readBatchHeader(records, e.position);
        const base = Number(head.baseOffset);
        const last = base + head.lastOffsetDelta;
        if (last >= hw) break;
        if (last < from) continue;
        const bytes = records.subarray(e.position, e.position + e.size);
        const known = h.batches.get(base);
        if (known) {
          if (known.lastOffset !== last || !known.bytes.equals(bytes)) {
            throw new InvariantError(`broker ${broker} partition ${partition}: batch at ${base} below the high watermark ${hw} differs from the committed one ([${valuesOf(bytes).join(',')}] vs [${valuesOf(known.bytes).join(',')}])`);
          }
        } else if (base < h.end) {
          throw new InvariantError(`broker ${broker} partition ${partition}: batch ${base}-${last} below the high watermark ${hw} does not line up with the committed batches (committed end ${h.end})`);
        } else if (base > h.end) {
          throw new InvariantError(`broker ${broker} partition ${partition}: batch at ${base} below the high watermark leaves a gap after the committed end ${h.end}`);
        } else {
          h.batches.set(base, { lastOffset: last, bytes: Buffer.from(bytes) });
          h.end = last + 1;
          this.checkAcked(partition, base);
        }
        from = last + 1;
        moved = true;
      }
      if (!moved) break;
    }
    this.checked.set(log, from);
  }

  /** At the end: every acknowledged write is committed. */
  checkAllAckedCommitted(): void {
    this.partitions.forEach((h, p) => {
      for (const base of h.acked.keys()) {
        if (base >= h.end) throw new InvariantError(`partition ${p}: acknowledged write at offset ${base} never committed (committed end ${h.end})`);
        this.checkAcked(p, base);
      }
    });
  }
}

export function valuesOf(batch: Buffer): string[] {
  return decodeRecordBatch(batch, 0).records.map((r) => r.value?.toString() ?? 'null');
}
