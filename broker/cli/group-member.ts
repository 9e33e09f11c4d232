// The client side of the classic consumer-group protocol, as Kafka's consumer coordinator runs it:
// FindCoordinator, JoinGroup (retried with the member id from MEMBER_ID_REQUIRED, KIP-394),
// SyncGroup with the leader running Kafka's RangeAssignor over the subscribed topics' partitions,
// heartbeats every heartbeat.interval.ms, OffsetCommit and OffsetFetch, and LeaveGroup on close.
// The consumer protocol's metadata (ConsumerProtocolSubscription/Assignment) is written at v3,
// each prefixed by its int16 version, as Kafka 3.9's consumer writes it.
// Invariants:
// - Two dedicated connections to the coordinator: one for join, sync, commits and offset fetches,
//   one for heartbeats. A broker answers a connection's requests in order, so heartbeats on the
//   first would queue behind a JoinGroup the coordinator holds for the whole rebalance.
// - Heartbeats run only while the member is stable (joined and synced); a rejoin stops them.
// - REBALANCE_IN_PROGRESS asks for a rejoin keeping member id and generation (the caller commits
//   first, as onJoinPrepare does); ILLEGAL_GENERATION drops the generation (the partitions are
//   lost: nothing is committed for them); UNKNOWN_MEMBER_ID drops member id and generation.
// - Coordinator errors and lost connections forget the coordinator; the next call finds it again.
// - Every retry loop is bounded by an attempt count.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import type { KafkaClient } from '../../protocol/client/client.ts';
import { ConnectionError } from '../../protocol/client/connection-errors.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment } from '../../protocol/generated/message/consumer-protocol-assignment.ts';
import { decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription } from '../../protocol/generated/message/consumer-protocol-subscription.ts';
import type { JoinGroupResponseMember } from '../../protocol/generated/message/join-group-response.ts';
import type { SyncGroupRequestAssignment } from '../../protocol/generated/message/sync-group-request.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';

/** The consumer protocol version written (Kafka 3.9's latest). */
export const CONSUMER_PROTOCOL_VERSION = 3;
/** The assignor's name in JoinGroup, as Kafka's RangeAssignor names itself. */
export const RANGE_ASSIGNOR = 'range';
const MAX_ATTEMPTS = 50;

/** Partitions by topic name. */
export type Assignment = ReadonlyMap<string, readonly number[]>;

export interface GroupMemberSettings {
  /** session.timeout.ms (Kafka's consumer default). */
  sessionTimeoutMs: number;
  /** max.poll.interval.ms, sent as the rebalance timeout. */
  rebalanceTimeoutMs: number;
  /** heartbeat.interval.ms. */
  heartbeatIntervalMs: number;
  /** retry.backoff.ms. */
  retryBackoffMs: number;
  /** client.id: sent in every request header, so the coordinator shows it for the member. */
  clientId: string;
}

export const DEFAULT_GROUP_MEMBER_SETTINGS: Omit<GroupMemberSettings, 'clientId'> = {
  sessionTimeoutMs: 45_000,
  rebalanceTimeoutMs: 300_000,
  heartbeatIntervalMs: 3_000,
  retryBackoffMs: 100,
};

export function encodeSubscription(topics: readonly string[], owned: Assignment, generation: number): Buffer {
  const w = new Writer();
  w.writeInt16(CONSUMER_PROTOCOL_VERSION);
  encodeConsumerProtocolSubscription(w, CONSUMER_PROTOCOL_VERSION, {
    topics: [...topics],
    userData: null,
    ownedPartitions: [...owned].map(([topic, partitions]) => ({ topic, partitions: [...partitions] })),
    generationId: generation,
    rackId: null,
  });
  return w.toBuffer();
}

/** The topics a member's JoinGroup metadata subscribes to. */
export function decodeSubscribedTopics(metadata: Buffer): string[] {
  const r = new Reader(metadata);
  const version = r.readInt16();
  // A newer version starts with the fields of the latest one this codec knows.
  return decodeConsumerProtocolSubscription(r, Math.min(Math.max(version, 0), CONSUMER_PROTOCOL_VERSION)).topics;
}

export function encodeAssignment(assignment: Assignment): Buffer {
  const w = new Writer();
  w.writeInt16(CONSUMER_PROTOCOL_VERSION);
  encodeConsumerProtocolAssignment(w, CONSUMER_PROTOCOL_VERSION, {
    assignedPartitions: [...assignment].map(([topic, partitions]) => ({ topic, partitions: [...partitions] })),
    userData: null,
  });
  return w.toBuffer();
}

/** A member's assignment; empty bytes (a member that has none yet) is the empty assignment. */
export function decodeAssignment(bytes: Buffer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (bytes.length === 0) return out;
  const r = new Reader(bytes);
  const version = r.readInt16();
  const a = decodeConsumerProtocolAssignment(r, Math.min(Math.max(version, 0), CONSUMER_PROTOCOL_VERSION));
  for (const tp of a.assignedPartitions) out.set(tp.topic, [...(out.get(tp.topic) ?? []), ...tp.partitions]);
  return out;
}

/**
 * Kafka's RangeAssignor: per topic, the subscribed members sorted by member id each take a
 * contiguous range of the sorted partitions, n/m each, and the first n%m one more. Every member
 * gets an entry (maybe empty); topics with no known partition count are skipped.
 */
export function rangeAssign(subscriptions: ReadonlyMap<string, readonly string[]>, partitionCounts: ReadonlyMap<string, number>): Map<string, Map<string, number[]>> {
  const result = new Map<string, Map<string, number[]>>();
  for (const member of subscriptions.keys()) result.set(member, new Map());
  const byTopic = new Map<string, string[]>();
  for (const [member, topics] of subscriptions) {
    for (const t of new Set(topics)) {
      let members = byTopic.get(t);
      if (!members) byTopic.set(t, (members = []));
      members.push(member);
    }
  }
  for (const topic of [...byTopic.keys()].sort()) {
    const count = partitionCounts.get(topic);
    if (count === undefined || count <= 0) continue;
    const members = byTopic.get(topic)!.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const per = Math.floor(count / members.length);
    const extra = count % members.length;
    members.forEach((member, i) => {
      const start = per * i + Math.min(i, extra);
      const length = per + (i < extra ? 1 : 0);
      if (length > 0) result.get(member)!.set(topic, Array.from({ length }, (_, k) => start + k));
    });
  }
  return result;
}

/** A committed offset; offset -1 never appears (no commit is `undefined`). */
export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

const COORDINATOR_ERRORS: ReadonlySet<number> = new Set([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type MemberState = 'unjoined' | 'stable';

export class GroupMember {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly settings: GroupMemberSettings;
  memberId = '';
  generation = -1;
  protocolName: string | null = null;
  assignment: Assignment = new Map();
  state: MemberState = 'unjoined';
  /** Set by a heartbeat or a commit that learned of a rebalance; cleared by the next join. */
  rejoinNeeded = true;
  private readonly client: KafkaClient;
  private coordinator: Promise<{ main: KafkaConnection; heartbeat: KafkaConnection }> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Interrupted: no more joins; commits and the leave still go out. */
  private interrupted = false;

  constructor(client: KafkaClient, groupId: string, topics: readonly string[], settings: Partial<GroupMemberSettings> & { clientId: string }) {
    this.client = client;
    this.groupId = groupId;
    this.topics = topics;
    this.settings = { ...DEFAULT_GROUP_MEMBER_SETTINGS, ...settings };
  }

  /** Joins (or rejoins) the group and returns the assignment this member got. */
  async join(): Promise<Assignment> {
    this.stopHeartbeats();
    this.state = 'unjoined';
    const { sessionTimeoutMs, rebalanceTimeoutMs, retryBackoffMs } = this.settings;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && !this.closed && !this.interrupted; attempt++) {
      let conn: KafkaConnection;
      try {
        conn = (await this.connections()).main;
      } catch (e) {
        if (!(e instanceof ConnectionError || (e instanceof KafkaError && e.retriable))) throw e;
        await this.forgetCoordinator();
        await sleep(retryBackoffMs);
        continue;
      }
      // The coordinator may hold a JoinGroup for the whole rebalance timeout.
      const timeoutMs = rebalanceTimeoutMs + 5000;
      try {
        const join = await conn.send(
          ApiKey.JoinGroup,
          {
            groupId: this.groupId,
            sessionTimeoutMs,
            rebalanceTimeoutMs,
            memberId: this.memberId,
            groupInstanceId: null,
            protocolType: 'consumer',
            protocols: [{ name: RANGE_ASSIGNOR, metadata: encodeSubscription(this.topics, this.assignment, this.generation) }],
            reason: null,
          },
          { timeoutMs },
        );
        if (join.errorCode !== ErrorCode.NONE) {
          await this.onJoinError(join.errorCode, join.memberId);
          continue;
        }
        this.memberId = join.memberId;
        const leader = join.leader === join.memberId && !(join.skipAssignment ?? false);
        const assignments = leader ? await this.assign(join.members) : [];
        // Eager protocol: everything owned is given up before the new assignment arrives.
        this.assignment = new Map();
        const sync = await conn.send(
          ApiKey.SyncGroup,
          { groupId: this.groupId, generationId: join.generationId, memberId: this.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: join.protocolName, assignments },
          { timeoutMs },
        );
        if (sync.errorCode !== ErrorCode.NONE) {
          await this.onJoinError(sync.errorCode, this.memberId);
          continue;
        }
        this.generation = join.generationId;
        this.protocolName = join.protocolName;
        this.assignment = decodeAssignment(sync.assignment);
        this.state = 'stable';
        this.rejoinNeeded = false;
        this.scheduleHeartbeat();
        return this.assignment;
      } catch (e) {
        if (!(e instanceof ConnectionError)) throw e;
        await this.forgetCoordinator();
        await sleep(retryBackoffMs);
      }
    }
    if (this.closed || this.interrupted) return new Map();
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `Could not join group ${this.groupId} in ${MAX_ATTEMPTS} attempts`);
  }

  private async onJoinError(code: number, memberId: string): Promise<void> {
    switch (code) {
      case ErrorCode.MEMBER_ID_REQUIRED:
        this.memberId = memberId;
        return;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.memberId = '';
        this.generation = -1;
        return;
      case ErrorCode.ILLEGAL_GENERATION:
        this.generation = -1;
        return;
      case ErrorCode.REBALANCE_IN_PROGRESS:
        return;
      default:
        if (COORDINATOR_ERRORS.has(code)) {
          await this.forgetCoordinator();
          await sleep(this.settings.retryBackoffMs);
          return;
        }
        throw new KafkaError(code as ErrorCodeValue);
    }
  }

  /** The leader's part: range-assign the partitions of every topic any member subscribes to. */
  private async assign(members: readonly JoinGroupResponseMember[]): Promise<SyncGroupRequestAssignment[]> {
    const subscriptions = new Map<string, string[]>();
    for (const m of members) subscriptions.set(m.memberId, decodeSubscribedTopics(m.metadata));
    const topics = [...new Set([...subscriptions.values()].flat())];
    const counts = new Map<string, number>();
    const md = await this.client.metadata(topics);
    for (const t of md.topics) {
      if (t.name !== null && t.errorCode === ErrorCode.NONE) counts.set(t.name, t.partitions.length);
    }
    const plan = rangeAssign(subscriptions, counts);
    return [...plan].map(([memberId, a]) => ({ memberId, assignment: encodeAssignment(a) }));
  }

  private scheduleHeartbeat(): void {
    const generation = this.generation;
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(generation), this.settings.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer !== undefined) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private async heartbeat(generation: number): Promise<void> {
    this.heartbeatTimer = undefined;
    if (this.closed || this.state !== 'stable' || generation !== this.generation) return;
    let code: number;
    try {
      const conn = (await this.connections()).heartbeat;
      code = (await conn.send(ApiKey.Heartbeat, { groupId: this.groupId, generationId: generation, memberId: this.memberId, groupInstanceId: null })).errorCode;
    } catch (e) {
      if (!(e instanceof ConnectionError || e instanceof KafkaError)) throw e;
      code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    // A join started meanwhile: this answer is about an older generation.
    if (this.closed || this.state !== 'stable' || generation !== this.generation) return;
    this.onGroupError(code);
    if (COORDINATOR_ERRORS.has(code)) await this.forgetCoordinator();
    if (this.state === 'stable' && this.heartbeatTimer === undefined) this.scheduleHeartbeat();
  }

  /** What a heartbeat or commit answer means for membership; true if it was a group error. */
  private onGroupError(code: number): boolean {
    switch (code) {
      case ErrorCode.REBALANCE_IN_PROGRESS:
        this.rejoinNeeded = true;
        return true;
      case ErrorCode.ILLEGAL_GENERATION:
        this.generation = -1;
        this.lose();
        return true;
      case ErrorCode.UNKNOWN_MEMBER_ID:
      case ErrorCode.FENCED_INSTANCE_ID:
        this.memberId = '';
        this.generation = -1;
        this.lose();
        return true;
      default:
        return false;
    }
  }

  /** The partitions are gone without a clean hand-over: stop heartbeats, nothing to commit. */
  private lose(): void {
    this.rejoinNeeded = true;
    this.state = 'unjoined';
    this.assignment = new Map();
    this.stopHeartbeats();
  }

  /**
   * Commits offsets under the member's generation (-1 and no member id for a consumer that never
   * joined). Returns false if the group refused them because of a rebalance; other errors throw.
   */
  async commit(offsets: ReadonlyMap<string, ReadonlyMap<number, bigint>>): Promise<boolean> {
    if (offsets.size === 0) return true;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && !this.closed; attempt++) {
      try {
        const conn = (await this.connections()).main;
        const r = await conn.send(ApiKey.OffsetCommit, {
          groupId: this.groupId,
          generationIdOrMemberEpoch: this.generation,
          memberId: this.memberId,
          groupInstanceId: null,
          retentionTimeMs: -1n,
          topics: [...offsets].map(([name, parts]) => ({
            name,
            partitions: [...parts].map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' })),
          })),
        });
        const codes = r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)).filter((c) => c !== ErrorCode.NONE);
        if (codes.length === 0) return true;
        const code = codes[0]!;
        if (this.onGroupError(code)) return false;
        if (COORDINATOR_ERRORS.has(code)) {
          await this.forgetCoordinator();
          await sleep(this.settings.retryBackoffMs);
          continue;
        }
        throw new KafkaError(code as ErrorCodeValue);
      } catch (e) {
        if (!(e instanceof ConnectionError)) throw e;
        await this.forgetCoordinator();
        await sleep(this.settings.retryBackoffMs);
      }
    }
    return false;
  }

  /** The group's committed offsets for some partitions of a topic (absent: none committed). */
  async committed(topic: string, partitions: readonly number[]): Promise<Map<number, CommittedOffset>> {
    const out = new Map<number, CommittedOffset>();
    if (partitions.length === 0) return out;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        const conn = (await this.connections()).main;
        const r = await conn.send(ApiKey.OffsetFetch, {
          groupId: this.groupId,
          topics: [{ name: topic, partitionIndexes: [...partitions] }],
          groups: [{ groupId: this.groupId, memberId: null, memberEpoch: -1, topics: [{ name: topic, partitionIndexes: [...partitions] }] }],
          requireStable: false,
        });
        const group = r.groups?.find((g) => g.groupId === this.groupId);
        const code = group !== undefined ? group.errorCode : (r.errorCode ?? ErrorCode.NONE);
        const rows = group !== undefined ? group.topics : (r.topics ?? []);
        const partCodes = rows.flatMap((t) => t.partitions.map((p) => p.errorCode));
        const bad = [code, ...partCodes].find((c) => c !== ErrorCode.NONE);
        if (bad !== undefined) {
          if (COORDINATOR_ERRORS.has(bad) || bad === ErrorCode.UNSTABLE_OFFSET_COMMIT) {
            if (bad !== ErrorCode.UNSTABLE_OFFSET_COMMIT) await this.forgetCoordinator();
            await sleep(this.settings.retryBackoffMs);
            continue;
          }
          throw new KafkaError(bad as ErrorCodeValue);
        }
        for (const t of rows) {
          if (t.name !== topic) continue;
          for (const p of t.partitions) {
            if (p.committedOffset >= 0n) out.set(p.partitionIndex, { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch ?? -1, metadata: p.metadata });
          }
        }
        return out;
      } catch (e) {
        if (!(e instanceof ConnectionError)) throw e;
        await this.forgetCoordinator();
        await sleep(this.settings.retryBackoffMs);
      }
    }
    throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `Could not fetch the committed offsets of group ${this.groupId}`);
  }

  /** LeaveGroup, if the member has an id; errors are not fatal here (the session times out). */
  async leave(reason = 'the consumer is being closed'): Promise<void> {
    this.stopHeartbeats();
    const memberId = this.memberId;
    this.state = 'unjoined';
    this.memberId = '';
    this.generation = -1;
    if (memberId === '') return;
    try {
      const conn = (await this.connections()).main;
      await conn.send(ApiKey.LeaveGroup, { groupId: this.groupId, memberId, members: [{ memberId, groupInstanceId: null, reason }] });
    } catch (e) {
      if (!(e instanceof ConnectionError || e instanceof KafkaError)) throw e;
    }
  }

  /** Stops joining: a JoinGroup in flight fails with its connection and join() returns empty. */
  interrupt(): void {
    if (this.closed || this.interrupted) return;
    this.interrupted = true;
    if (this.state !== 'stable') void this.forgetCoordinator();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopHeartbeats();
    await this.forgetCoordinator();
  }

  private connections(): Promise<{ main: KafkaConnection; heartbeat: KafkaConnection }> {
    if (this.coordinator === undefined) {
      const opening = (async () => {
        const c = await this.client.findCoordinator(this.groupId);
        const options = { clientId: this.settings.clientId };
        const main = await KafkaConnection.connect(c.host, c.port, options);
        const heartbeat = await KafkaConnection.connect(c.host, c.port, options).catch(async (e: unknown) => {
          await main.close();
          throw e;
        });
        return { main, heartbeat };
      })();
      this.coordinator = opening;
      opening.then(
        (conns) => {
          const drop = (): void => {
            if (this.coordinator === opening) this.coordinator = undefined;
          };
          conns.main.onClose(drop);
          conns.heartbeat.onClose(drop);
        },
        () => {
          if (this.coordinator === opening) this.coordinator = undefined;
        },
      );
    }
    return this.coordinator;
  }

  private async forgetCoordinator(): Promise<void> {
    const current = this.coordinator;
    this.coordinator = undefined;
    if (current === undefined) return;
    const conns = await current.catch(() => undefined);
    if (conns) await Promise.all([conns.main.close(), conns.heartbeat.close()]);
  }
}
