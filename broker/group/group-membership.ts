// Membership of classic groups (Kafka's GroupCoordinator join/sync/heartbeat/leave paths): members
// join through JoinGroup (KIP-394 pending ids, static members of KIP-345), the group rebalances
// (PreparingRebalance → CompletingRebalance → Stable), the leader's assignment is written and
// handed out through SyncGroup, heartbeats keep members in, LeaveGroup and expiries take them out.
// Invariants:
// - A group is changed only here and by the coordinator, synchronously within one call, one timer
//   or one write's completion (the event loop serializes them); a completion re-checks state and
//   generation before acting, as Kafka's callbacks do under the group lock.
// - Delayed answers (JoinGroup waiting for the rebalance, SyncGroup waiting for the leader) are
//   callbacks kept on the member; every path that drops a member answers its callbacks.
// - Timers, each scheduled in its group's scope (a failure abandons that group's rebalance only):
//   a heartbeat deadline per member (session timeout; 5 minutes for a member that never completed
//   a join), one join timer per rebalancing group (initial delay or rebalance timeout), one sync
//   timer per group completing a rebalance, and one per pending (KIP-394) member id.
// - Each completed rebalance is one new generation; group metadata is written after it (and when
//   a group becomes Empty).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode, errorCodeOf, KafkaError } from '../../protocol/errors.ts';
import type { Scheduler } from '../../protocol/scheduler.ts';
import { ClassicGroup, GroupMember, joinError, type JoinGroupResult, syncError, type SyncGroupResult, uniqueProtocols } from './classic-group.ts';
import {
  type GroupCoordinatorConfig,
  type GroupShard,
  type JoinGroupParams,
  type LeaveGroupResult,
  type LeavingMember,
  NEW_MEMBER_JOIN_TIMEOUT_MS,
  type SyncGroupParams,
  UNKNOWN_MEMBER_ID,
} from './group-api.ts';

const EMPTY = Buffer.alloc(0);

export class GroupMembership {
  private readonly shard: GroupShard;
  private readonly config: GroupCoordinatorConfig;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly groups: Map<string, ClassicGroup>;

  constructor(shard: GroupShard) {
    this.shard = shard;
    this.config = shard.config;
    this.scheduler = shard.scheduler;
    this.logger = shard.logger;
    this.groups = shard.groups;
  }

  /**
   * Abandons a group's rebalance after a failure in its timers, its write completions or the
   * middle of one of its requests, which may have left it half changed. Every waiting JoinGroup
   * and SyncGroup is answered UNKNOWN_MEMBER_ID and the members are dropped: the group becomes
   * Empty at the next generation (so a late commit of the old one is refused) and keeps its
   * offsets. Clients treat UNKNOWN_MEMBER_ID as "rejoin with a new member id", so they are back
   * at the next JoinGroup or heartbeat, and a rebalance starts from a state that is consistent.
   */
  failGroup(group: ClassicGroup, err: unknown): void {
    const current = this.groups.get(group.groupId) === group;
    this.logger.warn({ err, groupId: group.groupId, generationId: group.generationId, state: group.state, members: group.size }, 'abandoning the rebalance of the group; its members must rejoin');
    this.shard.abandonGroup(group, ErrorCode.UNKNOWN_MEMBER_ID);
    if (!current || group.is('Dead')) return;
    const hadMembers = group.size > 0 || !group.is('Empty');
    group.dropAllMembers(this.scheduler.now());
    if (!hadMembers) return;
    this.shard.afterWrite(group, 'empty-group-write', this.shard.storeGroup(group, new Map()), (error) => {
      if (error !== ErrorCode.NONE) this.logger.warn({ groupId: group.groupId, errorCode: error }, 'failed to write the metadata of an abandoned group');
    });
  }

  /** Runs a synchronous request on a group; an unexpected error fails the group, then the request. */
  private guarded<T>(groupId: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      this.failAfterUnexpected(groupId, err);
      throw err;
    }
  }

  /** An unexpected error in the middle of a group's request may have left it half changed. */
  private failAfterUnexpected(groupId: string, err: unknown): void {
    if (err instanceof KafkaError) return;
    const group = this.groups.get(groupId);
    if (group) this.failGroup(group, err);
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
        this.failAfterUnexpected(p.groupId, err);
      }
    });
  }

  private handleJoinGroup(p: JoinGroupParams, respond: (r: JoinGroupResult) => void): void {
    const status = this.shard.validateGroupStatus(p.groupId, 'join');
    if (status !== null) return respond(joinError(p.memberId, status));
    if (p.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || p.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
      return respond(joinError(p.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = p.memberId === UNKNOWN_MEMBER_ID;
    let group = this.groups.get(p.groupId);
    if (!group) {
      if (!isUnknownMember) return respond(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = this.shard.newGroup(p.groupId);
      this.groups.set(p.groupId, group);
    }
    if (!this.acceptJoiningMember(group, p.memberId)) {
      // Kafka drops a known member refused for the group's size; it comes back as a new one.
      const refused = group.members.get(p.memberId);
      refused?.heartbeatTimer?.cancel();
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
        this.scheduler.schedule(p.sessionTimeoutMs, this.shard.groupScope(group, 'pending-member-expiry'), () => {
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
          this.shard.afterWrite(group, 'static-member-write', this.shard.storeGroup(group, assignment), (error) => {
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
      if (p.groupInstanceId !== null) {
        // Pending ids are handed to dynamic members only. Kafka answers this with an internal
        // error; it is the client's mistake, so the group itself is left alone.
        this.logger.info({ groupId: group.groupId, memberId: p.memberId, instanceId: p.groupInstanceId }, 'JoinGroup names a pending member id with a group instance id');
        return respond(joinError(p.memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
      }
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
      group.joinTimer = this.scheduler.schedule(initialDelay, this.shard.groupScope(group, 'initial-rebalance-delay'), () => this.onInitialDelayExpired(group, remaining));
    } else {
      group.joinIsInitial = false;
      group.joinTimer = this.scheduler.schedule(group.rebalanceTimeoutMs, this.shard.groupScope(group, 'join-timeout'), () => this.onCompleteJoin(group));
    }
    group.transitionTo('PreparingRebalance', this.scheduler.now());
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
      group.joinTimer = this.scheduler.schedule(delay, this.shard.groupScope(group, 'initial-rebalance-delay'), () => this.onInitialDelayExpired(group, rest));
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
      group.joinTimer = this.scheduler.schedule(group.rebalanceTimeoutMs, this.shard.groupScope(group, 'join-timeout'), () => this.onCompleteJoin(group));
      return;
    }
    group.initNextGeneration(this.scheduler.now());
    if (group.is('Empty')) {
      this.logger.info({ groupId: group.groupId, generationId: group.generationId }, 'group is now empty');
      this.shard.afterWrite(group, 'empty-group-write', this.shard.storeGroup(group, new Map()), (error) => {
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
    group.syncTimer = this.scheduler.schedule(group.rebalanceTimeoutMs, this.shard.groupScope(group, 'sync-timeout'), () => {
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

  /** The member did what its deadline asked: its next one is a session timeout from now. */
  completeAndScheduleNextHeartbeatExpiration(group: ClassicGroup, member: GroupMember): void {
    this.scheduleExpiration(group, member, member.sessionTimeoutMs);
  }

  private scheduleExpiration(group: ClassicGroup, member: GroupMember, timeoutMs: number): void {
    member.heartbeatTimer?.cancel();
    member.heartbeatSatisfied = false;
    member.heartbeatTimer = this.scheduler.schedule(timeoutMs, this.shard.groupScope(group, 'heartbeat-expiry'), () => this.onExpireHeartbeat(group, member));
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
        this.failAfterUnexpected(p.groupId, err);
      }
    });
  }

  private handleSyncGroup(p: SyncGroupParams, respond: (r: SyncGroupResult) => void): void {
    const status = this.shard.validateGroupStatus(p.groupId, 'sync');
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
          this.shard.afterWrite(group, 'assignment-write', this.shard.storeGroup(group, assignment), (error) => {
            // Another member may have joined meanwhile: act only on the same generation.
            if (this.groups.get(group.groupId) !== group || !group.is('CompletingRebalance') || group.generationId !== generation) return;
            if (error !== ErrorCode.NONE) {
              this.resetAndPropagateAssignmentError(group, error);
              this.maybePrepareRebalance(group, `error ${error} when storing the group assignment during SyncGroup`);
              return;
            }
            for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY;
            this.propagateAssignment(group, ErrorCode.NONE);
            group.transitionTo('Stable', this.scheduler.now());
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
    return this.guarded(groupId, () => this.handleHeartbeat(groupId, memberId, groupInstanceId, generationId));
  }

  private handleHeartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const status = this.shard.validateGroupStatus(groupId, 'heartbeat');
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
    return this.guarded(groupId, () => this.handleLeaveGroup(groupId, leaving));
  }

  private handleLeaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveGroupResult {
    const status = this.shard.validateGroupStatus(groupId, 'leave');
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
}
