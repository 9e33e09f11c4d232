// TCP listeners: one server socket per configured listener, each with its own router.
// stop() refuses new connections, lets in-flight requests finish, then closes the rest.
// Accepting and server errors run through the containment seam: a failure while setting up one
// connection closes that socket only; a listener error after binding is logged, not thrown.
// SSL and SASL_SSL listeners are TLS servers: a connection is served once its handshake is done
// (a failed handshake closes that connection with one log line); the client certificate's
// subject, mapped by ssl.principal.mapping.rules, is an SSL connection's principal. SASL
// listeners give each connection its SaslSession.
import { createServer, type Server, type Socket } from 'node:net';
import { type TLSSocket, createServer as createTlsServer, type Server as TlsServer, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { Connection } from './connection.ts';
import type { Scheduler } from '../protocol/scheduler.ts';
import type { Router } from './router.ts';
import type { RequestObserver } from './request-observer.ts';
import { subjectOf } from './security/distinguished-name.ts';
import { ANONYMOUS, type ListenerSecurity } from './security/listener-security.ts';
import { SaslSession } from './security/sasl-session.ts';
import type { ConnectionQuotas, ConnectionSlot } from './quota/connection-quotas.ts';
import type { RequestThrottle } from './quota/request-quotas.ts';

export interface ListenerSpec {
  name: string;
  host: string;
  port: number;
  router: Router;
  /** TLS and SASL settings; a PLAINTEXT listener when absent. */
  security?: ListenerSecurity;
  /**
   * Connections are accepted but none is read until enableRequestProcessing() (Kafka's broker
   * enables its client listeners only once caught up with the metadata log and unfenced).
   */
  held?: boolean;
}

export interface SocketServerOptions {
  logger: Logger;
  maxRequestSize: number;
  idleTimeoutMs: number;
  maxInFlight?: number;
  maxQueuedBytes?: number;
  maxConnections?: number;
  scheduler: Scheduler;
  /** Told of each connection and request (metrics); optional. */
  observer?: RequestObserver;
  /** Connection limits (per IP, listener, broker; creation rates), checked at accept. */
  connectionQuotas?: ConnectionQuotas;
  /** The client quotas a listener's connections enforce, if any. */
  throttle?: (listenerName: string) => RequestThrottle | undefined;
}

export interface BoundListener {
  name: string;
  host: string;
  port: number;
}

export class SocketServer {
  private readonly opts: SocketServerOptions;
  private readonly servers: { server: Server | TlsServer; spec: ListenerSpec }[] = [];
  private readonly connections = new Set<Connection>();
  private readonly bound: BoundListener[] = [];
  /** Held listeners' names, and their connections waiting unread (the bytes stay in the socket). */
  private readonly holding = new Set<string>();
  private readonly parked = new Map<Socket, { spec: ListenerSpec; onError: () => void; onClose: () => void }>();

  constructor(opts: SocketServerOptions) {
    this.opts = opts;
  }

  /** Binds every listener; port 0 picks a free port (see `listeners`). */
  async start(listeners: ListenerSpec[]): Promise<BoundListener[]> {
    for (const spec of listeners) {
      const { scheduler, logger } = this.opts;
      if (spec.held) this.holding.add(spec.name);
      const onSocket = (socket: Socket): void =>
        scheduler.run({ unit: 'connection', context: { client: `${socket.remoteAddress}:${socket.remotePort}`, listener: spec.name }, onFailure: () => socket.destroy() }, () =>
          this.holding.has(spec.name) ? this.park(socket, spec) : this.accept(socket, spec),
        );
      const tls = spec.security?.tls;
      let server: Server | TlsServer;
      if (tls) {
        server = createTlsServer({ ...tls.options, noDelay: true } as never, (socket: TLSSocket) => {
          this.refuseRenegotiation(socket, spec.name);
          onSocket(socket);
        });
        // A handshake that fails (bad certificate, no common protocol, plain text sent to TLS) ends that connection only.
        server.on(
          'tlsClientError',
          scheduler.wrap({ unit: 'connection', context: { listener: spec.name } }, (err: Error, socket: TLSSocket) => {
            logger.info({ listener: spec.name, client: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message }, 'closing connection: TLS handshake failed');
            socket.destroy();
          }),
        );
      } else {
        server = createServer({ noDelay: true }, onSocket);
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: spec.host || undefined, port: spec.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // An error event without a listener would be thrown; after binding, it concerns this listener only.
      server.on('error', scheduler.wrap({ unit: 'listener', context: { listener: spec.name } }, (err: Error) => logger.error({ err, listener: spec.name }, 'listener error')));
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : spec.port;
      this.servers.push({ server, spec });
      this.bound.push({ name: spec.name, host: spec.host, port });
      this.opts.logger.info({ listener: spec.name, host: spec.host || '0.0.0.0', port }, 'listening');
    }
    return this.bound;
  }

  get listeners(): readonly BoundListener[] {
    return this.bound;
  }

  /** Replaces a TLS listener's key and trust material for new connections (dynamic keystore update). */
  setSecureContext(listenerName: string, options: SecureContextOptions): boolean {
    const entry = this.servers.find((s) => s.spec.name === listenerName && s.spec.security?.tls);
    if (!entry) return false;
    (entry.server as TlsServer).setSecureContext(options);
    return true;
  }

  /**
   * As Kafka's SslTransportLayer ("Renegotiation is not supported"), a client that asks to
   * renegotiate is closed. Node would renegotiate, and past tls.CLIENT_RENEG_LIMIT only emit an
   * error that nothing acts on, so a client could make the broker sign handshakes without end.
   */
  private refuseRenegotiation(socket: TLSSocket, listener: string): void {
    socket.disableRenegotiation();
    socket.on(
      'error',
      this.opts.scheduler.wrap({ unit: 'connection', context: { listener } }, (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ERR_TLS_RENEGOTIATION_DISABLED') return;
        this.opts.logger.info({ listener, client: `${socket.remoteAddress}:${socket.remotePort}` }, 'closing connection: TLS renegotiation is not supported');
        socket.destroy();
      }),
    );
  }

  /** The principal of a TLS connection: the mapped client certificate subject, else ANONYMOUS. */
  private tlsPrincipal(socket: TLSSocket, security: ListenerSecurity): string | null {
    const cert = socket.getPeerCertificate();
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    if (!cert || !cert.raw) {
      if (security.tls!.clientAuth !== 'required') return ANONYMOUS;
      this.opts.logger.info({ client, listener: security.protocol }, 'closing connection: TLS handshake failed: no client certificate (ssl.client.auth=required)');
      return null;
    }
    if (!socket.authorized) {
      // ssl.client.auth=requested: a certificate need not be sent, but one that is sent must verify.
      this.opts.logger.info({ client, reason: socket.authorizationError }, 'closing connection: TLS handshake failed: client certificate not trusted');
      return null;
    }
    const dn = subjectOf(cert.raw);
    if (!security.principalMapper) return `User:${dn}`;
    try {
      return `User:${security.principalMapper.getName(dn)}`;
    } catch (err) {
      this.opts.logger.info({ client, reason: (err as Error).message }, 'closing connection: no principal for the client certificate');
      return null;
    }
  }

  /** Starts serving the held listeners, the connections that waited first. */
  enableRequestProcessing(): void {
    this.holding.clear();
    const waiting = [...this.parked];
    this.parked.clear();
    for (const [socket, { spec, onError, onClose }] of waiting) {
      socket.off('error', onError).off('close', onClose);
      if (socket.destroyed) continue;
      this.opts.scheduler.run({ unit: 'connection', context: { client: `${socket.remoteAddress}:${socket.remotePort}`, listener: spec.name }, onFailure: () => socket.destroy() }, () => this.accept(socket, spec));
    }
  }

  private park(socket: Socket, spec: ListenerSpec): void {
    // A client that gives up meanwhile just goes; the socket is not read, so its bytes wait.
    const onError = (): void => void socket.destroy();
    const onClose = (): void => void this.parked.delete(socket);
    this.parked.set(socket, { spec, onError, onClose });
    socket.on('error', onError).on('close', onClose);
  }

  private accept(socket: Socket, spec: ListenerSpec): void {
    const max = this.opts.maxConnections ?? Infinity;
    if (this.connections.size >= max) {
      this.opts.logger.warn({ client: `${socket.remoteAddress}:${socket.remotePort}`, max }, 'refusing connection: max.connections reached');
      this.opts.observer?.connectionRefused?.(spec.name, 'max.connections');
      socket.destroy();
      return;
    }
    let slot: ConnectionSlot | undefined;
    if (this.opts.connectionQuotas) {
      const r = this.opts.connectionQuotas.accept(spec.name, socket.remoteAddress);
      if (!('release' in r)) {
        this.opts.logger.info({ client: `${socket.remoteAddress}:${socket.remotePort}`, listener: spec.name, limit: r.reason }, `refusing connection: ${r.message}`);
        this.opts.observer?.connectionRefused?.(spec.name, r.reason);
        socket.destroy();
        return;
      }
      slot = r;
      socket.once('close', () => slot!.release());
    }
    const security = spec.security;
    let principal = ANONYMOUS;
    if (security?.tls) {
      const p = this.tlsPrincipal(socket as TLSSocket, security);
      if (p === null) {
        socket.destroy();
        return;
      }
      principal = p;
    }
    const conn = new Connection(socket, {
      listenerName: spec.name,
      router: spec.router,
      logger: this.opts.logger,
      maxRequestSize: this.opts.maxRequestSize,
      idleTimeoutMs: this.opts.idleTimeoutMs,
      maxInFlight: this.opts.maxInFlight ?? 64,
      maxQueuedBytes: this.opts.maxQueuedBytes ?? 64 * 1024 * 1024,
      scheduler: this.opts.scheduler,
      observer: this.opts.observer,
      throttle: this.opts.throttle?.(spec.name),
      ...(security && { security: { principal, sasl: security.sasl ? new SaslSession(security.sasl) : null } }),
    });
    this.connections.add(conn);
    socket.on('close', () => this.connections.delete(conn));
  }

  /** Stops accepting, waits (up to `graceMs`) for in-flight requests, then closes every connection. */
  async stop(graceMs = 5000): Promise<void> {
    // close() stops accepting at once but reports back only when every connection has ended,
    // so connections are drained and closed before that report is awaited.
    const closed = Promise.all(this.servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const socket of this.parked.keys()) socket.destroy();
    this.parked.clear();
    const drained = Promise.all([...this.connections].map((c) => c.drain()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const c of this.connections) c.close();
    this.connections.clear();
    await closed;
  }
}
