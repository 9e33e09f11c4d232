// A classic-protocol consumer group member for the group benchmarks, driven as Kafka's Java
// consumer drives its coordinator: JoinGroup (retried with the id from MEMBER_ID_REQUIRED,
// KIP-394), SyncGroup with the leader computing a range assignment of the subscribed topics'
// partitions (ConsumerProtocolSubscription/Assignment v3, each prefixed by its int16 version),
// heartbeats every heartbeat interval (session timeout / 3 by default) from the last one sent,
// and a rejoin on REBALANCE_IN_PROGRESS. It fetches nothing: only the group protocol is timed.
// Invariants:
// - One connection to the coordinator per member. Heartbeats stop while a join or sync is in
//   flight (the broker answers a connection's requests in order, so one would wait behind a
//   JoinGroup that the coordinator holds until the rebalance completes), as the Java consumer
//   disables its heartbeat thread while rejoining.
// - ILLEGAL_GENERATION keeps the member id and drops the generation; UNKNOWN_MEMBER_ID drops
//   both; coordinator errors are retried after a backoff. Any other error ends the member.
// - Every loop is bounded: joins by attempt count, waits by the member being stopped.
// The consumer-protocol encodings and the range assignor are the CLI consumer's own.
import { type Assignment, decodeAssignment, decodeSubscribedTopics, encodeAssignment, encodeSubscription, rangeAssign } from '../broker/cli/group-member.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { KafkaConnection } from '../protocol/client/connection.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import type { JoinGroupResponseMember } from '../protocol/generated/message/join-group-response.ts';
import type { SyncGroupRequestAssignment } from '../protocol/generated/message/sync-group-request.ts';

const MAX_JOIN_ATTEMPTS = 50;
const RETRY_BACKOFF_MS = 100;

export type { Assignment };

export interface MemberOptions {
  /** The coordinator's address. */
  host: string;
  port: number;
  groupId: string;
  topics: readonly string[];
  /** Partition counts of the subscribed topics (the leader's metadata). */
  partitionCounts: ReadonlyMap<string, number>;
  /** session.timeout.ms. */
  sessionTimeoutMs: number;
  /** max.poll.interval.ms, sent as the rebalance timeout. */
  rebalanceTimeoutMs: number;
  /** heartbeat.interval.ms; session timeout / 3 by default. */
  heartbeatIntervalMs?: number;
  clientId?: string;
  onEvent?: (event: MemberEvent) => void;
}

/** What a member reports, with performance.now() times. */
export type MemberEvent =
  | { kind: 'join-sent'; member: GroupMember; at: number }
  | { kind: 'synced'; member: GroupMember; at: number; generation: number; assignment: Assignment }
  | { kind: 'rebalance-noticed'; member: GroupMember; at: number; errorCode: number }
  | { kind: 'heartbeat-sent'; member: GroupMember; at: number }
  | { kind: 'failed'; member: GroupMember; at: number; error: unknown };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class GroupMember {
  readonly options: MemberOptions;
  readonly heartbeatIntervalMs: number;
  memberId = '';
  generation = -1;
  assignment: Assignment = new Map();
  /** Set once the member has synced at least once and until it rejoins. */
  stable = false;
  private conn: KafkaConnection | undefined;
  private stopped = false;
  private needsJoin = true;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(options: MemberOptions) {
    this.options = options;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.floor(options.sessionTimeoutMs / 3);
  }

  /** Connects and starts joining in the background; a failure is reported as a 'failed' event. */
  async start(): Promise<void> {
    this.conn = await KafkaConnection.connect(this.options.host, this.options.port, { clientId: this.options.clientId ?? 'samsa-bench-member' });
    this.running = this.loop().catch((error: unknown) => {
      if (!this.stopped) this.emit({ kind: 'failed', member: this, at: performance.now(), error });
    });
  }

  /** A clean close: stop heartbeating and send LeaveGroup; resolves with the time it was sent. */
  async leave(reason = 'the consumer is being closed'): Promise<number> {
    await this.halt();
    const conn = this.conn!;
    const at = performance.now();
    const r = await conn.send(ApiKey.LeaveGroup, { groupId: this.options.groupId, memberId: this.memberId, members: [{ memberId: this.memberId, groupInstanceId: null, reason }] });
    const code = r.members?.[0]?.errorCode ?? r.errorCode;
    if (r.errorCode !== ErrorCode.NONE || code !== ErrorCode.NONE) throw new Error(`LeaveGroup of ${this.memberId}: error ${r.errorCode}/${code}`);
    await conn.close();
    return at;
  }

  /** A crash: stop heartbeating and drop the connection without leaving. */
  async crash(): Promise<void> {
    await this.halt();
    await this.conn?.close();
  }

  private async halt(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private emit(event: MemberEvent): void {
    this.options.onEvent?.(event);
  }

  private async loop(): Promise<void> {
    let lastHeartbeat = 0;
    while (!this.stopped) {
      if (this.needsJoin) {
        await this.joinAndSync();
        lastHeartbeat = performance.now();
        continue;
      }
      const wait = lastHeartbeat + this.heartbeatIntervalMs - performance.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
        continue;
      }
      lastHeartbeat = performance.now();
      this.emit({ kind: 'heartbeat-sent', member: this, at: lastHeartbeat });
      const r = await this.conn!.send(ApiKey.Heartbeat, { groupId: this.options.groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: null });
      if (this.stopped) return;
      switch (r.errorCode) {
        case ErrorCode.NONE:
          break;
        case ErrorCode.REBALANCE_IN_PROGRESS:
          this.rejoin(r.errorCode, false, false);
          break;
        case ErrorCode.ILLEGAL_GENERATION:
          this.rejoin(r.errorCode, true, false);
          break;
        case ErrorCode.UNKNOWN_MEMBER_ID:
          this.rejoin(r.errorCode, true, true);
          break;
        case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
        case ErrorCode.COORDINATOR_NOT_AVAILABLE:
        case ErrorCode.NOT_COORDINATOR:
          lastHeartbeat = performance.now() - this.heartbeatIntervalMs + RETRY_BACKOFF_MS;
          break;
        default:
          throw new Error(`Heartbeat of ${this.memberId}: error ${r.errorCode}`);
      }
    }
  }

  private rejoin(errorCode: number, resetGeneration: boolean, resetMemberId: boolean): void {
    this.stable = false;
    this.needsJoin = true;
    if (resetGeneration) this.generation = -1;
    if (resetMemberId) this.memberId = '';
    this.emit({ kind: 'rebalance-noticed', member: this, at: performance.now(), errorCode });
  }

  private async joinAndSync(): Promise<void> {
    const { groupId, topics, sessionTimeoutMs, rebalanceTimeoutMs } = this.options;
    const conn = this.conn!;
    // The coordinator may hold a JoinGroup for the whole rebalance timeout.
    const joinTimeoutMs = Math.max(conn.requestTimeoutMs, rebalanceTimeoutMs + 5000);
    for (let attempt = 0; attempt < MAX_JOIN_ATTEMPTS && !this.stopped; attempt++) {
      this.emit({ kind: 'join-sent', member: this, at: performance.now() });
      const join = await conn.send(
        ApiKey.JoinGroup,
        {
          groupId,
          sessionTimeoutMs,
          rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId: null,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: encodeSubscription(topics, this.assignment, this.generation) }],
          reason: attempt === 0 ? 'rebalance' : null,
        },
        { timeoutMs: joinTimeoutMs },
      );
      switch (join.errorCode) {
        case ErrorCode.NONE:
          break;
        case ErrorCode.MEMBER_ID_REQUIRED:
          this.memberId = join.memberId;
          continue;
        case ErrorCode.UNKNOWN_MEMBER_ID:
          this.memberId = '';
          this.generation = -1;
          continue;
        case ErrorCode.ILLEGAL_GENERATION:
          this.generation = -1;
          continue;
        case ErrorCode.REBALANCE_IN_PROGRESS:
        case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
        case ErrorCode.COORDINATOR_NOT_AVAILABLE:
        case ErrorCode.NOT_COORDINATOR:
          await sleep(RETRY_BACKOFF_MS);
          continue;
        default:
          throw new Error(`JoinGroup of ${this.memberId || '(new member)'}: error ${join.errorCode}`);
      }
      this.memberId = join.memberId;
      const leader = join.leader === join.memberId && !join.skipAssignment;
      const assignments: SyncGroupRequestAssignment[] = leader ? this.assign(join.members) : [];
      // Eager protocol: everything owned is given up before the new assignment arrives.
      this.assignment = new Map();
      const sync = await conn.send(
        ApiKey.SyncGroup,
        { groupId, generationId: join.generationId, memberId: this.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: join.protocolName, assignments },
        { timeoutMs: joinTimeoutMs },
      );
      switch (sync.errorCode) {
        case ErrorCode.NONE:
          this.generation = join.generationId;
          this.assignment = decodeAssignment(sync.assignment);
          this.needsJoin = false;
          this.stable = true;
          this.emit({ kind: 'synced', member: this, at: performance.now(), generation: this.generation, assignment: this.assignment });
          return;
        case ErrorCode.REBALANCE_IN_PROGRESS:
          continue;
        case ErrorCode.UNKNOWN_MEMBER_ID:
          this.memberId = '';
          this.generation = -1;
          continue;
        case ErrorCode.ILLEGAL_GENERATION:
          this.generation = -1;
          continue;
        case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
        case ErrorCode.COORDINATOR_NOT_AVAILABLE:
        case ErrorCode.NOT_COORDINATOR:
          await sleep(RETRY_BACKOFF_MS);
          continue;
        default:
          throw new Error(`SyncGroup of ${this.memberId}: error ${sync.errorCode}`);
      }
    }
    if (!this.stopped) throw new Error(`${this.memberId || '(new member)'} did not join ${groupId} in ${MAX_JOIN_ATTEMPTS} attempts`);
  }

  private assign(members: readonly JoinGroupResponseMember[]): SyncGroupRequestAssignment[] {
    const subscriptions = new Map<string, string[]>();
    for (const m of members) subscriptions.set(m.memberId, decodeSubscribedTopics(m.metadata));
    const plan = rangeAssign(subscriptions, this.options.partitionCounts);
    return [...plan].map(([memberId, a]) => ({ memberId, assignment: encodeAssignment(a) }));
  }
}
