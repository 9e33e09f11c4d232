// The Node process: prom-client's default metrics (CPU, resident memory, heap spaces, event-loop
// lag, garbage collection, open handles and file descriptors), named as prom-client names them
// (process_*, nodejs_*): the JVM metrics Kafka dashboards show have no Node equivalent by name.
// They describe the process, not a node, so one registry serves every node of a process (several
// brokers embedded in one test process): prom-client's collectors (a GC observer, an event-loop
// delay monitor) cannot be stopped, and one set per node started would pile up.
import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

/** The process-wide registry of the default metrics, made on first use. */
export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    // Event-loop delay sampled 10 times a second rather than the default 100: each sample is a
    // wake-up of an idle broker (2 ms/s of CPU at 20 ms; the delays measured stay exact).
    collectDefaultMetrics({ register: shared, eventLoopMonitoringPrecision: 100 });
  }
  return shared;
}
