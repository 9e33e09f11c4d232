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
    // Event-loop delay sampled 10 times a second (prom-client's default is 100): each sample
    // wakes an idle broker, and the delay of each sample is measured exactly all the same.
    collectDefaultMetrics({ register: shared, eventLoopMonitoringPrecision: 100 });
  }
  return shared;
}
