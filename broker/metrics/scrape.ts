// Test support: reads a node's /metrics and parses it with an independent Prometheus text-format
// parser (parse-prometheus-text-format, prom2json's output shape), then looks samples up by name
// and labels. That parser folds a histogram's series into one, keeping only `le` of their labels,
// so series are read from a second parse in which histograms are declared untyped: each
// `_bucket`, `_sum` and `_count` line is then a sample of its own with all its labels.
import { createRequire } from 'node:module';

interface ParsedSample {
  value?: string;
  labels?: Record<string, string>;
}

interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: ParsedSample[];
}

const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

export class Scrape {
  readonly families: ReadonlyMap<string, ParsedFamily>;
  private readonly series: ReadonlyMap<string, ParsedFamily>;

  constructor(readonly text: string) {
    this.families = new Map(parse(text).map((f) => [f.name, f]));
    // Untyped, a histogram's lines of one name come in runs (one per series), each parsed as a family.
    const series = new Map<string, ParsedFamily>();
    for (const f of parse(text.replace(/^(# TYPE \S+) histogram$/gm, '$1 untyped'))) {
      const seen = series.get(f.name);
      if (seen) seen.metrics.push(...f.metrics);
      else series.set(f.name, f);
    }
    this.series = series;
  }

  static async of(baseUrl: string): Promise<Scrape> {
    const res = await fetch(`${baseUrl}/metrics`);
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return new Scrape(await res.text());
  }

  type(name: string): string | undefined {
    return this.families.get(name)?.type.toLowerCase();
  }

  private samples(name: string, labels: Record<string, string>): ParsedSample[] {
    const f = this.series.get(name);
    if (!f) return [];
    return f.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  }

  /** The value of the one sample with exactly `labels` (undefined when absent). */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const want = Object.keys(labels).length;
    const s = this.samples(name, labels).find((m) => Object.keys(m.labels ?? {}).length === want);
    return s?.value === undefined ? undefined : Number(s.value);
  }

  /** The sum of every sample that has (at least) `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((a, m) => a + Number(m.value ?? 0), 0);
  }

  /** A histogram's observation count, summed over the series that have `labels`. */
  histogramCount(name: string, labels: Record<string, string> = {}): number {
    return this.sum(`${name}_count`, labels);
  }
}
