// Committed offsets of one partition's classic groups (Kafka's OffsetMetadataManager and the
// offset paths of GroupMetadataManager), as runtime writes of the shard: OffsetCommit (group
// members at the current generation, or simple commits at generation -1 for groups with no
// members), OffsetFetch (require_stable answers UNSTABLE_OFFSET_COMMIT while a commit is not yet
// written or a transaction holds the partition; without it, the committed offsets), OffsetDelete,
// DeleteGroups, and expiry after offsets.retention.minutes (KIP-211).
// Invariants: an op returns records and the shard's replay changes the offsets, so an offset is
// in memory exactly when its record is in the log (an append that fails is undone); removed
// offsets and deleted groups are tombstones; an Empty group left without offsets is Dead and
// forgotten.
import { ErrorCode, errorCodeOf } from '../../protocol/errors.ts';
import type { ClassicGroup, CommittedOffset } from './classic-group.ts';
import { offsetKey } from './classic-group.ts';
import type { FetchedOffset, OffsetCommitEntry, OffsetCommitParams, TxnOffsetCommitParams } from './group-api.ts';
import { appendErrorOf, commitAppendError, type GroupCoordinatorShard, type GroupResult } from './group-shard.ts';
import type { GroupRecord, OffsetAndMetadata } from './offsets-topic.ts';

interface TopicPartition {
  topic: string;
  partition: number;
}

interface CommitResponse {
  errors: number[];
  /** Indexes of the entries written (they take the write's error if it fails). */
  written: number[];
}

export class GroupOffsets {
  private readonly shard: GroupCoordinatorShard;

  constructor(shard: GroupCoordinatorShard) {
    this.shard = shard;
  }

  private get groups(): Map<string, ClassicGroup> {
    return this.shard.groups;
  }

  /** Runs an offset write; the entries it wrote take the mapped error of a failed write. */
  private commitWrite(name: string, op: () => GroupResult<CommitResponse>): Promise<number[]> {
    let answer: CommitResponse | null = null;
    return this.shard.ctx
      .write(name, () => {
        const r = op();
        answer = r.response;
        return r;
      })
      .then(
        (r) => r.errors,
        (err: unknown) => {
          // No answer: the op itself failed (the request gets the error); else the write did.
          if (answer === null) throw err;
          const code = commitAppendError(appendErrorOf(err));
          if (code === ErrorCode.UNKNOWN_SERVER_ERROR) this.shard.logger.error({ err }, `${name} append failed`);
          const errors = [...answer.errors];
          for (const i of answer.written) errors[i] = code;
          return errors;
        },
      );
  }

  /** Commits offsets; resolves with one error code per entry, in order, once written. */
  commitOffsets(p: OffsetCommitParams): Promise<number[]> {
    return this.commitWrite('offset-commit', () => this.commitOp(p));
  }

  /**
   * The group an offset commit (plain or transactional) goes to, created empty when a commit
   * outside group management (generation -1) names a new one; or the error for every offset.
   */
  private commitTarget(p: { groupId: string; generationId: number; groupInstanceId: string | null; memberId: string }, op: 'offset-commit' | 'txn-offset-commit') {
    const status = this.shard.validateGroupStatus(p.groupId, op);
    if (status !== null) return status;
    let group = this.groups.get(p.groupId);
    if (!group) {
      // Without a group, only commits outside group management (generation -1) are accepted.
      if (p.generationId >= 0) return ErrorCode.ILLEGAL_GENERATION;
      group = this.shard.newGroup(p.groupId);
      this.groups.set(p.groupId, group);
    }
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(p.groupInstanceId, p.memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    return group;
  }

  private commitOp(p: OffsetCommitParams): GroupResult<CommitResponse> {
    const all = (code: number): GroupResult<CommitResponse> => ({ records: [], response: { errors: p.offsets.map(() => code), written: [] } });
    const group = this.commitTarget(p, 'offset-commit');
    if (typeof group === 'number') return all(group);
    if (p.generationId < 0 && group.is('Empty')) return this.offsetRecords(group, p.offsets, p.retentionTimeMs, -1n, true);
    if (!group.has(p.memberId)) return all(ErrorCode.UNKNOWN_MEMBER_ID);
    if (p.generationId !== group.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
    switch (group.state) {
      case 'Stable':
      case 'PreparingRebalance':
        // Commits during PreparingRebalance are allowed: heartbeats tell the member to rejoin. A
        // member's commit counts as a heartbeat.
        this.shard.membership.completeAndScheduleNextHeartbeatExpiration(group, group.get(p.memberId));
        return this.offsetRecords(group, p.offsets, p.retentionTimeMs, -1n, true);
      case 'CompletingRebalance':
        return all(ErrorCode.REBALANCE_IN_PROGRESS);
      default:
        throw new Error(`unexpected state ${group.state} of group ${group.groupId} for an offset commit`);
    }
  }

  /** The records of a commit (entries with too large metadata are refused one by one). */
  private offsetRecords(group: ClassicGroup, entries: readonly OffsetCommitEntry[], retentionTimeMs: number, producerId: bigint, explicitTimestamp: boolean): GroupResult<CommitResponse> {
    const now = this.shard.scheduler.now();
    const errors: number[] = entries.map(() => ErrorCode.NONE);
    const written: number[] = [];
    const records: GroupRecord[] = [];
    entries.forEach((o, index) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > this.shard.config.offsetMetadataMaxBytes) {
        errors[index] = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        return;
      }
      const value: OffsetAndMetadata = {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata,
        commitTimestamp: explicitTimestamp && o.commitTimestamp !== undefined && o.commitTimestamp >= 0 ? o.commitTimestamp : now,
      };
      if (retentionTimeMs >= 0) value.expireTimestamp = now + retentionTimeMs;
      records.push({ kind: 'offset', group: group.groupId, topic: o.topic, partition: o.partition, value, producerId });
      written.push(index);
    });
    return { records, response: { errors, written } };
  }

  /**
   * TxnOffsetCommit (Kafka's handleTxnCommitOffsets): offsets written as a transactional batch of
   * the producer, pending until its transaction's marker. Checks, in Kafka's order: the group's
   * status, then for an unknown group only commits outside group management (generation < 0)
   * create it; a Dead group is COORDINATOR_NOT_AVAILABLE, a fenced static member
   * FENCED_INSTANCE_ID, an unknown member (when one is named) UNKNOWN_MEMBER_ID, a generation other
   * than the group's (when one is given) ILLEGAL_GENERATION.
   */
  commitTxnOffsets(p: TxnOffsetCommitParams): Promise<number[]> {
    return this.commitWrite('txn-offset-commit', () => this.txnCommitOp(p));
  }

  private txnCommitOp(p: TxnOffsetCommitParams): GroupResult<CommitResponse> {
    const all = (code: number): GroupResult<CommitResponse> => ({ records: [], response: { errors: p.offsets.map(() => code), written: [] } });
    const group = this.commitTarget(p, 'txn-offset-commit');
    if (typeof group === 'number') return all(group);
    if (p.memberId !== '' && !group.has(p.memberId)) return all(ErrorCode.UNKNOWN_MEMBER_ID);
    if (p.generationId >= 0 && p.generationId !== group.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
    const r = this.offsetRecords(group, p.offsets, -1, p.producerId, false);
    return { ...r, producer: { producerId: p.producerId, producerEpoch: p.producerEpoch } };
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
    const committed = (k: string): CommittedOffset | undefined => (requireStable ? group.offsets.get(k) : group.offsets.getCommitted(k));
    const wanted =
      partitions ?? (requireStable ? [...group.offsets.values()] : group.offsets.committedEntries().map(([, o]) => o)).map((o) => ({ topic: o.topic, partition: o.partition }));
    const offsets = wanted.map((tp) => {
      const k = offsetKey(tp.topic, tp.partition);
      if (requireStable && (group.offsets.hasUncommitted(k) || this.shard.hasPendingTxnOffset(groupId, k))) return missing(tp.topic, tp.partition, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      const o = committed(k);
      if (!o) return missing(tp.topic, tp.partition);
      return { topic: tp.topic, partition: tp.partition, offset: o.value.offset, leaderEpoch: o.value.leaderEpoch, metadata: o.value.metadata, errorCode: ErrorCode.NONE };
    });
    return { errorCode: ErrorCode.NONE, offsets };
  }

  /** OffsetDelete: per-partition errors (GROUP_SUBSCRIBED_TO_TOPIC for topics in use) or a group error. */
  deleteOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<{ errorCode: number; partitions: number[] }> {
    return this.cleanupWrite<{ errorCode: number; partitions: number[] }>('offset-delete', () => {
      const status = this.shard.validateGroupStatus(groupId, 'offset-delete');
      if (status !== null) return { groups: [], answer: { errorCode: status, partitions: [] } };
      const group = this.groups.get(groupId);
      if (!group || group.is('Dead')) return { groups: [], answer: { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] } };
      let eligible: { topic: string; partition: number }[];
      let errors: number[];
      if (group.is('Empty')) {
        eligible = [...partitions];
        errors = partitions.map(() => ErrorCode.NONE);
      } else if (group.protocolType === 'consumer') {
        errors = partitions.map((tp) => (group.isSubscribedToTopic(tp.topic) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE));
        eligible = partitions.filter((_, i) => errors[i] === ErrorCode.NONE);
      } else {
        return { groups: [], answer: { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] } };
      }
      const selector = (g: ClassicGroup): TopicPartition[] => {
        const pending = this.shard.pendingTxnPartitionsOf(g.groupId);
        const out = new Map<string, TopicPartition>();
        for (const tp of eligible) {
          const k = offsetKey(tp.topic, tp.partition);
          if (g.offsets.has(k) || pending.has(k)) out.set(k, { topic: tp.topic, partition: tp.partition });
        }
        return [...out.values()];
      };
      return { groups: eligible.length > 0 ? [group] : [], selector, answer: { errorCode: ErrorCode.NONE, partitions: errors } };
    }).then(
      (r) => r.answer,
      (err: unknown) => ({ errorCode: errorCodeOf(err), partitions: [] }),
    );
  }

  /**
   * One write of tombstones: `plan` names the groups and a selector of the partitions whose
   * offsets (committed, and pending in transactions, as Kafka 4 deletes them) go from each; groups
   * left Empty without offsets are Dead and dropped (a tombstone for their metadata once they
   * wrote some). A failed write leaves the log as it was: the offsets come back (undone) and so do
   * the dropped groups.
   */
  private cleanupWrite<A>(name: string, plan: () => { groups: ClassicGroup[]; selector?: (g: ClassicGroup) => TopicPartition[]; answer: A }): Promise<{ answer: A; removed: number }> {
    let dropped: string[] = [];
    return this.shard.ctx
      .write(name, () => {
        const p = plan();
        const records: GroupRecord[] = [];
        let removed = 0;
        dropped = [];
        for (const group of p.groups) {
          const gone = p.selector ? p.selector(group) : [];
          const goneKeys = new Set(gone.map((o) => offsetKey(o.topic, o.partition)));
          removed += gone.length;
          const left = [...group.offsets.keys(), ...this.shard.pendingTxnPartitionsOf(group.groupId).keys()].some((k) => !goneKeys.has(k));
          if (group.is('Empty') && !left) group.transitionTo('Dead', this.shard.scheduler.now());
          for (const o of gone) records.push({ kind: 'offset', group: group.groupId, topic: o.topic, partition: o.partition, value: null, producerId: -1n });
          if (group.is('Dead') && this.groups.get(group.groupId) === group) {
            this.groups.delete(group.groupId);
            dropped.push(group.groupId);
            this.shard.abandonGroup(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
            // A group that only stored offsets never wrote group metadata.
            if (this.shard.groupValues.has(group.groupId)) records.push({ kind: 'group', group: group.groupId, value: null });
          }
        }
        return { records, response: { answer: p.answer, removed } };
      })
      .catch((err: unknown) => {
        this.shard.logger.warn({ err, write: name }, 'failed to write group and offset tombstones');
        for (const id of dropped) this.shard.restoreGroup(id);
        throw err;
      });
  }

  // ---- retention ----

  /** Removes offsets past `offsets.retention.minutes` as Kafka's removeExpiredOffsets (KIP-211). */
  cleanupExpiredOffsets(): Promise<number> {
    const now = this.shard.scheduler.now();
    const retention = this.shard.config.offsetsRetentionMs;
    const selector = (g: ClassicGroup): TopicPartition[] => {
      // A partition with offsets pending in a transaction keeps its committed offset meanwhile.
      const pending = this.shard.pendingTxnPartitionsOf(g.groupId);
      const expired = (base: (o: CommittedOffset) => number, subscribed: ReadonlySet<string> = new Set()): TopicPartition[] => {
        const out: TopicPartition[] = [];
        for (const [k, o] of g.offsets) {
          if (subscribed.has(o.topic) || g.offsets.hasUncommitted(k) || pending.has(k)) continue;
          const gone = o.value.expireTimestamp !== undefined ? now >= o.value.expireTimestamp : now - base(o) >= retention;
          if (gone) out.push(o);
        }
        return out;
      };
      if (g.protocolType !== null && g.is('Empty')) return expired((o) => g.currentStateTimestamp ?? o.value.commitTimestamp);
      if (g.protocolType === 'consumer' && g.subscribedTopics !== null && g.is('Stable')) return expired((o) => o.value.commitTimestamp, g.subscribedTopics);
      if (g.protocolType === null) return expired((o) => o.value.commitTimestamp);
      return [];
    };
    return this.cleanupWrite('offsets-retention', () => ({ groups: [...this.groups.values()], selector, answer: null })).then(
      ({ removed }) => {
        if (removed > 0) this.shard.logger.info({ removed }, 'removed expired offsets');
        this.shard.pruneOffsetMaps();
        return removed;
      },
      () => 0,
    );
  }

  // ---- DeleteGroups ----

  /** Deletes Empty groups with their offsets; one error code per id, in order. */
  deleteGroups(groupIds: readonly string[]): Promise<number[]> {
    let answered: number[] | null = null;
    return this.cleanupWrite('delete-groups', () => {
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
      const selector = (g: ClassicGroup): TopicPartition[] => {
        g.transitionTo('Dead', this.shard.scheduler.now());
        const out = new Map<string, TopicPartition>(this.shard.pendingTxnPartitionsOf(g.groupId));
        for (const [k, o] of g.offsets) out.set(k, { topic: o.topic, partition: o.partition });
        return [...out.values()];
      };
      answered = errors;
      return { groups: eligible, selector, answer: errors };
    }).then(
      (r) => r.answer,
      (err: unknown) => {
        // The groups to delete take the write's error; the others keep theirs.
        if (answered === null) throw err;
        return answered.map((code) => (code === ErrorCode.NONE ? errorCodeOf(err) : code));
      },
    );
  }
}
