// Request metrics (Kafka's kafka.network:type=RequestMetrics and the socket server's connection
// counts), fed by the network layer's RequestObserver. Counts are plain numbers per API key
// (collected-family.ts): per request a few array lookups, additions and one bucket search per
// histogram; the error count walks only the response's items (topics, partitions), never records.
// Latency histograms are in milliseconds, as Kafka's *TimeMs. The split follows what the network
// layer sees: queue time (frame cut to handler start), local time (the handler, including any
// wait in a purgatory), response queue time (waiting behind earlier answers of the connection).
import type { Registry } from 'prom-client';
import { errorByCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import type { ProduceResponse } from '../../protocol/generated/message/produce-response.ts';
import { Router } from '../router.ts';
import type { RequestTimings } from '../request-observer.ts';
import { Buckets, CollectedFamily, type Sample } from './collected-family.ts';

/** Milliseconds: from a fraction of a millisecond (metadata, heartbeats) to long polls. */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 104857600];

interface ApiStats {
  name: string;
  /** Requests by version. */
  versions: number[];
  /** Error codes seen in answers, NONE included. */
  errors: Map<number, number>;
  countError: (code: number) => void;
  total: Buckets;
  queue: Buckets;
  local: Buckets;
  remote: Buckets;
  responseQueue: Buckets;
  responseSend: Buckets;
  requestBytes: Buckets;
}

interface ListenerStats {
  open: number;
  created: number;
  closed: number;
  refused: Map<string, number>;
}

type HistogramOf = 'total' | 'queue' | 'local' | 'remote' | 'responseQueue' | 'responseSend' | 'requestBytes';

export class RequestMetrics {
  private readonly byApi: (ApiStats | undefined)[] = [];
  private readonly byListener = new Map<string, ListenerStats>();

  constructor(registry: Registry) {
    const family = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', collect: (out: Sample[]) => void) => new CollectedFamily(registry, name, help, type, collect);
    family('kafka_network_requestmetrics_requests_total', 'Requests served, by API and version (RequestsPerSec).', 'counter', (out) => {
      for (const a of this.apis()) a.versions.forEach((n, version) => n !== undefined && out.push({ labels: { request: a.name, version }, value: n }));
    });
    family('kafka_network_requestmetrics_errors_total', 'Error codes in responses, by API and error, NONE included (ErrorsPerSec).', 'counter', (out) => {
      for (const a of this.apis()) for (const [code, n] of a.errors) out.push({ labels: { request: a.name, error: errorByCode(code).name }, value: n });
    });
    const histogram = (name: string, help: string, of: HistogramOf) =>
      family(name, help, 'histogram', (out) => {
        for (const a of this.apis()) a[of].samples(name, { request: a.name }, out);
      });
    histogram('kafka_network_requestmetrics_totaltimems', 'Milliseconds from the request frame read to its answer written to the socket (TotalTimeMs).', 'total');
    histogram('kafka_network_requestmetrics_requestqueuetimems', 'Milliseconds from the frame read to the handler start (RequestQueueTimeMs).', 'queue');
    histogram('kafka_network_requestmetrics_localtimems', 'Milliseconds in the handler, purgatory waits not included (LocalTimeMs).', 'local');
    histogram('kafka_network_requestmetrics_remotetimems', 'Milliseconds the handler waited in purgatories: acks=all, fetch long polls, rebalances (RemoteTimeMs).', 'remote');
    histogram('kafka_network_requestmetrics_responsequeuetimems', 'Milliseconds an answer waited behind earlier answers of its connection (ResponseQueueTimeMs).', 'responseQueue');
    histogram('kafka_network_requestmetrics_responsesendtimems', 'Milliseconds from the answer handed to the socket to its last byte written (ResponseSendTimeMs).', 'responseSend');
    histogram('kafka_network_requestmetrics_requestbytes', 'Request frame sizes in bytes (RequestBytes).', 'requestBytes');
    const perListener = (name: string, help: string, type: 'counter' | 'gauge', value: (l: ListenerStats) => number) =>
      family(name, help, type, (out) => {
        for (const [listener, l] of this.byListener) out.push({ labels: { listener }, value: value(l) });
      });
    perListener('kafka_server_socket_server_metrics_connection_count', 'Open client connections, by listener (socket-server-metrics connection-count).', 'gauge', (l) => l.open);
    perListener('kafka_server_socket_server_metrics_connection_creation_total', 'Connections accepted, by listener (connection-creation-total).', 'counter', (l) => l.created);
    perListener('kafka_server_socket_server_metrics_connection_close_total', 'Connections closed, by listener (connection-close-total).', 'counter', (l) => l.closed);
    family('kafka_server_socket_server_metrics_connection_refused_total', 'Connections refused before being served, by listener and reason (max.connections, max.connections.per.ip, max.connection.creation.rate, connection_creation_rate).', 'counter', (out) => {
      for (const [listener, l] of this.byListener) for (const [reason, n] of l.refused) out.push({ labels: { listener, reason }, value: n });
    });
  }

  connectionOpened(listener: string): void {
    const l = this.listener(listener);
    l.open++;
    l.created++;
  }

  connectionClosed(listener: string): void {
    const l = this.listener(listener);
    l.open--;
    l.closed++;
  }

  connectionRefused(listener: string, reason: string): void {
    const l = this.listener(listener);
    l.refused.set(reason, (l.refused.get(reason) ?? 0) + 1);
  }

  requestCompleted(t: RequestTimings): void {
    const a = this.api(t.apiKey);
    a.versions[t.apiVersion] = (a.versions[t.apiVersion] ?? 0) + 1;
    a.total.observe(t.sendCompletedMs - t.receivedMs);
    a.queue.observe(t.startedMs - t.receivedMs);
    a.local.observe(t.completedMs - t.startedMs - t.remoteMs);
    a.remote.observe(t.remoteMs);
    a.responseQueue.observe(t.sentMs - t.completedMs);
    a.responseSend.observe(t.sendCompletedMs - t.sentMs);
    a.requestBytes.observe(t.requestBytes);
    if (t.response === null) return;
    // The data path's answers by their shape; anything else by the generic walk.
    if (t.apiKey === ApiKey.Produce) {
      for (const topic of (t.response as ProduceResponse).responses) for (const p of topic.partitionResponses) a.countError(p.errorCode);
    } else if (t.apiKey === ApiKey.Fetch) {
      const r = t.response as FetchResponse;
      a.countError(r.errorCode ?? 0);
      for (const topic of r.responses) for (const p of topic.partitions) a.countError(p.errorCode);
    } else {
      countErrorCodes(t.response, 0, a.countError);
    }
  }

  private *apis(): Iterable<ApiStats> {
    for (const a of this.byApi) if (a) yield a;
  }

  private api(apiKey: number): ApiStats {
    let a = this.byApi[apiKey];
    if (!a) {
      const errors = new Map<number, number>();
      this.byApi[apiKey] = a = {
        name: Router.apiName(apiKey),
        versions: [],
        errors,
        countError: (code) => errors.set(code, (errors.get(code) ?? 0) + 1),
        total: new Buckets(LATENCY_BUCKETS_MS),
        queue: new Buckets(LATENCY_BUCKETS_MS),
        local: new Buckets(LATENCY_BUCKETS_MS),
        remote: new Buckets(LATENCY_BUCKETS_MS),
        responseQueue: new Buckets(LATENCY_BUCKETS_MS),
        responseSend: new Buckets(LATENCY_BUCKETS_MS),
        requestBytes: new Buckets(SIZE_BUCKETS),
      };
    }
    return a;
  }

  private listener(name: string): ListenerStats {
    let l = this.byListener.get(name);
    if (!l) this.byListener.set(name, (l = { open: 0, created: 0, closed: 0, refused: new Map() }));
    return l;
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
