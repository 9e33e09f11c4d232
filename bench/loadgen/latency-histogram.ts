// A latency histogram with log-spaced buckets (about 2% wide) from 1 µs to about an hour, so
// millions of samples cost a fixed 1,100 counters and histograms from several worker processes
// merge by adding counts. Percentiles answer with the upper edge of the bucket they fall in, so
// they are never optimistic by more than one bucket's width.

const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(3.6e9) / LOG_GROWTH) + 1;

export interface HistogramSnapshot {
  counts: number[];
  maxMicros: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private maxMicros = 0;

  get count(): number {
    return this.total;
  }

  recordMillis(ms: number): void {
    const us = Math.max(1, ms * 1000);
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(us) / LOG_GROWTH));
    this.counts[i]!++;
    this.total++;
    if (us > this.maxMicros) this.maxMicros = us;
  }

  /** The latency in ms below which p percent of the samples lie (NaN when empty). */
  percentileMillis(p: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxMicros, GROWTH ** (i + 1)) / 1000;
    }
    return this.maxMicros / 1000;
  }

  get maxMillis(): number {
    return this.maxMicros / 1000;
  }

  snapshot(): HistogramSnapshot {
    return { counts: Array.from(this.counts), maxMicros: this.maxMicros };
  }

  merge(s: HistogramSnapshot): void {
    for (let i = 0; i < BUCKETS && i < s.counts.length; i++) {
      this.counts[i]! += s.counts[i]!;
      this.total += s.counts[i]!;
    }
    if (s.maxMicros > this.maxMicros) this.maxMicros = s.maxMicros;
  }
}
