// One client connection: cuts frames, decodes headers, dispatches to handlers, and writes
// responses in request order (pipelining: later requests may finish first, they wait their turn).
// Handlers are started in arrival order, so work a handler does before its first await (the
// produce path validates and enqueues its appends there) keeps the connection's order. Only the
// data path (Produce, Fetch) runs beside earlier unanswered requests; any other request is
// handled once every earlier one is answered, as Kafka serves a connection one request at a
// time: a Metadata request queued behind an acks=all Produce parked in the purgatory would
// otherwise be answered, seconds later, with the leaders of when it arrived, and a client told
// NOT_LEADER_OR_FOLLOWER by the Produce would be sent back to this broker by that Metadata.
// Until SASL authentication completes every request still starts on arrival: each login step
// decides what the next pipelined frame may be.
// Backpressure: past `maxInFlight` requests, or while the socket's send buffer is over its mark,
// reading pauses. Malformed input is answered as Kafka answers it or the connection is closed,
// with one warning line naming the client; nothing else is affected. Socket events run through
// the containment seam with this connection as their unit: an unexpected failure while serving
// them is logged and closes this connection only.
// Security: the connection knows its principal (a TLS client certificate's mapped subject, or
// User:ANONYMOUS). On a SASL listener its SaslSession gates every request until authentication
// (see broker/security/sasl-session.ts), takes raw SASL tokens after a v0 handshake, and asks for
// the connection to be closed after a failure's answer.
// Client quotas (broker/quota/request-quotas.ts) are decided here for every API once its handler
// has answered: a throttled answer carries throttle_time_ms and, as KIP-219 asks, the connection
// then stops reading for the throttle time (older request versions get their answer only after it).
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { DecodeError } from '../protocol/decode-error.ts';
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { BufferPool, FrameReader, FrameSizeError, peekRequestHeader } from '../protocol/framing.ts';
import { ApiKey, apiSpec } from '../protocol/generated/api-table.ts';
import { decodeRequestHeader, encodeResponseMessageFrame } from '../protocol/headers.ts';
import { type ApiHandler, NO_RESPONSE, type RequestContext } from './handlers/api-handler.ts';
import type { Scheduler, Scope, TimerHandle } from '../protocol/scheduler.ts';
import type { RequestThrottle } from './quota/request-quotas.ts';
import { readBufferPool } from '../storage/segment.ts';
import { Router } from './router.ts';
import type { RequestObserver, RequestTimings } from './request-observer.ts';
import type { SaslSession } from './security/sasl-session.ts';

/** Who is on the other end of a connection. */
export interface ConnectionSecurity {
  /** The principal before (or without) SASL: from the TLS client certificate, else User:ANONYMOUS. */
  principal: string;
  /** The SASL state on SASL listeners, else null. */
  sasl: SaslSession | null;
}

export interface ConnectionOptions {
  listenerName: string;
  router: Router;
  logger: Logger;
  maxRequestSize: number;
  idleTimeoutMs: number;
  maxInFlight: number;
  /** Bytes queued in the socket above which reading pauses. */
  maxQueuedBytes: number;
  scheduler: Scheduler;
  /** Told of each connection and request (metrics); optional. */
  observer?: RequestObserver;
  /** The listener's security for this connection; PLAINTEXT (User:ANONYMOUS) when absent. */
  security?: ConnectionSecurity;
  /** Client quotas of this listener; none enforced when absent. */
  throttle?: RequestThrottle;
}

/**
 * One answer's place in the connection's order. A class, so that every slot has one shape. What
 * an observer is told is kept here as plain fields (times are `performance.now()` readings) and
 * made into a RequestTimings only when it is told: timing a request allocates next to nothing.
 */
class Slot {
  chunks: Buffer[] | null = null;
  done = false;
  /** Close the connection once this answer is written (a failed SASL exchange). */
  closeAfter: string | null = null;
  /** Stop reading for this long once this answer is written (KIP-219 throttling). */
  throttleMs = 0;
  /** Starts the handler of a request that waits for every earlier answer (see the top). */
  atHead: (() => void) | null = null;
  /** A produce request's frame, given back to the frame pool once this answer is written. */
  frame: Buffer | null = null;
  /** A fetch answer: its records' read buffers go back to the log's pool once written. */
  fetch = false;
  /** An observer is told of this request once its answer is written (decoded requests only: not raw SASL tokens nor the v0 answer to an unsupported ApiVersions). */
  observed = false;
  apiKey = 0;
  apiVersion = 0;
  requestBytes = 0;
  responseBytes = 0;
  /** The decoded answer, for the observer; null when there is none. */
  response: unknown = null;
  failed = false;
  receivedMs = 0;
  startedMs = 0;
  completedMs = 0;
  remoteMs = 0;
  sentMs = 0;
}

/**
 * Memory for request frames that span socket reads, shared by every connection. Only the frames
 * of produce requests with acks are given back, once answered: by then every append of theirs has
 * completed, and nothing else keeps a view of the request's records (the log writes them and
 * keeps offsets only). With acks=0 the answer is not waited for, so those frames are not reused.
 */
const framePool = new BufferPool();

/** Written after a flush's answers when the socket still holds some: its callback says when they are written. */
const EMPTY = Buffer.alloc(0);

/** The APIs served beside earlier unanswered requests of their connection. */
const PIPELINED = new Set<number>([ApiKey.Produce, ApiKey.Fetch]);

export class Connection {
  private readonly socket: Socket;
  private readonly opts: ConnectionOptions;
  private readonly frames: FrameReader;
  private readonly pending: Slot[] = [];
  private readonly address: string;
  private readonly log: Logger;
  private closed = false;
  private paused = false;
  private clientId: string | null = null;
  /** Resolves when every started request has finished (for a graceful stop). */
  private idleWaiters: (() => void)[] = [];
  private readonly scope: Scope;
  /** Reading stops until then (scheduler time), a quota's throttle. */
  private mutedUntil = 0;
  private muteTimer: TimerHandle | null = null;
  /** A flush is queued to run once the current callback's microtasks are done (see queueFlush). */
  private flushQueued = false;
  /** An observer is told of each request once its answer is written: requests are timed. */
  private readonly observing: boolean;

  constructor(socket: Socket, opts: ConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.address = `${socket.remoteAddress}:${socket.remotePort}`;
    this.log = opts.logger.child({ client: this.address, listener: opts.listenerName });
    this.frames = new FrameReader({ maxFrameSize: opts.maxRequestSize, pool: framePool });
    this.observing = opts.observer?.requestCompleted !== undefined;
    this.scope = { unit: 'connection', context: { client: this.address, listener: opts.listenerName }, onFailure: () => this.close() };
    const on = <A extends unknown[]>(fn: (...args: A) => unknown) => opts.scheduler.wrap(this.scope, fn);
    socket.setNoDelay(true);
    if (opts.idleTimeoutMs > 0) {
      socket.setTimeout(
        opts.idleTimeoutMs,
        on(() => {
          this.log.debug({ clientId: this.clientId }, `closing connection idle for ${opts.idleTimeoutMs} ms`);
          this.close();
        }),
      );
    }
    socket.on('data', on((chunk: Buffer) => this.onData(chunk)));
    socket.on('drain', on(() => this.updateFlow()));
    socket.on('error', on((err: Error) => this.log.debug({ err }, 'connection error')));
    socket.on(
      'close',
      on(() => {
        this.closed = true;
        this.notifyIdle();
        opts.observer?.connectionClosed?.(opts.listenerName);
      }),
    );
    opts.observer?.connectionOpened?.(opts.listenerName);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The authenticated principal (User:name), User:ANONYMOUS before or without authentication. */
  get principal(): string {
    return this.opts.security?.sasl?.principal ?? this.opts.security?.principal ?? 'User:ANONYMOUS';
  }

  private onData(chunk: Buffer): void {
    const sasl = this.opts.security?.sasl;
    // Frames read in the same chunk as the one that completes authentication are held to the
    // pre-authentication limit; clients wait for that answer before sending more.
    if (sasl) this.frames.maxFrameSize = Math.min(this.opts.maxRequestSize, sasl.maxReceiveSize ?? Infinity);
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      if (err instanceof FrameSizeError) {
        this.log.warn({ size: err.size, max: err.maxFrameSize, clientId: this.clientId }, `closing connection: ${err.message}`);
        this.close();
        return;
      }
      throw err;
    }
    const receivedMs = this.observing ? performance.now() : 0;
    for (const f of frames) {
      if (this.closed) return;
      this.onFrame(f, receivedMs);
    }
    this.updateFlow();
  }

  private reject(reason: string, fields: Record<string, unknown>): void {
    this.log.warn({ ...fields, clientId: this.clientId }, `closing connection: ${reason}`);
    this.close();
  }

  private onFrame(frame: Buffer, receivedMs: number): void {
    const sasl = this.opts.security?.sasl ?? null;
    if (sasl?.expectsRawToken) return this.onRawSaslToken(frame, sasl);
    let peek;
    try {
      peek = peekRequestHeader(frame);
    } catch {
      return this.reject('request too short for a header', { size: frame.length });
    }
    const { apiKey, apiVersion, correlationId } = peek;
    const router = this.opts.router;
    const spec = apiSpec(apiKey);
    if (!spec || !router.handler(apiKey)) {
      return this.reject(`unknown or unserved API key ${apiKey}`, { apiKey, apiVersion, correlationId });
    }
    const refusal = sasl?.refusal(apiKey);
    if (refusal) return this.reject(refusal, { api: spec.name, apiVersion, correlationId });
    let decoded;
    try {
      decoded = decodeRequestHeader(frame);
    } catch (err) {
      return this.reject(`malformed request header: ${(err as Error).message}`, { api: spec.name, apiVersion, correlationId });
    }
    this.clientId = decoded.header.clientId ?? null;
    const log = this.log;
    const secured = this.opts.security !== undefined;
    const principal = this.principal;
    let requestLog: Logger | undefined;
    const ctx: RequestContext = {
      apiKey,
      apiVersion,
      correlationId,
      clientId: decoded.header.clientId ?? null,
      clientAddress: this.address,
      listenerName: this.opts.listenerName,
      principal,
      ...(sasl && { sasl }),
      // Made on first use: most requests log nothing, and a child logger per request costs.
      get logger(): Logger {
        return (requestLog ??= log.child({ api: spec.name, apiVersion, correlationId, clientId: decoded.header.clientId, ...(secured && { principal }) }));
      },
    };
    if (!router.supports(apiKey, apiVersion)) {
      if (apiKey === ApiKey.ApiVersions) {
        // KIP-511: answer in v0 with UNSUPPORTED_VERSION and our ApiVersions range so the client can retry.
        const range = router.range(ApiKey.ApiVersions)!;
        ctx.logger.info(`ApiVersions v${apiVersion} is not supported; answering with v0`);
        this.settle(
          this.enqueue(),
          Promise.resolve(
            encodeResponseMessageFrame(ApiKey.ApiVersions, 0, correlationId, {
              errorCode: ErrorCode.UNSUPPORTED_VERSION,
              apiKeys: [{ apiKey: range.apiKey, minVersion: range.minVersion, maxVersion: range.maxVersion }],
            }),
          ),
        );
        return;
      }
      return this.reject(`unsupported version ${apiVersion} of ${spec.name}`, { api: spec.name, apiVersion, correlationId });
    }
    let request: unknown;
    try {
      request = spec.decodeRequest(decoded.reader, apiVersion);
    } catch (err) {
      if (err instanceof DecodeError) {
        return this.reject(`malformed ${spec.name} v${apiVersion} request: ${err.message}`, { api: spec.name, apiVersion, correlationId, code: err.code });
      }
      throw err;
    }
    const handler = router.handler(apiKey)!;
    const slot = this.enqueue();
    if (apiKey === ApiKey.Produce && (request as { acks: number }).acks !== 0) slot.frame = frame;
    else if (apiKey === ApiKey.Fetch) slot.fetch = true;
    slot.requestBytes = frame.length;
    if (this.observing) {
      slot.observed = true;
      slot.apiKey = apiKey;
      slot.apiVersion = apiVersion;
      slot.receivedMs = receivedMs;
    }
    const run = () => this.run(handler, request, ctx, slot);
    // During SASL authentication every request starts on arrival (see the top).
    if (this.pending[0] === slot || PIPELINED.has(apiKey) || (sasl !== null && sasl.state !== 'authenticated')) this.settle(slot, run());
    else this.settle(slot, new Promise<void>((resolve) => (slot.atHead = resolve)).then(run));
  }

  private async run(
    handler: ApiHandler,
    request: unknown,
    ctx: RequestContext,
    slot: Slot,
  ): Promise<Buffer[] | null> {
    const throttle = this.opts.throttle;
    const startedMs = slot.observed || throttle ? performance.now() : 0;
    // The event-loop time a request takes (request_percentage): its handler up to the first wait.
    let busyMs = 0;
    let response: unknown;
    let failed = false;
    try {
      throttle?.prepare?.(ctx, request);
      const answer = handler.handle(request as never, ctx);
      if (throttle) busyMs = performance.now() - startedMs;
      response = await answer;
    } catch (err) {
      failed = true;
      const kafkaError = err instanceof KafkaError ? err : new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, undefined, { cause: err });
      if (!(err instanceof KafkaError)) ctx.logger.error({ err }, `unexpected error serving ${Router.apiName(ctx.apiKey)}`);
      response = handler.errorResponse(request as never, kafkaError, ctx);
    }
    const closeAfter = ctx.sasl?.closeRequested;
    if (closeAfter) {
      ctx.sasl!.closeRequested = null;
      slot.closeAfter = closeAfter;
    }
    const encodeStartMs = throttle ? performance.now() : 0;
    let chunks = response === NO_RESPONSE ? null : encodeResponseMessageFrame(ctx.apiKey as ApiKey, ctx.apiVersion, ctx.correlationId, response as never);
    if (throttle) {
      let responseBytes = 0;
      if (chunks) for (const c of chunks) responseBytes += c.length;
      busyMs += performance.now() - encodeStartMs;
      const decision = throttle.check({ ctx, request, response: response === NO_RESPONSE ? null : response, requestBytes: slot.requestBytes, responseBytes, busyMs });
      if (decision) {
        ctx.logger.debug({ throttleMs: decision.throttleMs, quota: decision.quota }, 'throttled by client quota');
        if (chunks) {
          response = decision.response;
          chunks = encodeResponseMessageFrame(ctx.apiKey as ApiKey, ctx.apiVersion, ctx.correlationId, response as never);
        }
        if (decision.clientThrottles && chunks) slot.throttleMs = decision.throttleMs;
        else {
          // Before KIP-219 (and with no answer at all) the broker holds the connection first.
          this.mute(decision.throttleMs);
          if (chunks) await new Promise<void>((resolve) => this.opts.scheduler.schedule(decision.throttleMs, this.scope, resolve));
        }
      }
    }
    if (slot.observed) {
      let responseBytes = 0;
      if (chunks) for (const c of chunks) responseBytes += c.length;
      slot.responseBytes = responseBytes;
      slot.response = response === NO_RESPONSE ? null : response;
      slot.failed = failed;
      slot.startedMs = startedMs;
      slot.completedMs = performance.now();
      slot.remoteMs = ctx.remote?.ms ?? 0;
    }
    return chunks;
  }

  /** A raw SASL token (after a SaslHandshake v0): answered raw, size-prefixed, in order. */
  private onRawSaslToken(token: Buffer, sasl: SaslSession): void {
    const slot = this.enqueue();
    const answer = sasl.rawToken(token);
    if (answer === null) {
      slot.closeAfter = sasl.closeRequested ?? 'SASL authentication failed';
      sasl.closeRequested = null;
      this.settle(slot, Promise.resolve(null));
      return;
    }
    const size = Buffer.alloc(4);
    size.writeInt32BE(answer.length);
    this.settle(slot, Promise.resolve([size, answer]));
  }

  /** A slot for one answer, in request order. */
  private enqueue(): Slot {
    const slot = new Slot();
    this.pending.push(slot);
    return slot;
  }

  private settle(slot: Slot, work: Promise<Buffer[] | null>): void {
    // Completions run outside the request's own chain: contained to this connection.
    this.opts.scheduler.watch(
      this.scope,
      work.then(
        (chunks) => {
          slot.chunks = chunks;
          slot.done = true;
          this.queueFlush();
        },
        (err: unknown) => {
          // Encoding a response failed: a broker fault. The client would wait forever, so close.
          this.log.error({ err, clientId: this.clientId }, 'failed to encode a response; closing connection');
          slot.done = true;
          this.close();
        },
      ),
    );
  }

  /**
   * Answers completed by the same I/O callback (the appends of one write, say) go out in one
   * socket write: the flush runs once that callback's promise continuations are done. On
   * loopback each write also runs the peer's receive path on this thread.
   */
  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    process.nextTick(this.queuedFlush);
  }

  private readonly queuedFlush = (): void => {
    this.flushQueued = false;
    this.opts.scheduler.run(this.scope, () => this.flush());
  };

  private flush(): void {
    // The answers of one flush go to the socket corked, as one write. See whenWritten for what
    // follows once the socket has them.
    let corked = false;
    let sentMs = 0;
    let reports: Slot[] | null = null;
    let pooled: Buffer[][] | null = null;
    const endWrite = (): void => {
      if (!corked) return;
      this.socket.uncork();
      corked = false;
      if (reports || pooled) this.whenWritten(reports, pooled);
      reports = null;
      pooled = null;
    };
    while (this.pending.length > 0 && this.pending[0]!.done) {
      const slot = this.pending.shift()!;
      if (this.closed) continue;
      if (slot.chunks) {
        if (!corked) this.socket.cork();
        corked = true;
        for (const c of slot.chunks) this.socket.write(c);
        if (slot.observed) {
          slot.sentMs = sentMs ||= performance.now();
          (reports ??= []).push(slot);
        }
        if (slot.fetch) (pooled ??= []).push(slot.chunks);
        if (slot.frame) framePool.release(slot.frame);
      } else if (slot.observed) {
        slot.sentMs = performance.now();
        this.reportSent(slot, slot.sentMs);
      }
      if (slot.throttleMs) this.mute(slot.throttleMs);
      if (slot.closeAfter) {
        this.log.info({ clientId: this.clientId }, `closing connection: ${slot.closeAfter}`);
        endWrite();
        this.close();
      }
    }
    endWrite();
    const head = this.pending[0];
    if (head?.atHead && !this.closed) {
      const start = head.atHead;
      head.atHead = null;
      start();
    }
    this.updateFlow();
    if (this.pending.length === 0) this.notifyIdle();
  }

  /**
   * A flush's answers are with the socket. Uncorking has usually handed every byte to the kernel
   * at once (nothing left in the socket): Kafka's ResponseSendTimeMs ends there, and the log's
   * read buffers of fetch answers can be reused. Otherwise an empty write queued behind them
   * calls back once they are. A callback on every flush's write would cost on the common path
   * (bench/README, Metrics overhead).
   */
  private whenWritten(reports: Slot[] | null, pooled: Buffer[][] | null): void {
    if (this.socket.writableLength === 0) return this.written(reports, pooled, undefined);
    // It runs from the socket, outside any request: through the connection's scope.
    this.socket.write(EMPTY, (err?: Error | null) => this.opts.scheduler.run(this.scope, () => this.written(reports, pooled, err)));
  }

  /** A flush's bytes are with the kernel: the observer hears of its answers, fetch read buffers go back. */
  private written(reports: Slot[] | null, pooled: Buffer[][] | null, err: Error | null | undefined): void {
    if (pooled && !err) for (const chunks of pooled) for (const c of chunks) readBufferPool.release(c);
    if (!reports) return;
    const now = performance.now();
    for (const r of reports) this.reportSent(r, now);
  }

  private reportSent(slot: Slot, sendCompletedMs: number): void {
    const timings: RequestTimings = {
      listenerName: this.opts.listenerName,
      apiKey: slot.apiKey,
      apiVersion: slot.apiVersion,
      requestBytes: slot.requestBytes,
      responseBytes: slot.responseBytes,
      response: slot.response,
      failed: slot.failed,
      receivedMs: slot.receivedMs,
      startedMs: slot.startedMs,
      completedMs: slot.completedMs,
      remoteMs: slot.remoteMs,
      sentMs: slot.sentMs,
      sendCompletedMs,
    };
    slot.response = null;
    this.opts.observer!.requestCompleted!(timings);
  }

  /** Stops reading for `ms` (a quota's throttle); reading resumes by itself after. */
  private mute(ms: number): void {
    const until = this.opts.scheduler.now() + ms;
    if (until <= this.mutedUntil) return;
    this.mutedUntil = until;
    this.muteTimer?.cancel();
    this.muteTimer = this.opts.scheduler.schedule(ms, this.scope, () => {
      this.muteTimer = null;
      this.mutedUntil = 0;
      this.updateFlow();
    });
    this.updateFlow();
  }

  private updateFlow(): void {
    if (this.closed) return;
    const busy = this.pending.length >= this.opts.maxInFlight || this.socket.writableLength > this.opts.maxQueuedBytes || this.mutedUntil > 0;
    if (busy && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!busy && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Stops reading new requests; resolves once the started ones have been answered. */
  drain(): Promise<void> {
    this.socket.pause();
    this.paused = true;
    if (this.pending.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.muteTimer?.cancel();
    this.socket.destroySoon();
    this.notifyIdle();
  }
}
