// The leader's view of its followers (Kafka's Replica state): each follower's log end offset as
// its last fetch named it, and the last time it was caught up. Caught up means: its fetch asked
// for the leader's log end at that moment, or for at least the log end the leader had at the
// follower's previous fetch (then it was caught up as of that previous fetch), so a follower
// that keeps pace with a steady stream of appends is never counted as lagging. Positions are
// unknown (-1) until a follower fetches from this leader; ISR members start counted as caught
// up when leadership begins, others as never.

export interface FollowerState {
  readonly replicaId: number;
  /** The offset its last fetch asked for; -1 until it fetches from this leader. */
  logEndOffset: number;
  lastCaughtUpTimeMs: number;
  lastFetchTimeMs: number;
  /** The leader's log end offset when that fetch was read. */
  lastFetchLeaderLogEndOffset: number;
  /** The broker epoch its fetches named (-1 when not sent). */
  brokerEpoch: bigint;
}

/** An ISR change for the controller: the epochs it is based on and the proposed members. */
export interface AlterIsrRequest {
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: { brokerId: number; brokerEpoch: bigint }[];
}

export interface AlterIsrResult {
  errorCode: number;
  leaderEpoch: number;
  partitionEpoch: number;
  isr: readonly number[];
}

export class FollowerStates {
  private readonly states = new Map<number, FollowerState>();

  get(replicaId: number): FollowerState | undefined {
    return this.states.get(replicaId);
  }

  all(): IterableIterator<FollowerState> {
    return this.states.values();
  }

  /** Leadership begins: positions unknown, ISR members counted caught up as of `now`. */
  reset(followers: readonly number[], isr: readonly number[], now: number): void {
    this.states.clear();
    for (const id of followers) this.states.set(id, fresh(id, isr.includes(id) ? now : 0));
  }

  /** Keeps the states of `replicas` only (a follower seen later starts as never caught up). */
  retain(replicas: readonly number[]): void {
    for (const id of [...this.states.keys()]) if (!replicas.includes(id)) this.states.delete(id);
  }

  clear(): void {
    this.states.clear();
  }

  recordFetch(replicaId: number, fetchOffset: number, leaderEndOffset: number, now: number, brokerEpoch: bigint): FollowerState {
    let s = this.states.get(replicaId);
    if (!s) this.states.set(replicaId, (s = fresh(replicaId, 0)));
    if (fetchOffset >= leaderEndOffset) s.lastCaughtUpTimeMs = Math.max(s.lastCaughtUpTimeMs, now);
    else if (s.lastFetchLeaderLogEndOffset >= 0 && fetchOffset >= s.lastFetchLeaderLogEndOffset) s.lastCaughtUpTimeMs = Math.max(s.lastCaughtUpTimeMs, s.lastFetchTimeMs);
    s.logEndOffset = fetchOffset;
    s.lastFetchLeaderLogEndOffset = leaderEndOffset;
    s.lastFetchTimeMs = now;
    if (brokerEpoch >= 0n) s.brokerEpoch = brokerEpoch;
    return s;
  }

  /** Of `members`, those not caught up within `lagTimeMaxMs` of `now`. */
  outOfSync(members: readonly number[], now: number, lagTimeMaxMs: number): number[] {
    return members.filter((id) => now - (this.states.get(id)?.lastCaughtUpTimeMs ?? 0) > lagTimeMaxMs);
  }
}

function fresh(replicaId: number, lastCaughtUpTimeMs: number): FollowerState {
  return { replicaId, logEndOffset: -1, lastCaughtUpTimeMs, lastFetchTimeMs: 0, lastFetchLeaderLogEndOffset: -1, brokerEpoch: -1n };
}
