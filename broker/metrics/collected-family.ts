// Metric families kept in plain numbers and turned into samples only when scraped, for counts
// made on the request path: prom-client's own counters and histograms hash their label values on
// every increment (microseconds per request once several are touched), while these cost an
// array or map lookup and an addition. A family registers itself in a prom-client Registry as a
// custom metric (the registry calls get() when /metrics is read), so it is exposed and formatted
// like the others.
import type { Registry } from 'prom-client';

export interface Sample {
  /** The series name when it differs from the family's (histograms' _bucket, _sum, _count). */
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

export type FamilyType = 'counter' | 'gauge' | 'histogram';

export class CollectedFamily {
  readonly aggregator = 'sum';

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    readonly type: FamilyType,
    private readonly collect: (out: Sample[]) => void,
  ) {
    registry.registerMetric(this as never);
  }

  get(): { name: string; help: string; type: FamilyType; aggregator: string; values: Sample[] } {
    const values: Sample[] = [];
    this.collect(values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Counts are cumulative for the life of the node; a registry reset leaves them. */
  reset(): void {}
}

/** Observations in fixed buckets: one comparison per bucket below the value, no allocation. */
export class Buckets {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  /** Appends the _bucket (cumulative, `le` last), _sum and _count samples of one series. */
  samples(name: string, labels: Record<string, string | number>, out: Sample[]): void {
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: i < this.bounds.length ? this.bounds[i]! : '+Inf' }, value: cumulative });
    }
    out.push({ metricName: `${name}_sum`, labels, value: this.sum });
    out.push({ metricName: `${name}_count`, labels, value: this.count });
  }
}
