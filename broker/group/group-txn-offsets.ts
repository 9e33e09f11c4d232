// Transactional offset commits of classic groups (Kafka's GroupCoordinator.handleTxnCommitOffsets
// and GroupMetadataManager's pending transactional offsets): TxnOffsetCommit writes the offsets
// into `__consumer_offsets` as a transactional batch of the producer and keeps them pending, per
// producer, until the transaction's marker lands on the group's partition: COMMIT makes them the
// group's committed offsets, ABORT drops them. Meanwhile OffsetFetch with require_stable answers
// UNSTABLE_OFFSET_COMMIT for those partitions. Loading replays the same: transactional records
// are pending until their producer's marker is read.
// Checks, in Kafka's order: the group's status, then for an unknown group only commits outside
// group management (generation < 0) create it; a Dead group is COORDINATOR_NOT_AVAILABLE, a fenced
// static member FENCED_INSTANCE_ID, an unknown member (when one is named) UNKNOWN_MEMBER_ID, a
// generation other than the group's (when one is given) ILLEGAL_GENERATION.
import { ErrorCode, errorCodeOf } from '../../protocol/errors.ts';
import { ClassicGroup, type CommittedOffset, offsetKey } from './classic-group.ts';
import { commitAppendError, type CoordinatorRecord } from './coordinator-log.ts';
import type { GroupShard, TxnOffsetCommitParams } from './group-api.ts';
import { type OffsetAndMetadata, offsetCommitKey, offsetCommitValue } from './offsets-topic.ts';

export class GroupTxnOffsets {
  private readonly shard: GroupShard;

  constructor(shard: GroupShard) {
    this.shard = shard;
  }

  /** TxnOffsetCommit: one error code per entry, in order, once written. */
  async commit(p: TxnOffsetCommitParams): Promise<number[]> {
    const all = (code: number): number[] => p.offsets.map(() => code);
    const status = this.shard.validateGroupStatus(p.groupId, 'txn-offset-commit');
    if (status !== null) return all(status);
    let group = this.shard.groups.get(p.groupId);
    if (!group) {
      if (p.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(p.groupId, this.shard.scheduler.now());
      this.shard.groups.set(p.groupId, group);
    }
    if (group.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (group.isStaticMemberFenced(p.groupInstanceId, p.memberId)) return all(ErrorCode.FENCED_INSTANCE_ID);
    if (p.memberId !== '' && !group.has(p.memberId)) return all(ErrorCode.UNKNOWN_MEMBER_ID);
    if (p.generationId >= 0 && p.generationId !== group.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
    return this.store(group, p);
  }

  private async store(group: ClassicGroup, p: TxnOffsetCommitParams): Promise<number[]> {
    const now = this.shard.scheduler.now();
    const errors: number[] = p.offsets.map(() => ErrorCode.NONE);
    const records: CoordinatorRecord[] = [];
    const written: { index: number; key: string; offset: CommittedOffset }[] = [];
    p.offsets.forEach((o, index) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > this.shard.config.offsetMetadataMaxBytes) {
        errors[index] = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        return;
      }
      const value: OffsetAndMetadata = { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata, commitTimestamp: now };
      records.push({ key: offsetCommitKey(group.groupId, o.topic, o.partition), value: offsetCommitValue(value) });
      written.push({ index, key: offsetKey(o.topic, o.partition), offset: { topic: o.topic, partition: o.partition, value } });
    });
    if (records.length === 0) return errors;
    let appendError: number = ErrorCode.NONE;
    try {
      await this.shard.log.appendTransactional(this.shard.partitionFor(group.groupId), records, { producerId: p.producerId, producerEpoch: p.producerEpoch });
    } catch (err) {
      appendError = commitAppendError(errorCodeOf(err));
      if (appendError === ErrorCode.UNKNOWN_SERVER_ERROR) this.shard.logger.error({ err, groupId: group.groupId }, 'transactional offset commit append failed');
    }
    if (appendError === ErrorCode.NONE && !group.is('Dead')) {
      let pending = group.pendingTxnOffsets.get(p.producerId);
      if (!pending) group.pendingTxnOffsets.set(p.producerId, (pending = new Map()));
      for (const w of written) pending.set(w.key, w.offset);
    }
    for (const w of written) errors[w.index] = appendError;
    return errors;
  }

  /** A transaction marker of `producerId` landed on `partition`: its pending offsets complete. */
  complete(partition: number, producerId: bigint, commit: boolean): void {
    for (const group of this.shard.groups.values()) {
      if (this.shard.partitionFor(group.groupId) !== partition) continue;
      if (group.completePendingTxnOffsets(producerId, commit)) {
        this.shard.logger.debug({ groupId: group.groupId, producerId: String(producerId), commit }, 'completed transactional offsets');
      }
    }
  }
}

/** Loading: transactional offsets by producer, then group, then partition key, until their marker is read. */
export class PendingTxnOffsetsReplay {
  readonly byProducer = new Map<bigint, Map<string, Map<string, CommittedOffset>>>();

  add(producerId: bigint, groupId: string, key: string, offset: CommittedOffset): void {
    let byGroup = this.byProducer.get(producerId);
    if (!byGroup) this.byProducer.set(producerId, (byGroup = new Map()));
    let m = byGroup.get(groupId);
    if (!m) byGroup.set(groupId, (m = new Map()));
    m.set(key, offset);
  }

  /** The marker of `producerId`: on commit, its offsets go into `committed` (group → key → offset). */
  complete(producerId: bigint, commit: boolean, committed: Map<string, Map<string, CommittedOffset>>): void {
    const byGroup = this.byProducer.get(producerId);
    if (!byGroup) return;
    this.byProducer.delete(producerId);
    if (!commit) return;
    for (const [g, m] of byGroup) {
      let c = committed.get(g);
      if (!c) committed.set(g, (c = new Map()));
      for (const [k, o] of m) c.set(k, o);
    }
  }

  groups(): Set<string> {
    const out = new Set<string>();
    for (const byGroup of this.byProducer.values()) for (const g of byGroup.keys()) out.add(g);
    return out;
  }
}
