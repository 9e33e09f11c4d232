// The leader's commit latency (Kafka's raft-metrics commit-latency-avg and commit-latency-max):
// the time from a batch's append on the leader to its commit, over the last 30 seconds, as
// Kafka's sampled metrics window it.

const WINDOW_MS = 30_000;
/** Enough for a busy quorum; older samples beyond it are dropped first. */
const MAX_SAMPLES = 4096;

export class CommitLatency {
  private readonly at: number[] = [];
  private readonly ms: number[] = [];

  record(nowMs: number, latencyMs: number): void {
    this.at.push(nowMs);
    this.ms.push(latencyMs);
    if (this.at.length > MAX_SAMPLES) {
      this.at.shift();
      this.ms.shift();
    }
  }

  /** Average and maximum over the window ending at `nowMs`; NaN when nothing committed in it (Kafka reports NaN too). */
  stats(nowMs: number): { avg: number; max: number } {
    while (this.at.length > 0 && this.at[0]! < nowMs - WINDOW_MS) {
      this.at.shift();
      this.ms.shift();
    }
    if (this.ms.length === 0) return { avg: Number.NaN, max: Number.NaN };
    let sum = 0;
    let max = 0;
    for (const v of this.ms) {
      sum += v;
      if (v > max) max = v;
    }
    return { avg: sum / this.ms.length, max };
  }
}
