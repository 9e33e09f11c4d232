// Request metrics (Kafka's kafka.network:type=RequestMetrics and the socket server's connection
// counts), fed by the network layer's RequestObserver. Per request the cost is a few array
// lookups and counter increments: label children are made once per API key and version and
// cached, and the error count walks only the response's items (topics, partitions), never records.
// Latency histograms are in milliseconds, as Kafka's *TimeMs. The split follows what the network
// layer sees: queue time (frame cut to handler start), local time (the handler, including any
// wait in a purgatory), response queue time (waiting behind earlier answers of the connection).
import { type Counter, Histogram, type Gauge, Counter as PromCounter, Gauge as PromGauge, type Registry } from 'prom-client';
import { errorByCode } from '../../protocol/errors.ts';
import { Router } from '../router.ts';
import type { RequestTimings } from '../request-observer.ts';

/** Milliseconds: from a fraction of a millisecond (metadata, heartbeats) to long polls. */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

interface ApiChildren {
  byVersion: CounterChild[];
  total: HistogramChild;
  queue: HistogramChild;
  local: HistogramChild;
  responseQueue: HistogramChild;
  requestBytes: HistogramChild;
  errors: Map<number, CounterChild>;
}

const NS_PER_MS = 1e6;
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 104857600];

export class RequestMetrics {
  private readonly requests: Counter<string>;
  private readonly errors: Counter<string>;
  private readonly total: Histogram<string>;
  private readonly queue: Histogram<string>;
  private readonly local: Histogram<string>;
  private readonly responseQueue: Histogram<string>;
  private readonly requestBytes: Histogram<string>;
  private readonly connections: Gauge<string>;
  private readonly created: Counter<string>;
  private readonly closed: Counter<string>;
  private readonly refused: Counter<string>;
  private readonly byApi: (ApiChildren | undefined)[] = [];

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new PromCounter({ name: 'kafka_network_requestmetrics_requests_total', help: 'Requests served, by API and version (RequestsPerSec).', labelNames: ['request', 'version'], registers });
    this.errors = new PromCounter({ name: 'kafka_network_requestmetrics_errors_total', help: 'Error codes in responses, by API and error, NONE included (ErrorsPerSec).', labelNames: ['request', 'error'], registers });
    const histogram = (name: string, help: string): Histogram<string> => new Histogram({ name, help, labelNames: ['request'], buckets: LATENCY_BUCKETS_MS, registers });
    this.total = histogram('kafka_network_requestmetrics_totaltimems', 'Milliseconds from the request frame read to its answer handed to the socket (TotalTimeMs).');
    this.queue = histogram('kafka_network_requestmetrics_requestqueuetimems', 'Milliseconds from the frame read to the handler start (RequestQueueTimeMs).');
    this.local = histogram('kafka_network_requestmetrics_localtimems', 'Milliseconds in the handler, purgatory waits included (LocalTimeMs + RemoteTimeMs).');
    this.responseQueue = histogram('kafka_network_requestmetrics_responsequeuetimems', 'Milliseconds an answer waited behind earlier answers of its connection (ResponseQueueTimeMs).');
    this.requestBytes = new Histogram({ name: 'kafka_network_requestmetrics_requestbytes', help: 'Request frame sizes in bytes (RequestBytes).', labelNames: ['request'], buckets: SIZE_BUCKETS, registers });
    this.connections = new PromGauge({ name: 'kafka_server_socket_server_metrics_connection_count', help: 'Open client connections, by listener (socket-server-metrics connection-count).', labelNames: ['listener'], registers });
    this.created = new PromCounter({ name: 'kafka_server_socket_server_metrics_connection_creation_total', help: 'Connections accepted, by listener (connection-creation-total).', labelNames: ['listener'], registers });
    this.closed = new PromCounter({ name: 'kafka_server_socket_server_metrics_connection_close_total', help: 'Connections closed, by listener (connection-close-total).', labelNames: ['listener'], registers });
    this.refused = new PromCounter({ name: 'kafka_server_socket_server_metrics_connection_refused_total', help: 'Connections refused before being served (max.connections), by listener.', labelNames: ['listener', 'reason'], registers });
  }

  connectionOpened(listener: string): void {
    this.connections.inc({ listener });
    this.created.inc({ listener });
  }

  connectionClosed(listener: string): void {
    this.connections.dec({ listener });
    this.closed.inc({ listener });
  }

  connectionRefused(listener: string, reason: string): void {
    this.refused.inc({ listener, reason });
  }

  requestCompleted(t: RequestTimings): void {
    const c = this.children(t.apiKey);
    (c.byVersion[t.apiVersion] ??= this.requests.labels(Router.apiName(t.apiKey), String(t.apiVersion))).inc();
    c.total.observe(Number(t.sentNs - t.receivedNs) / NS_PER_MS);
    c.queue.observe(Number(t.startedNs - t.receivedNs) / NS_PER_MS);
    c.local.observe(Number(t.completedNs - t.startedNs) / NS_PER_MS);
    c.responseQueue.observe(Number(t.sentNs - t.completedNs) / NS_PER_MS);
    c.requestBytes.observe(t.requestBytes);
    if (t.response !== null) countErrorCodes(t.response, 0, (code) => this.errorChild(c, t.apiKey, code).inc());
  }

  private errorChild(c: ApiChildren, apiKey: number, code: number): CounterChild {
    let e = c.errors.get(code);
    if (!e) c.errors.set(code, (e = this.errors.labels(Router.apiName(apiKey), errorByCode(code).name)));
    return e;
  }

  private children(apiKey: number): ApiChildren {
    let c = this.byApi[apiKey];
    if (!c) {
      const name = Router.apiName(apiKey);
      this.byApi[apiKey] = c = {
        byVersion: [],
        total: this.total.labels(name),
        queue: this.queue.labels(name),
        local: this.local.labels(name),
        responseQueue: this.responseQueue.labels(name),
        requestBytes: this.requestBytes.labels(name),
        errors: new Map(),
      };
    }
    return c;
  }
}

/**
 * Calls `count` for every `errorCode` in a decoded response: the top level and its items (topics,
 * partitions, groups...), as Kafka's AbstractResponse.errorCounts does. Buffers (records) are
 * not entered; depth is bounded by the schemas' nesting.
 */
export function countErrorCodes(value: unknown, depth: number, count: (code: number) => void): void {
  if (depth > 4 || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
  if (Array.isArray(value)) {
    for (const v of value) countErrorCodes(v, depth + 1, count);
    return;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) {
    const v = o[k];
    if (k === 'errorCode') {
      if (typeof v === 'number') count(v);
    } else if (v !== null && typeof v === 'object') {
      countErrorCodes(v, depth + 1, count);
    }
  }
}
