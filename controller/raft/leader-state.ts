// What the leader of one epoch knows of the other replicas: each voter's log end offset (from
// the offset it last fetched at, which it has made durable) and when it last fetched, and the
// same of observers for DescribeQuorum. It owns the high-watermark rule: the largest offset that a
// majority of voters (the leader counted by what it has flushed) has reached, taken only once it
// covers the epoch's first entry (the leader change at epochStartOffset), and never lowered.
import type { ReplicaState } from '../../protocol/generated/message/describe-quorum-response.ts';

export interface ReplicaProgress {
  replicaId: number;
  /** Offset the replica has durably reached; -1 until it fetches. */
  endOffset: bigint;
  /** Last fetch time, or -1; the leader's own entry is updated with each flush. */
  lastFetchMs: number;
  lastCaughtUpMs: number;
  /** Has answered BeginQuorumEpoch or fetched in this epoch: no more BeginQuorumEpoch to it. */
  acknowledged: boolean;
  /** The directory id its fetches carry (Fetch v17+), when known. */
  directoryId?: string;
  /** The leader's log end and the time at its previous fetch (Kafka's caught-up rule). */
  lastFetchLeaderEnd?: bigint;
}

export class LeaderState {
  readonly voters = new Map<number, ReplicaProgress>();
  readonly observers = new Map<number, ReplicaProgress>();
  private hw: bigint | undefined;

  constructor(
    readonly epoch: number,
    readonly localId: number,
    voterIds: readonly number[],
    /** Offset of the epoch's leader change record: the high watermark must pass it. */
    readonly epochStartOffset: bigint,
    readonly grantingVoters: readonly number[],
    nowMs: number,
  ) {
    for (const id of voterIds) {
      // Everyone starts with a full check-quorum period before the leader gives up on them.
      this.voters.set(id, { replicaId: id, endOffset: -1n, lastFetchMs: nowMs, lastCaughtUpMs: -1, acknowledged: id === localId });
    }
  }

  get highWatermark(): bigint | undefined {
    return this.hw;
  }

  get majority(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  /** The leader flushed its log to `endOffset`; returns true if the high watermark moved. */
  updateLocalEnd(endOffset: bigint, nowMs: number): boolean {
    const self = this.voters.get(this.localId);
    if (self) {
      self.endOffset = endOffset;
      self.lastFetchMs = nowMs;
      self.lastCaughtUpMs = nowMs;
    }
    return this.maybeAdvance();
  }

  /**
   * A replica fetched at `fetchOffset`; returns true if the high watermark moved. As in Kafka, it
   * was caught up now if it reached the leader's end, or at its previous fetch if it reached the
   * leader's end as of then.
   */
  updateReplica(replicaId: number, fetchOffset: bigint, leaderEnd: bigint, nowMs: number, directoryId?: string): boolean {
    const voter = this.voters.get(replicaId);
    let p = voter ?? this.observers.get(replicaId);
    if (!p) {
      p = { replicaId, endOffset: -1n, lastFetchMs: -1, lastCaughtUpMs: -1, acknowledged: true };
      this.observers.set(replicaId, p);
    }
    if (fetchOffset >= leaderEnd) p.lastCaughtUpMs = Math.max(p.lastCaughtUpMs, nowMs);
    else if (p.lastFetchLeaderEnd !== undefined && p.lastFetchLeaderEnd > 0n && fetchOffset >= p.lastFetchLeaderEnd) p.lastCaughtUpMs = Math.max(p.lastCaughtUpMs, p.lastFetchMs);
    p.lastFetchLeaderEnd = leaderEnd;
    p.endOffset = fetchOffset;
    p.lastFetchMs = nowMs;
    p.acknowledged = true;
    if (directoryId !== undefined) p.directoryId = directoryId;
    return voter !== undefined && this.maybeAdvance();
  }

  /** Whether a replica was caught up with the leader within the last `maxLagMs` (AddRaftVoter's check). */
  isCaughtUp(replicaId: number, nowMs: number, maxLagMs: number): boolean {
    const p = this.voters.get(replicaId) ?? this.observers.get(replicaId);
    return p !== undefined && p.lastCaughtUpMs >= 0 && nowMs - p.lastCaughtUpMs <= maxLagMs;
  }

  /**
   * The voter set changed (a VotersRecord was appended in this epoch): new voters bring what
   * was known of them as observers, removed ones become observers. True if the high watermark moved.
   */
  setVoters(ids: readonly number[], nowMs: number): boolean {
    for (const id of ids) {
      if (this.voters.has(id)) continue;
      const seen = this.observers.get(id);
      this.observers.delete(id);
      this.voters.set(id, seen ? { ...seen, lastFetchMs: Math.max(seen.lastFetchMs, nowMs) } : { replicaId: id, endOffset: -1n, lastFetchMs: nowMs, lastCaughtUpMs: -1, acknowledged: id === this.localId });
    }
    for (const [id, p] of [...this.voters]) {
      if (ids.includes(id)) continue;
      this.voters.delete(id);
      if (id !== this.localId) this.observers.set(id, p);
    }
    return this.maybeAdvance();
  }

  /** A replica is fetching a snapshot: alive for check-quorum, its log position unknown yet. */
  touchReplica(replicaId: number, nowMs: number): void {
    const p = this.voters.get(replicaId) ?? this.observers.get(replicaId);
    if (!p) return;
    p.lastFetchMs = nowMs;
    p.acknowledged = true;
  }

  acknowledge(replicaId: number): void {
    const p = this.voters.get(replicaId);
    if (p) p.acknowledged = true;
  }

  nonAcknowledgingVoters(): number[] {
    return [...this.voters.values()].filter((p) => !p.acknowledged).map((p) => p.replicaId);
  }

  /** Other voters, most caught up first: the successors a resigning leader prefers. */
  successorsByEndOffset(): number[] {
    return [...this.voters.values()]
      .filter((p) => p.replicaId !== this.localId)
      .sort((a, b) => (a.endOffset === b.endOffset ? a.replicaId - b.replicaId : a.endOffset > b.endOffset ? -1 : 1))
      .map((p) => p.replicaId);
  }

  /** True when fewer than a majority of voters (the leader included) fetched within `timeoutMs`. */
  quorumLost(nowMs: number, timeoutMs: number): boolean {
    let live = 0;
    for (const p of this.voters.values()) if (p.replicaId === this.localId || nowMs - p.lastFetchMs < timeoutMs) live++;
    return live < this.majority;
  }

  /** `directoryIdOf`: a voter's directory id from the voter set (observers report their own). */
  describe(directoryIdOf: (id: number) => string | undefined = () => undefined): { currentVoters: ReplicaState[]; observers: ReplicaState[] } {
    const row = (p: ReplicaProgress): ReplicaState => ({
      replicaId: p.replicaId,
      replicaDirectoryId: directoryIdOf(p.replicaId) ?? p.directoryId ?? 'AAAAAAAAAAAAAAAAAAAAAA',
      logEndOffset: p.endOffset,
      lastFetchTimestamp: BigInt(p.lastFetchMs),
      lastCaughtUpTimestamp: BigInt(p.lastCaughtUpMs),
    });
    return { currentVoters: [...this.voters.values()].map(row), observers: [...this.observers.values()].map(row) };
  }

  private maybeAdvance(): boolean {
    if (this.voters.size === 0) return false;
    const ends = [...this.voters.values()].map((p) => p.endOffset).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    const candidate = ends[this.majority - 1]!;
    // Committing an entry of an earlier epoch by counting replicas is unsafe (Raft §5.4.2): wait
    // until the majority holds this epoch's leader change, which commits everything before it.
    if (candidate <= this.epochStartOffset) return false;
    if (this.hw !== undefined && candidate <= this.hw) return false;
    this.hw = candidate;
    return true;
  }
}
