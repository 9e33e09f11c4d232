// The classic group coordinator (Kafka's GroupCoordinator + GroupMetadataManager): consumer
// groups rebalanced through JoinGroup/SyncGroup/Heartbeat/LeaveGroup, and committed offsets,
// both kept in `__consumer_offsets`. A group belongs to the partition `partitionForGroup(id)`;
// this coordinator serves the groups of the partitions this broker leads, after loading them from
// the log (COORDINATOR_LOAD_IN_PROGRESS meanwhile, NOT_COORDINATOR for the others).
// Invariants:
// - A group is changed only here, synchronously within one call or one timer (the event loop
//   serializes them); a write's completion re-checks state and generation before acting, as
//   Kafka's callbacks do under the group lock.
// - Delayed answers (JoinGroup waiting for the rebalance, SyncGroup waiting for the leader) are
//   callbacks kept on the member; every path that drops a member answers its callbacks.
// - Timers: a heartbeat deadline per member (session timeout; 5 minutes for a member that never
//   completed a join), one join timer per rebalancing group (initial delay or rebalance timeout),
//   one sync timer per group completing a rebalance, and one per pending (KIP-394) member id.
// - Group metadata is written after each completed rebalance (and when a group becomes Empty);
//   offsets are answered only once their records are written.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode, errorCodeOf } from '../../protocol/errors.ts';
import type { GroupMetadataValue } from '../../protocol/generated/group-coordinator/group-metadata-value.ts';
import {
  ClassicGroup,
  type CommittedOffset,
  GroupMember,
  type GroupState,
  joinError,
  type JoinGroupResult,
  offsetKey,
  type Protocol,
  syncError,
  type SyncGroupResult,
  uniqueProtocols,
} from './classic-group.ts';
import { commitAppendError, type CoordinatorLog, type CoordinatorRecord, groupAppendError } from './coordinator-log.ts';
import type { GroupTime, TimerHandle } from './group-time.ts';
import {
  decodeOffsetsTopicRecord,
  groupMetadataKey,
  groupMetadataValue,
  type OffsetAndMetadata,
  offsetCommitKey,
  offsetCommitValue,
  partitionForGroup,
} from './offsets-topic.ts';

/** A member that never completed a join is dropped after this long (Kafka's NewMemberJoinTimeoutMs). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;
export const UNKNOWN_MEMBER_ID = '';
export const NO_GENERATION = -1;

export interface GroupCoordinatorConfig {
  offsetsTopicNumPartitions: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupInitialRebalanceDelayMs: number;
  groupMaxSize: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
}

export interface GroupCoordinatorOptions {
  config: GroupCoordinatorConfig;
  log: CoordinatorLog;
  time: GroupTime;
  logger: Logger;
  /** Creates `__consumer_offsets` if it does not exist yet (the broker asks the controller). */
  ensureOffsetsTopic?: () => Promise<void>;
}

export type GroupApi = 'join' | 'sync' | 'heartbeat' | 'leave' | 'offset-commit' | 'offset-fetch' | 'offset-delete' | 'describe' | 'delete';

export interface JoinGroupParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  /** v4+: a first join without a member id is answered MEMBER_ID_REQUIRED (KIP-394). */
  requireKnownMemberId: boolean;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  reason: string | null;
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
  reason?: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
  /** v1 only; -1 for "now". */
  commitTimestamp?: number;
}

export interface OffsetCommitParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  /** v2-v4 retention_time_ms; -1 for the broker's retention. */
  retentionTimeMs: number;
  offsets: OffsetCommitEntry[];
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface GroupSummary {
  state: GroupState;
  protocolType: string;
  protocol: string;
  members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }[];
}

export interface GroupOverview {
  groupId: string;
  protocolType: string;
  state: GroupState;
}

interface PartitionOwnership {
  epoch: number;
  loading: boolean;
}

const EMPTY = Buffer.alloc(0);

export class GroupCoordinator {
  private readonly config: GroupCoordinatorConfig;
  private readonly log: CoordinatorLog;
  private readonly time: GroupTime;
  private readonly logger: Logger;
  private readonly ensureTopic: (() => Promise<void>) | undefined;
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly owned = new Map<number, PartitionOwnership>();
  private partitionCount: number;
  private active = true;
  private retentionTimer: TimerHandle | null = null;

  constructor(opts: GroupCoordinatorOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.time = opts.time;
    this.logger = opts.logger;
    this.ensureTopic = opts.ensureOffsetsTopic;
    this.partitionCount = opts.config.offsetsTopicNumPartitions;
    this.scheduleRetentionCheck();
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
   * This broker now leads `partition` at `epoch`: loads its groups and offsets. Resolves once
   * loaded (or abandoned, when leadership moved on meanwhile).
   */
  async onElection(partition: number, epoch: number): Promise<void> {
    const cur = this.owned.get(partition);
    if (cur && cur.epoch >= epoch) return;
    if (cur) this.unloadGroups(partition);
    const state: PartitionOwnership = { epoch, loading: true };
    this.owned.set(partition, state);
    const started = this.time.now();
    const groupValues = new Map<string, GroupMetadataValue | null>();
    const offsets = new Map<string, Map<string, CommittedOffset>>();
    try {
      for await (const chunk of this.log.read(partition)) {
        if (this.owned.get(partition) !== state) return;
        for (const r of chunk) this.replay(r, groupValues, offsets);
      }
    } catch (err) {
      this.logger.error({ err, partition }, 'failed to load groups and offsets');
      if (this.owned.get(partition) === state) this.owned.delete(partition);
      return;
    }
    if (this.owned.get(partition) !== state) return;
    const now = this.time.now();
    const ids = new Set([...groupValues.keys(), ...offsets.keys()]);
    let loadedGroups = 0;
    for (const id of ids) {
      const v = groupValues.get(id) ?? null;
      const offs = offsets.get(id);
      if (!v && (!offs || offs.size === 0)) continue;
      const group = v ? this.groupFromRecord(id, v, now) : new ClassicGroup(id, now);
      if (offs) for (const [k, o] of offs) group.offsets.set(k, o);
      this.groups.set(id, group);
      loadedGroups++;
      for (const m of group.members.values()) this.completeAndScheduleNextHeartbeatExpiration(group, m);
    }
    state.loading = false;
    this.logger.info({ partition, epoch, groups: loadedGroups, ms: this.time.now() - started }, 'loaded groups and offsets');
  }

  private replay(r: CoordinatorRecord, groupValues: Map<string, GroupMetadataValue | null>, offsets: Map<string, Map<string, CommittedOffset>>): void {
    const rec = decodeOffsetsTopicRecord(r.key, r.value);
    if (!rec) return;
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

  /** Cancels a group's timers and answers its waiting members with `errorCode`. */
  private abandonGroup(group: ClassicGroup, errorCode: number): void {
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
    this.retentionTimer?.cancel();
    this.retentionTimer = null;
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

  // ---- JoinGroup ----

  joinGroup(params: JoinGroupParams): Promise<JoinGroupResult> {
    // A repeated protocol name counts once, so that it cannot make a protocol look common.
    const p = { ...params, protocols: uniqueProtocols(params.protocols) };
    return new Promise((resolve) => {
      try {
        this.handleJoinGroup(p, resolve);
      } catch (err) {
        this.logger.error({ err, groupId: p.groupId }, 'JoinGroup failed');
        resolve(joinError(p.memberId, errorCodeOf(err)));
      }
    });
  }

  private handleJoinGroup(p: JoinGroupParams, respond: (r: JoinGroupResult) => void): void {
    const status = this.validateGroupStatus(p.groupId, 'join');
    if (status !== null) return respond(joinError(p.memberId, status));
    if (p.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || p.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
      return respond(joinError(p.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = p.memberId === UNKNOWN_MEMBER_ID;
    let group = this.groups.get(p.groupId);
    if (!group) {
      if (!isUnknownMember) return respond(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ClassicGroup(p.groupId, this.time.now());
      this.groups.set(p.groupId, group);
    }
    if (!this.acceptJoiningMember(group, p.memberId)) {
      group.remove(p.memberId);
      respond(joinError(UNKNOWN_MEMBER_ID, ErrorCode.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      this.doNewMemberJoinGroup(group, p, respond);
    } else {
      this.doCurrentMemberJoinGroup(group, p, respond);
    }
    // A join may be the last one the rebalance waits for.
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.config.groupMaxSize;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (group.has(memberId) && group.get(memberId).isAwaitingJoin) || group.numMembersAwaitingJoin < max;
      case 'CompletingRebalance':
      case 'Stable':
        return group.has(memberId) || group.size < max;
    }
  }

  private doNewMemberJoinGroup(group: ClassicGroup, p: JoinGroupParams, respond: (r: JoinGroupResult) => void): void {
    if (group.is('Dead')) return respond(joinError(p.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols)) return respond(joinError(p.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const newMemberId = `${p.clientId}-${randomUUID()}`;
    if (p.groupInstanceId !== null) {
      this.doStaticMemberJoinGroup(group, newMemberId, p, respond);
    } else if (p.requireKnownMemberId) {
      // KIP-394: the member must come back with this id; it counts as pending until then.
      group.pendingMembers.add(newMemberId);
      group.pendingMemberTimers.get(newMemberId)?.cancel();
      group.pendingMemberTimers.set(
        newMemberId,
        this.time.schedule(p.sessionTimeoutMs, () => {
          group.pendingMemberTimers.delete(newMemberId);
          if (this.groups.get(group.groupId) !== group || !group.isPendingMember(newMemberId)) return;
          this.logger.info({ groupId: group.groupId, memberId: newMemberId }, 'pending member removed after session timeout expiration');
          this.removePendingMemberAndUpdateGroup(group, newMemberId);
        }),
      );
      this.logger.debug({ groupId: group.groupId, memberId: newMemberId }, 'new member must rejoin with its generated member id');
      respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    } else {
      this.addMemberAndRebalance(group, newMemberId, p, respond, `${newMemberId} joined group; client reason: ${p.reason ?? 'not provided'}`);
    }
  }

  private doStaticMemberJoinGroup(group: ClassicGroup, newMemberId: string, p: JoinGroupParams, respond: (r: JoinGroupResult) => void): void {
    const instanceId = p.groupInstanceId!;
    const oldMemberId = group.staticMemberId(instanceId);
    if (oldMemberId === undefined) {
      this.addMemberAndRebalance(group, newMemberId, p, respond, `static member ${newMemberId} with instance id ${instanceId} joined`);
      return;
    }
    this.logger.info({ groupId: group.groupId, instanceId, oldMemberId, newMemberId }, 'static member rejoins with a new member id; the old one is fenced');
    const old = group.get(oldMemberId);
    const oldProtocols = old.protocols;
    const oldRebalanceTimeoutMs = old.rebalanceTimeoutMs;
    const oldSessionTimeoutMs = old.sessionTimeoutMs;
    const currentLeader = group.leaderId;
    old.heartbeatTimer?.cancel();
    old.heartbeatTimer = null;
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID), syncError(ErrorCode.FENCED_INSTANCE_ID));
    member.heartbeatTimer = null;
    this.completeAndScheduleNextHeartbeatExpiration(group, member);
    group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, respond);
    switch (group.state) {
      case 'Stable': {
        // Same protocol for the next generation: keep the assignment, no rebalance.
        if (group.protocolName === group.selectProtocol()) {
          const assignment = new Map([...group.members.values()].map((m) => [m.memberId, m.assignment]));
          void this.storeGroup(group, assignment).then((error) => {
            if (this.groups.get(group.groupId) !== group) return;
            if (error !== ErrorCode.NONE) {
              // Undo the replacement: the old member id stays the instance's one.
              if (group.has(newMemberId)) {
                const back = group.replaceStaticMember(instanceId, newMemberId, oldMemberId, joinError(newMemberId, error), syncError(error));
                // Members that joined meanwhile may rely on the new protocols: keep them if the old
                // ones would leave the group without a common protocol.
                const protocols = group.keepsCommonProtocol(back, oldProtocols) ? oldProtocols : back.protocols;
                group.updateMember(back, protocols, oldRebalanceTimeoutMs, oldSessionTimeoutMs, null);
                this.completeAndScheduleNextHeartbeatExpiration(group, back);
              } else {
                respond(joinError(UNKNOWN_MEMBER_ID, error));
              }
              return;
            }
            const m = group.members.get(newMemberId);
            if (!m) return;
            group.invokeJoinCallback(m, {
              errorCode: ErrorCode.NONE,
              memberId: newMemberId,
              generationId: group.generationId,
              protocolType: group.protocolType,
              protocolName: group.protocolName,
              // The old leader id, so that the current leader does not compute an assignment that a
              // stable group would never hand out.
              leaderId: currentLeader ?? '',
              members: [],
              skipAssignment: false,
            });
          });
        } else {
          this.maybePrepareRebalance(group, `static member ${newMemberId} with instance id ${instanceId} joined with a change of protocol`);
        }
        break;
      }
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, `updating metadata of static member ${newMemberId} with instance id ${instanceId}`);
        break;
      case 'PreparingRebalance':
        break;
      case 'Empty':
      case 'Dead':
        throw new Error(`group ${group.groupId} was ${group.state} while holding static member ${instanceId}`);
    }
  }

  private doCurrentMemberJoinGroup(group: ClassicGroup, p: JoinGroupParams, respond: (r: JoinGroupResult) => void): void {
    if (group.is('Dead')) return respond(joinError(p.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols)) return respond(joinError(p.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    if (group.isPendingMember(p.memberId)) {
      if (p.groupInstanceId !== null) throw new Error(`static member ${p.groupInstanceId} cannot be pending`);
      group.pendingMemberTimers.get(p.memberId)?.cancel();
      group.pendingMemberTimers.delete(p.memberId);
      this.addMemberAndRebalance(group, p.memberId, p, respond, `pending member ${p.memberId} joined; client reason: ${p.reason ?? 'not provided'}`);
      return;
    }
    if (group.isStaticMemberFenced(p.groupInstanceId, p.memberId)) return respond(joinError(p.memberId, ErrorCode.FENCED_INSTANCE_ID));
    if (!group.has(p.memberId) || (p.groupInstanceId !== null && !group.hasStaticMember(p.groupInstanceId))) {
      return respond(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
    const member = group.get(p.memberId);
    const reason = p.reason ?? 'not provided';
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberAndRebalance(group, member, p, respond, `member ${member.memberId} joining during PreparingRebalance; client reason: ${reason}`);
        break;
      case 'CompletingRebalance':
        if (member.matches(p.protocols)) {
          // The member lost the JoinGroup answer: the same generation again.
          respond(this.joinSuccess(group, member.memberId));
        } else {
          this.updateMemberAndRebalance(group, member, p, respond, `updating metadata of member ${member.memberId} during CompletingRebalance; client reason: ${reason}`);
        }
        break;
      case 'Stable':
        if (group.isLeader(member.memberId)) {
          // The leader rejoining forces a rebalance (it saw a change the metadata does not show).
          this.updateMemberAndRebalance(group, member, p, respond, `leader ${member.memberId} re-joining during Stable; client reason: ${reason}`);
        } else if (!member.matches(p.protocols)) {
          this.updateMemberAndRebalance(group, member, p, respond, `updating metadata of member ${member.memberId} during Stable; client reason: ${reason}`);
        } else {
          respond({ ...this.joinSuccess(group, member.memberId), members: [] });
        }
        break;
      case 'Empty':
      case 'Dead':
        this.logger.warn({ groupId: group.groupId, memberId: p.memberId, state: group.state }, 'known member joined a group in an unexpected state');
        respond(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        break;
    }
  }

  private joinSuccess(group: ClassicGroup, memberId: string): JoinGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      memberId,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderId ?? '',
      members: group.isLeader(memberId) ? group.currentMemberMetadata() : [],
      skipAssignment: false,
    };
  }

  private addMemberAndRebalance(group: ClassicGroup, memberId: string, p: JoinGroupParams, respond: (r: JoinGroupResult) => void, reason: string): void {
    const member = new GroupMember({
      memberId,
      groupInstanceId: p.groupInstanceId,
      clientId: p.clientId,
      clientHost: p.clientHost,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs,
      sessionTimeoutMs: p.sessionTimeoutMs,
      protocolType: p.protocolType,
      protocols: p.protocols,
    });
    member.isNew = true;
    // Members joining during the initial delay may extend it.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, respond);
    // New members cannot heartbeat yet; a member that never completes its join is dropped.
    this.scheduleExpiration(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(group, reason);
  }

  private updateMemberAndRebalance(group: ClassicGroup, member: GroupMember, p: JoinGroupParams, respond: (r: JoinGroupResult) => void, reason: string): void {
    group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, respond);
    this.maybePrepareRebalance(group, reason);
  }

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is('Stable') || group.is('CompletingRebalance') || group.is('Empty')) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    group.syncTimer?.cancel();
    group.syncTimer = null;
    group.joinTimer?.cancel();
    const initialDelay = this.config.groupInitialRebalanceDelayMs;
    if (group.is('Empty')) {
      const remaining = Math.max(group.rebalanceTimeoutMs - initialDelay, 0);
      group.joinIsInitial = true;
      group.joinTimer = this.time.schedule(initialDelay, () => this.onInitialDelayExpired(group, remaining));
    } else {
      group.joinIsInitial = false;
      group.joinTimer = this.time.schedule(group.rebalanceTimeoutMs, () => this.onCompleteJoin(group));
    }
    group.transitionTo('PreparingRebalance', this.time.now());
    this.logger.info({ groupId: group.groupId, generationId: group.generationId, reason }, 'preparing to rebalance group');
    this.tryCompleteJoin(group);
  }

  private onInitialDelayExpired(group: ClassicGroup, remainingMs: number): void {
    group.joinTimer = null;
    if (this.groups.get(group.groupId) !== group) return;
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const delay = Math.min(this.config.groupInitialRebalanceDelayMs, remainingMs);
      const rest = Math.max(remainingMs - delay, 0);
      group.joinTimer = this.time.schedule(delay, () => this.onInitialDelayExpired(group, rest));
      return;
    }
    this.onCompleteJoin(group);
  }

  /** Completes the join phase early once every member has rejoined (not during the initial delay). */
  private tryCompleteJoin(group: ClassicGroup): void {
    if (!group.is('PreparingRebalance') || group.joinIsInitial || !group.hasAllMembersJoined) return;
    group.joinTimer?.cancel();
    this.onCompleteJoin(group);
  }

  private onCompleteJoin(group: ClassicGroup): void {
    group.joinTimer = null;
    if (this.groups.get(group.groupId) !== group || !group.is('PreparingRebalance')) return;
    // Dynamic members that did not rejoin in time leave; static ones keep their place.
    for (const m of group.notYetRejoinedMembers()) {
      if (m.isStatic) continue;
      this.logger.info({ groupId: group.groupId, memberId: m.memberId }, 'member did not rejoin in time and is removed');
      m.heartbeatTimer?.cancel();
      m.heartbeatTimer = null;
      group.invokeSyncCallback(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      group.remove(m.memberId);
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      this.logger.error({ groupId: group.groupId }, 'group could not complete rebalance because no members rejoined');
      group.joinIsInitial = false;
      group.joinTimer = this.time.schedule(group.rebalanceTimeoutMs, () => this.onCompleteJoin(group));
      return;
    }
    group.initNextGeneration(this.time.now());
    if (group.is('Empty')) {
      this.logger.info({ groupId: group.groupId, generationId: group.generationId }, 'group is now empty');
      void this.storeGroup(group, new Map()).then((error) => {
        if (error !== ErrorCode.NONE) this.logger.warn({ groupId: group.groupId, errorCode: error }, 'failed to write the metadata of an empty group');
      });
      return;
    }
    this.logger.info({ groupId: group.groupId, generationId: group.generationId, protocol: group.protocolName, members: group.size }, 'stabilized group');
    for (const m of group.members.values()) {
      group.invokeJoinCallback(m, this.joinSuccess(group, m.memberId));
      this.completeAndScheduleNextHeartbeatExpiration(group, m);
      m.isNew = false;
      group.pendingSyncMembers.add(m.memberId);
    }
    this.schedulePendingSync(group);
  }

  private schedulePendingSync(group: ClassicGroup): void {
    group.syncTimer?.cancel();
    const generation = group.generationId;
    group.syncTimer = this.time.schedule(group.rebalanceTimeoutMs, () => {
      group.syncTimer = null;
      if (this.groups.get(group.groupId) !== group || group.generationId !== generation) return;
      if (!(group.is('CompletingRebalance') || group.is('Stable')) || group.pendingSyncMembers.size === 0) return;
      const missing = [...group.pendingSyncMembers];
      this.logger.info({ groupId: group.groupId, members: missing }, 'removing members that did not send SyncGroup in time');
      for (const id of missing) {
        const m = group.members.get(id);
        m?.heartbeatTimer?.cancel();
        group.remove(id);
        if (m) group.removeStaticMember(m.groupInstanceId);
      }
      this.maybePrepareRebalance(group, `removing ${missing.join(', ')} on pending sync request expiration`);
    });
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) {
      group.syncTimer?.cancel();
      group.syncTimer = null;
    }
  }

  // ---- heartbeats and member expiry ----

  private completeAndScheduleNextHeartbeatExpiration(group: ClassicGroup, member: GroupMember): void {
    this.scheduleExpiration(group, member, member.sessionTimeoutMs);
  }

  private scheduleExpiration(group: ClassicGroup, member: GroupMember, timeoutMs: number): void {
    member.heartbeatTimer?.cancel();
    member.heartbeatSatisfied = false;
    member.heartbeatTimer = this.time.schedule(timeoutMs, () => this.onExpireHeartbeat(group, member));
  }

  private onExpireHeartbeat(group: ClassicGroup, member: GroupMember): void {
    member.heartbeatTimer = null;
    if (this.groups.get(group.groupId) !== group || group.is('Dead')) return;
    if (group.members.get(member.memberId) !== member) return;
    if (member.hasSatisfiedHeartbeat) return;
    this.logger.info({ groupId: group.groupId, memberId: member.memberId }, 'member has failed (session expired) and is removed from the group');
    this.removeMemberAndUpdateGroup(group, member, `removing member ${member.memberId} on heartbeat expiration`);
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: string): void {
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = null;
    // A new member may time out while its JoinGroup waits: answer it so the client rejoins.
    group.invokeJoinCallback(member, joinError(UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID));
    group.invokeSyncCallback(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
    group.removeStaticMember(member.groupInstanceId);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, reason);
        break;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  private removePendingMemberAndUpdateGroup(group: ClassicGroup, memberId: string): void {
    group.pendingMemberTimers.get(memberId)?.cancel();
    group.pendingMemberTimers.delete(memberId);
    group.remove(memberId);
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  // ---- SyncGroup ----

  syncGroup(p: SyncGroupParams): Promise<SyncGroupResult> {
    return new Promise((resolve) => {
      try {
        this.handleSyncGroup(p, resolve);
      } catch (err) {
        this.logger.error({ err, groupId: p.groupId }, 'SyncGroup failed');
        resolve(syncError(errorCodeOf(err)));
      }
    });
  }

  private handleSyncGroup(p: SyncGroupParams, respond: (r: SyncGroupResult) => void): void {
    const status = this.validateGroupStatus(p.groupId, 'sync');
    if (status !== null) return respond(syncError(status));
    const group = this.groups.get(p.groupId);
    if (!group) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is('Dead')) return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (group.isStaticMemberFenced(p.groupInstanceId, p.memberId)) return respond(syncError(ErrorCode.FENCED_INSTANCE_ID));
    if (!group.has(p.memberId)) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (p.generationId !== group.generationId) return respond(syncError(ErrorCode.ILLEGAL_GENERATION));
    if (p.protocolType !== null && group.protocolType !== p.protocolType) return respond(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    if (p.protocolName !== null && group.protocolName !== p.protocolName) return respond(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    switch (group.state) {
      case 'Empty':
        return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        const member = group.get(p.memberId);
        // A repeated SyncGroup replaces the earlier one, which is answered as superseded.
        group.invokeSyncCallback(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.awaitingSync = respond;
        this.removePendingSyncMember(group, p.memberId);
        if (group.isLeader(p.memberId)) {
          this.logger.info({ groupId: group.groupId, generationId: group.generationId, leader: p.memberId }, 'assignment received from the leader');
          const assignment = new Map<string, Buffer>();
          for (const a of p.assignments) assignment.set(a.memberId, a.assignment);
          for (const id of group.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY);
          const generation = group.generationId;
          void this.storeGroup(group, assignment).then((error) => {
            // Another member may have joined meanwhile: act only on the same generation.
            if (this.groups.get(group.groupId) !== group || !group.is('CompletingRebalance') || group.generationId !== generation) return;
            if (error !== ErrorCode.NONE) {
              this.resetAndPropagateAssignmentError(group, error);
              this.maybePrepareRebalance(group, `error ${error} when storing the group assignment during SyncGroup`);
              return;
            }
            for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY;
            this.propagateAssignment(group, ErrorCode.NONE);
            group.transitionTo('Stable', this.time.now());
          });
        }
        return;
      }
      case 'Stable': {
        this.removePendingSyncMember(group, p.memberId);
        const member = group.get(p.memberId);
        respond({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
        this.completeAndScheduleNextHeartbeatExpiration(group, member);
        return;
      }
      case 'Dead':
        return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) {
      const result: SyncGroupResult =
        errorCode === ErrorCode.NONE ? { errorCode, protocolType: group.protocolType, protocolName: group.protocolName, assignment: m.assignment } : syncError(errorCode);
      // Expiry was suspended while the member waited: its next deadline starts now.
      if (group.invokeSyncCallback(m, result)) this.completeAndScheduleNextHeartbeatExpiration(group, m);
    }
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY;
    this.propagateAssignment(group, errorCode);
  }

  // ---- Heartbeat ----

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const status = this.validateGroupStatus(groupId, 'heartbeat');
    if (status !== null) return status;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(groupInstanceId, memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (!group.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.get(memberId);
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'CompletingRebalance':
      case 'Stable':
        this.completeAndScheduleNextHeartbeatExpiration(group, member);
        return ErrorCode.NONE;
      case 'PreparingRebalance':
        this.completeAndScheduleNextHeartbeatExpiration(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'Dead':
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  // ---- LeaveGroup ----

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveGroupResult {
    const status = this.validateGroupStatus(groupId, 'leave');
    if (status !== null) return { errorCode: status, members: [] };
    const group = this.groups.get(groupId);
    const answer = (m: LeavingMember, errorCode: number) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
    if (!group) return { errorCode: ErrorCode.NONE, members: leaving.map((m) => answer(m, ErrorCode.UNKNOWN_MEMBER_ID)) };
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((l) => {
      const reason = `member ${l.memberId || l.groupInstanceId} left the group; client reason: ${l.reason ?? 'not provided'}`;
      if (l.memberId === UNKNOWN_MEMBER_ID) {
        // Administrative removal by group instance id.
        const current = l.groupInstanceId !== null ? group.staticMemberId(l.groupInstanceId) : undefined;
        if (current === undefined || !group.has(current)) return answer(l, ErrorCode.UNKNOWN_MEMBER_ID);
        this.removeMemberAndUpdateGroup(group, group.get(current), reason);
        return answer(l, ErrorCode.NONE);
      }
      if (group.isPendingMember(l.memberId)) {
        this.removePendingMemberAndUpdateGroup(group, l.memberId);
        return answer(l, ErrorCode.NONE);
      }
      if (group.isStaticMemberFenced(l.groupInstanceId, l.memberId)) return answer(l, ErrorCode.FENCED_INSTANCE_ID);
      if (group.has(l.memberId)) {
        this.logger.info({ groupId, memberId: l.memberId, reason: l.reason ?? null }, 'member left the group');
        this.removeMemberAndUpdateGroup(group, group.get(l.memberId), reason);
        return answer(l, ErrorCode.NONE);
      }
      return answer(l, ErrorCode.UNKNOWN_MEMBER_ID);
    });
    return { errorCode: ErrorCode.NONE, members };
  }

  // ---- offsets ----

  /** Commits offsets; resolves with one error code per entry, in order, once written. */
  async commitOffsets(p: OffsetCommitParams): Promise<number[]> {
    const all = (code: number): number[] => p.offsets.map(() => code);
    const status = this.validateGroupStatus(p.groupId, 'offset-commit');
    if (status !== null) return all(status);
    let group = this.groups.get(p.groupId);
    if (!group) {
      // Without a group, only commits outside group management (generation -1) are accepted.
      if (p.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(p.groupId, this.time.now());
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
        this.completeAndScheduleNextHeartbeatExpiration(group, group.get(p.memberId));
        return this.storeOffsets(group, p);
      case 'CompletingRebalance':
        return all(ErrorCode.REBALANCE_IN_PROGRESS);
      default:
        throw new Error(`unexpected state ${group.state} of group ${group.groupId} for an offset commit`);
    }
  }

  private async storeOffsets(group: ClassicGroup, p: OffsetCommitParams): Promise<number[]> {
    const now = this.time.now();
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
      await this.log.append(this.partitionFor(group.groupId), records);
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
    const status = this.validateGroupStatus(groupId, 'offset-fetch');
    if (status !== null) return { errorCode: status, offsets: [] };
    const missing = (topic: string, partition: number, errorCode: number = ErrorCode.NONE): FetchedOffset => ({ topic, partition, offset: -1n, leaderEpoch: -1, metadata: '', errorCode });
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.NONE, offsets: (partitions ?? []).map((tp) => missing(tp.topic, tp.partition)) };
    const wanted = partitions ?? [...group.offsets.values()].map((o) => ({ topic: o.topic, partition: o.partition }));
    const offsets = wanted.map((tp) => {
      const k = offsetKey(tp.topic, tp.partition);
      if (requireStable && group.pendingOffsetCommits.has(k)) return missing(tp.topic, tp.partition, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      const o = group.offsets.get(k);
      if (!o) return missing(tp.topic, tp.partition);
      return { topic: tp.topic, partition: tp.partition, offset: o.value.offset, leaderEpoch: o.value.leaderEpoch, metadata: o.value.metadata, errorCode: ErrorCode.NONE };
    });
    return { errorCode: ErrorCode.NONE, offsets };
  }

  /** OffsetDelete: per-partition errors (GROUP_SUBSCRIBED_TO_TOPIC for topics in use) or a group error. */
  async deleteOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<{ errorCode: number; partitions: number[] }> {
    const status = this.validateGroupStatus(groupId, 'offset-delete');
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
      if (group.is('Empty') && !group.hasOffsets()) group.transitionTo('Dead', this.time.now());
      const tombstones: CoordinatorRecord[] = removed.map((o) => ({ key: offsetCommitKey(group.groupId, o.topic, o.partition), value: null }));
      if (group.is('Dead') && this.groups.get(group.groupId) === group) {
        this.groups.delete(group.groupId);
        this.abandonGroup(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        // A group that only stored offsets (generation 0) never wrote group metadata.
        if (group.generationId > 0) tombstones.push({ key: groupMetadataKey(group.groupId), value: null });
      }
      if (tombstones.length === 0) continue;
      const p = this.partitionFor(group.groupId);
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

  private scheduleRetentionCheck(): void {
    this.retentionTimer = this.time.schedule(this.config.offsetsRetentionCheckIntervalMs, () => {
      this.retentionTimer = null;
      if (!this.active) return;
      void this.cleanupExpiredOffsets().finally(() => {
        if (this.active) this.scheduleRetentionCheck();
      });
    });
  }

  /** Removes offsets past `offsets.retention.minutes` as Kafka's removeExpiredOffsets (KIP-211). */
  async cleanupExpiredOffsets(): Promise<number> {
    const now = this.time.now();
    const retention = this.config.offsetsRetentionMs;
    const groups = [...this.groups.values()].filter((g) => {
      const own = this.owned.get(this.partitionFor(g.groupId));
      return own !== undefined && !own.loading;
    });
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

  // ---- DescribeGroups, ListGroups, DeleteGroups ----

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

  /** Deletes Empty groups with their offsets; one error code per id, in order. */
  async deleteGroups(groupIds: readonly string[]): Promise<number[]> {
    const errors: number[] = [];
    const eligible: ClassicGroup[] = [];
    for (const id of groupIds) {
      const status = this.validateGroupStatus(id, 'delete');
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
        g.transitionTo('Dead', this.time.now());
        return removed;
      });
    }
    return errors;
  }

  // ---- writes ----

  /** Writes the group's metadata record with `assignment`; resolves with the error to answer. */
  private async storeGroup(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): Promise<number> {
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
