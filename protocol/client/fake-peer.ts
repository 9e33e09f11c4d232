// A scripted Kafka peer on 127.0.0.1 for the client's own unit tests: it cuts request frames,
// decodes them with the generated codecs and answers what a test's handler returns. It is not a
// broker and answers nothing by itself except ApiVersions (from a configurable table), so a
// test states every behaviour it relies on.

import net from 'node:net';
import { ErrorCode } from '../errors.ts';
import { FrameReader } from '../framing.ts';
import { ApiKey, API_SPECS } from '../generated/api-table.ts';
import type { ApiMessages } from '../generated/api-table.ts';
import type { RequestHeader } from '../generated/message/request-header.ts';
import { decodeRequestHeader, encodeResponseMessageFrame } from '../headers.ts';
import { clientMaxVersion, type VersionRange } from './connection.ts';

export interface PeerRequest {
  apiKey: number;
  version: number;
  header: RequestHeader;
  body: unknown;
  /** Index of the connection (in accept order) it came in on. */
  connection: number;
}

/** What a handler returns: a response message, or nothing to send no response at all. */
export type PeerAnswer = { message: unknown } | undefined;

export type PeerHandler = (request: PeerRequest, peer: FakePeer, socket: net.Socket) => PeerAnswer | Promise<PeerAnswer>;

export interface FakePeerOptions {
  /** Version ranges advertised by ApiVersions; default: every API at this client's range. */
  apiVersions?: Map<number, VersionRange>;
  /** Answer requests in arrival order even when handlers finish out of order (as a broker must). */
  ordered?: boolean;
  /** Write every response one byte per TCP write. */
  byteByByte?: boolean;
  /** Answer ApiVersions through the handler rather than from the table. */
  handleApiVersions?: boolean;
}

export function allApiVersions(): Map<number, VersionRange> {
  const ranges = new Map<number, VersionRange>();
  for (const key of Object.values(ApiKey)) {
    ranges.set(key, { minVersion: API_SPECS[key].minVersion, maxVersion: clientMaxVersion(key) });
  }
  return ranges;
}

export class FakePeer {
  readonly server: net.Server;
  readonly requests: PeerRequest[] = [];
  readonly sockets: net.Socket[] = [];
  apiVersions: Map<number, VersionRange>;
  private readonly handler: PeerHandler;
  private readonly options: FakePeerOptions;

  private constructor(handler: PeerHandler, options: FakePeerOptions) {
    this.handler = handler;
    this.options = options;
    this.apiVersions = options.apiVersions ?? allApiVersions();
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(handler: PeerHandler, options: FakePeerOptions = {}): Promise<FakePeer> {
    const peer = new FakePeer(handler, options);
    await new Promise<void>((resolve) => peer.server.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  requestsFor(apiKey: number): PeerRequest[] {
    return this.requests.filter((r) => r.apiKey === apiKey);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const index = this.sockets.length;
    this.sockets.push(socket);
    const frames = new FrameReader();
    // Responses waiting for earlier ones when answering in order.
    const slots: Array<{ done: boolean; chunks: Buffer[] | undefined }> = [];
    let writing: Promise<void> = Promise.resolve();
    const send = (chunks: Buffer[]) => {
      if (!this.options.byteByByte) {
        for (const c of chunks) socket.write(c);
        return;
      }
      const bytes = Buffer.concat(chunks);
      writing = writing.then(async () => {
        for (let i = 0; i < bytes.length && !socket.destroyed; i++) {
          socket.write(bytes.subarray(i, i + 1));
          await new Promise((r) => setImmediate(r));
        }
      });
    };
    const flush = () => {
      while (slots.length > 0 && slots[0]!.done) {
        const slot = slots.shift()!;
        if (slot.chunks) send(slot.chunks);
      }
    };
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      for (const frame of frames.push(chunk)) {
        const { header, reader } = decodeRequestHeader(frame);
        const apiKey = header.requestApiKey;
        const version = header.requestApiVersion;
        const body = API_SPECS[apiKey as ApiKey].decodeRequest(reader, version);
        const request: PeerRequest = { apiKey, version, header, body, connection: index };
        this.requests.push(request);
        const slot = { done: false, chunks: undefined as Buffer[] | undefined };
        const expectsResponse = !(apiKey === ApiKey.Produce && (body as ApiMessages[0]['request']).acks === 0);
        if (expectsResponse) slots.push(slot);
        const finish = (chunks: Buffer[] | undefined) => {
          slot.done = true;
          slot.chunks = chunks;
          if (this.options.ordered) flush();
          else {
            slots.splice(slots.indexOf(slot), 1);
            if (chunks) send(chunks);
          }
        };
        if (apiKey === ApiKey.ApiVersions && !this.options.handleApiVersions) {
          finish(this.apiVersionsFrame(version, header.correlationId));
          continue;
        }
        void Promise.resolve(this.handler(request, this, socket)).then((answer) => {
          if (answer && !expectsResponse) throw new Error('a Produce with acks=0 gets no response');
          finish(answer ? encodeResponseMessageFrame(apiKey as ApiKey, version, header.correlationId, answer.message as never) : undefined);
        });
      }
    });
  }

  private apiVersionsFrame(version: number, correlationId: number): Buffer[] {
    const own = this.apiVersions.get(ApiKey.ApiVersions);
    if (!own || version > own.maxVersion) {
      // As Kafka: a v0 body with UNSUPPORTED_VERSION and the ApiVersions range it does serve.
      return encodeResponseMessageFrame(ApiKey.ApiVersions, 0, correlationId, {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        apiKeys: own ? [{ apiKey: ApiKey.ApiVersions, ...own }] : [],
      });
    }
    const apiKeys = [...this.apiVersions].map(([apiKey, r]) => ({ apiKey, minVersion: r.minVersion, maxVersion: r.maxVersion }));
    return encodeResponseMessageFrame(ApiKey.ApiVersions, version, correlationId, { errorCode: 0, apiKeys, throttleTimeMs: 0 });
  }
}
