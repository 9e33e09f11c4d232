// The group coordinator's vocabulary, shared by its parts: configuration, request parameters and
// answers of the group APIs, and `GroupShard`, what a `__consumer_offsets` partition's shard lends
// its membership part (the groups it holds, its scheduler, its writes, and the scope that contains
// a failure to one group).
import type { Logger } from 'pino';
import type { Scheduler, Scope } from '../../protocol/scheduler.ts';
import type { ClassicGroup, GroupState, Protocol } from './classic-group.ts';

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

export type GroupApi = 'join' | 'sync' | 'heartbeat' | 'leave' | 'offset-commit' | 'txn-offset-commit' | 'offset-fetch' | 'offset-delete' | 'describe' | 'delete';

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

export interface TxnOffsetCommitParams {
  transactionalId: string;
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  /** v3+: -1 (and an empty member id) for commits outside group management. */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
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

/** What a partition's shard lends the parts that serve group APIs on its groups. */
export interface GroupShard {
  readonly config: GroupCoordinatorConfig;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** The partition's groups, by id. */
  readonly groups: Map<string, ClassicGroup>;
  /** A new Empty group of this partition (not yet in `groups`), holding the partition's offsets of that id. */
  newGroup(groupId: string): ClassicGroup;
  /** Kafka's validateGroupStatus: the error for a request about `groupId`, or null. */
  validateGroupStatus(groupId: string, api: GroupApi): number | null;
  /**
   * The scope of work that belongs to `group` (a timer, a write's completion): a failure there
   * abandons the group's rebalance and no other group's.
   */
  groupScope(group: ClassicGroup, task: string): Scope;
  /** Runs `then` with the write's result, contained in the group's scope. */
  afterWrite<T>(group: ClassicGroup, task: string, write: Promise<T>, then: (result: T) => void): void;
  /** Writes the group's metadata record with `assignment`; resolves with the error to answer. */
  storeGroup(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): Promise<number>;
  /** Cancels a group's timers and answers its waiting members with `errorCode`. */
  abandonGroup(group: ClassicGroup, errorCode: number): void;
}
