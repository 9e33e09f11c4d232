// The classic group coordinator (Kafka's GroupCoordinatorService over its CoordinatorRuntime):
// consumer groups rebalanced through JoinGroup/SyncGroup/Heartbeat/LeaveGroup and their committed
// offsets, kept in `__consumer_offsets`. A group belongs to the partition `partitionForGroup(id)`;
// the coordinator runtime holds one shard per partition this broker leads (group-shard.ts),
// loads it on election (COORDINATOR_LOAD_IN_PROGRESS meanwhile, NOT_COORDINATOR for partitions
// not led here), writes its records and answers once they are committed, and owns its timers.
// This module only routes: the group id is checked (INVALID_GROUP_ID), then the call runs on the
// group's shard, and the runtime's refusal becomes the API's answer.
import type { Logger } from 'pino';
import { ErrorCode, errorCodeOf, KafkaError } from '../../protocol/errors.ts';
import type { Scheduler } from '../../protocol/scheduler.ts';
import { CoordinatorRuntime } from '../coordinator/coordinator-runtime.ts';
import type { CoordinatorPartitionLog } from '../coordinator/partition-log.ts';
import { type ClassicGroup, joinError, type JoinGroupResult, syncError, type SyncGroupResult } from './classic-group.ts';
import type {
  FetchedOffset,
  GroupApi,
  GroupCoordinatorConfig,
  GroupOverview,
  GroupSummary,
  JoinGroupParams,
  LeaveGroupResult,
  LeavingMember,
  OffsetCommitParams,
  SyncGroupParams,
  TxnOffsetCommitParams,
} from './group-api.ts';
import { GroupCoordinatorShard, invalidGroupId } from './group-shard.ts';
import { type GroupRecord, groupRecordSerde, partitionForGroup } from './offsets-topic.ts';

export * from './group-api.ts';

export interface GroupCoordinatorOptions {
  config: GroupCoordinatorConfig;
  log: CoordinatorPartitionLog;
  /** Clock and timers; contains a failure of a group's work to that group. */
  scheduler: Scheduler;
  logger: Logger;
  /** Creates `__consumer_offsets` if it does not exist yet (the broker asks the controller). */
  ensureOffsetsTopic?: () => Promise<void>;
}

const EMPTY = Buffer.alloc(0);
const DEAD: GroupSummary = { state: 'Dead', protocolType: '', protocol: '', members: [] };

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly runtime: CoordinatorRuntime<GroupRecord, GroupCoordinatorShard>;
  private readonly ensureTopic: (() => Promise<void>) | undefined;
  private partitionCount: number;

  constructor(opts: GroupCoordinatorOptions) {
    this.config = opts.config;
    this.scheduler = opts.scheduler;
    this.logger = opts.logger;
    this.ensureTopic = opts.ensureOffsetsTopic;
    this.partitionCount = opts.config.offsetsTopicNumPartitions;
    this.runtime = new CoordinatorRuntime<GroupRecord, GroupCoordinatorShard>({
      name: 'group',
      log: opts.log,
      serde: groupRecordSerde,
      newShard: (ctx) => new GroupCoordinatorShard(ctx, { config: this.config, scheduler: this.scheduler, logger: ctx.logger }),
      scheduler: opts.scheduler,
      logger: opts.logger,
    });
  }

  // ---- partitions and leadership ----

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

  /** This broker leads `partition` at `epoch`: its shard loads (a failed load gives the partition up until the next election). */
  elect(partition: number, epoch: number): void {
    void this.runtime.elect(partition, epoch);
  }

  /** `elect`, resolving once the shard is loaded or abandoned. */
  onElection(partition: number, epoch: number): Promise<void> {
    return this.runtime.elect(partition, epoch);
  }

  resign(partition: number, epoch?: number): void {
    this.runtime.resign(partition, epoch);
  }

  /** This broker no longer leads `partition`: its groups are dropped (NOT_COORDINATOR from now). */
  onResignation(partition: number): void {
    this.runtime.resign(partition);
  }

  /** Partitions this coordinator serves (loaded) or is loading. */
  partitions(): ReadonlyMap<number, { epoch: number; loading: boolean }> {
    return this.runtime.partitions();
  }

  ownedPartitions(): ReadonlyMap<number, { epoch: number; loading: boolean }> {
    return this.runtime.partitions();
  }

  /** Answers every waiting member; the coordinator serves nothing afterwards. */
  shutdown(): void {
    this.runtime.shutdown();
  }

  /** A COMMIT/ABORT marker of `producerId` was written at `offset` of `partition` of `__consumer_offsets`. */
  onTransactionMarker(partition: number, producerId: bigint, commit: boolean, offset = -1): void {
    this.runtime.replayAppended(partition, { kind: 'control', offset, producerId, commit });
  }

  /** The groups of the loaded partitions, by id (metrics). */
  get groups(): ReadonlyMap<string, ClassicGroup> {
    const out = new Map<string, ClassicGroup>();
    for (const { shard } of this.runtime.loadedShards()) for (const [id, g] of shard.groups) out.set(id, g);
    return out;
  }

  /** The group, if a loaded shard holds it (tests and tools). */
  group(groupId: string): ClassicGroup | undefined {
    const p = this.partitionFor(groupId);
    return this.runtime.loadedShards().find((s) => s.partition === p)?.shard.groups.get(groupId);
  }

  /**
   * Runs `op` on the group's shard; Kafka's validateGroupStatus becomes `refuse(code)`: an invalid
   * id, a coordinator shutting down, a partition not led here or still loading.
   */
  private route<T>(groupId: string, api: GroupApi, refuse: (code: number) => T, op: (shard: GroupCoordinatorShard) => T): T {
    const invalid = invalidGroupId(groupId, api);
    if (invalid !== null) return refuse(invalid);
    let shard: GroupCoordinatorShard;
    try {
      shard = this.runtime.read(this.partitionFor(groupId), (s) => s);
    } catch (err) {
      if (err instanceof KafkaError) return refuse(err.errorCode);
      throw err;
    }
    return op(shard);
  }

  // ---- group APIs ----

  joinGroup(p: JoinGroupParams): Promise<JoinGroupResult> {
    return this.route(p.groupId, 'join', (code) => Promise.resolve(joinError(p.memberId, code)), (s) => s.membership.joinGroup(p));
  }

  syncGroup(p: SyncGroupParams): Promise<SyncGroupResult> {
    return this.route(p.groupId, 'sync', (code) => Promise.resolve(syncError(code)), (s) => s.membership.syncGroup(p));
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    return this.route(groupId, 'heartbeat', (code) => code, (s) => s.membership.heartbeat(groupId, memberId, groupInstanceId, generationId));
  }

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveGroupResult {
    return this.route(groupId, 'leave', (code): LeaveGroupResult => ({ errorCode: code, members: [] }), (s) => s.membership.leaveGroup(groupId, leaving));
  }

  /** Commits offsets; resolves with one error code per entry, in order, once written. */
  commitOffsets(p: OffsetCommitParams): Promise<number[]> {
    return this.route(p.groupId, 'offset-commit', (code) => Promise.resolve(p.offsets.map(() => code)), (s) => s.offsetOps.commitOffsets(p));
  }

  /** TxnOffsetCommit: offsets pending until the producer's transaction ends; one error code per entry. */
  commitTxnOffsets(p: TxnOffsetCommitParams): Promise<number[]> {
    return this.route(p.groupId, 'txn-offset-commit', (code) => Promise.resolve(p.offsets.map(() => code)), (s) => s.offsetOps.commitTxnOffsets(p));
  }

  /**
   * Committed offsets of a group: the named partitions, or all it has when `partitions` is null.
   * Unknown groups and partitions give offset -1 with no error, as Kafka answers.
   */
  fetchOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[] | null, requireStable: boolean): { errorCode: number; offsets: FetchedOffset[] } {
    return this.route(groupId, 'offset-fetch', (code) => ({ errorCode: code, offsets: [] }), (s) => s.offsetOps.fetchOffsets(groupId, partitions, requireStable));
  }

  /** OffsetDelete: per-partition errors (GROUP_SUBSCRIBED_TO_TOPIC for topics in use) or a group error. */
  deleteOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<{ errorCode: number; partitions: number[] }> {
    return this.route(groupId, 'offset-delete', (code) => Promise.resolve({ errorCode: code, partitions: [] }), (s) => s.offsetOps.deleteOffsets(groupId, partitions));
  }

  /** Deletes Empty groups with their offsets; one error code per id, in order. */
  async deleteGroups(groupIds: readonly string[]): Promise<number[]> {
    const errors: number[] = groupIds.map(() => ErrorCode.NONE);
    const byPartition = new Map<number, number[]>();
    groupIds.forEach((id, i) => {
      const invalid = invalidGroupId(id, 'delete');
      if (invalid !== null) {
        errors[i] = invalid;
        return;
      }
      const p = this.partitionFor(id);
      const list = byPartition.get(p) ?? [];
      list.push(i);
      byPartition.set(p, list);
    });
    await Promise.all(
      [...byPartition].map(async ([p, indexes]) => {
        let answer: number[];
        try {
          answer = await this.runtime.read(p, (s) => s.offsetOps.deleteGroups(indexes.map((i) => groupIds[i]!)));
        } catch (err) {
          answer = indexes.map(() => errorCodeOf(err));
        }
        indexes.forEach((i, k) => (errors[i] = answer[k]!));
      }),
    );
    return errors;
  }

  /** Removes offsets past `offsets.retention.minutes` on every loaded partition (its timer does; tests call it). */
  async cleanupExpiredOffsets(): Promise<number> {
    const removed = await Promise.all(this.runtime.loadedShards().map(({ shard }) => shard.offsetOps.cleanupExpiredOffsets()));
    return removed.reduce((a, b) => a + b, 0);
  }

  // ---- DescribeGroups, ListGroups ----

  describeGroup(groupId: string): { errorCode: number; summary: GroupSummary } {
    return this.route(
      groupId,
      'describe',
      (code) => ({ errorCode: code, summary: DEAD }),
      (s) => {
        const group = s.groups.get(groupId);
        if (!group) return { errorCode: ErrorCode.NONE, summary: DEAD };
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
      },
    );
  }

  /** Groups of the loaded partitions; `statesFilter` is case-insensitive, all groups are "classic". */
  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): { errorCode: number; groups: GroupOverview[] } {
    if (this.runtime.isShutdown) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const shards = this.runtime.loadedShards();
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const typesOk = typesFilter.length === 0 || typesFilter.some((t) => t.toLowerCase() === 'classic');
    const groups: GroupOverview[] = [];
    if (typesOk) {
      for (const { shard } of shards) {
        for (const g of shard.groups.values()) {
          if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
          groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state });
        }
      }
    }
    return { errorCode: this.runtime.anyLoading() ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE, groups };
  }
}
