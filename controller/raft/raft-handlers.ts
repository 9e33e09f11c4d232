// The Raft protocol of one replica (KIP-595): the requests it sends (Vote as candidate,
// BeginQuorumEpoch as new leader, EndQuorumEpoch as resigned leader, Fetch as follower or
// observer) with what it does on their answers, and the answers it gives to other replicas'
// requests. A fetch the leader answers with a snapshot id goes on in raft-snapshots.ts. Everything that reads or changes the role runs in the client's `serial` queue;
// callbacks of a role that has since changed (an older generation) do nothing.
import type { BeginQuorumEpochRequest } from '../../protocol/generated/message/begin-quorum-epoch-request.ts';
import type { BeginQuorumEpochResponse } from '../../protocol/generated/message/begin-quorum-epoch-response.ts';
import type { DescribeQuorumRequest } from '../../protocol/generated/message/describe-quorum-request.ts';
import type { DescribeQuorumResponse } from '../../protocol/generated/message/describe-quorum-response.ts';
import type { EndQuorumEpochRequest } from '../../protocol/generated/message/end-quorum-epoch-request.ts';
import type { EndQuorumEpochResponse } from '../../protocol/generated/message/end-quorum-epoch-response.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import type { VoteRequest } from '../../protocol/generated/message/vote-request.ts';
import type { VoteResponse } from '../../protocol/generated/message/vote-response.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { readBatchHeader } from '../../protocol/records/batch-header.ts';
import { iterateBatches } from '../../protocol/records/record-batch.ts';
import { canGrantVote, isLogUpToDate } from './epoch-state.ts';
import { electionBackoffMs, successorBackoffMs } from './raft-config.ts';
import {
  beginQuorumEpochRequest,
  beginQuorumEpochResponse,
  describeQuorumResponse,
  endQuorumEpochRequest,
  endQuorumEpochResponse,
  fetchRequest,
  fetchResponse,
  type LeaderAndEpoch,
  voteRequest,
  voteResponse,
} from './raft-messages.ts';
import { metadataPartition } from './raft-transport.ts';
import type { RaftClient } from './raft-client.ts';
import { NO_DIRECTORY_ID } from './voter-set.ts';

export class RaftHandlers {
  /** The high watermark each replica was last answered with (leader side). */
  private readonly lastSentHw = new Map<number, bigint>();
  /** A leader an answer named that this observer could not follow (an earlier epoch): asked next. */
  private leaderHint: number | undefined;

  constructor(private readonly c: RaftClient) {}

  private at(): LeaderAndEpoch {
    return { leaderId: this.c.currentLeader, epoch: this.c.currentEpoch };
  }

  /** Runs a response handler contained and in order, unless the role it was sent for is gone. */
  onAnswer(gen: number, fn: () => unknown): void {
    const c = this.c;
    c.scheduler.run(c.scope, () =>
      c.serial(() => {
        if (gen !== c.generation || c.isClosed) return;
        return fn();
      }),
    );
  }

  /**
   * Follows what an answer or request says of a newer epoch or of the leader of ours; returns
   * true when that changed the role (the caller's role is then gone).
   */
  async maybeTransition(epoch: number, leaderId: number): Promise<boolean> {
    const c = this.c;
    const s = c.epochState;
    if (epoch > s.epoch) {
      if (leaderId >= 0 && leaderId !== c.nodeId) await c.becomeFollower(epoch, leaderId);
      else await c.becomeUnattached(epoch);
      return true;
    }
    if (epoch === s.epoch && leaderId >= 0 && leaderId !== c.nodeId && (s.role === 'unattached' || s.role === 'voted' || s.role === 'candidate')) {
      await c.becomeFollower(epoch, leaderId);
      return true;
    }
    return false;
  }

  // ---- Vote ----

  requestVote(destination: number, gen: number): void {
    const c = this.c;
    const s = c.epochState;
    if (s.role !== 'candidate') return;
    const req = voteRequest(c.clusterId, destination, c.nodeId, s.epoch, c.log.lastEpoch(), c.log.endOffset(), {
      candidateDirectoryId: c.directoryId,
      voterDirectoryId: c.voterSet.find((v) => v.id === destination)?.directoryId,
    });
    c.request(destination, 'vote', req).then(
      (resp) => this.onAnswer(gen, () => this.onVoteResponse(destination, gen, resp)),
      () => this.onAnswer(gen, () => this.retryVote(destination, gen)),
    );
  }

  private retryVote(destination: number, gen: number): void {
    const c = this.c;
    c.addTimer(c.config.retryBackoffMs, gen, () => {
      const s = c.epochState;
      if (s.role === 'candidate' && !s.backingOff && !s.granted.has(destination) && !s.rejected.has(destination)) this.requestVote(destination, gen);
    });
  }

  private async onVoteResponse(destination: number, gen: number, resp: VoteResponse): Promise<void> {
    const c = this.c;
    const p = metadataPartition(resp.topics);
    if (!p || resp.errorCode !== ErrorCode.NONE) return this.retryVote(destination, gen);
    if (await this.maybeTransition(p.leaderEpoch, p.leaderId)) return;
    const s = c.epochState;
    if (s.role !== 'candidate') return;
    if (p.errorCode !== ErrorCode.NONE) return this.retryVote(destination, gen);
    if (!p.voteGranted && c.controlLog.history.isDynamic && p.leaderId >= 0 && p.leaderId !== c.nodeId && p.leaderEpoch < s.epoch) {
      // A voter that follows a working leader of an earlier epoch refused: this replica's voter
      // set may be stale (it was removed while cut off), so it stops standing for a while and
      // fetches as an observer, which brings the leader to a later epoch it can follow.
      return c.standDown();
    }
    if (p.voteGranted) {
      s.granted.add(destination);
      if (c.votersAmong(s.granted) >= c.majority) await c.becomeLeader();
      return;
    }
    s.rejected.add(destination);
    if (c.votersAmong(s.rejected) > c.voters.length - c.majority) {
      const backoff = electionBackoffMs(c.config, s.retries, c.random);
      c.logger.info({ epoch: s.epoch, rejectedBy: [...s.rejected], backoffMs: backoff }, 'election lost; backing off before standing again');
      c.startBackoff(backoff);
    }
  }

  /** A candidate asks for this replica's vote. */
  handleVote(req: VoteRequest): Promise<VoteResponse> {
    const c = this.c;
    return c.serial(async () => {
      const p = metadataPartition(req.topics);
      if (c.isClosed) return voteResponse(ErrorCode.BROKER_NOT_AVAILABLE, ErrorCode.NONE, this.at(), false);
      if (!p) return voteResponse(ErrorCode.INVALID_REQUEST, ErrorCode.NONE, this.at(), false);
      if (c.clusterId !== null && req.clusterId !== null && req.clusterId !== c.clusterId) return voteResponse(ErrorCode.INCONSISTENT_CLUSTER_ID, ErrorCode.NONE, this.at(), false);
      // A static quorum refuses candidates it does not know; a dynamic one may simply be behind
      // on the voter set (KIP-853), and one vote per epoch keeps elections safe either way.
      if (!c.controlLog.history.isDynamic && !c.voters.includes(p.candidateId)) return voteResponse(ErrorCode.NONE, ErrorCode.INCONSISTENT_VOTER_SET, this.at(), false);
      if (!sameKey(p.voterDirectoryId, c.directoryId) || (req.voterId !== undefined && req.voterId >= 0 && req.voterId !== c.nodeId)) {
        return voteResponse(ErrorCode.NONE, ErrorCode.INVALID_VOTER_KEY, this.at(), false);
      }
      if (p.candidateEpoch < c.currentEpoch) return voteResponse(ErrorCode.NONE, ErrorCode.FENCED_LEADER_EPOCH, this.at(), false);
      // A follower that hears from its leader refuses a later epoch's candidate without moving to
      // that epoch (Raft's rule against removed servers, §4.2.3 of Ongaro's thesis): in a dynamic
      // quorum a voter removed while it was cut off stands with its stale voter set, and would
      // otherwise depose a working leader again and again. A leader that resigned lets them in.
      const s0 = c.epochState;
      if (c.controlLog.history.isDynamic && s0.role === 'follower' && !s0.leaderEnded && p.candidateEpoch > s0.epoch) {
        return voteResponse(ErrorCode.NONE, ErrorCode.NONE, this.at(), false);
      }
      const upToDate = isLogUpToDate(p.lastOffsetEpoch, p.lastOffset, c.log.lastEpoch(), c.log.endOffset());
      if (p.candidateEpoch > c.currentEpoch) await c.becomeUnattached(p.candidateEpoch, !upToDate);
      // In a dynamic quorum a replica votes whatever its own voter set says: behind on the log, it
      // may not know yet that it is a voter (KIP-853); the candidate counts only its voters' votes.
      const granted = (c.isVoter || c.controlLog.history.isDynamic) && canGrantVote(c.epochState, p.candidateId, upToDate);
      if (granted && c.epochState.role === 'unattached') await c.becomeVoted(p.candidateEpoch, p.candidateId);
      c.logger.debug({ candidateId: p.candidateId, epoch: p.candidateEpoch, granted, upToDate, role: c.role }, 'vote request answered');
      return voteResponse(ErrorCode.NONE, ErrorCode.NONE, this.at(), granted);
    });
  }

  // ---- BeginQuorumEpoch ----

  sendBeginQuorumEpoch(destination: number, gen: number): void {
    const c = this.c;
    const self = c.endpointOf(c.nodeId);
    const req = beginQuorumEpochRequest(c.clusterId, destination, c.nodeId, c.currentEpoch, c.voterSet.find((v) => v.id === destination)?.directoryId, self ? [self] : []);
    const retry = (): void => {
      c.addTimer(c.config.retryBackoffMs, gen, () => {
        const s = c.epochState;
        if (s.role === 'leader' && s.leader.nonAcknowledgingVoters().includes(destination)) this.sendBeginQuorumEpoch(destination, gen);
      });
    };
    c.request(destination, 'beginQuorumEpoch', req).then(
      (resp) =>
        this.onAnswer(gen, async () => {
          const p = metadataPartition(resp.topics);
          if (p && (await this.maybeTransition(p.leaderEpoch, p.leaderId))) return;
          const s = c.epochState;
          if (p && resp.errorCode === ErrorCode.NONE && p.errorCode === ErrorCode.NONE && s.role === 'leader') s.leader.acknowledge(destination);
          else retry();
        }),
      () => this.onAnswer(gen, retry),
    );
  }

  /** A new leader announces its epoch. */
  handleBeginQuorumEpoch(req: BeginQuorumEpochRequest): Promise<BeginQuorumEpochResponse> {
    const c = this.c;
    return c.serial(async () => {
      const p = metadataPartition(req.topics);
      if (c.isClosed) return beginQuorumEpochResponse(ErrorCode.BROKER_NOT_AVAILABLE, ErrorCode.NONE, this.at());
      if (!p || p.leaderId === c.nodeId) return beginQuorumEpochResponse(ErrorCode.INVALID_REQUEST, ErrorCode.NONE, this.at());
      if (c.clusterId !== null && req.clusterId !== null && req.clusterId !== c.clusterId) return beginQuorumEpochResponse(ErrorCode.INCONSISTENT_CLUSTER_ID, ErrorCode.NONE, this.at());
      if (p.leaderEpoch < c.currentEpoch) return beginQuorumEpochResponse(ErrorCode.NONE, ErrorCode.FENCED_LEADER_EPOCH, this.at());
      if (!sameKey(p.voterDirectoryId, c.directoryId)) return beginQuorumEpochResponse(ErrorCode.NONE, ErrorCode.INVALID_VOTER_KEY, this.at());
      const endpoint = req.leaderEndpoints?.find((e) => e.name === c.listenerName) ?? req.leaderEndpoints?.[0];
      if (endpoint) c.learnedEndpoints.set(p.leaderId, { name: endpoint.name, host: endpoint.host, port: endpoint.port });
      const s = c.epochState;
      if (s.role === 'follower' && s.epoch === p.leaderEpoch && s.leaderId === p.leaderId) {
        c.resetFetchTimer();
      } else if (s.epoch === p.leaderEpoch && (s.role === 'leader' || s.role === 'resigned' || s.role === 'follower')) {
        // Two leaders in one epoch cannot happen while votes are kept: refuse rather than follow.
        c.logger.error({ epoch: s.epoch, role: s.role, claimedBy: p.leaderId }, 'a second leader claimed this epoch');
        return beginQuorumEpochResponse(ErrorCode.NONE, ErrorCode.INVALID_REQUEST, this.at());
      } else {
        await c.becomeFollower(p.leaderEpoch, p.leaderId);
      }
      return beginQuorumEpochResponse(ErrorCode.NONE, ErrorCode.NONE, this.at());
    });
  }

  // ---- EndQuorumEpoch ----

  sendEndQuorumEpoch(destination: number, gen: number): void {
    const c = this.c;
    const s = c.epochState;
    if (s.role !== 'resigned') return;
    const self = c.endpointOf(c.nodeId);
    const req = endQuorumEpochRequest(c.clusterId, c.nodeId, s.epoch, s.successors, (id) => c.voterSet.find((v) => v.id === id)?.directoryId, self ? [self] : []);
    const retry = (): void => {
      c.addTimer(c.config.retryBackoffMs, gen, () => {
        const r = c.epochState;
        if (r.role === 'resigned' && !r.acknowledged.has(destination)) this.sendEndQuorumEpoch(destination, gen);
      });
    };
    c.request(destination, 'endQuorumEpoch', req).then(
      (resp) =>
        this.onAnswer(gen, async () => {
          const p = metadataPartition(resp.topics);
          if (p && (await this.maybeTransition(p.leaderEpoch, p.leaderId))) return;
          const r = c.epochState;
          if (p && resp.errorCode === ErrorCode.NONE && p.errorCode === ErrorCode.NONE && r.role === 'resigned') r.acknowledged.add(destination);
          else retry();
        }),
      () => this.onAnswer(gen, retry),
    );
  }

  /**
   * The leader resigns: a follower of it starts an election after a delay that grows with its
   * place in the leader's preferred successors (the first at once).
   */
  handleEndQuorumEpoch(req: EndQuorumEpochRequest): Promise<EndQuorumEpochResponse> {
    const c = this.c;
    return c.serial(async () => {
      const p = metadataPartition(req.topics);
      if (c.isClosed) return endQuorumEpochResponse(ErrorCode.BROKER_NOT_AVAILABLE, ErrorCode.NONE, this.at());
      if (!p) return endQuorumEpochResponse(ErrorCode.INVALID_REQUEST, ErrorCode.NONE, this.at());
      if (c.clusterId !== null && req.clusterId !== null && req.clusterId !== c.clusterId) return endQuorumEpochResponse(ErrorCode.INCONSISTENT_CLUSTER_ID, ErrorCode.NONE, this.at());
      if (p.leaderEpoch < c.currentEpoch) return endQuorumEpochResponse(ErrorCode.NONE, ErrorCode.FENCED_LEADER_EPOCH, this.at());
      if (p.leaderId !== c.nodeId) await this.maybeTransition(p.leaderEpoch, p.leaderId);
      const s = c.epochState;
      if (s.role === 'follower' && s.epoch === p.leaderEpoch && s.leaderId === p.leaderId) s.leaderEnded = true;
      if (s.role === 'follower' && s.epoch === p.leaderEpoch && s.leaderId === p.leaderId && c.mayStand) {
        // v1 names the successors as preferredCandidates, v0 as preferredSuccessors.
        const successors = p.preferredCandidates && p.preferredCandidates.length > 0 ? p.preferredCandidates.map((r) => r.candidateId) : (p.preferredSuccessors ?? []);
        const position = successors.indexOf(c.nodeId);
        c.resetFetchTimer(successorBackoffMs(c.config, position < 0 ? successors.length : position));
      }
      return endQuorumEpochResponse(ErrorCode.NONE, ErrorCode.NONE, this.at());
    });
  }

  // ---- Fetch: follower and observer side ----

  /** Fetches from the leader (a follower) or from a random voter to find it (an unattached observer). */
  sendFetch(gen: number): void {
    const c = this.c;
    const s = c.epochState;
    if (c.isClosed || gen !== c.generation) return;
    if (c.snapshots.fetching(gen)) return c.snapshots.sendFetchSnapshot(gen);
    let target: number;
    // An observer that knows no leader asks a known voter or a bootstrap server, which answers with the leader.
    const pool = [...new Set([...c.voters, ...c.bootstrapServers])].filter((id) => id !== c.nodeId);
    if (s.role === 'follower') target = s.leaderId;
    else if (!c.mayStand && (s.role === 'unattached' || s.role === 'voted') && pool.length > 0) {
      target = this.leaderHint ?? pool[Math.floor(c.random() * pool.length)]!;
      this.leaderHint = undefined;
    } else {
      // A voter whose stand-down ended while it fetched as an observer stands again.
      if ((s.role === 'unattached' || s.role === 'voted') && c.mayStand) c.resumeStanding();
      return;
    }
    const req = fetchRequest(c.clusterId, {
      replicaId: c.nodeId,
      replicaDirectoryId: c.directoryId,
      currentLeaderEpoch: s.epoch,
      fetchOffset: c.log.endOffset(),
      lastFetchedEpoch: c.log.lastEpoch(),
      maxWaitMs: c.config.fetchMaxWaitMs,
      maxBytes: c.config.fetchMaxBytes,
    });
    c.request(target, 'fetch', req).then(
      (resp) => this.onAnswer(gen, () => this.onFetchResponse(target, gen, resp)),
      () => this.onAnswer(gen, () => this.retryFetch(gen)),
    );
  }

  private retryFetch(gen: number): void {
    this.c.addTimer(this.c.config.retryBackoffMs, gen, () => this.sendFetch(gen));
  }

  private async onFetchResponse(target: number, gen: number, resp: FetchResponse): Promise<void> {
    const c = this.c;
    const p = metadataPartition(resp.responses);
    if (!p || (resp.errorCode ?? 0) !== ErrorCode.NONE) return this.retryFetch(gen);
    for (const e of resp.nodeEndpoints ?? []) if (e.nodeId !== c.nodeId) c.learnedEndpoints.set(e.nodeId, { name: c.listenerName ?? '', host: e.host, port: e.port });
    if (p.currentLeader && (await this.maybeTransition(p.currentLeader.leaderEpoch, p.currentLeader.leaderId))) return;
    const s = c.epochState;
    // The leader of an earlier epoch is asked next: fetched from at this later one, it moves on to
    // an epoch this replica can follow.
    const named = p.currentLeader?.leaderId ?? -1;
    if ((s.role === 'unattached' || s.role === 'voted') && named >= 0 && named !== target && named !== c.nodeId) this.leaderHint = named;
    if (p.errorCode !== ErrorCode.NONE || s.role !== 'follower' || s.leaderId !== target) return this.retryFetch(gen);
    c.resetFetchTimer();
    const diverging = p.divergingEpoch;
    if (p.snapshotId && p.snapshotId.endOffset >= 0n && p.snapshotId.epoch >= 0) {
      c.snapshots.beginFetch({ endOffset: p.snapshotId.endOffset, epoch: p.snapshotId.epoch }, gen);
    } else if (diverging && diverging.endOffset >= 0n) {
      // The log past the new end is not known to match the leader's yet, so the high watermark
      // waits for a fetch the leader accepts.
      await this.truncateToDiverging(diverging.epoch, diverging.endOffset);
    } else {
      if (p.records && p.records.length > 0) await this.appendFromLeader(p.records);
      if (p.highWatermark >= 0n) await c.advanceHighWatermark(p.highWatermark);
      c.voterChanges.maybeSendUpdate(gen);
    }
    if (gen === c.generation) c.sendFetch();
  }

  private async truncateToDiverging(epoch: number, endOffset: bigint): Promise<void> {
    const c = this.c;
    const local = c.log.endOffsetForEpoch(epoch);
    const to = local.endOffset < endOffset ? local.endOffset : endOffset;
    // Committed entries are on a majority and so on every later leader: a leader asking to cut
    // below the high watermark means a broken invariant, and cutting would lose committed data.
    if (to < c.hw) throw new Error(`leader asked to truncate to ${to}, below the high watermark ${c.hw}`);
    c.logger.info({ divergingEpoch: epoch, leaderEndOffset: String(endOffset), truncateTo: String(to), logEndOffset: String(c.log.endOffset()) }, 'log diverges from the leader: truncating');
    await c.log.truncateTo(to);
  }

  private async appendFromLeader(records: Buffer): Promise<void> {
    const c = this.c;
    const end = c.log.endOffset();
    let start = -1;
    for (const e of iterateBatches(records)) {
      const h = readBatchHeader(records, e.position);
      const last = h.baseOffset + BigInt(h.lastOffsetDelta);
      if (last < end) continue;
      if (h.baseOffset !== end) throw new Error(`leader sent a batch at ${h.baseOffset} for fetch offset ${end}`);
      start = e.position;
      break;
    }
    if (start < 0) return;
    await c.log.appendAsFollower(records.subarray(start));
    // The next fetch offset tells the leader this data is held: it must be durable first.
    await c.log.flush();
  }

  // ---- Fetch: leader side ----

  /**
   * A follower or observer fetches. With nothing new to send it waits, up to maxWaitMs, until
   * the log grows, the high watermark moves (so followers learn of commits at once) or the
   * role changes.
   */
  async handleFetch(req: FetchRequest): Promise<FetchResponse> {
    const c = this.c;
    const deadline = c.now() + Math.max(0, req.maxWaitMs);
    let seenHw: bigint | undefined;
    for (;;) {
      const r = await c.serial(() => this.tryFetch(req, c.now() < deadline, seenHw));
      if ('response' in r) return r.response;
      seenHw = r.parkedAt;
      await c.waitForChange(deadline - c.now());
    }
  }

  private async tryFetch(req: FetchRequest, mayPark: boolean, seenHw: bigint | undefined): Promise<{ response: FetchResponse } | { parkedAt: bigint }> {
    const c = this.c;
    // Every answer says where the leader it names listens (Fetch v16+ NodeEndpoints), so an
    // observer that asked a bootstrap server can reach the leader next.
    const answer = (topLevel: number, a: Parameters<typeof fetchResponse>[1]) => ({
      response: fetchResponse(topLevel, { ...a, leaderEndpoint: a.leaderEndpoint ?? (a.leader.leaderId >= 0 ? c.endpointOf(a.leader.leaderId) : undefined) }),
    });
    const s = c.epochState;
    const at = this.at();
    const p = req.topics[0]?.partitions[0];
    if (c.isClosed) return answer(ErrorCode.BROKER_NOT_AVAILABLE, { errorCode: ErrorCode.NONE, highWatermark: -1n, leader: at });
    if (!p || p.partition !== 0) return answer(ErrorCode.NONE, { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, highWatermark: -1n, leader: at });
    if (c.clusterId !== null && req.clusterId && req.clusterId !== c.clusterId) return answer(ErrorCode.INCONSISTENT_CLUSTER_ID, { errorCode: ErrorCode.NONE, highWatermark: -1n, leader: at });
    const requestEpoch = p.currentLeaderEpoch ?? -1;
    // A dynamic quorum's leader fetched from at a later epoch gives way to it, as Raft's rule for
    // any later term: that epoch was begun by a candidate (a voter removed without knowing it, say)
    // whose vote requests moved the fetcher past the leader, which then could no longer follow it.
    // It stands again at once rather than after an election timeout: meanwhile such candidates
    // would move the fetcher further still, and the leader would give way again and again (seed
    // 9468). The answer names the new epoch, so the fetcher can follow it.
    const fetcherId = req.replicaState?.replicaId ?? req.replicaId ?? -1;
    if (c.controlLog.history.isDynamic && requestEpoch > s.epoch && s.role === 'leader') {
      c.logger.info({ epoch: s.epoch, fetchEpoch: requestEpoch, replicaId: fetcherId }, 'fetched from at a later epoch: giving up leadership and standing again');
      await c.becomeUnattached(requestEpoch);
      await c.becomeCandidate();
      return answer(ErrorCode.NONE, { errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH, highWatermark: -1n, leader: this.at() });
    }
    const error =
      requestEpoch < s.epoch ? ErrorCode.FENCED_LEADER_EPOCH : requestEpoch > s.epoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : s.role !== 'leader' ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE;
    if (error !== ErrorCode.NONE || s.role !== 'leader') return answer(ErrorCode.NONE, { errorCode: error, highWatermark: -1n, leader: at });
    const lastFetchedEpoch = p.lastFetchedEpoch ?? -1;
    if (p.fetchOffset < 0n || (p.fetchOffset > 0n && lastFetchedEpoch < 0)) return answer(ErrorCode.NONE, { errorCode: ErrorCode.INVALID_REQUEST, highWatermark: -1n, leader: at });
    const hw = (): bigint => s.leader.highWatermark ?? -1n;
    const replicaId = req.replicaState?.replicaId ?? req.replicaId ?? -1;
    const snapshotId = c.snapshots.snapshotForFetch(p.fetchOffset, lastFetchedEpoch);
    if (snapshotId) {
      if (replicaId >= 0) s.leader.touchReplica(replicaId, c.now());
      return answer(ErrorCode.NONE, { errorCode: ErrorCode.NONE, highWatermark: hw(), leader: at, snapshotId, logStartOffset: c.log.startOffset() });
    }
    if (p.fetchOffset > 0n) {
      const known = c.log.endOffsetForEpoch(lastFetchedEpoch);
      if (known.epoch !== lastFetchedEpoch || known.endOffset < p.fetchOffset) {
        return answer(ErrorCode.NONE, { errorCode: ErrorCode.NONE, highWatermark: hw(), leader: at, divergingEpoch: known });
      }
    }
    // Parked only while the high watermark is the one this replica was last told: a replica
    // whose previous answer predates a commit learns of it at once.
    const before = seenHw ?? (replicaId >= 0 ? this.lastSentHw.get(replicaId) : undefined) ?? hw();
    if (replicaId >= 0 && s.leader.updateReplica(replicaId, p.fetchOffset, c.log.endOffset(), c.now(), p.replicaDirectoryId)) await c.onLeaderHighWatermark();
    const records = p.fetchOffset < c.log.endOffset() ? await c.log.read(p.fetchOffset, Math.min(p.partitionMaxBytes, c.config.fetchMaxBytes)) : Buffer.alloc(0);
    if (records.length === 0 && mayPark && hw() === before) return { parkedAt: before };
    if (replicaId >= 0) this.lastSentHw.set(replicaId, hw());
    return answer(ErrorCode.NONE, { errorCode: ErrorCode.NONE, highWatermark: hw(), leader: at, records, logStartOffset: c.log.startOffset() });
  }

  // ---- DescribeQuorum ----

  handleDescribeQuorum(_req: DescribeQuorumRequest): Promise<DescribeQuorumResponse> {
    const c = this.c;
    return c.serial(() => {
      const s = c.epochState;
      if (s.role !== 'leader' || c.isClosed) return describeQuorumResponse(ErrorCode.NOT_LEADER_OR_FOLLOWER, this.at(), -1n, { currentVoters: [], observers: [] });
      const set = c.voterSet;
      const nodes = set.filter((v) => v.endpoints.length > 0).map((v) => ({ nodeId: v.id, listeners: [...v.endpoints] }));
      return describeQuorumResponse(ErrorCode.NONE, this.at(), s.leader.highWatermark ?? -1n, s.leader.describe((id) => set.find((v) => v.id === id)?.directoryId), nodes);
    });
  }
}

/** Whether a directory id a request names for this replica is ours (a zero or absent one names any). */
function sameKey(named: string | undefined, own: string): boolean {
  return named === undefined || named === NO_DIRECTORY_ID || own === NO_DIRECTORY_ID || named === own;
}
