// KRaft replica of `__cluster_metadata` (KIP-595): a voter in a quorum of one or more voters, or
// an observer. Replication is pulled: followers Fetch from the leader with (fetchOffset,
// lastFetchedEpoch); the leader answers DivergingEpoch when their logs part and the follower
// truncates to it. The role logic lives here; leader bookkeeping in leader-state.ts, delivery to
// listeners in commit-delivery.ts, the inbound protocol in raft-handlers.ts.
// Invariants:
// - Every state change, inbound request, response, timer and append runs one at a time through
//   `serial`, so no two of them interleave across an await.
// - The election state is persisted before the role acts on it (before a vote is answered,
//   before a candidate asks for votes, before a leader writes).
// - A new leader first appends a LeaderChangeMessage; the high watermark moves only once a
//   majority holds it (leader-state.ts), and never moves back in one replica's life.
// - Listeners see committed data batches only, in offset order (commit-delivery.ts), after the
//   newest snapshot when there is one (raft-snapshots.ts).
// - Every timer and callback goes through the injected Scheduler with the 'raft' scope; clock,
//   randomness, transport and log are injected, so a seeded simulation replays exactly.
// A single voter elects itself in start() and commits each append once it is flushed.
import type { Logger } from 'pino';
import { encodeLeaderChangeMessage } from '../../protocol/generated/message/leader-change-message.ts';
import { ControlRecordType, encodeControlRecordKey } from '../../protocol/records/control-record.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { FatalError, type Scheduler, type Scope, SystemScheduler, type TimerHandle } from '../../protocol/scheduler.ts';
import { Writer } from '../../protocol/writer.ts';
import { CommitDelivery, type RaftListener } from './commit-delivery.ts';
import { type EpochState, electionStateOf, leaderOf } from './epoch-state.ts';
import { LeaderState } from './leader-state.ts';
import { DEFAULT_RAFT_CONFIG, electionBackoffMs, type RaftConfig, randomElectionTimeoutMs } from './raft-config.ts';
import { RaftHandlers } from './raft-handlers.ts';
import type { LeaderAndEpoch } from './raft-messages.ts';
import { NO_TRANSPORT, type RaftApi, type RaftMessages, type RaftTransport } from './raft-transport.ts';
import type { ElectionStore } from './quorum-state.ts';
import type { ReplicatedLog } from './replicated-log.ts';
import { DEFAULT_METADATA_RETENTION, DEFAULT_SNAPSHOTS_RETAINED, RaftSnapshots } from './raft-snapshots.ts';
import type { SnapshotId } from './snapshot-format.ts';
import { KRaftControlLog } from './kraft-control-log.ts';
import { VoterChanges } from './voter-changes.ts';
import { findVoter, NO_DIRECTORY_ID, staticVoter, type VoterEndpoint, type VoterSet, votersControlRecords } from './voter-set.ts';
import { CommitLatency } from './commit-latency.ts';

export type { CommittedBatch, CommittedRecord, LoadedSnapshot, RaftListener } from './commit-delivery.ts';

export interface RaftClientOptions {
  nodeId: number;
  voters: readonly number[];
  log: ReplicatedLog;
  stateStore: ElectionStore;
  logger: Logger;
  /** Clock for record timestamps when no scheduler is given. */
  now?: () => number;
  /** Clock and timers; a SystemScheduler when absent. */
  scheduler?: Scheduler;
  /** Uniform in [0, 1): election timeouts and backoffs. */
  random?: () => number;
  /** Reaches the other replicas; needed unless this node is the only voter. */
  transport?: RaftTransport;
  config?: Partial<RaftConfig>;
  /** Sent in requests and checked in inbound ones when set. */
  clusterId?: string | null;
  /** How many snapshots are kept at most; the log start offset follows the oldest. */
  snapshotsRetained?: number;
  /**
   * metadata.max.retention.bytes and metadata.max.retention.ms (-1: no limit): snapshots older
   * than the newest go, with the log below the next one, while the log is larger or the oldest
   * snapshot older than these, as Kafka's metadata log cleans itself.
   */
  retention?: { maxBytes: number; maxMs: number };
  /** This replica's directory id (meta.properties directory.id of the metadata log directory). */
  directoryId?: string;
  /**
   * Replicas the transport reaches that lead an observer to the leader while it knows no voter
   * (controller.quorum.bootstrap.servers; Kafka gives them negative ids).
   */
  bootstrapServers?: readonly number[];
  /** The listener whose endpoint a leader reports for itself (controller.listener.names' first). */
  listenerName?: string;
  /** This node's controller endpoints: a voter whose VotersRecord entry differs sends UpdateRaftVoter. */
  localEndpoints?: readonly VoterEndpoint[];
}

export class NotLeaderError extends Error {
  readonly code = 'NOT_LEADER';
  constructor(
    readonly leaderId: number,
    readonly epoch: number,
  ) {
    super(`this node is not the metadata quorum leader (leader ${leaderId}, epoch ${epoch})`);
  }
}

export class RaftClient {
  readonly config: RaftConfig;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  readonly log: ReplicatedLog;
  readonly random: () => number;
  readonly transport: RaftTransport;
  readonly delivery: CommitDelivery;
  /** Append-to-commit times of this leader's batches (raft-metrics commit-latency-avg/max). */
  readonly commitLatency = new CommitLatency();
  readonly snapshots: RaftSnapshots;
  /** The log with its voter-set history (kraft-control-log.ts). */
  readonly controlLog: KRaftControlLog;
  readonly voterChanges: VoterChanges;
  /** Endpoints of replicas that are not (yet) known voters, learned from leaders' answers. */
  readonly learnedEndpoints = new Map<number, VoterEndpoint>();
  private readonly opts: RaftClientOptions;
  private storageFailure = false;
  /** Until when this replica does not stand for election (standDown). */
  private standDownUntil = -Infinity;
  private readonly handlers: RaftHandlers;
  private state: EpochState = { role: 'unattached', epoch: 0 };
  /** Bumped on every transition: callbacks of an older state see a different value and stop. */
  private gen = 0;
  private stateTimers: TimerHandle[] = [];
  private highWatermark = 0n;
  private queue: Promise<unknown> = Promise.resolve();
  private started = false;
  private closing = false;
  private closed = false;
  private lastFired: LeaderAndEpoch = { leaderId: -1, epoch: -1 };
  private transitionWaiters: (() => void)[] = [];
  private fetchWaiters: (() => void)[] = [];
  private fetchTimer: TimerHandle | undefined;
  /** When the current role's election or fetch timer fires (undefined: none running). */
  private timerDeadline: number | undefined;
  readonly scope: Scope;

  constructor(opts: RaftClientOptions) {
    this.opts = opts;
    this.config = { ...DEFAULT_RAFT_CONFIG, ...opts.config };
    this.logger = opts.logger;
    this.scheduler = opts.scheduler ?? new SystemScheduler({ logger: opts.logger });
    this.random = opts.random ?? Math.random;
    this.transport = opts.transport ?? NO_TRANSPORT;
    this.controlLog = new KRaftControlLog(opts.log, opts.voters.map((id) => staticVoter(id)), (err, operation) => this.storageFailed(err, operation));
    this.log = this.controlLog;
    this.delivery = new CommitDelivery(this.log, opts.logger);
    this.scope = { unit: 'raft', context: { nodeId: opts.nodeId } };
    this.handlers = new RaftHandlers(this);
    this.snapshots = new RaftSnapshots(this, this.handlers, opts.snapshotsRetained ?? DEFAULT_SNAPSHOTS_RETAINED, opts.retention ?? DEFAULT_METADATA_RETENTION);
    this.voterChanges = new VoterChanges(this);
  }

  get nodeId(): number {
    return this.opts.nodeId;
  }

  /**
   * The metadata log or a snapshot could not be read or written: the node cannot go on serving
   * metadata (a partly written log cannot be trusted), so a FatalError stops it through the
   * scheduler, once.
   */
  private storageFailed(err: unknown, operation: string): void {
    if (this.storageFailure) return;
    this.storageFailure = true;
    const message = `metadata log ${operation} failed: ${err instanceof Error ? err.message : String(err)}`;
    this.logger.error({ err, operation }, 'the metadata log cannot be used after a storage failure: stopping the node');
    this.scheduler.watch(this.scope, Promise.reject(new FatalError(message, { cause: err })));
  }

  /** Ids of the voters in force: the latest voter set appended to the log, else the static one. */
  get voters(): readonly number[] {
    return this.controlLog.history.latest().map((v) => v.id);
  }

  get voterSet(): VoterSet {
    return this.controlLog.history.latest();
  }

  get directoryId(): string {
    return this.opts.directoryId ?? NO_DIRECTORY_ID;
  }

  get bootstrapServers(): readonly number[] {
    return this.opts.bootstrapServers ?? [];
  }

  get listenerName(): string | undefined {
    return this.opts.listenerName;
  }

  get localEndpoints(): readonly VoterEndpoint[] {
    return this.opts.localEndpoints ?? [];
  }

  /** 1 for a quorum whose voters come from the log (KIP-853), 0 for a static one. */
  get kraftVersion(): number {
    return this.controlLog.history.kraftVersion;
  }

  /** Where replica `id` listens (its voter entry's endpoint on our listener, or one a leader told us of). */
  endpointOf(id: number): VoterEndpoint | undefined {
    const v = this.voterSet.find((x) => x.id === id);
    const ep = v?.endpoints.find((e) => e.name === this.opts.listenerName) ?? v?.endpoints[0];
    return ep ?? this.learnedEndpoints.get(id);
  }

  get clusterId(): string | null {
    return this.opts.clusterId ?? null;
  }

  get isVoter(): boolean {
    return findVoter(this.voterSet, this.nodeId, this.opts.directoryId) !== undefined;
  }

  /**
   * Whether this replica stands for election: a voter, or a voter of the last committed set that
   * its own uncommitted VotersRecord removed. That record (a leader removing itself, then losing
   * leadership) may exist only on this replica, which holds the longest log; the other voters
   * could then never win, so this one stands, commits the change and hands over. The last
   * committed set is the one that record replaced, not the one at the high watermark: after a
   * restart the high watermark is only the snapshot's end, often below both records.
   */
  get mayStand(): boolean {
    if (this.scheduler.now() < this.standDownUntil) return false;
    if (this.isVoter) return true;
    const h = this.controlLog.history;
    const replaced = h.previous();
    return h.isDynamic && h.hasUncommitted(this.highWatermark) && replaced !== undefined && findVoter(replaced, this.nodeId, this.opts.directoryId) !== undefined;
  }

  /** How many of `ids` are voters (a candidate's votes count only from its voter set). */
  votersAmong(ids: ReadonlySet<number>): number {
    let n = 0;
    for (const id of this.voters) if (ids.has(id)) n++;
    return n;
  }

  get currentEpoch(): number {
    return this.state.epoch;
  }

  get currentLeader(): number {
    return leaderOf(this.state, this.nodeId);
  }

  get isLeader(): boolean {
    return this.state.role === 'leader';
  }

  get role(): EpochState['role'] {
    return this.state.role;
  }

  /** The current role state; read-only for the handlers and tests. */
  get epochState(): EpochState {
    return this.state;
  }

  get generation(): number {
    return this.gen;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  get hw(): bigint {
    return this.highWatermark;
  }

  get majority(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  /** Offset the next appended record will get. */
  logEndOffset(): bigint {
    return this.log.endOffset();
  }

  /** Whole milliseconds (a virtual clock may be fractional; record timestamps may not). */
  now(): number {
    return Math.floor(this.opts.scheduler ? this.scheduler.now() : (this.opts.now ?? Date.now)());
  }

  register(listener: RaftListener): void {
    this.delivery.listeners.push(listener);
  }

  /**
   * Writes a snapshot of the committed state below `id.endOffset` (see RaftSnapshots.create);
   * false when a newer one exists or one is being written.
   */
  createSnapshot(id: SnapshotId, records: readonly Buffer[], lastContainedLogTimestamp: number): Promise<boolean> {
    return this.snapshots.create(id, records, lastContainedLogTimestamp);
  }

  /** Runs `fn` after everything queued before it; the one way state is read-modified-written. */
  serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Restores the election state (and the epoch the log has reached), then takes the role it
   * describes. A single voter elects itself at once and returns once everything already in the
   * log and its own leader change are committed and delivered.
   */
  async start(): Promise<void> {
    this.started = true;
    await this.serial(async () => {
      await this.controlLog.load();
      await this.snapshots.loadOnStart();
      const saved = await this.opts.stateStore.read();
      const logEpoch = this.log.lastEpoch();
      const id = this.nodeId;
      let initial: EpochState;
      if (saved.epoch < logEpoch) {
        this.logger.warn({ stateEpoch: saved.epoch, logEpoch }, 'quorum-state is behind the log; starting unattached in the log epoch');
        initial = { role: 'unattached', epoch: logEpoch };
      } else if (saved.leaderId === id && this.isVoter) {
        initial = { role: 'resigned', epoch: saved.epoch, successors: [], acknowledged: new Set() };
      } else if (saved.leaderId >= 0 && saved.leaderId !== id) {
        initial = { role: 'follower', epoch: saved.epoch, leaderId: saved.leaderId, votedId: saved.votedId };
      } else if (saved.votedId >= 0 && this.isVoter) {
        initial = { role: 'voted', epoch: saved.epoch, votedId: saved.votedId };
      } else {
        initial = { role: 'unattached', epoch: saved.epoch };
      }
      this.logger.info({ ...saved, logEpoch, logEndOffset: String(this.log.endOffset()), role: initial.role, voters: this.voters, kraftVersion: this.kraftVersion }, 'metadata quorum replica starting');
      await this.transition(initial, initial.epoch !== saved.epoch);
      if (this.isSoleVoter()) await this.becomeCandidate();
    });
    if (this.isSoleVoter() && this.state.role === 'leader') {
      const leader = this.state.leader;
      await this.waitUntil(() => this.delivery.deliveredEnd > leader.epochStartOffset || this.state.role !== 'leader');
    }
  }

  private isSoleVoter(): boolean {
    return this.voters.length === 1 && this.voters[0] === this.nodeId;
  }

  /**
   * Appends metadata record values as one batch in the current epoch; resolves with the offset
   * of the last one once committed (and delivered to listeners). Appends are applied in order.
   * Rejects with NotLeaderError when this replica is not the leader, or stops being leader
   * before the batch commits (it may still commit under the next leader).
   */
  async append(values: readonly Buffer[]): Promise<bigint> {
    if (!this.isLeader || this.closed || this.closing) throw new NotLeaderError(this.currentLeader, this.currentEpoch);
    const committed = await this.serial(async () => {
      const s = this.state;
      if (s.role !== 'leader' || this.closed || this.closing) throw new NotLeaderError(this.currentLeader, this.currentEpoch);
      const batch = encodeRecordBatch({
        baseTimestamp: BigInt(this.now()),
        records: values.map((value, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value })),
      });
      const appendedAt = this.now();
      const info = await this.log.appendAsLeader(batch, s.epoch);
      // Wrapped, so the queue does not wait for the commit (which needs later queue work).
      const wait = { commit: this.delivery.awaitCommit(info.lastOffset) };
      wait.commit.then(
        () => this.commitLatency.record(this.now(), this.now() - appendedAt),
        () => undefined,
      );
      await this.flushAsLeader();
      return wait;
    });
    return committed.commit;
  }

  /** Flushes the leader's log and counts it towards the high watermark. Runs in `serial`. */
  async flushAsLeader(): Promise<void> {
    await this.log.flush();
    const s = this.state;
    if (s.role !== 'leader') return;
    if (s.leader.updateLocalEnd(this.log.endOffset(), this.now())) await this.onLeaderHighWatermark();
    this.wakeFetches();
  }

  /** The leader's high watermark moved: adopt it and deliver. Runs in `serial`. */
  async onLeaderHighWatermark(): Promise<void> {
    const s = this.state;
    if (s.role !== 'leader') return;
    const hw = s.leader.highWatermark;
    if (hw !== undefined) await this.advanceHighWatermark(hw);
    this.voterChanges.onCommit();
    this.wakeFetches();
    // A leader the committed voter set no longer holds hands over (KIP-853).
    if (hw !== undefined && !this.isVoter && this.controlLog.history.isDynamic && !this.controlLog.history.hasUncommitted(hw) && this.state.role === 'leader') {
      this.logger.info({ epoch: s.epoch }, 'this node is no longer a voter: resigning leadership');
      await this.resign();
    }
  }

  /** Raises this replica's high watermark (never lowers it) and delivers what it commits. */
  async advanceHighWatermark(hw: bigint): Promise<void> {
    const bounded = hw < this.log.endOffset() ? hw : this.log.endOffset();
    if (bounded > this.highWatermark) this.highWatermark = bounded;
    await this.delivery.deliverUpTo(this.highWatermark);
    this.maybeFireLeaderChange();
    this.notifyWaiters();
  }

  private notifyWaiters(): void {
    const waiters = this.transitionWaiters;
    this.transitionWaiters = [];
    for (const w of waiters) w();
  }

  private maybeFireLeaderChange(): void {
    const s = this.state;
    // The local leader is announced once listeners have seen everything before its epoch, so
    // whatever acts on leadership starts from the complete committed state.
    if (s.role === 'leader' && this.delivery.deliveredEnd <= s.leader.epochStartOffset) return;
    const next = { leaderId: leaderOf(s, this.nodeId), epoch: s.epoch };
    if (next.leaderId < 0) return;
    if (next.leaderId === this.lastFired.leaderId && next.epoch === this.lastFired.epoch) return;
    this.lastFired = next;
    this.delivery.fireLeaderChange(next.leaderId, next.epoch);
  }

  // ---- transitions (each runs inside `serial`) ----

  /** Enters `next`, persisting its election state first when `persist`. */
  async transition(next: EpochState, persist = true): Promise<void> {
    const prev = this.state;
    if (next.epoch < prev.epoch) throw new Error(`epoch may not go back from ${prev.epoch} to ${next.epoch}`);
    if (persist) await this.opts.stateStore.write(electionStateOf(next, this.nodeId));
    for (const t of this.stateTimers) t.cancel();
    this.stateTimers = [];
    this.fetchTimer = undefined;
    const carriedDeadline = next.role === 'unattached' ? next.electionDeadline : undefined;
    this.timerDeadline = undefined;
    this.gen++;
    this.state = next;
    if (prev.role === 'leader') {
      this.delivery.failPending(new NotLeaderError(leaderOf(next, this.nodeId), next.epoch));
      this.voterChanges.failPending();
    }
    this.logger.info({ role: next.role, epoch: next.epoch, leaderId: leaderOf(next, this.nodeId), from: prev.role, fromEpoch: prev.epoch }, 'metadata quorum state changed');
    this.wakeFetches();
    this.notifyWaiters();
    this.maybeFireLeaderChange();
    if (!this.closed) await this.enter(next, carriedDeadline);
  }

  private async enter(s: EpochState, carriedDeadline: number | undefined): Promise<void> {
    switch (s.role) {
      case 'unattached':
      case 'voted':
        if (this.mayStand) return this.armElectionTimer(carriedDeadline);
        this.sendFetch();
        // Entered during a stand-down whose own timer a role change since has dropped: once it
        // ends, stand again if nothing else did (seeds 4687, 6844: the sole voter stayed silent).
        if (this.scheduler.now() < this.standDownUntil) this.addTimer(this.standDownUntil - this.scheduler.now(), this.gen, () => this.resumeStanding());
        return;
      case 'candidate':
        if (this.votersAmong(s.granted) >= this.majority) return this.becomeLeader();
        for (const id of this.voters) if (id !== this.nodeId) this.handlers.requestVote(id, this.gen);
        this.armElectionTimer();
        return;
      case 'leader':
        return this.startLeading(s.leader);
      case 'follower':
        this.resetFetchTimer();
        this.sendFetch();
        return;
      case 'resigned':
        for (const id of this.voters) if (id !== this.nodeId) this.handlers.sendEndQuorumEpoch(id, this.gen);
        if (!this.closing) this.armElectionTimer(this.mayStand ? undefined : this.scheduler.now() + this.config.fetchTimeoutMs);
        return;
    }
  }

  /**
   * `keepTimer`: a vote this replica is about to refuse moved it to a new epoch. As in Raft, only
   * a granted vote or word from a leader restarts the election timer, so a candidate with a
   * stale log cannot hold off an election forever by asking again and again.
   */
  async becomeUnattached(epoch: number, keepTimer = false): Promise<void> {
    await this.transition({ role: 'unattached', epoch, electionDeadline: keepTimer ? this.timerDeadline : undefined });
  }

  /**
   * Told by a voter of a working leader in an earlier epoch, a candidate stops standing for two
   * fetch timeouts and fetches as an observer; then, if its log still makes it a voter and no
   * leader was found, it stands again.
   */
  async standDown(): Promise<void> {
    const s = this.state;
    const period = 2 * this.config.fetchTimeoutMs;
    this.standDownUntil = this.scheduler.now() + period;
    this.logger.info({ epoch: s.epoch, periodMs: period }, 'a voter follows a leader of an earlier epoch: fetching as an observer instead of standing');
    await this.becomeUnattached(s.epoch);
    this.addTimer(period, this.gen, async () => {
      if (this.state.role === 'unattached' && this.mayStand) await this.becomeCandidate();
    });
  }

  /** An unattached replica that may stand again (its stand-down is over) arms its election timer. */
  resumeStanding(): void {
    const role = this.state.role;
    if ((role === 'unattached' || role === 'voted') && this.mayStand && !this.closing) this.armElectionTimer();
  }

  async becomeVoted(epoch: number, candidateId: number): Promise<void> {
    await this.transition({ role: 'voted', epoch, votedId: candidateId });
  }

  async becomeFollower(epoch: number, leaderId: number): Promise<void> {
    const s = this.state;
    const votedId = s.epoch === epoch && s.role === 'voted' ? s.votedId : -1;
    await this.transition({ role: 'follower', epoch, leaderId, votedId });
  }

  async becomeCandidate(): Promise<void> {
    if (!this.mayStand || this.closing || this.closed) return;
    const s = this.state;
    const retries = s.role === 'candidate' ? s.retries + 1 : 1;
    await this.transition({ role: 'candidate', epoch: s.epoch + 1, granted: new Set([this.nodeId]), rejected: new Set(), retries, backingOff: false });
  }

  async becomeLeader(): Promise<void> {
    const s = this.state;
    if (s.role !== 'candidate') return;
    const leader = new LeaderState(s.epoch, this.nodeId, this.voters, this.log.endOffset(), [...s.granted], this.now());
    await this.transition({ role: 'leader', epoch: s.epoch, leader });
  }

  async resign(): Promise<void> {
    const s = this.state;
    if (s.role !== 'leader') return;
    const successors = s.leader.successorsByEndOffset();
    await this.transition({ role: 'resigned', epoch: s.epoch, successors, acknowledged: new Set() }, false);
  }

  private async startLeading(leader: LeaderState): Promise<void> {
    const gen = this.gen;
    const lcm = new Writer(64);
    encodeLeaderChangeMessage(lcm, 0, {
      version: 0,
      leaderId: this.nodeId,
      voters: this.voters.map((voterId) => ({ voterId })),
      grantingVoters: leader.grantingVoters.map((voterId) => ({ voterId })),
    });
    // A voter set known only from the bootstrap checkpoint goes into the log with the first
    // leader change, so replicas that start empty learn it by fetching (as Kafka's LeaderState does).
    const history = this.controlLog.history;
    const bootstrap = history.isDynamic && history.latestOffset() === -1n ? votersControlRecords(history.latest()) : [];
    const control = encodeRecordBatch({
      isControl: true,
      baseTimestamp: BigInt(this.now()),
      records: [
        { offsetDelta: 0, timestampDelta: 0, key: encodeControlRecordKey(ControlRecordType.LeaderChange), value: lcm.toBuffer() },
        ...bootstrap.map((r, i) => ({ offsetDelta: i + 1, timestampDelta: 0, ...r })),
      ],
    });
    const info = await this.log.appendAsLeader(control, leader.epoch);
    this.logger.info({ epoch: leader.epoch, offset: String(info.baseOffset), grantingVoters: leader.grantingVoters }, 'became metadata quorum leader');
    await this.flushAsLeader();
    if (gen !== this.gen) return;
    for (const id of leader.nonAcknowledgingVoters()) this.handlers.sendBeginQuorumEpoch(id, gen);
    this.scheduleCheckQuorum(gen);
  }

  /** A leader that has not heard from a majority for 1.5 fetch timeouts resigns (Kafka's check quorum). */
  private scheduleCheckQuorum(gen: number): void {
    const period = Math.floor(this.config.fetchTimeoutMs * 1.5);
    this.addTimer(period, gen, async () => {
      const s = this.state;
      if (s.role !== 'leader') return;
      if (s.leader.quorumLost(this.now(), period)) {
        this.logger.warn({ epoch: s.epoch, periodMs: period }, 'no fetch from a majority of voters in time: resigning leadership');
        await this.resign();
        return;
      }
      this.scheduleCheckQuorum(gen);
    });
  }

  // ---- timers ----

  /** Runs `fn` in `serial` after `delayMs`, unless the state changed or the replica closed. */
  addTimer(delayMs: number, gen: number, fn: () => unknown): TimerHandle {
    const handle = this.scheduler.schedule(delayMs, this.scope, () =>
      this.serial(() => {
        if (gen !== this.gen || this.closed) return;
        return fn();
      }),
    );
    this.stateTimers.push(handle);
    return handle;
  }

  private armElectionTimer(deadline?: number): void {
    const gen = this.gen;
    const delay = deadline !== undefined ? Math.max(0, deadline - this.scheduler.now()) : randomElectionTimeoutMs(this.config, this.random);
    this.timerDeadline = this.scheduler.now() + delay;
    this.addTimer(delay, gen, async () => {
      const s = this.state;
      if (s.role === 'candidate') {
        // The election timed out without a winner: back off, then stand again in a new epoch.
        const backoff = electionBackoffMs(this.config, s.retries, this.random);
        this.logger.info({ epoch: s.epoch, backoffMs: backoff }, 'election timed out; backing off before standing again');
        this.startBackoff(backoff);
        return;
      }
      if (this.closing) return;
      // A replica removed from the voters (a resigned leader among them) looks for the leader as an observer.
      if (!this.mayStand) return this.becomeUnattached(s.epoch);
      await this.becomeCandidate();
    });
  }

  /** A candidate that lost (or timed out) waits `backoffMs`, then stands in the next epoch. */
  startBackoff(backoffMs: number): void {
    const s = this.state;
    if (s.role !== 'candidate' || s.backingOff) return;
    s.backingOff = true;
    this.addTimer(backoffMs, this.gen, () => this.becomeCandidate());
  }

  /** A follower's fetch timeout, restarted by every answer of its leader. */
  resetFetchTimer(timeoutMs = this.config.fetchTimeoutMs): void {
    this.fetchTimer?.cancel();
    const gen = this.gen;
    this.timerDeadline = this.scheduler.now() + timeoutMs;
    this.fetchTimer = this.addTimer(timeoutMs, gen, async () => {
      const s = this.state;
      if (s.role !== 'follower') return;
      this.logger.info({ epoch: s.epoch, leaderId: s.leaderId, timeoutMs }, 'no answer from the leader in time');
      if (this.mayStand) await this.becomeCandidate();
      else await this.becomeUnattached(s.epoch);
    });
  }

  sendFetch(): void {
    this.handlers.sendFetch(this.gen);
  }

  /** Sends a request with the request timeout; the promise rejects on timeout or transport failure. */
  request<A extends RaftApi>(destination: number, api: A, req: RaftMessages[A]['request']): Promise<RaftMessages[A]['response']> {
    return new Promise((resolve, reject) => {
      const timer = this.scheduler.schedule(this.config.requestTimeoutMs, this.scope, () => reject(new Error(`${api} to ${destination} timed out`)));
      this.transport.send(destination, api, req).then(
        (r) => {
          timer.cancel();
          resolve(r);
        },
        (err: unknown) => {
          timer.cancel();
          reject(err);
        },
      );
    });
  }

  // ---- waiting (parked fetches, close) ----

  /** Resolves at the next transition, append, flush or high-watermark change, or after `ms`. */
  waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        timer.cancel();
        resolve();
      };
      const timer = this.scheduler.schedule(ms, this.scope, finish);
      this.fetchWaiters.push(finish);
    });
  }

  wakeFetches(): void {
    const w = this.fetchWaiters;
    this.fetchWaiters = [];
    for (const f of w) f();
  }

  private async waitUntil(cond: () => boolean): Promise<void> {
    while (!cond() && !this.closed) await new Promise<void>((resolve) => this.transitionWaiters.push(resolve));
  }

  // ---- inbound requests (the controller listener's handlers call these) ----

  handleVote(...args: Parameters<RaftHandlers['handleVote']>): ReturnType<RaftHandlers['handleVote']> {
    return this.handlers.handleVote(...args);
  }

  handleBeginQuorumEpoch(...args: Parameters<RaftHandlers['handleBeginQuorumEpoch']>): ReturnType<RaftHandlers['handleBeginQuorumEpoch']> {
    return this.handlers.handleBeginQuorumEpoch(...args);
  }

  handleEndQuorumEpoch(...args: Parameters<RaftHandlers['handleEndQuorumEpoch']>): ReturnType<RaftHandlers['handleEndQuorumEpoch']> {
    return this.handlers.handleEndQuorumEpoch(...args);
  }

  handleFetch(...args: Parameters<RaftHandlers['handleFetch']>): ReturnType<RaftHandlers['handleFetch']> {
    return this.handlers.handleFetch(...args);
  }

  handleFetchSnapshot(...args: Parameters<RaftSnapshots['handleFetchSnapshot']>): ReturnType<RaftSnapshots['handleFetchSnapshot']> {
    return this.snapshots.handleFetchSnapshot(...args);
  }

  handleDescribeQuorum(...args: Parameters<RaftHandlers['handleDescribeQuorum']>): ReturnType<RaftHandlers['handleDescribeQuorum']> {
    return this.handlers.handleDescribeQuorum(...args);
  }

  /**
   * Stops the replica. A leader of a quorum of several voters resigns first (EndQuorumEpoch
   * naming its most caught-up voters as successors) and waits, up to shutdownTimeoutMs, for
   * the next epoch to begin, so the quorum does not sit out an election timeout.
   * `resign: false` stops without a word to the others, as a crashed node would.
   */
  async close(opts: { resign?: boolean } = {}): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    await this.snapshots.idle();
    if (opts.resign !== false && this.started && this.isLeader && !this.isSoleVoter()) {
      const epoch = this.state.epoch;
      await this.serial(() => this.resign());
      let timedOut = false;
      const timer = this.scheduler.schedule(this.config.shutdownTimeoutMs, this.scope, () => {
        timedOut = true;
        this.notifyWaiters();
      });
      await this.waitUntil(() => timedOut || this.state.epoch > epoch);
      timer.cancel();
    }
    await this.serial(() => {
      this.closed = true;
      for (const t of this.stateTimers) t.cancel();
      this.stateTimers = [];
      this.delivery.failPending(new NotLeaderError(this.currentLeader, this.currentEpoch));
      this.wakeFetches();
      this.notifyWaiters();
    });
  }
}
