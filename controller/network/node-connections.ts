// Connections from this node to other nodes by id (controllers found in controller.quorum.voters,
// later brokers from the metadata image). A connection is opened on first use, kept while it
// works, and replaced by a new one after it closes; a failed connect is retried no sooner than
// `reconnectBackoffMs` later, so an unreachable node costs one quick rejection per request.
// Requests to one node travel on named lanes, one connection each: a long-polling fetch never
// holds up a vote or a heartbeat behind it, since a Kafka connection answers in request order.
import type { Logger } from 'pino';
import { type ConnectionOptions, KafkaConnection, type SendOptions, type SendResult } from '../../protocol/client/connection.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ApiKey, ApiMessages } from '../../protocol/generated/api-table.ts';

export interface NodeEndpoint {
  host: string;
  port: number;
}

export interface NodeConnectionsOptions {
  /** Where node `id` listens (its controller listener for controllers); undefined if unknown. */
  endpointOf(id: number): NodeEndpoint | undefined;
  clientId: string;
  logger: Logger;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  reconnectBackoffMs?: number;
  now?: () => number;
  /** TLS and SASL of the listener connected to (its security protocol); plaintext when absent. */
  security?: Pick<ConnectionOptions, 'tls' | 'authenticate'>;
}

interface Slot {
  endpoint: string;
  conn: Promise<KafkaConnection> | null;
  failedAt: number;
  lastError: Error | null;
}

export class NodeConnections {
  private readonly opts: NodeConnectionsOptions;
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  constructor(opts: NodeConnectionsOptions) {
    this.opts = opts;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Sends one request to node `id` on `lane`; rejects when the node cannot be reached. */
  async send<K extends ApiKey>(id: number, apiKey: K, request: ApiMessages[K]['request'], options: SendOptions & { lane?: string } = {}): Promise<SendResult<K>> {
    const conn = await this.connection(id, options.lane ?? 'control');
    return conn.send(apiKey, request, options);
  }

  private connection(id: number, lane: string): Promise<KafkaConnection> {
    if (this.closed) return Promise.reject(new KafkaError(ErrorCode.NETWORK_EXCEPTION, 'node connections are closed'));
    const ep = this.opts.endpointOf(id);
    if (!ep) return Promise.reject(new KafkaError(ErrorCode.NETWORK_EXCEPTION, `no known endpoint for node ${id}`));
    const endpoint = `${ep.host}:${ep.port}`;
    const key = `${id}/${lane}`;
    let slot = this.slots.get(key);
    if (!slot || slot.endpoint !== endpoint) {
      if (slot?.conn) void slot.conn.then((c) => c.close()).catch(() => undefined);
      slot = { endpoint, conn: null, failedAt: -Infinity, lastError: null };
      this.slots.set(key, slot);
    }
    if (slot.conn) return slot.conn;
    const backoff = this.opts.reconnectBackoffMs ?? 100;
    if (this.now() - slot.failedAt < backoff) {
      return Promise.reject(new KafkaError(ErrorCode.NETWORK_EXCEPTION, `node ${id} (${endpoint}) is unreachable: ${slot.lastError?.message ?? 'connect failed'}`));
    }
    const s = slot;
    const opening = KafkaConnection.connect(ep.host, ep.port, {
      clientId: this.opts.clientId,
      connectTimeoutMs: this.opts.connectTimeoutMs ?? 5000,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 30_000,
      logger: this.opts.logger,
      ...this.opts.security,
    });
    s.conn = opening;
    opening.then(
      (c) => {
        // A closed connection is dropped so the next request opens a new one.
        c.onClose(() => {
          if (s.conn === opening) s.conn = null;
        });
        if (this.closed) void c.close();
      },
      (err: Error) => {
        if (s.conn === opening) s.conn = null;
        s.failedAt = this.now();
        s.lastError = err;
        this.opts.logger.debug({ node: id, endpoint, err: err.message }, 'could not connect to node');
      },
    );
    return opening;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(all.map((s) => s.conn?.then((c) => c.close()).catch(() => undefined)));
  }
}
