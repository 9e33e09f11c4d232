// Changes of the voter set made by the leader (KIP-853): AddRaftVoter, RemoveRaftVoter and
// UpdateRaftVoter, with Kafka 3.9's checks and error codes. A change is one VotersRecord appended
// in the leader's epoch; it takes effect at once (leader-state.ts counts the new set towards the
// high watermark) and is answered once committed.
// Invariants, as Kafka keeps them: only the leader changes the set; only a quorum at
// kraft.version 1 can; the leader must have committed an entry in its epoch first (so every
// earlier change is committed); one change at a time (none while a VotersRecord is past the high
// watermark); a voter is added only when it is an observer fetching from the leader and caught up.
import { ErrorCode } from '../../protocol/errors.ts';
import { ControlRecordType, encodeControlRecordKey } from '../../protocol/records/control-record.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import type { TimerHandle } from '../../protocol/scheduler.ts';
import type { UpdateRaftVoterRequest } from '../../protocol/generated/message/update-raft-voter-request.ts';
import type { UpdateRaftVoterResponse } from '../../protocol/generated/message/update-raft-voter-response.ts';
import type { RaftClient } from './raft-client.ts';
import { encodeVoters, findVoter, type VoterEndpoint, type VoterNode, type VoterSet, withoutVoter, withVoter } from './voter-set.ts';

/** How long an UpdateRaftVoter waits for its commit (the request carries no timeout). */
const UPDATE_TIMEOUT_MS = 30_000;

export interface VoterChangeResult {
  errorCode: number;
  errorMessage: string | null;
}

const ok: VoterChangeResult = { errorCode: ErrorCode.NONE, errorMessage: null };
const fail = (errorCode: number, errorMessage: string): VoterChangeResult => ({ errorCode, errorMessage });

interface PendingChange {
  offset: bigint;
  settle: (r: VoterChangeResult) => void;
  timer: TimerHandle;
}

export class VoterChanges {
  private pending: PendingChange | undefined;
  /** The epoch this replica last sent UpdateRaftVoter in (undefined: to send, or to send again). */
  private updateSentEpoch: number | undefined;

  constructor(private readonly c: RaftClient) {}

  /** AddRaftVoter: `voter` joins the voters once it fetches from this leader and is caught up. */
  addVoter(voter: VoterNode, timeoutMs: number): Promise<VoterChangeResult> {
    return this.change(timeoutMs, (set) => {
      const c = this.c;
      if (set.some((v) => v.id === voter.id)) return fail(ErrorCode.DUPLICATE_VOTER, `The voter id for ReplicaKey(id=${voter.id}, directoryId=${voter.directoryId}) is already part of the set of voters.`);
      if (voter.endpoints.length === 0) return fail(ErrorCode.INVALID_REQUEST, 'The request did not include any endpoints for the new voter.');
      if (c.listenerName !== undefined && !voter.endpoints.some((e) => e.name === c.listenerName)) {
        return fail(ErrorCode.INVALID_REQUEST, `The endpoints of the new voter do not include the listener ${c.listenerName}.`);
      }
      const s = c.epochState;
      if (s.role !== 'leader') return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'not the leader');
      const seen = s.leader.observers.get(voter.id);
      if (!seen || (seen.directoryId !== undefined && seen.directoryId !== voter.directoryId)) {
        return fail(ErrorCode.REQUEST_TIMED_OUT, `The new voter ReplicaKey(id=${voter.id}, directoryId=${voter.directoryId}) is not fetching from the leader.`);
      }
      if (!s.leader.isCaughtUp(voter.id, c.now(), c.config.fetchTimeoutMs)) {
        return fail(ErrorCode.REQUEST_TIMED_OUT, `The new voter ReplicaKey(id=${voter.id}, directoryId=${voter.directoryId}) has not caught up to the leader.`);
      }
      return withVoter(set, voter);
    });
  }

  /** RemoveRaftVoter: replica (id, directoryId) leaves the voters; a leader removing itself resigns once it commits. */
  removeVoter(id: number, directoryId: string, timeoutMs: number): Promise<VoterChangeResult> {
    return this.change(timeoutMs, (set) => {
      const voter = findVoter(set, id, directoryId);
      if (!voter || set.length === 1) return fail(ErrorCode.VOTER_NOT_FOUND, `Cannot remove voter ReplicaKey(id=${id}, directoryId=${directoryId}) from the set of voters ${set.map((v) => v.id).join(',')}.`);
      return withoutVoter(set, id);
    });
  }

  /** UpdateRaftVoter: a voter states its current endpoints and supported kraft.version range. */
  updateVoter(id: number, directoryId: string, endpoints: readonly VoterEndpoint[], kraft: { min: number; max: number }, timeoutMs: number): Promise<VoterChangeResult> {
    return this.change(timeoutMs, (set) => {
      const voter = findVoter(set, id, directoryId);
      if (!voter) return fail(ErrorCode.VOTER_NOT_FOUND, `Voter ReplicaKey(id=${id}, directoryId=${directoryId}) is not a voter.`);
      if (endpoints.length === 0) return fail(ErrorCode.INVALID_REQUEST, 'The request did not include any endpoints.');
      const updated: VoterNode = { ...voter, endpoints: endpoints.map((e) => ({ ...e })), minKraftVersion: kraft.min, maxKraftVersion: kraft.max };
      if (JSON.stringify(updated) === JSON.stringify(voter)) return ok;
      return withVoter(set, updated);
    });
  }

  /** UpdateRaftVoter as the leader answers it: epoch checks, then updateVoter; the answer names the leader. */
  async handleUpdateRequest(req: UpdateRaftVoterRequest): Promise<UpdateRaftVoterResponse> {
    const c = this.c;
    const answer = (errorCode: number): UpdateRaftVoterResponse => {
      const ep = c.currentLeader >= 0 ? c.endpointOf(c.currentLeader) : undefined;
      return { throttleTimeMs: 0, errorCode, currentLeader: { leaderId: c.currentLeader, leaderEpoch: c.currentEpoch, host: ep?.host ?? '', port: ep?.port ?? -1 } };
    };
    if (req.clusterId && c.clusterId !== null && req.clusterId !== c.clusterId) return answer(ErrorCode.INCONSISTENT_CLUSTER_ID);
    if (req.currentLeaderEpoch < c.currentEpoch) return answer(ErrorCode.FENCED_LEADER_EPOCH);
    if (req.currentLeaderEpoch > c.currentEpoch) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH);
    const r = await this.updateVoter(
      req.voterId,
      req.voterDirectoryId,
      req.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port })),
      { min: req.kRaftVersionFeature.minSupportedVersion, max: req.kRaftVersionFeature.maxSupportedVersion },
      UPDATE_TIMEOUT_MS,
    );
    return answer(r.errorCode);
  }

  /**
   * A follower that is a voter and whose voter entry names other endpoints than it listens on
   * tells its leader (Kafka's voters send UpdateRaftVoter when they start), once per epoch.
   */
  maybeSendUpdate(gen: number): void {
    const c = this.c;
    const s = c.epochState;
    const own = c.localEndpoints;
    if (s.role !== 'follower' || own.length === 0 || !c.controlLog.history.isDynamic || this.updateSentEpoch === s.epoch) return;
    const entry = findVoter(c.voterSet, c.nodeId, c.directoryId);
    if (!entry || sameEndpoints(entry.endpoints, own)) return;
    this.updateSentEpoch = s.epoch;
    c.logger.info({ epoch: s.epoch, leaderId: s.leaderId, endpoints: own }, 'voter endpoints changed: sending UpdateRaftVoter to the leader');
    const req: UpdateRaftVoterRequest = {
      clusterId: c.clusterId,
      currentLeaderEpoch: s.epoch,
      voterId: c.nodeId,
      voterDirectoryId: c.directoryId,
      listeners: own.map((e) => ({ ...e })),
      kRaftVersionFeature: { minSupportedVersion: 0, maxSupportedVersion: 1 },
    };
    c.request(s.leaderId, 'updateRaftVoter', req).then(
      (resp) => {
        if (resp.errorCode !== ErrorCode.NONE && gen === c.generation) this.updateSentEpoch = undefined;
      },
      () => {
        if (gen === c.generation) this.updateSentEpoch = undefined;
      },
    );
  }

  /**
   * Runs the checks every change shares, then `next` (an answer, or the new set to append),
   * in the replica's queue; the returned promise waits for the commit outside it.
   */
  private async change(timeoutMs: number, next: (set: VoterSet) => VoterChangeResult | VoterSet): Promise<VoterChangeResult> {
    const c = this.c;
    const outcome = await c.serial(async (): Promise<{ wait: Promise<VoterChangeResult> } | VoterChangeResult> => {
      const s = c.epochState;
      if (c.isClosed || c.isClosing || s.role !== 'leader') return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'This node is not the leader of the metadata quorum.');
      if (c.kraftVersion < 1) return fail(ErrorCode.UNSUPPORTED_VERSION, 'Cluster does not support changing the voters: kraft.version is 0 (a static controller.quorum.voters quorum).');
      const hw = s.leader.highWatermark;
      if (hw === undefined) return fail(ErrorCode.REQUEST_TIMED_OUT, 'The leader has not yet committed an offset in its current epoch.');
      if (this.pending || c.controlLog.history.hasUncommitted(hw)) return fail(ErrorCode.REQUEST_TIMED_OUT, 'A change of the voters is already in progress.');
      const decided = next(c.voterSet);
      if (!Array.isArray(decided)) return decided as VoterChangeResult;
      const set = decided as VoterSet;
      const batch = encodeRecordBatch({
        isControl: true,
        baseTimestamp: BigInt(c.now()),
        records: [{ offsetDelta: 0, timestampDelta: 0, key: encodeControlRecordKey(ControlRecordType.KRaftVoters), value: encodeVoters(set) }],
      });
      const info = await c.log.appendAsLeader(batch, s.epoch);
      c.logger.info({ epoch: s.epoch, offset: String(info.lastOffset), voters: set.map((v) => `${v.id}:${v.directoryId}`) }, 'appended a new voter set');
      const wait = new Promise<VoterChangeResult>((resolve) => {
        const timer = c.scheduler.schedule(Math.max(0, timeoutMs), c.scope, () => this.settle(fail(ErrorCode.REQUEST_TIMED_OUT, `The new voter set at offset ${info.lastOffset} was not committed within ${timeoutMs} ms.`)));
        this.pending = { offset: info.lastOffset, settle: resolve, timer };
      });
      if (s.leader.setVoters(set.map((v) => v.id), c.now())) await c.onLeaderHighWatermark();
      await c.flushAsLeader();
      return { wait };
    });
    return 'wait' in outcome ? outcome.wait : outcome;
  }

  private settle(r: VoterChangeResult): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    p.timer.cancel();
    p.settle(r);
  }

  /** The high watermark moved: a change it covers is answered. */
  onCommit(): void {
    if (this.pending && this.c.hw > this.pending.offset) this.settle(ok);
  }

  /** Leadership ended: the change in flight is answered NOT_LEADER_OR_FOLLOWER (it may still commit). */
  failPending(): void {
    this.settle(fail(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'Leadership of the metadata quorum moved before the new voter set was committed.'));
  }
}

function sameEndpoints(a: readonly VoterEndpoint[], b: readonly VoterEndpoint[]): boolean {
  const key = (e: VoterEndpoint): string => `${e.name}://${e.host}:${e.port}`;
  const x = a.map(key).sort();
  const y = b.map(key).sort();
  return x.length === y.length && x.every((k, i) => k === y[i]);
}
