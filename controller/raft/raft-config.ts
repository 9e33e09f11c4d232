// Timing settings of a KRaft replica, under Kafka's `controller.quorum.*` names and defaults,
// and the randomised timeouts built from them. Randomness is injected so a seeded simulation
// picks the same timeouts on every replay.

export interface RaftConfig {
  /** controller.quorum.election.timeout.ms: an election times out after a random time in [t, 2t). */
  electionTimeoutMs: number;
  /** controller.quorum.fetch.timeout.ms: a follower that hears nothing from its leader this long looks for a new one. */
  fetchTimeoutMs: number;
  /** controller.quorum.election.backoff.max.ms: cap of the backoff after a lost election. */
  electionBackoffMaxMs: number;
  /** controller.quorum.request.timeout.ms: an unanswered request counts as failed after this. */
  requestTimeoutMs: number;
  /** controller.quorum.retry.backoff.ms: wait before resending a failed request. */
  retryBackoffMs: number;
  /** How long the leader parks a Fetch that finds no new data. */
  fetchMaxWaitMs: number;
  /** Most bytes a Fetch asks for and a leader returns. */
  fetchMaxBytes: number;
  /** Most bytes of a snapshot one FetchSnapshot asks for. */
  fetchSnapshotMaxBytes: number;
  /** How long a resigning leader waits in close() for a successor before stopping anyway. */
  shutdownTimeoutMs: number;
}

export const DEFAULT_RAFT_CONFIG: RaftConfig = {
  electionTimeoutMs: 1000,
  fetchTimeoutMs: 2000,
  electionBackoffMaxMs: 1000,
  requestTimeoutMs: 2000,
  retryBackoffMs: 20,
  fetchMaxWaitMs: 500,
  fetchMaxBytes: 8 << 20,
  fetchSnapshotMaxBytes: 8 << 20,
  shutdownTimeoutMs: 5000,
};

/** Base step of the backoff between elections, as Kafka's RETRY_BACKOFF_BASE_MS. */
const ELECTION_BACKOFF_BASE_MS = 100;

/** A random election timeout in [t, 2t). */
export function randomElectionTimeoutMs(config: RaftConfig, random: () => number): number {
  return config.electionTimeoutMs + Math.floor(random() * config.electionTimeoutMs);
}

/** Binary exponential backoff with jitter after the `retries`-th lost election (retries >= 1). */
export function electionBackoffMs(config: RaftConfig, retries: number, random: () => number): number {
  const slots = 2 ** Math.min(Math.max(1, retries), 20);
  return Math.min(config.electionBackoffMaxMs, ELECTION_BACKOFF_BASE_MS * Math.floor(random() * slots));
}

/**
 * Backoff of a voter that a resigning leader listed at `position` among its preferred
 * successors: the first candidates at once, the later ones after a growing, bounded delay, so
 * the most caught-up voter usually wins without a contest.
 */
export function successorBackoffMs(config: RaftConfig, position: number): number {
  if (position <= 0) return 0;
  return Math.min(config.electionBackoffMaxMs, ELECTION_BACKOFF_BASE_MS * 2 ** (position - 1));
}
