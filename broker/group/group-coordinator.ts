// The classic group coordinator (Kafka's GroupCoordinator + GroupMetadataManager): consumer
// groups rebalanced through JoinGroup/SyncGroup/Heartbeat/LeaveGroup (group-membership.ts), and
// committed offsets (group-offsets.ts), both kept in `__consumer_offsets`. A group belongs to the
// partition `partitionForGroup(id)`; this coordinator serves the groups of the partitions this
// broker leads, after loading them from the log (COORDINATOR_LOAD_IN_PROGRESS meanwhile,
// NOT_COORDINATOR for the others).
// Invariants:
// - The coordinator owns the groups; its membership and offsets parts change them only through
//   the calls it forwards, one at a time on the event loop.
// - Every piece of a group's work that starts outside a request (timers, write completions) runs
//   through the scheduler in that group's scope: a failure there is logged and abandons only that
//   group's rebalance (its waiting members are answered and must rejoin); other groups go on.
//   The offsets retention check runs in its own scope and simply runs again at its next tick.
import type { Logger } from 'pino';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.ts';
import type { GroupMetadataValue } from '../../protocol/generated/group-coordinator/group-metadata-value.ts';
import type { Scheduler, Scope, TimerHandle } from '../../protocol/scheduler.ts';
import { ClassicGroup, type CommittedOffset, GroupMember, joinError, type JoinGroupResult, offsetKey, syncError, type SyncGroupResult } from './classic-group.ts';
import { type CoordinatorLog, type CoordinatorRecord, groupAppendError } from './coordinator-log.ts';
import type {
  FetchedOffset,
  GroupApi,
  GroupCoordinatorConfig,
  GroupOverview,
  GroupShard,
  GroupSummary,
  JoinGroupParams,
  LeaveGroupResult,
  LeavingMember,
  OffsetCommitParams,
  SyncGroupParams,
  TxnOffsetCommitParams,
} from './group-api.ts';
import { GroupMembership } from './group-membership.ts';
import { GroupOffsets } from './group-offsets.ts';
import { GroupTxnOffsets, PendingTxnOffsetsReplay } from './group-txn-offsets.ts';
import { decodeOffsetsTopicRecord, groupMetadataKey, groupMetadataValue, partitionForGroup } from './offsets-topic.ts';

export * from './group-api.ts';

export interface GroupCoordinatorOptions {
  config: GroupCoordinatorConfig;
  log: CoordinatorLog;
  /** Clock and timers; contains a failure of a group's work to that group. */
  scheduler: Scheduler;
  logger: Logger;
  /** Creates `__consumer_offsets` if it does not exist yet (the broker asks the controller). */
  ensureOffsetsTopic?: () => Promise<void>;
}

interface PartitionOwnership {
  epoch: number;
  loading: boolean;
  /** Transaction markers that landed while loading, applied once loaded unless the load read them. */
  markers?: { producerId: bigint; commit: boolean; offset: number }[];
  /** Offsets of the markers the load read. */
  markersRead?: Set<number>;
}

const EMPTY = Buffer.alloc(0);

export class GroupCoordinator implements GroupShard {
  readonly config: GroupCoordinatorConfig;
  readonly log: CoordinatorLog;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly groups = new Map<string, ClassicGroup>();
  private readonly ensureTopic: (() => Promise<void>) | undefined;
  private readonly owned = new Map<number, PartitionOwnership>();
  private readonly membership: GroupMembership;
  private readonly offsets: GroupOffsets;
  private readonly txnOffsets: GroupTxnOffsets;
  private partitionCount: number;
  private active = true;
  private readonly retentionTimer: TimerHandle;

  constructor(opts: GroupCoordinatorOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.scheduler = opts.scheduler;
    this.logger = opts.logger;
    this.ensureTopic = opts.ensureOffsetsTopic;
    this.partitionCount = opts.config.offsetsTopicNumPartitions;
    this.membership = new GroupMembership(this);
    this.offsets = new GroupOffsets(this, (group, member) => this.membership.completeAndScheduleNextHeartbeatExpiration(group, member));
    this.txnOffsets = new GroupTxnOffsets(this);
    // A failed check only logs: the next one runs at its tick, as if this one had found nothing.
    this.retentionTimer = this.scheduler.every(this.config.offsetsRetentionCheckIntervalMs, { unit: 'offsets-retention' }, () =>
      this.active ? this.offsets.cleanupExpiredOffsets() : undefined,
    );
  }

  // ---- containment ----

  groupScope(group: ClassicGroup, task: string): Scope {
    return { unit: 'group', context: { group: group.groupId, task }, onFailure: (err) => this.membership.failGroup(group, err) };
  }

  afterWrite<T>(group: ClassicGroup, task: string, write: Promise<T>, then: (result: T) => void): void {
    const scope = this.groupScope(group, task);
    this.scheduler.watch(scope, write.then((result) => this.scheduler.run(scope, () => then(result))));
  }

  /** Groups of partitions that are loaded here. */
  serves(groupId: string): boolean {
    const own = this.owned.get(this.partitionFor(groupId));
    return own !== undefined && !own.loading;
  }

  // ---- ownership and loading ----

  /** The `__consumer_offsets` partition count in use (the topic's own, once it exists). */
  setPartitionCount(n: number): void {
    if (n > 0) this.partitionCount = n;
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.partitionCount);
  }

  ensureOffsetsTopic(): Promise<void> {
    return this.ensureTopic ? this.ensureTopic() : Promise.resolve();
  }

  /** Partitions this coordinator serves (loaded) or is loading. */
  ownedPartitions(): ReadonlyMap<number, { epoch: number; loading: boolean }> {
    return this.owned;
  }

  /**
   * `onElection`, contained: a failure while loading gives the partition up (NOT_COORDINATOR
   * until the next election) instead of leaving it loading for ever.
   */
  elect(partition: number, epoch: number): void {
    const scope: Scope = {
      unit: 'group-partition',
      context: { partition, epoch },
      onFailure: () => {
        if (this.owned.get(partition)?.epoch === epoch) this.onResignation(partition);
      },
    };
    this.scheduler.watch(scope, this.onElection(partition, epoch));
  }

  /**
   * This broker now leads `partition` at `epoch`: loads its groups and offsets. Resolves once
   * loaded (or abandoned, when leadership moved on meanwhile).
   */
  async onElection(partition: number, epoch: number): Promise<void> {
    const cur = this.owned.get(partition);
    if (cur && cur.epoch >= epoch) return;
    if (cur) this.unloadGroups(partition);
    const state: PartitionOwnership = { epoch, loading: true };
    this.owned.set(partition, state);
    const started = this.scheduler.now();
    const groupValues = new Map<string, GroupMetadataValue | null>();
    const offsets = new Map<string, Map<string, CommittedOffset>>();
    const txnOffsets = new PendingTxnOffsetsReplay();
    try {
      for await (const chunk of this.log.read(partition)) {
        if (this.owned.get(partition) !== state) return;
        for (const r of chunk) {
          if (r.marker !== undefined && r.offset !== undefined) (state.markersRead ??= new Set()).add(r.offset);
          this.replay(r, groupValues, offsets, txnOffsets);
        }
      }
    } catch (err) {
      this.logger.error({ err, partition }, 'failed to load groups and offsets');
      if (this.owned.get(partition) === state) this.owned.delete(partition);
      return;
    }
    if (this.owned.get(partition) !== state) return;
    const now = this.scheduler.now();
    const pendingTxn = txnOffsets.groups();
    const ids = new Set([...groupValues.keys(), ...offsets.keys(), ...pendingTxn]);
    let loadedGroups = 0;
    for (const id of ids) {
      const v = groupValues.get(id) ?? null;
      const offs = offsets.get(id);
      if (!v && (!offs || offs.size === 0) && !pendingTxn.has(id)) continue;
      const group = v ? this.groupFromRecord(id, v, now) : new ClassicGroup(id, now);
      if (offs) for (const [k, o] of offs) group.offsets.set(k, o);
      for (const [pid, byGroup] of txnOffsets.byProducer) {
        const pending = byGroup.get(id);
        if (pending) group.pendingTxnOffsets.set(pid, new Map(pending));
      }
      this.groups.set(id, group);
      loadedGroups++;
      for (const m of group.members.values()) this.membership.completeAndScheduleNextHeartbeatExpiration(group, m);
    }
    state.loading = false;
    for (const m of state.markers ?? []) if (!state.markersRead?.has(m.offset)) this.txnOffsets.complete(partition, m.producerId, m.commit);
    delete state.markers;
    delete state.markersRead;
    this.logger.info({ partition, epoch, groups: loadedGroups, ms: this.scheduler.now() - started }, 'loaded groups and offsets');
  }

  private replay(r: CoordinatorRecord, groupValues: Map<string, GroupMetadataValue | null>, offsets: Map<string, Map<string, CommittedOffset>>, txnOffsets: PendingTxnOffsetsReplay): void {
    if (r.marker !== undefined) {
      txnOffsets.complete(r.producerId ?? -1n, r.marker, offsets);
      return;
    }
    const rec = decodeOffsetsTopicRecord(r.key, r.value);
    if (!rec) return;
    if (r.producerId !== undefined && r.producerId >= 0n) {
      if (rec.kind === 'offset' && rec.value !== null) txnOffsets.add(r.producerId, rec.group, offsetKey(rec.topic, rec.partition), { topic: rec.topic, partition: rec.partition, value: rec.value });
      return;
    }
    if (rec.kind === 'group') {
      groupValues.set(rec.group, rec.value);
      return;
    }
    let g = offsets.get(rec.group);
    const k = offsetKey(rec.topic, rec.partition);
    if (rec.value === null) {
      g?.delete(k);
      return;
    }
    if (!g) offsets.set(rec.group, (g = new Map()));
    g.set(k, { topic: rec.topic, partition: rec.partition, value: rec.value });
  }

  private groupFromRecord(groupId: string, v: GroupMetadataValue, now: number): ClassicGroup {
    const group = new ClassicGroup(groupId, now, v.members.length === 0 ? 'Empty' : 'Stable');
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

  /** This broker no longer leads `partition`: its groups are dropped (NOT_COORDINATOR from now). */
  onResignation(partition: number): void {
    if (!this.owned.has(partition)) return;
    this.owned.delete(partition);
    this.unloadGroups(partition);
    this.logger.info({ partition }, 'unloaded groups and offsets');
  }

  private unloadGroups(partition: number): void {
    for (const [id, group] of this.groups) {
      if (this.partitionFor(id) !== partition) continue;
      this.groups.delete(id);
      this.abandonGroup(group, ErrorCode.NOT_COORDINATOR);
    }
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

  /** Stops timers and answers every waiting member; the coordinator serves nothing afterwards. */
  shutdown(): void {
    this.active = false;
    this.retentionTimer.cancel();
    for (const p of [...this.owned.keys()]) this.onResignation(p);
  }

  /** Kafka's validateGroupStatus: the error for a request about `groupId`, or null. */
  validateGroupStatus(groupId: string, api: GroupApi): number | null {
    const emptyAllowed = api === 'offset-commit' || api === 'offset-fetch' || api === 'describe' || api === 'delete' || api === 'offset-delete';
    if (groupId === null || groupId === undefined || (!emptyAllowed && groupId.length === 0)) return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const own = this.owned.get(this.partitionFor(groupId));
    if (!own) return ErrorCode.NOT_COORDINATOR;
    if (own.loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return null;
  }

  /** The group, if this coordinator holds it (tests and DescribeGroups). */
  group(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  // ---- group APIs ----

  joinGroup(p: JoinGroupParams): Promise<JoinGroupResult> {
    return this.membership.joinGroup(p);
  }

  syncGroup(p: SyncGroupParams): Promise<SyncGroupResult> {
    return this.membership.syncGroup(p);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    return this.membership.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveGroupResult {
    return this.membership.leaveGroup(groupId, leaving);
  }

  /** Commits offsets; resolves with one error code per entry, in order, once written. */
  commitOffsets(p: OffsetCommitParams): Promise<number[]> {
    return this.offsets.commitOffsets(p);
  }

  /** TxnOffsetCommit: offsets pending until the producer's transaction ends; one error code per entry. */
  commitTxnOffsets(p: TxnOffsetCommitParams): Promise<number[]> {
    return this.txnOffsets.commit(p);
  }

  /** A COMMIT/ABORT marker of `producerId` was written on `partition` of `__consumer_offsets`. */
  onTransactionMarker(partition: number, producerId: bigint, commit: boolean, offset = -1): void {
    const own = this.owned.get(partition);
    if (!own) return;
    if (own.loading) (own.markers ??= []).push({ producerId, commit, offset });
    else this.txnOffsets.complete(partition, producerId, commit);
  }

  /**
   * Committed offsets of a group: the named partitions, or all it has when `partitions` is null.
   * Unknown groups and partitions give offset -1 with no error, as Kafka answers.
   */
  fetchOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[] | null, requireStable: boolean): { errorCode: number; offsets: FetchedOffset[] } {
    return this.offsets.fetchOffsets(groupId, partitions, requireStable);
  }

  /** OffsetDelete: per-partition errors (GROUP_SUBSCRIBED_TO_TOPIC for topics in use) or a group error. */
  deleteOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<{ errorCode: number; partitions: number[] }> {
    return this.offsets.deleteOffsets(groupId, partitions);
  }

  /** Deletes Empty groups with their offsets; one error code per id, in order. */
  deleteGroups(groupIds: readonly string[]): Promise<number[]> {
    return this.offsets.deleteGroups(groupIds);
  }

  /** Removes offsets past `offsets.retention.minutes` (run by the retention timer; tests call it). */
  cleanupExpiredOffsets(): Promise<number> {
    return this.offsets.cleanupExpiredOffsets();
  }

  // ---- DescribeGroups, ListGroups ----

  describeGroup(groupId: string): { errorCode: number; summary: GroupSummary } {
    const status = this.validateGroupStatus(groupId, 'describe');
    if (status !== null) return { errorCode: status, summary: { state: 'Dead', protocolType: '', protocol: '', members: [] } };
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, summary: { state: 'Dead', protocolType: '', protocol: '', members: [] } };
    const stable = group.is('Stable') && group.protocolName !== null;
    return {
      errorCode: ErrorCode.NONE,
      summary: {
        state: group.state,
        protocolType: group.protocolType ?? '',
        protocol: stable ? group.protocolName! : '',
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          metadata: stable ? m.metadata(group.protocolName!) : EMPTY,
          assignment: stable ? m.assignment : EMPTY,
        })),
      },
    };
  }

  /** Groups of the loaded partitions; `statesFilter` is case-insensitive, all groups are "classic". */
  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): { errorCode: number; groups: GroupOverview[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const loading = [...this.owned.values()].some((o) => o.loading);
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const typesOk = typesFilter.length === 0 || typesFilter.some((t) => t.toLowerCase() === 'classic');
    const groups: GroupOverview[] = [];
    if (typesOk) {
      for (const g of this.groups.values()) {
        const own = this.owned.get(this.partitionFor(g.groupId));
        if (!own || own.loading) continue;
        if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
        groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state });
      }
    }
    return { errorCode: loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE, groups };
  }

  // ---- writes ----

  async storeGroup(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): Promise<number> {
    const value: GroupMetadataValue = {
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
    try {
      await this.log.append(this.partitionFor(group.groupId), [{ key: groupMetadataKey(group.groupId), value: groupMetadataValue(value) }]);
      return ErrorCode.NONE;
    } catch (err) {
      const code = groupAppendError(errorCodeOf(err));
      this.logger.warn({ err, groupId: group.groupId, generationId: group.generationId }, 'failed to write group metadata');
      return code;
    }
  }
}
