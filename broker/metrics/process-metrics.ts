// The Node process: prom-client's default metrics (CPU, resident memory, heap spaces, event-loop
// lag, open handles and file descriptors) and garbage collection, named as prom-client names them
// (process_*, nodejs_*): the JVM metrics Kafka dashboards show have no Node equivalent by name.
// They describe the process, not a node, so one registry serves every node of a process (several
// brokers embedded in one test process): the collectors (an event-loop delay monitor, the GC
// profiler) are process-wide, and one set per node started would pile up.
import { createRequire } from 'node:module';
import { GCProfiler } from 'node:v8';
import pino from 'pino';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { SystemScheduler } from '../../protocol/scheduler.ts';

/** How often GC statistics are drained between scrapes, so they never pile up in the profiler. */
const GC_DRAIN_INTERVAL_MS = 10_000;
/** prom-client's buckets for nodejs_gc_duration_seconds, kept so dashboards read the same series. */
const GC_DURATION_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];
/** V8's GC types as GCProfiler names them, to the kinds prom-client's collector uses. */
const GC_KINDS: Record<string, string> = {
  Scavenge: 'minor',
  MinorMarkCompact: 'minor',
  MinorMarkSweep: 'minor',
  MarkSweepCompact: 'major',
  IncrementalMarking: 'incremental',
  ProcessWeakCallbacks: 'weakcb',
};

type Collector = (registry: Registry, config: Record<string, unknown>) => void;

let shared: Registry | undefined;

/** The process-wide registry of the default metrics, made on first use. */
export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    // Event-loop delay sampled 10 times a second (prom-client's default is 100): each sample
    // wakes an idle broker, and the delay of each sample is measured exactly all the same.
    const config = { eventLoopMonitoringPrecision: 100 };
    // Every default collector but prom-client's GC one: it observes each collection through a
    // PerformanceObserver, and Node 20 builds a PerformanceEntry per GC (with deprecation
    // wrappers) and calls back into JavaScript for it, a cost paid hundreds of times a second
    // under load. GcDurations below reads the same durations in batches instead.
    const load = createRequire(import.meta.url);
    for (const name of collectDefaultMetrics.metricsList) {
      if (name === 'gc') continue;
      (load(`prom-client/lib/metrics/${name}`) as Collector)(shared, config);
    }
    new GcDurations(shared).start();
  }
  return shared;
}

/**
 * nodejs_gc_duration_seconds by kind, as prom-client's collector reports it, from V8's GC
 * profiler: V8 records each collection natively, and the records are turned into observations
 * only at a scrape or every GC_DRAIN_INTERVAL_MS.
 */
export class GcDurations {
  private readonly histogram: Histogram<'kind'>;
  private profiler = new GCProfiler();

  constructor(registry: Registry) {
    const self = this;
    this.histogram = new Histogram({
      name: 'nodejs_gc_duration_seconds',
      help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
      labelNames: ['kind'],
      buckets: GC_DURATION_BUCKETS,
      registers: [registry],
      collect() {
        self.drain();
      },
    });
  }

  start(): void {
    this.profiler.start();
    const scheduler = new SystemScheduler({ logger: pino({ name: 'process-metrics' }) });
    scheduler.every(GC_DRAIN_INTERVAL_MS, { unit: 'process-metrics' }, () => this.drain());
  }

  /** Moves the collections recorded since the last drain into the histogram. */
  drain(): void {
    const { statistics } = this.profiler.stop() ?? { statistics: [] };
    this.profiler = new GCProfiler();
    this.profiler.start();
    for (const s of statistics) this.histogram.observe({ kind: GC_KINDS[s.gcType] ?? 'other' }, s.cost / 1e6);
  }
}
