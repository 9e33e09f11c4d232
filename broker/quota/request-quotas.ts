// The client quotas a broker enforces on each request (KIP-13, KIP-55, KIP-124, KIP-219), decided
// in one place for every API once the handler has answered:
// - produce: the request's bytes, per (user, client id), against producer_byte_rate;
// - fetch: the response's bytes against consumer_byte_rate (followers' fetches are not counted);
//   a throttled fetch is answered without data (and its bytes not counted), as Kafka does;
// - request_percentage: the time the request kept the event loop busy, as a share of one thread.
//   A Node broker serves requests on one event loop, so "a thread" is that loop: 100 is the whole
//   loop for the window. What is counted is the synchronous work of the request (the handler up
//   to its first wait, encoding), never the time it waits for appends, purgatories or the
//   controller, which Kafka does not count either (only time on its request threads is).
// The throttle time is the largest of the applicable ones; it goes into the response's
// throttle_time_ms (where its schema has one) and the connection stops reading for that long
// (after the answer for KIP-219 versions, before it for older ones).
// Exempt, as Kafka exempts them: the SASL exchange, and inter-broker requests (followers'
// fetches, transaction markers, controller traffic on controller listeners).
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import type { RequestContext } from '../handlers/api-handler.ts';
import { CONSUMER_BYTE_RATE, PRODUCER_BYTE_RATE, REQUEST_PERCENTAGE } from './client-quota-control.ts';
import { ClientQuotaManager, quotaUser } from './client-quota-manager.ts';
import { clientThrottles } from './client-throttle-versions.ts';
import type { RateConfig } from './sampled-rate.ts';

/** What a throttled request gets. */
export interface ThrottleDecision {
  throttleMs: number;
  /** The response to send (throttle_time_ms set; a fetch without its data). */
  response: unknown;
  /** KIP-219 versions: answer now and stop reading after; older ones: wait, then answer. */
  clientThrottles: boolean;
  /** Which quota decided (for the log line). */
  quota: string;
}

/** What the connection gives for one served request. */
export interface ServedRequest {
  ctx: RequestContext;
  request: unknown;
  /** The handler's response object, or null when there is none (acks=0). */
  response: unknown;
  requestBytes: number;
  responseBytes: number;
  /** Milliseconds the request kept the event loop busy. */
  busyMs: number;
}

/** The hook the connection calls once per request. */
export interface RequestThrottle {
  /** Adjusts a decoded request before its handler runs (a consumer's fetch size to its quota window). */
  prepare?(ctx: RequestContext, request: unknown): void;
  /** null when the request is not throttled (the common case, decided without allocation). */
  check(served: ServedRequest): ThrottleDecision | null;
}

const EXEMPT_APIS = new Set<number>([ApiKey.SaslHandshake, ApiKey.SaslAuthenticate, ApiKey.WriteTxnMarkers]);
const MS_TO_PERCENT_PER_SECOND = 100 / 1e3;

function fetchReplicaId(req: FetchRequest): number {
  return req.replicaState?.replicaId ?? req.replicaId ?? -1;
}

export class ClientQuotas implements RequestThrottle {
  readonly produce: ClientQuotaManager;
  readonly fetch: ClientQuotaManager;
  readonly request: ClientQuotaManager;

  constructor(
    private readonly config: RateConfig,
    private readonly image: () => MetadataImage,
    private readonly now: () => number = Date.now,
  ) {
    this.produce = new ClientQuotaManager(PRODUCER_BYTE_RATE, config, image);
    this.fetch = new ClientQuotaManager(CONSUMER_BYTE_RATE, config, image);
    this.request = new ClientQuotaManager(REQUEST_PERCENTAGE, config, image);
  }

  /**
   * A consumer with a byte-rate quota fetches at most what its quota allows over the window
   * (quota x (quota.window.num - 1) x window), as Kafka caps fetch.max.bytes: a larger answer could
   * never pass and would only be thrown away.
   */
  prepare(ctx: RequestContext, request: unknown): void {
    if (ctx.apiKey !== ApiKey.Fetch || !this.image().clientQuotas?.size) return;
    const req = request as FetchRequest;
    if (fetchReplicaId(req) >= 0) return;
    const q = this.fetch.quota(quotaUser(ctx.principal ?? 'User:ANONYMOUS'), ctx.clientId ?? '');
    if (!q) return;
    const windowBytes = Math.max(1, Math.floor(q.bound * Math.max(1, this.config.samples - 1) * (this.config.windowMs / 1000)));
    if (req.maxBytes === undefined || req.maxBytes > windowBytes) req.maxBytes = windowBytes;
    if (req.minBytes > req.maxBytes) req.minBytes = req.maxBytes;
  }

  check(s: ServedRequest): ThrottleDecision | null {
    const { ctx } = s;
    // No quota set anywhere: nothing to measure (and no sensor to keep).
    if (!this.image().clientQuotas?.size) return null;
    if (EXEMPT_APIS.has(ctx.apiKey)) return null;
    if (ctx.apiKey === ApiKey.Fetch && fetchReplicaId(s.request as FetchRequest) >= 0) return null;
    const user = quotaUser(ctx.principal ?? 'User:ANONYMOUS');
    const clientId = ctx.clientId ?? '';
    const nowMs = this.now();
    let throttleMs = this.request.recordAndGetThrottleMs(user, clientId, s.busyMs * MS_TO_PERCENT_PER_SECOND, nowMs);
    let quota = REQUEST_PERCENTAGE;
    let response = s.response;
    if (ctx.apiKey === ApiKey.Produce) {
      const t = this.produce.recordAndGetThrottleMs(user, clientId, s.requestBytes, nowMs);
      if (t > throttleMs) [throttleMs, quota] = [t, PRODUCER_BYTE_RATE];
    } else if (ctx.apiKey === ApiKey.Fetch) {
      const t = this.fetch.recordAndGetThrottleMs(user, clientId, s.responseBytes, nowMs);
      if (t > throttleMs) [throttleMs, quota] = [t, CONSUMER_BYTE_RATE];
      if (throttleMs > 0) {
        // The data is not sent, so it does not count; the client fetches it again after the throttle.
        this.fetch.unrecord(user, clientId, s.responseBytes, nowMs);
        const r = s.response as FetchResponse;
        response = { ...r, errorCode: 0, responses: [] } satisfies FetchResponse;
      }
    }
    if (throttleMs <= 0) return null;
    // Encoders write throttle_time_ms only at the versions that have it.
    if (response !== null && typeof response === 'object') {
      response = { ...response, throttleTimeMs: Math.max(throttleMs, (response as { throttleTimeMs?: number }).throttleTimeMs ?? 0) };
    }
    return { throttleMs, response, clientThrottles: clientThrottles(ctx.apiKey, ctx.apiVersion), quota };
  }
}
