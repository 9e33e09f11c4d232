// The Node process: prom-client's default metrics (CPU, resident memory, heap spaces, event-loop
// lag, garbage collection, open handles and file descriptors), named as prom-client names them
// (process_*, nodejs_*): the JVM metrics Kafka dashboards show have no Node equivalent by name.
import { collectDefaultMetrics, type Registry } from 'prom-client';

export function registerProcessMetrics(registry: Registry): void {
  // A coarser event-loop sampling than the 10 ms default: the monitor's own wake-ups cost little then.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
}
