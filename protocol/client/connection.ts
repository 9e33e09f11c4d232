// One TCP connection to a Kafka broker or controller, speaking request/response with pipelining.
// Invariants:
// - Requests are written in send order with increasing correlation ids; a broker answers in
//   request order, so responses must match the oldest request in flight. Anything else means the
//   stream cannot be trusted and the connection closes, failing every request in flight.
// - A connection that closes for any reason (peer, timeout, malformed response, close()) rejects
//   everything in flight and every later send; it is never reopened: callers make a new one.
// - A request timeout closes the connection, as Kafka's clients do: a late response would
//   otherwise sit in front of every later one.
// - Produce with acks=0 gets no response from the broker: it resolves with null once written.
// - On connect, ApiVersions is negotiated (v3 first; on UNSUPPORTED_VERSION, the highest version
//   the broker advertises for ApiVersions, else v0), and each later request uses the highest
//   version both sides support unless the caller forces one.
// - Writes are corked per event-loop turn, so requests sent together leave in one vectored write.
//   Nothing bounds what is queued on the socket: callers bound their own pipelining depth.

import net from 'node:net';
import tls from 'node:tls';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { DecodeError } from '../decode-error.ts';
import { ErrorCode, KafkaError } from '../errors.ts';
import { FrameReader, FrameSizeError } from '../framing.ts';
import { ApiKey, API_SPECS } from '../generated/api-table.ts';
import type { ApiMessages } from '../generated/api-table.ts';
import type { ApiVersionsResponse } from '../generated/message/api-versions-response.ts';
import { decodeResponseHeader, encodeRequestFrame, peekResponseCorrelationId } from '../headers.ts';
import { Reader } from '../reader.ts';
import { ConnectionError, TimeoutError } from './connection-errors.ts';

export interface ConnectionOptions {
  /** client.id sent in every request header. */
  clientId?: string | null;
  /** socket.connection.setup.timeout.ms. */
  connectTimeoutMs?: number;
  /** request.timeout.ms: the default for every request. */
  requestTimeoutMs?: number;
  /** Largest response frame accepted. */
  maxFrameSize?: number;
  /** Sent in ApiVersions v3+ (KIP-511). */
  clientSoftwareName?: string;
  clientSoftwareVersion?: string;
  /** Version of the first ApiVersions request. */
  apiVersionsVersion?: number;
  /** Skip ApiVersions on connect; every request then uses this client's highest version. */
  skipApiVersions?: boolean;
  logger?: Logger;
  /** Connect with TLS (an SSL or SASL_SSL listener) with these options. */
  tls?: tls.ConnectionOptions;
  /**
   * Runs once the connection is open and versions are negotiated, before it is handed out: a SASL
   * exchange for SASL listeners. A rejection fails the connect.
   */
  authenticate?: (conn: KafkaConnection) => Promise<void>;
}

export interface SendOptions {
  /** Forces a version instead of the highest both sides support. */
  version?: number;
  /** Overrides requestTimeoutMs for this request; 0 waits for ever. */
  timeoutMs?: number;
}

/** A Produce with acks=0 has no response: it resolves with null. */
export type SendResult<K extends ApiKey> = K extends typeof ApiKey.Produce
  ? ApiMessages[K]['response'] | null
  : ApiMessages[K]['response'];

export interface VersionRange {
  minVersion: number;
  maxVersion: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_API_VERSIONS_VERSION = 3;
const MAX_CORRELATION_ID = 0x7fffffff;

let silentLogger: Logger | undefined;
function defaultLogger(): Logger {
  silentLogger ??= pino({ level: 'silent' });
  return silentLogger;
}

interface InFlight {
  correlationId: number;
  apiKey: number;
  version: number;
  timeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** The highest version this client's codecs serve for an API without unstable versions. */
export function clientMaxVersion(apiKey: number): number {
  const spec = API_SPECS[apiKey as ApiKey];
  return spec.maxStableVersion >= 0 ? spec.maxStableVersion : spec.maxVersion;
}

export class KafkaConnection {
  readonly host: string;
  readonly port: number;
  /** host:port, for messages and logs. */
  readonly broker: string;
  readonly clientId: string | null;
  readonly requestTimeoutMs: number;

  private readonly options: ConnectionOptions;
  private readonly log: Logger;
  private socket: net.Socket | undefined;
  private readonly frames: FrameReader;
  // In-flight requests, oldest first: queue[head..].
  private queue: InFlight[] = [];
  private head = 0;
  private nextCorrelationId = 0;
  private corked = false;
  private closedWith: ConnectionError | undefined;
  private readonly closeListeners: Array<(err: ConnectionError) => void> = [];
  private socketClosed: Promise<void> | undefined;
  private brokerVersions: Map<number, VersionRange> | undefined;

  private constructor(host: string, port: number, options: ConnectionOptions) {
    this.host = host;
    this.port = port;
    this.broker = `${host}:${port}`;
    this.options = options;
    this.clientId = options.clientId === undefined ? 'samsa' : options.clientId;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.log = (options.logger ?? defaultLogger()).child({ broker: this.broker });
    this.frames = new FrameReader({ maxFrameSize: options.maxFrameSize ?? 0x7fffffff });
  }

  /** Opens a connection and negotiates API versions. */
  static async connect(host: string, port: number, options: ConnectionOptions = {}): Promise<KafkaConnection> {
    const conn = new KafkaConnection(host, port, options);
    await conn.open();
    if (!options.skipApiVersions) {
      try {
        await conn.negotiateVersions();
      } catch (err) {
        conn.destroy(err instanceof ConnectionError ? err : new ConnectionError('CONNECTION_CLOSED', conn.broker, 'API versions negotiation failed', { cause: err }));
        throw err;
      }
    }
    if (options.authenticate) {
      try {
        await options.authenticate(conn);
      } catch (err) {
        const failure = err instanceof ConnectionError ? err : new ConnectionError('CONNECT_FAILED', conn.broker, `Authentication with ${conn.broker} failed: ${(err as Error).message}`, { cause: err });
        conn.destroy(failure);
        throw failure;
      }
    }
    return conn;
  }

  /** True once the connection is closed or failed; it never reopens. */
  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Requests written whose responses have not arrived. */
  get inFlightCount(): number {
    return this.queue.length - this.head;
  }

  /** The broker's version ranges by API key, once negotiated. */
  get apiVersions(): ReadonlyMap<number, VersionRange> | undefined {
    return this.brokerVersions;
  }

  /** Called once when the connection closes, with the reason. */
  onClose(listener: (err: ConnectionError) => void): void {
    if (this.closedWith) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  /**
   * The version to use for an API: the highest both sides support. Throws KafkaError
   * UNSUPPORTED_VERSION when the broker does not serve the API or the ranges do not overlap.
   */
  versionFor(apiKey: ApiKey): number {
    const spec = API_SPECS[apiKey];
    const ours = clientMaxVersion(apiKey);
    if (!this.brokerVersions) return ours;
    const theirs = this.brokerVersions.get(apiKey);
    if (!theirs) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `The broker ${this.broker} does not support ${spec.name}`);
    }
    const version = Math.min(ours, theirs.maxVersion);
    if (version < Math.max(spec.minVersion, theirs.minVersion)) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${spec.name}: the broker ${this.broker} serves versions ${theirs.minVersion}-${theirs.maxVersion}, this client ${spec.minVersion}-${ours}`,
      );
    }
    return version;
  }

  /**
   * Sends a request and resolves with its decoded response. Rejects with KafkaError
   * UNSUPPORTED_VERSION before sending when no version fits, and with ConnectionError (or
   * TimeoutError) when the connection fails before the response arrives.
   */
  send<K extends ApiKey>(apiKey: K, request: ApiMessages[K]['request'], options: SendOptions = {}): Promise<SendResult<K>> {
    let version: number;
    try {
      version = options.version === undefined ? this.versionFor(apiKey) : this.checkForcedVersion(apiKey, options.version);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.sendAt(apiKey, version, request, options.timeoutMs ?? this.requestTimeoutMs) as Promise<SendResult<K>>;
  }

  /** Closes the connection, rejecting whatever is in flight; resolves once the socket is closed. */
  close(): Promise<void> {
    if (!this.closedWith) {
      this.destroy(new ConnectionError('CONNECTION_CLOSED', this.broker, `Connection to ${this.broker} closed by the client`), undefined, true);
    }
    return this.socketClosed ?? Promise.resolve();
  }

  private checkForcedVersion(apiKey: ApiKey, version: number): number {
    const spec = API_SPECS[apiKey];
    if (!Number.isInteger(version) || version < spec.minVersion || version > spec.maxVersion) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `${spec.name} has no version ${version} in this client`);
    }
    const theirs = this.brokerVersions?.get(apiKey);
    if (this.brokerVersions && (!theirs || version < theirs.minVersion || version > theirs.maxVersion)) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `The broker ${this.broker} does not support ${spec.name} version ${version}`);
    }
    return version;
  }

  private sendAt(apiKey: ApiKey, version: number, request: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = correlationId === MAX_CORRELATION_ID ? 0 : correlationId + 1;
    let chunks: Buffer[];
    try {
      chunks = encodeRequestFrame(apiKey, version, correlationId, this.clientId, request as never);
    } catch (err) {
      return Promise.reject(err);
    }
    const expectsResponse = !(apiKey === ApiKey.Produce && (request as ApiMessages[0]['request']).acks === 0);
    return new Promise((resolve, reject) => {
      if (!expectsResponse) {
        this.write(chunks, (err) => {
          if (err) reject(this.closedWith ?? new ConnectionError('CONNECTION_CLOSED', this.broker, `Write to ${this.broker} failed`, { cause: err }));
          else resolve(null);
        });
        return;
      }
      const entry: InFlight = { correlationId, apiKey, version, timeoutMs, timer: undefined, resolve, reject };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        entry.timer = setTimeout(() => this.onTimeout(entry), timeoutMs);
      }
      this.queue.push(entry);
      this.write(chunks);
    });
  }

  private write(chunks: Buffer[], done?: (err?: Error | null) => void): void {
    const socket = this.socket!;
    // Cork once per tick so requests sent together leave in one vectored write.
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) socket.write(chunks[i]!);
    if (done) socket.write(chunks[last]!, done);
    else socket.write(chunks[last]!);
  }

  private open(): Promise<void> {
    const connectTimeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const secure = this.options.tls;
      const socket = secure ? tls.connect({ host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host, ...secure }) : net.connect({ host: this.host, port: this.port });
      this.socket = socket;
      this.socketClosed = new Promise((done) => socket.once('close', () => done()));
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        const err = new TimeoutError('CONNECT_TIMEOUT', this.broker, connectTimeoutMs, `Connection to ${this.broker} not established within ${connectTimeoutMs} ms`);
        this.destroy(err);
        reject(err);
      }, connectTimeoutMs);
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.setNoDelay(true);
        this.log.debug('connected');
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (err) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          const failure = new ConnectionError('CONNECT_FAILED', this.broker, `Connection to ${this.broker} failed: ${err.message}`, { cause: err });
          this.destroy(failure);
          reject(failure);
          return;
        }
        this.destroy(new ConnectionError('CONNECTION_CLOSED', this.broker, `Connection to ${this.broker} failed: ${err.message}`, { cause: err }));
      });
      socket.on('close', () => {
        this.destroy(new ConnectionError('CONNECTION_CLOSED', this.broker, `Connection to ${this.broker} was closed by the peer`));
      });
    });
  }

  private async negotiateVersions(): Promise<void> {
    const spec = API_SPECS[ApiKey.ApiVersions];
    let version = this.options.apiVersionsVersion ?? DEFAULT_API_VERSIONS_VERSION;
    const request = {
      clientSoftwareName: this.options.clientSoftwareName ?? 'samsa',
      clientSoftwareVersion: this.options.clientSoftwareVersion ?? '0.1.0',
    };
    // One retry at most: the second version is one the broker said it serves, or v0.
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = (await this.sendAt(ApiKey.ApiVersions, version, request, this.requestTimeoutMs)) as ApiVersionsResponse;
      if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION && attempt === 0 && version > 0) {
        const theirs = response.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
        const next = theirs ? Math.min(theirs.maxVersion, version - 1, spec.maxVersion) : 0;
        this.log.debug({ tried: version, next }, 'ApiVersions version not supported, retrying');
        version = Math.max(0, next);
        continue;
      }
      if (response.errorCode !== ErrorCode.NONE) {
        throw new KafkaError(response.errorCode as ErrorCode, `ApiVersions v${version} to ${this.broker} failed`);
      }
      const ranges = new Map<number, VersionRange>();
      for (const k of response.apiKeys) ranges.set(k.apiKey, { minVersion: k.minVersion, maxVersion: k.maxVersion });
      this.brokerVersions = ranges;
      this.log.debug({ apiVersionsVersion: version, apis: ranges.size }, 'negotiated API versions');
      return;
    }
    throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `The broker ${this.broker} supports no ApiVersions version this client sends`);
  }

  private onData(chunk: Buffer): void {
    if (this.closedWith) return;
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameSizeError)) throw err;
      this.destroy(new ConnectionError('MALFORMED_RESPONSE', this.broker, `Response from ${this.broker}: ${err.message}`, { cause: err }));
      return;
    }
    for (const frame of frames) {
      this.onFrame(frame);
      if (this.closedWith) return;
    }
  }

  private onFrame(frame: Buffer): void {
    let correlationId: number;
    try {
      correlationId = peekResponseCorrelationId(frame);
    } catch (err) {
      this.destroy(new ConnectionError('MALFORMED_RESPONSE', this.broker, `Response from ${this.broker} too short for a header`, { cause: err }));
      return;
    }
    const entry = this.queue[this.head];
    if (!entry || entry.correlationId !== correlationId) {
      const expected = entry ? `request ${entry.correlationId}` : 'no request in flight';
      this.destroy(
        new ConnectionError('CORRELATION_MISMATCH', this.broker, `Correlation id ${correlationId} of a response from ${this.broker} does not match ${expected}`),
      );
      return;
    }
    this.queue[this.head] = undefined as never;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (entry.timer) clearTimeout(entry.timer);
    let response: unknown;
    try {
      const { reader } = decodeResponseHeader(frame, entry.apiKey, entry.version);
      response =
        entry.apiKey === ApiKey.ApiVersions
          ? decodeApiVersionsBody(reader, entry.version)
          : API_SPECS[entry.apiKey as ApiKey].decodeResponse(reader, entry.version);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      const name = API_SPECS[entry.apiKey as ApiKey].name;
      const failure = new ConnectionError('MALFORMED_RESPONSE', this.broker, `${name} v${entry.version} response from ${this.broker} is malformed: ${err.message}`, {
        cause: err,
      });
      entry.reject(failure);
      this.destroy(failure);
      return;
    }
    entry.resolve(response);
  }

  private onTimeout(entry: InFlight): void {
    if (this.closedWith) return;
    const name = API_SPECS[entry.apiKey as ApiKey].name;
    const err = new TimeoutError('REQUEST_TIMEOUT', this.broker, entry.timeoutMs, `${name} request ${entry.correlationId} to ${this.broker} timed out after ${entry.timeoutMs} ms`);
    this.log.debug({ apiKey: entry.apiKey, correlationId: entry.correlationId }, 'request timed out, closing the connection');
    this.destroy(err, entry);
  }

  /**
   * Closes the socket and rejects every request in flight with the reason, except when one request
   * caused it (a timeout): that one gets the reason and the others learn the connection closed.
   */
  private destroy(reason: ConnectionError, culprit?: InFlight, graceful = false): void {
    if (this.closedWith) return;
    this.closedWith = culprit
      ? new ConnectionError('CONNECTION_CLOSED', this.broker, `Connection to ${this.broker} closed: ${reason.message}`, { cause: reason })
      : reason;
    const socket = this.socket;
    // A graceful close still delivers what was written (acks=0 produces) before closing.
    if (graceful && socket && !socket.destroyed) socket.end(() => socket.destroy());
    else socket?.destroy();
    const pending = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const entry of pending) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.reject(culprit === undefined || entry === culprit ? reason : this.closedWith);
    }
    if (reason.code !== 'CONNECTION_CLOSED' || pending.length > 0) {
      this.log.debug({ err: reason, inFlight: pending.length }, 'connection closed');
    }
    for (const listener of this.closeListeners.splice(0)) listener(this.closedWith);
  }
}

/**
 * A broker that does not serve the ApiVersions version asked answers with a v0 body carrying
 * UNSUPPORTED_VERSION (and its own ApiVersions range), so such a body is read as v0, as Kafka's
 * clients do.
 */
function decodeApiVersionsBody(reader: Reader, version: number): ApiVersionsResponse {
  const spec = API_SPECS[ApiKey.ApiVersions];
  if (version === 0) return spec.decodeResponse(reader, 0);
  const start = reader.pos;
  if (reader.remaining >= 2 && reader.buf.readInt16BE(start) === ErrorCode.UNSUPPORTED_VERSION) {
    return spec.decodeResponse(reader, 0);
  }
  try {
    return spec.decodeResponse(reader, version);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return spec.decodeResponse(new Reader(reader.buf, start, reader.end), 0);
  }
}
