// One replica fetcher per source broker (Kafka's ReplicaFetcherThread): fetches, as a follower,
// every partition this broker follows whose leader is that broker, in a loop of Fetch requests
// to the leader's inter-broker listener. Each request names this broker (replicaId, and the
// ReplicaState with its broker epoch), and per partition the follower's log end offset as fetch
// offset, the leader epoch it follows (currentLeaderEpoch) and the epoch of its last batch
// (lastFetchedEpoch) so the leader can point out where the logs diverge. Requests go in an
// incremental fetch session (KIP-227, fetch-session-handler.ts): after a full first request, one
// names only partitions whose fetch state changed and forgets those no longer fetched (removed,
// or held back by an error or the throttle, as Kafka's fetcher leaves them out), and the answer
// carries only partitions with records or news (high watermark, log start offset, errors). A
// session error (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH) is followed at once
// by a full request.
// Per partition of an answer:
//   - records are appended as they are (Partition.appendAsFollower), the leader's high watermark
//     is taken up to the local log end, and its log start offset followed;
//   - a diverging epoch truncates the log to where it stops agreeing with the leader's, found
//     through the local leader-epoch cache (Kafka's truncation with KIP-320 epochs), and the next
//     fetch goes from there;
//   - OFFSET_OUT_OF_RANGE asks the leader for its log end and start (ListOffsets as a replica):
//     truncate down to its end, or start over at its start;
//   - other errors (fenced epoch, unknown topic) hold the partition back for
//     replica.fetch.backoff.ms while the metadata image catches up; NOT_LEADER_OR_FOLLOWER and
//     UNKNOWN_LEADER_EPOCH, where the leader's image is behind this one's (right after a leader
//     change both hear of it at about the same time), only briefly (LEADER_CATCH_UP_MS): the new
//     leader's first high watermark advance waits on this follower's next fetch.
// A failed request (connection lost, timeout) holds every partition back for the same backoff.
// Invariant: an answer is applied only to a partition still fetched in the same leader epoch,
// and `remove` resolves only once no answer is being applied to it, so a partition that
// becomes leader never takes a follower append afterwards. Rounds run through the containment
// seam (unit 'replica-fetcher'); `stop` ends the loop after the round in flight.
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { FetchRequest, FetchTopic, ForgottenTopic } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchResponse, PartitionData } from '../../protocol/generated/message/fetch-response.ts';
import type { Scheduler, TimerHandle } from '../../protocol/scheduler.ts';
import type { NodeConnections } from '../../controller/network/node-connections.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from '../../storage/log.ts';
import { FetchSessionHandler, type SessionPartition, sessionKey } from './fetch-session-handler.ts';
import type { Partition } from './partition.ts';

/** How fetchers reach other brokers (NodeConnections on the inter-broker listener). */
export type BrokerConnections = Pick<NodeConnections, 'send'>;

export interface FetcherConfig {
  /** replica.fetch.wait.max.ms, replica.fetch.min.bytes, replica.fetch.response.max.bytes, replica.fetch.max.bytes */
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitionMaxBytes: number;
  /** replica.fetch.backoff.ms */
  backoffMs: number;
  /** replica.socket.timeout.ms: how long an answer may take beyond maxWaitMs. */
  requestTimeoutMs: number;
}

/** The follower's replication throttle (replication-quota.ts). */
export interface FollowerQuota {
  /** Leave `partition` out of the next fetch. */
  shouldThrottle(partition: Partition): boolean;
  /** Bytes fetched for `partition`. */
  record(partition: Partition, bytes: number): void;
}

export interface FetcherDeps {
  nodeId: number;
  brokerEpoch(): bigint;
  connections: BrokerConnections;
  scheduler: Scheduler;
  logger: Logger;
  config: FetcherConfig;
  quota?: FollowerQuota;
}

interface FetchState {
  readonly partition: Partition;
  readonly leaderEpoch: number;
  /** No fetch for this partition before this time (after an error). */
  delayedUntil: number;
  /** Answers in a row saying the leader has not caught up (each doubles the next hold-back). */
  leaderBehind: number;
}

const LANE = 'replica-fetch';
const UNKNOWN_OFFSET = -1;
const THROTTLE_DELAY_MS = 100;
/** The hold-back when the leader has not yet heard of the epoch this follower fetches in. */
const LEADER_CATCH_UP_MS = 20;

export class ReplicaFetcher {
  readonly sourceBroker: number;
  private readonly deps: FetcherDeps;
  private readonly states = new Map<Partition, FetchState>();
  private timer: TimerHandle | undefined;
  /** The round in flight, if any (a request, then the answer being applied). */
  private round: Promise<void> | undefined;
  /** The answer being applied (remove waits for it). */
  private applying: Promise<void> = Promise.resolve();
  private stopped = false;
  private failures = 0;
  /** The incremental fetch session with the source broker. */
  private readonly session = new FetchSessionHandler();

  constructor(sourceBroker: number, deps: FetcherDeps) {
    this.sourceBroker = sourceBroker;
    this.deps = deps;
  }

  get size(): number {
    return this.states.size;
  }

  has(partition: Partition): boolean {
    return this.states.has(partition);
  }

  /** Fetches `partition` in `leaderEpoch` from now on (a new epoch replaces the old state). */
  add(partition: Partition, leaderEpoch: number): void {
    const s = this.states.get(partition);
    if (s && s.leaderEpoch === leaderEpoch) return;
    this.states.set(partition, { partition, leaderEpoch, delayedUntil: 0, leaderBehind: 0 });
    this.wake(0);
  }

  /** Stops fetching `partition`; resolves once no answer is being applied to it. */
  async remove(partition: Partition): Promise<void> {
    if (!this.states.delete(partition)) return;
    await this.applying;
  }

  /** Ends the loop; resolves after the round in flight (bounded by the request timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.states.clear();
    await this.round;
  }

  private wake(delayMs: number): void {
    if (this.stopped || this.round || this.timer) return;
    const scope = {
      unit: 'replica-fetcher',
      context: { sourceBroker: this.sourceBroker },
      onFailure: () => {
        this.round = undefined;
        this.wake(this.deps.config.backoffMs);
      },
    };
    const start = () => {
      this.timer = undefined;
      this.round = this.doRound().finally(() => {
        this.round = undefined;
      });
      return this.round.then(() => this.next());
    };
    // The next fetch goes out at once after an answer (a timer would add a tick to every
    // acks=all round trip); each round waits on the network, so this never spins.
    if (delayMs <= 0) this.deps.scheduler.run(scope, start);
    else this.timer = this.deps.scheduler.schedule(delayMs, scope, start);
  }

  /** Schedules the next round: at once when some partition is ready, else when the first backoff ends. */
  private next(): void {
    if (this.stopped || this.states.size === 0) return;
    const now = this.deps.scheduler.now();
    let soonest = Infinity;
    for (const s of this.states.values()) soonest = Math.min(soonest, s.delayedUntil);
    this.wake(Math.max(0, soonest - now));
  }

  private async doRound(): Promise<void> {
    const { scheduler, config, nodeId, logger } = this.deps;
    const now = scheduler.now();
    const candidates = [...this.states.values()].filter((s) => s.delayedUntil <= now && !this.throttled(s, now));
    if (candidates.length === 0) return;
    const stateByKey = new Map<string, FetchState>();
    const wanted: SessionPartition[] = [];
    for (const s of candidates) {
      const p = s.partition;
      const sp: SessionPartition = {
        topic: p.topic,
        topicId: p.topicId,
        partition: p.partition,
        fetchOffset: BigInt(p.log.logEndOffset),
        logStartOffset: BigInt(p.log.logStartOffset),
        maxBytes: config.partitionMaxBytes,
        currentLeaderEpoch: s.leaderEpoch,
        lastFetchedEpoch: p.log.leaderEpochCache.latestEpoch() ?? -1,
      };
      stateByKey.set(sessionKey(sp), s);
      wanted.push(sp);
    }
    const built = this.session.build(wanted);
    // The partitions the leader reads: the session's, all of them ready here.
    const ready = [...built.partitions.keys()].map((k) => stateByKey.get(k)!);
    const topics = new Map<string, FetchTopic>();
    for (const sp of built.toSend) {
      let t = topics.get(sp.topicId);
      if (!t) topics.set(sp.topicId, (t = { topic: sp.topic, topicId: sp.topicId, partitions: [] }));
      t.partitions.push({
        partition: sp.partition,
        currentLeaderEpoch: sp.currentLeaderEpoch,
        fetchOffset: sp.fetchOffset,
        lastFetchedEpoch: sp.lastFetchedEpoch,
        logStartOffset: sp.logStartOffset,
        partitionMaxBytes: sp.maxBytes,
      });
    }
    const forgotten = new Map<string, ForgottenTopic>();
    for (const f of built.toForget) {
      let t = forgotten.get(f.topicId);
      if (!t) forgotten.set(f.topicId, (t = { topic: f.topic, topicId: f.topicId, partitions: [] }));
      t.partitions.push(f.partition);
    }
    const request: FetchRequest = {
      clusterId: null,
      replicaId: nodeId,
      replicaState: { replicaId: nodeId, replicaEpoch: this.deps.brokerEpoch() },
      maxWaitMs: config.maxWaitMs,
      minBytes: config.minBytes,
      maxBytes: config.maxBytes,
      isolationLevel: 0,
      sessionId: built.sessionId,
      sessionEpoch: built.sessionEpoch,
      topics: [...topics.values()],
      forgottenTopicsData: [...forgotten.values()],
      rackId: '',
    };
    let response: FetchResponse;
    try {
      response = await this.deps.connections.send(this.sourceBroker, ApiKey.Fetch, request, { lane: LANE, timeoutMs: config.maxWaitMs + config.requestTimeoutMs });
    } catch (err) {
      this.session.handleError();
      this.failures++;
      // The first failure of a run is worth a line; the rest repeat it.
      const level = this.failures === 1 ? 'warn' : 'debug';
      logger[level]({ sourceBroker: this.sourceBroker, err: err instanceof Error ? err.message : String(err) }, 'replica fetch failed; backing off');
      this.holdBack(ready);
      return;
    }
    this.failures = 0;
    const answered = response.responses.flatMap((t) => t.partitions.map((pd) => ({ topic: t.topic ?? null, topicId: t.topicId ?? null, partition: pd.partitionIndex })));
    const errorCode = response.errorCode ?? ErrorCode.NONE;
    if (!this.session.handleResponse(errorCode, response.sessionId ?? 0, answered)) {
      if (errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND || errorCode === ErrorCode.INVALID_FETCH_SESSION_EPOCH) {
        // The leader lost or moved past the session (evicted, restarted): a full request at once.
        logger.debug({ sourceBroker: this.sourceBroker, errorCode, sessionId: built.sessionId, sessionEpoch: built.sessionEpoch }, 'fetch session refused; starting a new one');
        return;
      }
      if (errorCode === ErrorCode.NONE) logger.warn({ sourceBroker: this.sourceBroker, sessionId: built.sessionId }, 'replica fetch answer does not match its session; starting a new one');
      else logger.info({ sourceBroker: this.sourceBroker, errorCode }, 'replica fetch refused; backing off');
      this.holdBack(ready);
      return;
    }
    const byKey = new Map<string, PartitionData>();
    for (const t of response.responses) {
      // v13+ names topics by id, older versions by name.
      const key = t.topicId && t.topicId !== ZERO_UUID ? `id:${t.topicId}` : `name:${t.topic ?? ''}`;
      for (const pd of t.partitions) byKey.set(`${key}/${pd.partitionIndex}`, pd);
    }
    const work = (async () => {
      for (const s of ready) {
        const p = s.partition;
        const pd = byKey.get(`id:${p.topicId}/${p.partition}`) ?? byKey.get(`name:${p.topic}/${p.partition}`);
        if (!pd || this.states.get(p) !== s) continue;
        try {
          await this.apply(s, pd);
        } catch (err) {
          logger.error({ err, topic: p.topic, partition: p.partition }, 'could not apply a replica fetch answer; backing off');
          this.holdBack([s]);
        }
      }
    })();
    this.applying = work;
    await work;
  }

  /** A throttled partition waits a little before it is looked at again (rather than spin). */
  private throttled(s: FetchState, now: number): boolean {
    if (!this.deps.quota?.shouldThrottle(s.partition)) return false;
    s.delayedUntil = now + Math.min(THROTTLE_DELAY_MS, this.deps.config.backoffMs);
    return true;
  }

  private holdBack(states: readonly FetchState[], delayMs = this.deps.config.backoffMs): void {
    const until = this.deps.scheduler.now() + delayMs;
    for (const s of states) s.delayedUntil = until;
  }

  private async apply(s: FetchState, pd: PartitionData): Promise<void> {
    const p = s.partition;
    const log = p.log;
    switch (pd.errorCode) {
      case ErrorCode.NONE: {
        s.leaderBehind = 0;
        const div = pd.divergingEpoch;
        if (div && div.epoch >= 0 && Number(div.endOffset) >= 0) {
          await p.truncateTo(this.truncationOffset(p, div.epoch, Number(div.endOffset)));
          return;
        }
        if (pd.records && pd.records.length > 0) {
          await p.appendAsFollower(pd.records);
          this.deps.quota?.record(p, pd.records.length);
        }
        const leaderStart = Number(pd.logStartOffset ?? -1n);
        p.updateFollowerHighWatermark(Number(pd.highWatermark));
        if (leaderStart > log.logStartOffset && leaderStart <= log.highWatermark) await log.deleteRecordsBefore(leaderStart);
        return;
      }
      case ErrorCode.OFFSET_OUT_OF_RANGE:
        await this.handleOutOfRange(s);
        return;
      case ErrorCode.NOT_LEADER_OR_FOLLOWER:
      case ErrorCode.UNKNOWN_LEADER_EPOCH:
        this.deps.logger.debug({ topic: p.topic, partition: p.partition, errorCode: pd.errorCode, leaderEpoch: s.leaderEpoch }, 'the leader has not caught up with this leader epoch yet; fetching again shortly');
        this.holdBack([s], Math.min(LEADER_CATCH_UP_MS * 2 ** s.leaderBehind++, this.deps.config.backoffMs));
        return;
      default:
        this.deps.logger.debug({ topic: p.topic, partition: p.partition, errorCode: pd.errorCode, leaderEpoch: s.leaderEpoch }, 'replica fetch error for a partition; backing off');
        this.holdBack([s]);
    }
  }

  /**
   * Where to truncate when the leader says our log diverges after `leaderEndOffset` of
   * `leaderEpoch` (Kafka's getOffsetTruncationState): with that same epoch locally, at the
   * smaller of both ends; with only an older one, at the smaller of its end and the leader's
   * (the next fetch narrows it further); with no epoch at all, at the high watermark.
   */
  private truncationOffset(p: Partition, leaderEpoch: number, leaderEndOffset: number): number {
    const log = p.log;
    const local = log.leaderEpochCache.endOffsetForEpoch(leaderEpoch, log.logEndOffset);
    if (local.epoch < 0 || local.endOffset < 0) return Math.min(log.highWatermark, log.logEndOffset);
    return Math.min(local.endOffset, leaderEndOffset, log.logEndOffset);
  }

  private async handleOutOfRange(s: FetchState): Promise<void> {
    const p = s.partition;
    const leaderEnd = await this.leaderOffset(s, LATEST_TIMESTAMP);
    const leaderStart = await this.leaderOffset(s, EARLIEST_TIMESTAMP);
    if (this.states.get(p) !== s) return;
    if (leaderEnd === UNKNOWN_OFFSET || leaderStart === UNKNOWN_OFFSET) {
      this.holdBack([s]);
      return;
    }
    const end = p.log.logEndOffset;
    if (leaderEnd < end) await p.truncateTo(leaderEnd);
    else if (leaderStart > end) await p.truncateFullyAndStartAt(leaderStart);
    else this.holdBack([s]);
  }

  private async leaderOffset(s: FetchState, timestamp: number): Promise<number> {
    const p = s.partition;
    try {
      const r = await this.deps.connections.send(
        this.sourceBroker,
        ApiKey.ListOffsets,
        {
          replicaId: this.deps.nodeId,
          isolationLevel: 0,
          topics: [{ name: p.topic, partitions: [{ partitionIndex: p.partition, currentLeaderEpoch: s.leaderEpoch, timestamp: BigInt(timestamp), maxNumOffsets: 1 }] }],
        },
        { lane: 'control', timeoutMs: this.deps.config.requestTimeoutMs },
      );
      const a = r.topics[0]?.partitions[0];
      if (!a || a.errorCode !== ErrorCode.NONE) return UNKNOWN_OFFSET;
      return Number(a.offset ?? -1n);
    } catch {
      return UNKNOWN_OFFSET;
    }
  }
}
