// Committed offsets of classic groups (Kafka's GroupMetadataManager offset paths): OffsetCommit
// (group members at the current generation, or simple commits at generation -1 for groups with
// no members), OffsetFetch (require_stable sees commits not yet written), OffsetDelete,
// DeleteGroups, and expiry after offsets.retention.minutes (KIP-211).
// Invariants: an offset becomes visible only once its record is written (until then it counts as
// pending, per partition); removed offsets and deleted groups are written as tombstones; an Empty
// group left without offsets is Dead and forgotten.
import type { Logger } from 'pino';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.ts';
import type { Scheduler } from '../../protocol/scheduler.ts';
import { ClassicGroup, type CommittedOffset, type GroupMember, offsetKey } from './classic-group.ts';
import { commitAppendError, type CoordinatorLog, type CoordinatorRecord } from './coordinator-log.ts';
import type { FetchedOffset, GroupCoordinatorConfig, GroupShard, OffsetCommitParams } from './group-api.ts';
import { groupMetadataKey, type OffsetAndMetadata, offsetCommitKey, offsetCommitValue } from './offsets-topic.ts';

export class GroupOffsets {
  private readonly shard: GroupShard;
  private readonly config: GroupCoordinatorConfig;
  private readonly log: CoordinatorLog;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly groups: Map<string, ClassicGroup>;
  /** A member's commit counts as a heartbeat. */
  private readonly onMemberActivity: (group: ClassicGroup, member: GroupMember) => void;

  constructor(shard: GroupShard, onMemberActivity: (group: ClassicGroup, member: GroupMember) => void) {
    this.shard = shard;
    this.config = shard.config;
    this.log = shard.log;
    this.scheduler = shard.scheduler;
    this.logger = shard.logger;
    this.groups = shard.groups;
    this.onMemberActivity = onMemberActivity;
  }

  /** Commits offsets; resolves with one error code per entry, in order, once written. */
  async commitOffsets(p: OffsetCommitParams): Promise<number[]> {
    const all = (code: number): number[] => p.offsets.map(() => code);
    const status = this.shard.validateGroupStatus(p.groupId, 'offset-commit');
    if (status !== null) return all(status);
    let group = this.groups.get(p.groupId);
    if (!group) {
      // Without a group, only commits outside group management (generation -1) are accepted.
      if (p.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(p.groupId, this.scheduler.now());
      this.groups.set(p.groupId, group);
    }
    if (group.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (group.isStaticMemberFenced(p.groupInstanceId, p.memberId)) return all(ErrorCode.FENCED_INSTANCE_ID);
    if (p.generationId < 0 && group.is('Empty')) return this.storeOffsets(group, p);
    if (!group.has(p.memberId)) return all(ErrorCode.UNKNOWN_MEMBER_ID);
    if (p.generationId !== group.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
    switch (group.state) {
      case 'Stable':
      case 'PreparingRebalance':
        // Commits during PreparingRebalance are allowed: heartbeats tell the member to rejoin.
        this.onMemberActivity(group, group.get(p.memberId));
        return this.storeOffsets(group, p);
      case 'CompletingRebalance':
        return all(ErrorCode.REBALANCE_IN_PROGRESS);
      default:
        throw new Error(`unexpected state ${group.state} of group ${group.groupId} for an offset commit`);
    }
  }

  private async storeOffsets(group: ClassicGroup, p: OffsetCommitParams): Promise<number[]> {
    const now = this.scheduler.now();
    const errors: number[] = p.offsets.map(() => ErrorCode.NONE);
    const records: CoordinatorRecord[] = [];
    const written: { index: number; key: string; value: OffsetAndMetadata; topic: string; partition: number }[] = [];
    p.offsets.forEach((o, index) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > this.config.offsetMetadataMaxBytes) {
        errors[index] = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        return;
      }
      const value: OffsetAndMetadata = {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata,
        commitTimestamp: o.commitTimestamp !== undefined && o.commitTimestamp >= 0 ? o.commitTimestamp : now,
      };
      if (p.retentionTimeMs >= 0) value.expireTimestamp = now + p.retentionTimeMs;
      records.push({ key: offsetCommitKey(group.groupId, o.topic, o.partition), value: offsetCommitValue(value) });
      written.push({ index, key: offsetKey(o.topic, o.partition), value, topic: o.topic, partition: o.partition });
    });
    if (records.length === 0) return errors;
    for (const w of written) group.pendingOffsetCommits.set(w.key, (group.pendingOffsetCommits.get(w.key) ?? 0) + 1);
    let appendError: number = ErrorCode.NONE;
    try {
      await this.log.append(this.shard.partitionFor(group.groupId), records);
    } catch (err) {
      appendError = commitAppendError(errorCodeOf(err));
      if (appendError === ErrorCode.UNKNOWN_SERVER_ERROR) this.logger.error({ err, groupId: group.groupId }, 'offset commit append failed');
    }
    for (const w of written) {
      const n = (group.pendingOffsetCommits.get(w.key) ?? 1) - 1;
      if (n <= 0) group.pendingOffsetCommits.delete(w.key);
      else group.pendingOffsetCommits.set(w.key, n);
      if (appendError === ErrorCode.NONE && !group.is('Dead')) group.offsets.set(w.key, { topic: w.topic, partition: w.partition, value: w.value });
      errors[w.index] = appendError;
    }
    return errors;
  }

  /**
   * Committed offsets of a group: the named partitions, or all it has when `partitions` is null.
   * Unknown groups and partitions give offset -1 with no error, as Kafka answers.
   */
  fetchOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[] | null, requireStable: boolean): { errorCode: number; offsets: FetchedOffset[] } {
    const status = this.shard.validateGroupStatus(groupId, 'offset-fetch');
    if (status !== null) return { errorCode: status, offsets: [] };
    const missing = (topic: string, partition: number, errorCode: number = ErrorCode.NONE): FetchedOffset => ({ topic, partition, offset: -1n, leaderEpoch: -1, metadata: '', errorCode });
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.NONE, offsets: (partitions ?? []).map((tp) => missing(tp.topic, tp.partition)) };
    const wanted = partitions ?? [...group.offsets.values()].map((o) => ({ topic: o.topic, partition: o.partition }));
    const offsets = wanted.map((tp) => {
      const k = offsetKey(tp.topic, tp.partition);
      if (requireStable && (group.pendingOffsetCommits.has(k) || group.hasPendingTxnOffset(k))) return missing(tp.topic, tp.partition, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      const o = group.offsets.get(k);
      if (!o) return missing(tp.topic, tp.partition);
      return { topic: tp.topic, partition: tp.partition, offset: o.value.offset, leaderEpoch: o.value.leaderEpoch, metadata: o.value.metadata, errorCode: ErrorCode.NONE };
    });
    return { errorCode: ErrorCode.NONE, offsets };
  }

  /** OffsetDelete: per-partition errors (GROUP_SUBSCRIBED_TO_TOPIC for topics in use) or a group error. */
  async deleteOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<{ errorCode: number; partitions: number[] }> {
    const status = this.shard.validateGroupStatus(groupId, 'offset-delete');
    if (status !== null) return { errorCode: status, partitions: [] };
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let eligible: { topic: string; partition: number }[];
    let errors: number[];
    if (group.is('Empty')) {
      eligible = [...partitions];
      errors = partitions.map(() => ErrorCode.NONE);
    } else if (group.protocolType === 'consumer') {
      errors = partitions.map((tp) => (group.isSubscribedToTopic(tp.topic) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE));
      eligible = partitions.filter((_, i) => errors[i] === ErrorCode.NONE);
    } else {
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
    }
    if (eligible.length > 0) {
      await this.cleanupGroupMetadata([group], (g) => {
        const removed: CommittedOffset[] = [];
        for (const tp of eligible) {
          const k = offsetKey(tp.topic, tp.partition);
          const o = g.offsets.get(k);
          if (o) {
            g.offsets.delete(k);
            removed.push(o);
          }
        }
        return removed;
      });
    }
    return { errorCode: ErrorCode.NONE, partitions: errors };
  }

  /**
   * Applies `selector` (which removes offsets and returns them) to each group, marks groups left
   * Empty without offsets Dead, and writes the tombstones. Returns how many offsets were removed.
   */
  private async cleanupGroupMetadata(groups: readonly ClassicGroup[], selector: (g: ClassicGroup) => CommittedOffset[]): Promise<number> {
    const byPartition = new Map<number, CoordinatorRecord[]>();
    let removedCount = 0;
    for (const group of groups) {
      const removed = selector(group);
      removedCount += removed.length;
      if (group.is('Empty') && !group.hasOffsets()) group.transitionTo('Dead', this.scheduler.now());
      const tombstones: CoordinatorRecord[] = removed.map((o) => ({ key: offsetCommitKey(group.groupId, o.topic, o.partition), value: null }));
      if (group.is('Dead') && this.groups.get(group.groupId) === group) {
        this.groups.delete(group.groupId);
        this.shard.abandonGroup(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        // A group that only stored offsets (generation 0) never wrote group metadata.
        if (group.generationId > 0) tombstones.push({ key: groupMetadataKey(group.groupId), value: null });
      }
      if (tombstones.length === 0) continue;
      const p = this.shard.partitionFor(group.groupId);
      const list = byPartition.get(p) ?? [];
      list.push(...tombstones);
      byPartition.set(p, list);
    }
    await Promise.all(
      [...byPartition].map(([p, records]) =>
        this.log.append(p, records).catch((err: unknown) => this.logger.warn({ err, partition: p, records: records.length }, 'failed to write group and offset tombstones')),
      ),
    );
    return removedCount;
  }

  // ---- retention ----

  /** Removes offsets past `offsets.retention.minutes` as Kafka's removeExpiredOffsets (KIP-211). */
  async cleanupExpiredOffsets(): Promise<number> {
    const now = this.scheduler.now();
    const retention = this.config.offsetsRetentionMs;
    const groups = [...this.groups.values()].filter((g) => this.shard.serves(g.groupId));
    const removed = await this.cleanupGroupMetadata(groups, (g) => {
      const expired = (base: (o: CommittedOffset) => number, subscribed: ReadonlySet<string> = new Set()): CommittedOffset[] => {
        const out: CommittedOffset[] = [];
        for (const [k, o] of g.offsets) {
          if (subscribed.has(o.topic) || g.pendingOffsetCommits.has(k)) continue;
          const gone = o.value.expireTimestamp !== undefined ? now >= o.value.expireTimestamp : now - base(o) >= retention;
          if (gone) out.push(o);
        }
        return out;
      };
      let out: CommittedOffset[] = [];
      if (g.protocolType !== null && g.is('Empty')) {
        out = expired((o) => g.currentStateTimestamp ?? o.value.commitTimestamp);
      } else if (g.protocolType === 'consumer' && g.subscribedTopics !== null && g.is('Stable')) {
        out = expired((o) => o.value.commitTimestamp, g.subscribedTopics);
      } else if (g.protocolType === null) {
        out = expired((o) => o.value.commitTimestamp);
      }
      for (const o of out) g.offsets.delete(offsetKey(o.topic, o.partition));
      return out;
    });
    if (removed > 0) this.logger.info({ removed }, 'removed expired offsets');
    return removed;
  }

  // ---- DeleteGroups ----

  /** Deletes Empty groups with their offsets; one error code per id, in order. */
  async deleteGroups(groupIds: readonly string[]): Promise<number[]> {
    const errors: number[] = [];
    const eligible: ClassicGroup[] = [];
    for (const id of groupIds) {
      const status = this.shard.validateGroupStatus(id, 'delete');
      if (status !== null) {
        errors.push(status);
        continue;
      }
      const group = this.groups.get(id);
      if (!group || group.is('Dead')) {
        errors.push(ErrorCode.GROUP_ID_NOT_FOUND);
      } else if (group.is('Empty')) {
        errors.push(ErrorCode.NONE);
        if (!eligible.includes(group)) eligible.push(group);
      } else {
        errors.push(ErrorCode.NON_EMPTY_GROUP);
      }
    }
    if (eligible.length > 0) {
      await this.cleanupGroupMetadata(eligible, (g) => {
        const removed = [...g.offsets.values()];
        g.offsets.clear();
        g.transitionTo('Dead', this.scheduler.now());
        return removed;
      });
    }
    return errors;
  }
}
