// One `__consumer_offsets` partition's groups and offsets as a coordinator-runtime shard (Kafka's
// GroupCoordinatorShard: GroupMetadataManager + OffsetMetadataManager for classic groups).
// State the log holds changes only in `replay`, for loading and live writes alike:
// - `groupValues`: each group's last written GroupMetadataValue (tombstone: gone);
// - `offsets`: committed offsets per group (a TimelineMap each, so a write that never reached the
//   log is undone, and OffsetFetch without require_stable reads what is committed);
// - `pendingTxnOffsets`: TxnOffsetCommit offsets per producer until its COMMIT/ABORT marker.
// Live classic groups (members, rebalance state, callbacks of waiting JoinGroup/SyncGroup) are
// objects built from `groupValues` once the partition is loaded and changed by the membership
// part directly, as Kafka's classic groups are: their metadata records are replayed into
// `groupValues` only, never back into the live group. Offsets of a live group are the same
// TimelineMap the shard replays into.
// Timers are this shard's runtime timers (cancelled when it is unloaded, when every waiting
// member is answered NOT_COORDINATOR): the offsets retention check, and each group's heartbeat,
// join, sync and pending-member timers, which run in that group's scope (a failure abandons
// that group's rebalance only).
import type { Logger } from 'pino';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.ts';
import type { GroupMetadataValue } from '../../protocol/generated/group-coordinator/group-metadata-value.ts';
import type { Scheduler, Scope } from '../../protocol/scheduler.ts';
import type { CoordinatorResult, CoordinatorShard, ShardContext } from '../coordinator/coordinator-runtime.ts';
import { CoordinatorWriteError } from '../coordinator/partition-log.ts';
import { TimelineMap } from '../coordinator/timeline.ts';
import { ClassicGroup, type CommittedOffset, type GroupOffsetMap, GroupMember, joinError, offsetKey, syncError } from './classic-group.ts';
import type { GroupApi, GroupCoordinatorConfig, GroupShard } from './group-api.ts';
import { GroupMembership } from './group-membership.ts';
import { GroupOffsets } from './group-offsets.ts';
import type { GroupRecord } from './offsets-topic.ts';

const EMPTY = Buffer.alloc(0);

/** An offset pending in a producer's transaction. */
export interface PendingTxnOffset {
  groupId: string;
  key: string;
  offset: CommittedOffset;
}

export type GroupResult<T> = CoordinatorResult<GroupRecord, T>;

/** The log's error code behind a failed write (the runtime answers a mapped one). */
export function appendErrorOf(err: unknown): number {
  return err instanceof CoordinatorWriteError ? err.appendErrorCode : errorCodeOf(err);
}

/** Kafka's mapping of append failures to what a coordinator answers for an offset commit. */
export function commitAppendError(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return code;
  }
}

/** The same for a group metadata write (SyncGroup, an empty group's new generation). */
export function groupAppendError(code: number): number {
  switch (code) {
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return commitAppendError(code);
  }
}

/** Kafka's validateGroupStatus for the group id alone: the error, or null. */
export function invalidGroupId(groupId: string, api: GroupApi): number | null {
  const emptyAllowed = api === 'offset-commit' || api === 'offset-fetch' || api === 'describe' || api === 'delete' || api === 'offset-delete';
  if (groupId === null || groupId === undefined || (!emptyAllowed && groupId.length === 0)) return ErrorCode.INVALID_GROUP_ID;
  return null;
}

/** A live group rebuilt from its last metadata record. */
function groupFromRecord(groupId: string, v: GroupMetadataValue, now: number, offsets: GroupOffsetMap): ClassicGroup {
  const group = new ClassicGroup(groupId, now, v.members.length === 0 ? 'Empty' : 'Stable', offsets);
  group.generationId = v.generation;
  group.protocolType = v.protocolType.length > 0 ? v.protocolType : null;
  group.protocolName = v.protocol;
  group.leaderId = v.leader;
  group.currentStateTimestamp = v.currentStateTimestamp !== undefined && v.currentStateTimestamp >= 0n ? Number(v.currentStateTimestamp) : null;
  for (const m of v.members) {
    const member = new GroupMember({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId ?? null,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeout !== undefined && m.rebalanceTimeout >= 0 ? m.rebalanceTimeout : m.sessionTimeout,
      sessionTimeoutMs: m.sessionTimeout,
      protocolType: group.protocolType ?? '',
      protocols: [{ name: v.protocol ?? '', metadata: Buffer.from(m.subscription) }],
    });
    member.assignment = Buffer.from(m.assignment);
    group.add(member, null);
  }
  // add() makes the first member leader when none is set; the record's leader wins.
  group.leaderId = v.leader;
  group.subscribedTopics = group.computeSubscribedTopics();
  return group;
}

/** The metadata record of a group as it stands, with `assignment`. */
export function groupMetadataOf(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): GroupMetadataValue {
  return {
    protocolType: group.protocolType ?? '',
    generation: group.generationId,
    protocol: group.protocolName,
    leader: group.leaderId,
    currentStateTimestamp: group.currentStateTimestamp === null ? -1n : BigInt(group.currentStateTimestamp),
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
      subscription: group.protocolName !== null ? m.metadata(group.protocolName) : EMPTY,
      assignment: assignment.get(m.memberId) ?? EMPTY,
    })),
  };
}

export interface GroupShardDeps {
  config: GroupCoordinatorConfig;
  scheduler: Scheduler;
  logger: Logger;
}

export class GroupCoordinatorShard implements CoordinatorShard<GroupRecord>, GroupShard {
  readonly config: GroupCoordinatorConfig;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly ctx: ShardContext<GroupRecord, GroupCoordinatorShard>;
  /** Live classic groups (built on load, changed by the membership part). */
  readonly groups = new Map<string, ClassicGroup>();
  // ---- replayed state ----
  readonly groupValues: TimelineMap<string, GroupMetadataValue>;
  /** Committed offsets by group; a group's map is created on first use and kept. */
  readonly offsets = new Map<string, GroupOffsetMap>();
  /** Offsets pending in a transaction, by producer id; each value is replaced, never changed. */
  readonly pendingTxnOffsets: TimelineMap<bigint, ReadonlyMap<string, PendingTxnOffset>>;
  // ---- parts ----
  readonly membership: GroupMembership;
  readonly offsetOps: GroupOffsets;
  /** Live groups exist (built once the partition is loaded). */
  private loaded = false;

  constructor(ctx: ShardContext<GroupRecord, GroupCoordinatorShard>, deps: GroupShardDeps) {
    this.ctx = ctx;
    this.config = deps.config;
    this.scheduler = this.withShardTimers(deps.scheduler);
    this.logger = deps.logger;
    this.groupValues = new TimelineMap(ctx.registry);
    this.pendingTxnOffsets = new TimelineMap(ctx.registry);
    this.membership = new GroupMembership(this);
    this.offsetOps = new GroupOffsets(this);
  }

  /** The broker's scheduler, with one-shot timers as this shard's runtime timers. */
  private withShardTimers(base: Scheduler): Scheduler {
    let next = 0;
    return {
      now: () => base.now(),
      schedule: (delayMs, scope, fn) => {
        const key = `${String(scope.context?.group ?? '')}/${String(scope.context?.task ?? 'timer')}/${next++}`;
        this.ctx.timers.schedule(key, delayMs, fn, scope);
        return { cancel: () => this.ctx.timers.cancel(key) };
      },
      every: (intervalMs, scope, fn) => base.every(intervalMs, scope, fn),
      run: (scope, fn) => base.run(scope, fn),
      wrap: (scope, fn) => base.wrap(scope, fn),
      watch: (scope, work) => base.watch(scope, work),
    };
  }

  // ---- replay ----

  replay(r: GroupRecord): void {
    switch (r.kind) {
      case 'group':
        if (r.value === null) this.groupValues.delete(r.group);
        else this.groupValues.set(r.group, r.value);
        return;
      case 'offset': {
        const key = offsetKey(r.topic, r.partition);
        if (r.producerId >= 0n) {
          if (r.value === null) return;
          const pending = new Map(this.pendingTxnOffsets.get(r.producerId) ?? []);
          pending.set(`${r.group}\u0000${key}`, { groupId: r.group, key, offset: { topic: r.topic, partition: r.partition, value: r.value } });
          this.pendingTxnOffsets.set(r.producerId, pending);
          return;
        }
        const offsets = this.offsetsOf(r.group);
        if (r.value === null) {
          offsets.delete(key);
          // A partition's tombstone ends its offsets pending in transactions too (Kafka 4's replay).
          this.dropPendingTxnOffset(r.group, key);
        } else {
          offsets.set(key, { topic: r.topic, partition: r.partition, value: r.value });
          this.liveGroup(r.group);
        }
        return;
      }
      case 'marker': {
        const pending = this.pendingTxnOffsets.get(r.producerId);
        if (!pending) return;
        this.pendingTxnOffsets.delete(r.producerId);
        if (r.commit) {
          for (const p of pending.values()) {
            this.offsetsOf(p.groupId).set(p.key, p.offset);
            this.liveGroup(p.groupId);
          }
        }
        this.logger.debug({ producerId: String(r.producerId), commit: r.commit, offsets: pending.size }, 'completed transactional offsets');
        return;
      }
    }
  }

  /** An offset of a group that is not live (deleted meanwhile) brings it back as Kafka's replay does: a simple group, Empty. */
  private liveGroup(groupId: string): void {
    if (this.loaded && !this.groups.has(groupId)) this.groups.set(groupId, this.newGroup(groupId));
  }

  /** The group's committed offsets (created empty on first use). */
  offsetsOf(groupId: string): GroupOffsetMap {
    let m = this.offsets.get(groupId);
    if (!m) this.offsets.set(groupId, (m = new TimelineMap(this.ctx.registry)));
    return m;
  }

  // ---- lifecycle ----

  /** Builds the live groups from what was replayed and starts the shard's timers. */
  onLoaded(): void {
    const now = this.scheduler.now();
    const withPendingTxn = new Set<string>();
    for (const pending of this.pendingTxnOffsets.values()) for (const p of pending.values()) withPendingTxn.add(p.groupId);
    const ids = new Set([...this.groupValues.keys(), ...this.offsets.keys(), ...withPendingTxn]);
    for (const id of ids) {
      const v = this.groupValues.get(id);
      if (!v && (this.offsets.get(id)?.size ?? 0) === 0 && !withPendingTxn.has(id)) continue;
      const group = v ? groupFromRecord(id, v, now, this.offsetsOf(id)) : this.newGroup(id);
      this.groups.set(id, group);
      for (const m of group.members.values()) this.membership.completeAndScheduleNextHeartbeatExpiration(group, m);
    }
    this.loaded = true;
    this.logger.info({ groups: this.groups.size }, 'loaded groups and offsets');
    // A failed check only logs: the next one runs at its tick, as if this one had found nothing.
    this.ctx.timers.every('offsets-retention', this.config.offsetsRetentionCheckIntervalMs, () => this.offsetOps.cleanupExpiredOffsets());
  }

  onUnloaded(): void {
    this.loaded = false;
    for (const group of this.groups.values()) this.abandonGroup(group, ErrorCode.NOT_COORDINATOR);
    this.groups.clear();
  }

  /** A group rebuilt as the log has it, for a group dropped by a write that did not reach it. */
  restoreGroup(groupId: string): void {
    if (this.groups.has(groupId)) return;
    const v = this.groupValues.get(groupId);
    const offsets = this.offsets.get(groupId);
    if (!v && (offsets?.size ?? 0) === 0 && !this.hasPendingTxnOffsets(groupId)) return;
    this.groups.set(groupId, v ? groupFromRecord(groupId, v, this.scheduler.now(), this.offsetsOf(groupId)) : this.newGroup(groupId));
  }

  /** Forgets the offset maps of groups that are gone, once nothing of them waits to commit. */
  pruneOffsetMaps(): void {
    for (const [id, m] of [...this.offsets]) {
      if (m.size === 0 && !this.groups.has(id) && !m.hasAnyUncommitted()) this.offsets.delete(id);
    }
  }

  // ---- what the membership part uses ----

  newGroup(groupId: string): ClassicGroup {
    return new ClassicGroup(groupId, this.scheduler.now(), 'Empty', this.offsetsOf(groupId));
  }

  validateGroupStatus(groupId: string, api: GroupApi): number | null {
    const invalid = invalidGroupId(groupId, api);
    if (invalid !== null) return invalid;
    if (!this.ctx.isActive()) return ErrorCode.NOT_COORDINATOR;
    return null;
  }

  groupScope(group: ClassicGroup, task: string): Scope {
    return { unit: 'group', context: { group: group.groupId, task }, onFailure: (err) => this.membership.failGroup(group, err) };
  }

  afterWrite<T>(group: ClassicGroup, task: string, write: Promise<T>, then: (result: T) => void): void {
    const scope = this.groupScope(group, task);
    this.scheduler.watch(scope, write.then((result) => this.scheduler.run(scope, () => then(result))));
  }

  storeGroup(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): Promise<number> {
    return this.ctx
      .write('group-metadata', () => ({ records: [{ kind: 'group', group: group.groupId, value: groupMetadataOf(group, assignment) }], response: ErrorCode.NONE as number }))
      .catch((err: unknown) => {
        this.logger.warn({ err, groupId: group.groupId, generationId: group.generationId }, 'failed to write group metadata');
        return groupAppendError(appendErrorOf(err));
      });
  }

  abandonGroup(group: ClassicGroup, errorCode: number): void {
    group.joinTimer?.cancel();
    group.joinTimer = null;
    group.syncTimer?.cancel();
    group.syncTimer = null;
    for (const t of group.pendingMemberTimers.values()) t.cancel();
    group.pendingMemberTimers.clear();
    for (const m of group.members.values()) {
      m.heartbeatTimer?.cancel();
      m.heartbeatTimer = null;
      group.invokeJoinCallback(m, joinError(m.memberId, errorCode));
      group.invokeSyncCallback(m, syncError(errorCode));
    }
  }

  // ---- transactional offsets ----

  hasPendingTxnOffsets(groupId: string): boolean {
    for (const pending of this.pendingTxnOffsets.values()) for (const p of pending.values()) if (p.groupId === groupId) return true;
    return false;
  }

  /** The partitions of a group with offsets pending in a transaction, by key. */
  pendingTxnPartitionsOf(groupId: string): Map<string, { topic: string; partition: number }> {
    const out = new Map<string, { topic: string; partition: number }>();
    for (const pending of this.pendingTxnOffsets.values()) {
      for (const p of pending.values()) if (p.groupId === groupId) out.set(p.key, { topic: p.offset.topic, partition: p.offset.partition });
    }
    return out;
  }

  private dropPendingTxnOffset(groupId: string, key: string): void {
    const k = `${groupId}\u0000${key}`;
    for (const [pid, pending] of [...this.pendingTxnOffsets]) {
      if (!pending.has(k)) continue;
      const rest = new Map(pending);
      rest.delete(k);
      if (rest.size === 0) this.pendingTxnOffsets.delete(pid);
      else this.pendingTxnOffsets.set(pid, rest);
    }
  }

  hasPendingTxnOffset(groupId: string, key: string): boolean {
    const k = `${groupId}\u0000${key}`;
    for (const pending of this.pendingTxnOffsets.values()) if (pending.has(k)) return true;
    return false;
  }
}
