// One classic consumer group's state, as Kafka's GroupMetadata/MemberMetadata hold it: state,
// generation, protocol type and selected protocol, leader, members (dynamic and static), members
// that must still join (pending, KIP-394) or sync, and the group's committed offsets (the shard's
// timeline map of them, which only replayed records change).
// Invariants: only the group coordinator changes a group, from one call at a time (all of a
// group's mutations run on the event loop without awaiting in between); state changes follow
// Kafka's allowed transitions (`transitionTo` refuses any other); `numMembersAwaitingJoin` counts
// members with a pending JoinGroup answer; `supportedProtocols` counts members per protocol name
// (a member's protocol names are distinct: a repeated name keeps its first entry, as the metadata
// lookup would); while the group has members, at least one protocol is supported by all of them,
// which is what lets a rebalance select one. Joins keep this by refusing a member that shares no
// protocol with the others (INCONSISTENT_GROUP_PROTOCOL).
import { DecodeError } from '../../protocol/decode-error.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { type ConsumerProtocolSubscription, decodeConsumerProtocolSubscription } from '../../protocol/generated/message/consumer-protocol-subscription.ts';
import { Reader } from '../../protocol/reader.ts';
import type { TimerHandle } from '../../protocol/scheduler.ts';
import { SnapshotRegistry, TimelineMap } from '../coordinator/timeline.ts';
import type { OffsetAndMetadata } from './offsets-topic.ts';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupResult {
  errorCode: number;
  memberId: string;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  /** Filled for the leader only. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
  skipAssignment: boolean;
}

export interface SyncGroupResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

/** The protocols with each name kept once, at its first position. */
export function uniqueProtocols(protocols: readonly Protocol[]): Protocol[] {
  const seen = new Set<string>();
  const out: Protocol[] = [];
  for (const p of protocols) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push(p);
  }
  return out;
}

export function joinError(memberId: string, errorCode: number): JoinGroupResult {
  return { errorCode, memberId, generationId: -1, protocolType: null, protocolName: null, leaderId: '', members: [], skipAssignment: false };
}

export function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
}

export class GroupMember {
  readonly memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  assignment: Buffer = Buffer.alloc(0);
  awaitingJoin: ((r: JoinGroupResult) => void) | null = null;
  awaitingSync: ((r: SyncGroupResult) => void) | null = null;
  /** Joined in the current rebalance and never completed one: expires on its own join timeout. */
  isNew = false;
  heartbeatSatisfied = false;
  heartbeatTimer: TimerHandle | null = null;

  constructor(m: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; rebalanceTimeoutMs: number; sessionTimeoutMs: number; protocolType: string; protocols: Protocol[] }) {
    this.memberId = m.memberId;
    this.groupInstanceId = m.groupInstanceId;
    this.clientId = m.clientId;
    this.clientHost = m.clientHost;
    this.rebalanceTimeoutMs = m.rebalanceTimeoutMs;
    this.sessionTimeoutMs = m.sessionTimeoutMs;
    this.protocolType = m.protocolType;
    this.protocols = uniqueProtocols(m.protocols);
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /** Whether the member has done what its current heartbeat deadline asks of it. */
  get hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return this.heartbeatSatisfied;
    if (this.isAwaitingJoin || this.isAwaitingSync) return true;
    return this.heartbeatSatisfied;
  }

  metadata(protocol: string): Buffer {
    const p = this.protocols.find((x) => x.name === protocol);
    if (!p) throw new Error(`member ${this.memberId} does not support protocol ${protocol}`);
    return p.metadata;
  }

  /** Same protocols, in the same order, with the same metadata bytes. */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata));
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.protocols.find((x) => candidates.has(x.name));
    if (!p) throw new Error(`member ${this.memberId} supports none of the candidate protocols`);
    return p.name;
  }
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  value: OffsetAndMetadata;
}

export function offsetKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/** A group's committed offsets by partition key. */
export type GroupOffsetMap = TimelineMap<string, CommittedOffset>;

export class ClassicGroup {
  readonly groupId: string;
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  currentStateTimestamp: number | null;
  readonly members = new Map<string, GroupMember>();
  /** groupInstanceId → memberId. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED whose holders have not joined yet. */
  readonly pendingMembers = new Set<string>();
  readonly pendingMemberTimers = new Map<string, TimerHandle>();
  readonly pendingSyncMembers = new Set<string>();
  numMembersAwaitingJoin = 0;
  private readonly supportedProtocols = new Map<string, number>();
  /** A member joined during the initial delay: the delay may be extended once more. */
  newMemberAdded = false;
  /** Topics the members subscribe to (consumer protocol), or null when not known. */
  subscribedTopics: Set<string> | null = null;
  readonly offsets: GroupOffsetMap;
  joinTimer: TimerHandle | null = null;
  /** The running join phase is the initial delay of an empty group (completes only on its timer). */
  joinIsInitial = false;
  syncTimer: TimerHandle | null = null;

  constructor(groupId: string, now: number, state: GroupState = 'Empty', offsets: GroupOffsetMap = new TimelineMap(new SnapshotRegistry())) {
    this.groupId = groupId;
    this.offsets = offsets;
    this.state = state;
    this.currentStateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState, now: number): void {
    if (!VALID_PREVIOUS[state].includes(this.state)) {
      throw new Error(`Group ${this.groupId} should be in one of ${VALID_PREVIOUS[state].join(', ')} before moving to ${state}, but is ${this.state}`);
    }
    this.state = state;
    this.currentStateTimestamp = now;
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): GroupMember {
    const m = this.members.get(memberId);
    if (!m) throw new Error(`member ${memberId} is not in group ${this.groupId}`);
    return m;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  hasStaticMember(groupInstanceId: string | null): boolean {
    return groupInstanceId !== null && this.staticMembers.has(groupInstanceId);
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /** A request names a static instance whose current member id is another one. */
  isStaticMemberFenced(groupInstanceId: string | null, memberId: string): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  get hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingMembers.size === 0;
  }

  /** Members that have not rejoined during the current rebalance. */
  notYetRejoinedMembers(): GroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  add(member: GroupMember, callback: ((r: JoinGroupResult) => void) | null): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.leaderId ??= member.memberId;
    this.members.set(member.memberId, member);
    for (const p of member.protocols) this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + 1);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    member.awaitingJoin = callback;
    if (callback) this.numMembersAwaitingJoin++;
    this.pendingMembers.delete(member.memberId);
  }

  remove(memberId: string): void {
    const m = this.members.get(memberId);
    if (m) {
      this.members.delete(memberId);
      for (const p of m.protocols) this.decSupported(p.name);
      if (m.isAwaitingJoin) this.numMembersAwaitingJoin--;
      // A static member leaves with its instance id, as in Kafka's ClassicGroup.remove.
      if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) this.staticMembers.delete(m.groupInstanceId);
    }
    this.pendingMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  removeStaticMember(groupInstanceId: string | null): void {
    if (groupInstanceId !== null) this.staticMembers.delete(groupInstanceId);
  }

  private decSupported(name: string): void {
    const n = (this.supportedProtocols.get(name) ?? 0) - 1;
    if (n <= 0) this.supportedProtocols.delete(name);
    else this.supportedProtocols.set(name, n);
  }

  /** New protocols, timeouts and join callback for a member already in the group. */
  updateMember(member: GroupMember, protocols: Protocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, callback: ((r: JoinGroupResult) => void) | null): void {
    // A JoinGroup repeated while the first waits supersedes it; the first is answered, not dropped.
    if (callback && member.awaitingJoin && member.awaitingJoin !== callback) this.invokeJoinCallback(member, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    for (const p of member.protocols) this.decSupported(p.name);
    member.protocols = uniqueProtocols(protocols);
    for (const p of member.protocols) this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (callback && !member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    else if (!callback && member.isAwaitingJoin) this.numMembersAwaitingJoin--;
    member.awaitingJoin = callback;
  }

  /** Answers a member's pending JoinGroup, if it has one. */
  invokeJoinCallback(member: GroupMember, result: JoinGroupResult): void {
    const cb = member.awaitingJoin;
    if (!cb) return;
    member.awaitingJoin = null;
    this.numMembersAwaitingJoin--;
    cb(result);
  }

  invokeSyncCallback(member: GroupMember, result: SyncGroupResult): boolean {
    const cb = member.awaitingSync;
    if (!cb) return false;
    member.awaitingSync = null;
    cb(result);
    return true;
  }

  /**
   * Moves a static instance to a new member id (a rejoin without the old id), answering the old
   * id's pending calls with FENCED_INSTANCE_ID. Returns the member, now under `newMemberId`.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string, fencedJoin: JoinGroupResult, fencedSync: SyncGroupResult): GroupMember {
    const old = this.members.get(oldMemberId);
    if (!old) throw new Error(`static member ${groupInstanceId} has no member ${oldMemberId}`);
    this.members.delete(oldMemberId);
    if (old.awaitingJoin) this.invokeJoinCallback(old, fencedJoin);
    this.invokeSyncCallback(old, fencedSync);
    const replaced = new GroupMember({ ...old, memberId: newMemberId, protocols: old.protocols });
    replaced.assignment = old.assignment;
    replaced.heartbeatTimer = old.heartbeatTimer;
    this.members.set(newMemberId, replaced);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return replaced;
  }

  /**
   * Forgets every member and pending id (their callbacks must have been answered) and makes the
   * group Empty at the next generation; a group already Empty keeps its generation. For a
   * rebalance abandoned after a failure, so no transition rule is checked.
   */
  dropAllMembers(now: number): void {
    const wasEmpty = this.is('Empty') && this.members.size === 0;
    this.joinTimer?.cancel();
    this.joinTimer = null;
    this.syncTimer?.cancel();
    this.syncTimer = null;
    for (const m of this.members.values()) {
      m.heartbeatTimer?.cancel();
      m.heartbeatTimer = null;
      m.awaitingJoin = null;
      m.awaitingSync = null;
    }
    this.members.clear();
    this.staticMembers.clear();
    this.pendingMembers.clear();
    for (const t of this.pendingMemberTimers.values()) t.cancel();
    this.pendingMemberTimers.clear();
    this.pendingSyncMembers.clear();
    this.supportedProtocols.clear();
    this.numMembersAwaitingJoin = 0;
    this.leaderId = null;
    this.protocolName = null;
    this.newMemberAdded = false;
    this.joinIsInitial = false;
    this.subscribedTopics = this.computeSubscribedTopics();
    if (wasEmpty) return;
    this.generationId++;
    this.state = 'Empty';
    this.currentStateTimestamp = now;
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    const n = this.members.size;
    return new Set([...this.supportedProtocols].filter(([, c]) => c === n).map(([name]) => name));
  }

  /**
   * Whether a member with these protocols may join (Kafka's supportsProtocols): an Empty group
   * takes any non-empty type and list; otherwise the type must be the group's and one of the
   * protocols must be supported by every member (a known member counts itself, so it may change
   * its list only to one that keeps a protocol in common with the others).
   */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.is('Empty')) return protocolType.length > 0 && protocols.length > 0;
    return this.protocolType === protocolType && protocols.some((p) => (this.supportedProtocols.get(p.name) ?? 0) === this.members.size);
  }

  /** Whether the member's protocols, replaced by `protocols`, would still share one with every other member. */
  keepsCommonProtocol(member: GroupMember, protocols: readonly Protocol[]): boolean {
    const n = this.members.size;
    return protocols.some((p) => (this.supportedProtocols.get(p.name) ?? 0) - (member.protocols.some((q) => q.name === p.name) ? 1 : 0) === n - 1);
  }

  /** The protocol most members prefer among those all support (ties: first to reach the count). */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /** Elects a member that has rejoined when the leader has not; false when nobody rejoined. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', now);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', now);
    }
    this.pendingSyncMembers.clear();
  }

  /** Union of the members' consumer-protocol subscriptions; null when it cannot be known. */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const sub = decodeSubscription(m.metadata(this.protocolName));
      if (!sub) return null;
      for (const t of sub.topics) topics.add(t);
    }
    return topics;
  }

  /** Conservative: true when the subscriptions are unknown. */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null || this.subscribedTopics.has(topic);
  }

  currentMemberMetadata(): JoinGroupResult['members'] {
    if (this.protocolName === null) throw new Error(`no protocol selected for group ${this.groupId}`);
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(this.protocolName!) }));
  }
}

/** A consumer-protocol subscription, or null when the bytes are not one. */
export function decodeSubscription(metadata: Buffer): ConsumerProtocolSubscription | null {
  try {
    const r = new Reader(metadata);
    const version = r.readInt16();
    // Newer versions keep the fields of the latest known one as a prefix.
    return decodeConsumerProtocolSubscription(r, Math.min(Math.max(version, 0), 3));
  } catch (err) {
    if (err instanceof DecodeError) return null;
    throw err;
  }
}
