// One fuzzer connection to the broker under test: raw bytes out, size-prefixed frames in. Typed
// requests are encoded with the generated codecs and matched to their answers by correlation id;
// raw (mutated) bytes are written as they are and whatever comes back is only counted.
// Frames that match no pending request (raw SASL tokens after a v0 handshake, answers to raw
// frames) are kept, the last few only, for `nextUnmatched`. A wire may run over TLS.
// Invariants: every wait is bounded by a timer; a closed socket fails every pending request at
// once; the socket is only ever to 127.0.0.1.
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { FrameReader } from '../../protocol/framing.ts';
import { API_SPECS, type ApiKey, type ApiMessages } from '../../protocol/generated/api-table.ts';
import { decodeResponseHeader, encodeRequestFrame } from '../../protocol/headers.ts';

export class WireClosedError extends Error {
  readonly code = 'WIRE_CLOSED';
}

export class WireTimeoutError extends Error {
  readonly code = 'WIRE_TIMEOUT';
}

/** The request could not be encoded at that version: a fault of the caller, not of the broker. */
export class WireEncodeError extends Error {
  readonly code = 'WIRE_ENCODE';
}

interface Pending {
  apiKey: number;
  version: number;
  resolve: (frame: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface WireStats {
  framesSent: number;
  bytesSent: number;
  responses: number;
}

export class Wire {
  private readonly socket: Socket;
  private readonly reader = new FrameReader({ maxFrameSize: 256 * 1024 * 1024 });
  private readonly pending = new Map<number, Pending>();
  private nextCorrelation = 1;
  private closedFlag = false;
  private readonly unmatched: Buffer[] = [];
  private unmatchedWaiter: (() => void) | null = null;
  readonly stats: WireStats = { framesSent: 0, bytesSent: 0, responses: 0 };

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.onClose());
    socket.on('error', () => this.onClose());
  }

  static open(port: number, timeoutMs = 3000): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new WireTimeoutError(`connect to 127.0.0.1:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Wire(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** A TLS connection, resolved once its handshake is done; a failed handshake rejects. */
  static openTls(port: number, options: ConnectionOptions, timeoutMs = 3000): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ host: '127.0.0.1', port, ...options });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new WireTimeoutError(`TLS connect to 127.0.0.1:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Wire(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Writes bytes as they are: a frame, or a part of one (`startsFrame` false for the parts after the first). */
  sendRaw(bytes: Buffer, startsFrame = true): void {
    if (this.closedFlag) return;
    if (startsFrame) this.stats.framesSent++;
    this.stats.bytesSent += bytes.length;
    this.socket.write(bytes);
  }

  /**
   * Sends one request and resolves with the decoded response body; `expectResponse: false` (Produce
   * with acks 0) resolves with undefined once written.
   */
  async request<K extends ApiKey>(
    apiKey: K,
    version: number,
    body: ApiMessages[K]['request'],
    opts: { timeoutMs?: number; expectResponse?: boolean; clientId?: string | null } = {},
  ): Promise<ApiMessages[K]['response'] | undefined> {
    if (this.closedFlag) throw new WireClosedError('connection closed');
    const correlationId = this.nextCorrelation++;
    let chunks: Buffer[];
    try {
      chunks = encodeRequestFrame(apiKey, version, correlationId, opts.clientId === undefined ? 'samsa-fuzz' : opts.clientId, body);
    } catch (err) {
      throw new WireEncodeError(`${API_SPECS[apiKey].name} v${version}: ${(err as Error).message}`);
    }
    const frame = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (opts.expectResponse === false) {
      this.sendRaw(frame);
      return undefined;
    }
    const answer = new Promise<Buffer>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new WireTimeoutError(`${API_SPECS[apiKey].name} v${version} unanswered after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, { apiKey, version, resolve, reject, timer });
    });
    this.sendRaw(frame);
    const response = await answer;
    const { reader } = decodeResponseHeader(response, apiKey, version);
    return API_SPECS[apiKey].decodeResponse(reader, version) as ApiMessages[K]['response'];
  }

  /** Writes one size-prefixed frame of `bytes` (a raw SASL token after a v0 handshake). */
  sendToken(bytes: Buffer): void {
    const size = Buffer.alloc(4);
    size.writeInt32BE(bytes.length);
    this.sendRaw(Buffer.concat([size, bytes]));
  }

  /** The oldest frame no request claimed, or null if none comes within `ms` or the connection closes. */
  async nextUnmatched(ms: number): Promise<Buffer | null> {
    if (this.unmatched.length === 0 && !this.closedFlag) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.unmatchedWaiter = done;
      });
      this.unmatchedWaiter = null;
    }
    return this.unmatched.shift() ?? null;
  }

  /** Resolves once the broker closes the connection or `ms` pass; true if it closed. */
  waitClose(ms: number): Promise<boolean> {
    if (this.closedFlag) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.off('close', onClose);
        resolve(false);
      }, ms);
      const onClose = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.socket.once('close', onClose);
    });
  }

  destroy(): void {
    this.socket.destroy();
    this.onClose();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch {
      this.destroy();
      return;
    }
    for (const frame of frames) {
      this.stats.responses++;
      const p = frame.length >= 4 ? this.pending.get(frame.readInt32BE(0)) : undefined;
      if (!p) {
        // An answer to a raw frame or a raw token: kept for nextUnmatched, the last 8 only.
        this.unmatched.push(frame);
        if (this.unmatched.length > 8) this.unmatched.shift();
        this.unmatchedWaiter?.();
        continue;
      }
      this.pending.delete(frame.readInt32BE(0));
      clearTimeout(p.timer);
      p.resolve(frame);
    }
  }

  private onClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.unmatchedWaiter?.();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new WireClosedError(`connection closed with ${API_SPECS[p.apiKey as ApiKey].name} v${p.version} pending`));
    }
    this.pending.clear();
  }
}
