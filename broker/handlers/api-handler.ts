// The contract between the router and the one module per API that serves it.
import type { Logger } from 'pino';
import type { KafkaError } from '../../protocol/errors.ts';
import type { ApiKey, ApiMessages } from '../../protocol/generated/api-table.ts';
import type { SaslSession } from '../security/sasl-session.ts';

/** What a handler knows about the request it is serving. */
export interface RequestContext {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** "host:port" of the client. */
  clientAddress: string;
  /** The listener the request came in on (e.g. PLAINTEXT, CONTROLLER). */
  listenerName: string;
  /** Child logger carrying api, version, correlation id, client id and address. */
  logger: Logger;
  /** The connection's principal (`User:name`; `User:ANONYMOUS` when not authenticated). */
  principal?: string;
  /** The connection's SASL state, on SASL listeners (SaslHandshake and SaslAuthenticate drive it). */
  sasl?: SaslSession;
  /** Time spent waiting in purgatories (Kafka's RemoteTimeMs), kept by `inPurgatory`. */
  remote?: { ms: number; open: number; since: number };
}

/**
 * Awaits a purgatory wait (acks=all, a fetch's long poll, a rebalance) and counts it as the
 * request's remote time. Concurrent waits of one request (a Produce's partitions) count once:
 * the time any of them is open.
 */
export async function inPurgatory<T>(rc: RequestContext, wait: Promise<T>): Promise<T> {
  const r = (rc.remote ??= { ms: 0, open: 0, since: 0 });
  if (r.open++ === 0) r.since = performance.now();
  try {
    return await wait;
  } finally {
    if (--r.open === 0) r.ms += performance.now() - r.since;
  }
}

/** Returned by a handler when Kafka sends no response (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no response');
export type NoResponse = typeof NO_RESPONSE;

export type Awaitable<T> = T | Promise<T>;

export interface ApiHandler<K extends ApiKey = ApiKey> {
  readonly apiKey: K;
  /** Versions served; the router defaults to the schema's stable range. */
  readonly minVersion?: number;
  readonly maxVersion?: number;
  handle(request: ApiMessages[K]['request'], ctx: RequestContext): Awaitable<ApiMessages[K]['response'] | NoResponse>;
  /**
   * The response reporting `error` for every item of `request`, as Kafka's getErrorResponse
   * builds it; used when handling failed unexpectedly (UNKNOWN_SERVER_ERROR) or was refused.
   */
  errorResponse(request: ApiMessages[K]['request'], error: KafkaError, ctx: RequestContext): ApiMessages[K]['response'];
}

/** Helps a handler module declare itself with full typing of request and response. */
export function defineHandler<K extends ApiKey>(handler: ApiHandler<K>): ApiHandler<K> {
  return handler;
}
