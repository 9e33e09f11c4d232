// The roles of a KRaft replica in one epoch (KIP-595) and what each role persists. A replica is
// in exactly one role; every change of role goes through the replica's transition, which writes
// the election state first when it changes, so a restarted voter never votes twice in an epoch
// or goes back in epochs. Observers (non-voters) are only ever unattached or followers.
import type { ElectionState } from './quorum-state.ts';
import type { LeaderState } from './leader-state.ts';

export type EpochState =
  /** Knows the epoch but neither its leader nor a vote cast in it. */
  | { role: 'unattached'; epoch: number; electionDeadline?: number }
  /** Voted for `votedId` in this epoch; votes for no one else in it. */
  | { role: 'voted'; epoch: number; votedId: number }
  /** Asking for votes for itself in this epoch. */
  | { role: 'candidate'; epoch: number; granted: Set<number>; rejected: Set<number>; retries: number; backingOff: boolean }
  | { role: 'leader'; epoch: number; leader: LeaderState }
  /** Fetches from `leaderId`, the leader of this epoch; `leaderEnded` once it sent EndQuorumEpoch. */
  | { role: 'follower'; epoch: number; leaderId: number; votedId: number; leaderEnded?: boolean }
  /** Was leader of this epoch and gave it up; grants no votes in it. */
  | { role: 'resigned'; epoch: number; successors: number[]; acknowledged: Set<number> };

export type Role = EpochState['role'];

/** The election state a role is persisted as. */
export function electionStateOf(s: EpochState, localId: number): ElectionState {
  switch (s.role) {
    case 'unattached':
      return { epoch: s.epoch, leaderId: -1, votedId: -1 };
    case 'voted':
      return { epoch: s.epoch, leaderId: -1, votedId: s.votedId };
    case 'candidate':
      return { epoch: s.epoch, leaderId: -1, votedId: localId };
    case 'leader':
    case 'resigned':
      return { epoch: s.epoch, leaderId: localId, votedId: localId };
    case 'follower':
      return { epoch: s.epoch, leaderId: s.leaderId, votedId: s.votedId };
  }
}

/** Leader of the state's epoch as far as this replica knows (-1: none yet). */
export function leaderOf(s: EpochState, localId: number): number {
  if (s.role === 'leader' || s.role === 'resigned') return localId;
  if (s.role === 'follower') return s.leaderId;
  return -1;
}

/** Raft's log comparison: a later last epoch wins, then a longer log. */
export function isLogUpToDate(candidateLastEpoch: number, candidateEndOffset: bigint, lastEpoch: number, endOffset: bigint): boolean {
  return candidateLastEpoch > lastEpoch || (candidateLastEpoch === lastEpoch && candidateEndOffset >= endOffset);
}

/**
 * Whether a voter in state `s` (of the candidate's epoch) may vote for `candidateId`: an
 * unattached voter for any candidate whose log is up to date, a voter that already voted only
 * for the same candidate again, and no one else (a follower knows its leader; a candidate, a
 * leader and a resigned leader voted for themselves).
 */
export function canGrantVote(s: EpochState, candidateId: number, logUpToDate: boolean): boolean {
  if (s.role === 'unattached') return logUpToDate;
  if (s.role === 'voted') return s.votedId === candidateId;
  return false;
}
