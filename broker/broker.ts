// Assembles one node from its configuration (process.roles broker, controller or both):
// storage (log manager), its replica of the KRaft metadata log `__cluster_metadata` (a voter on
// controllers, an observer on broker-only nodes; Raft requests travel over the controllers'
// listeners), the quorum controller (active on the quorum leader, replaying the log everywhere),
// the broker's metadata publisher and replica manager, request handlers behind one router per
// listener, and the socket server. Metadata changes reach the active controller through the
// controller channel, in process or over the network.
// Start order: logs, quorum replica (replays the metadata log), listeners (controllers must be
// reachable to elect a leader), then for a broker registration and heartbeats until unfenced;
// stop order: controlled shutdown (leaderships move away), listeners (in-flight requests
// finish), producer snapshots, quorum (a leader resigns), logs (clean-shutdown marker).
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { QuorumController } from '../controller/quorum-controller.ts';
import { FileReplicatedLog } from '../controller/raft/file-replicated-log.ts';
import { QuorumStateStore } from '../controller/raft/quorum-state.ts';
import { RaftClient } from '../controller/raft/raft-client.ts';
import { FatalError, type FaultInjector, SystemScheduler } from '../protocol/scheduler.ts';
import { randomUuid } from '../protocol/uuid.ts';
import { LogManager, METADATA_LOG_DIR } from '../storage/log-manager.ts';
import type { BrokerContext } from './broker-context.ts';
import { configuredAuthorizer } from './auth/configured-authorizer.ts';
import { formatStorage } from './cli/storage.ts';
import type { BrokerConfig } from './config/broker-config.ts';
import { loadMetaPropertiesEnsemble, readMetaProperties } from '../storage/meta-properties.ts';
import { DelayedFetchPurgatory } from './fetch/delayed-fetch.ts';
import { FetchSessionCache } from './fetch/fetch-session-cache.ts';
import { validateTopicConfigs } from './config/topic-config.ts';
import { topicLogConfig } from './config/topic-log-config.ts';
import { dynamicBrokerConfigs } from './handlers/config-resources.ts';
import { type MetadataImage, topicConfigs } from '../controller/metadata/image.ts';
import { createGroupCoordinator } from './group/coordinator-setup.ts';
import { createTransactionCoordinator } from './txn/txn-setup.ts';
import { registerBrokerHandlers, registerControllerHandlers } from './handlers/registry.ts';
import { followDynamicBrokerConfigs } from './metadata/dynamic-broker-config.ts';
import { MetadataPublisher } from './metadata/metadata-publisher.ts';
import { ProducerIdManager } from './producer-id-manager.ts';
import { BrokerLifecycle } from './broker-lifecycle.ts';
import { ControllerChannel } from './controller-channel.ts';
import { NodeConnections } from '../controller/network/node-connections.ts';
import { RaftTcpTransport } from '../controller/network/raft-tcp-transport.ts';
import { partitionKey, ReplicaManager } from './replica/replica-manager.ts';
import { Router } from './router.ts';
import { type BoundListener, SocketServer } from './server.ts';
import { brokerListenerSecurity, followDynamicTls } from './security/broker-security.ts';
import { readBootstrapMetadata } from './security/bootstrap-scram.ts';
import { clientSecurity } from './security/client-security.ts';
import { readinessCheck } from './http/health.ts';
import { type HttpEndpoint, HttpServer, parseHttpListeners } from './http/http-server.ts';
import { nodeRoutes } from './http/node-routes.ts';
import { consoleRoutes } from './console/console-routes.ts';
import { NodeMetrics } from './metrics/node-metrics.ts';
import { ConnectionQuotas, connectionLimits } from './quota/connection-quotas.ts';
import { ClientQuotas } from './quota/request-quotas.ts';

const SECURITY_PROTOCOL_IDS: Record<string, number> = { PLAINTEXT: 0, SSL: 1, SASL_PLAINTEXT: 2, SASL_SSL: 3 };

export interface BrokerStartOptions {
  /** Format unformatted storage with a new random cluster id (npm start and startBroker do). */
  autoFormat?: boolean;
  /**
   * Called once when the node meets a state it cannot serve in (FatalError: every log directory
   * offline, the metadata log unwritable). The broker has already begun stopping; `npm start`
   * exits non-zero once the stop is done. Default: stop and log.
   */
  onFatal?: (err: FatalError, stopped: Promise<void>) => void;
  /** Fault injection for tests: makes the contained work of matching scopes fail. */
  faults?: FaultInjector;
}

export class Broker {
  readonly context: BrokerContext;
  private readonly server: SocketServer;
  private readonly logManager: LogManager;
  private readonly raftLog: FileReplicatedLog;
  private stopping: Promise<void> | null = null;

  private constructor(
    context: BrokerContext,
    server: SocketServer,
    logManager: LogManager,
    raftLog: FileReplicatedLog,
    private readonly connections: NodeConnections,
    private readonly lifecycle: BrokerLifecycle | undefined,
    private readonly http?: HttpServer,
  ) {
    this.context = context;
    this.server = server;
    this.logManager = logManager;
    this.raftLog = raftLog;
  }

  get listeners(): readonly BoundListener[] {
    return this.server.listeners;
  }

  /** The bound HTTP listeners (metrics, health); ports resolved where http.listeners asked for 0. */
  get httpListeners(): readonly HttpEndpoint[] {
    return this.http?.listeners ?? [];
  }

  /** "host:port" of the first client (non-controller) listener. */
  get bootstrap(): string {
    const controllerNames = new Set(this.context.config.controllerListenerNames);
    const l = this.server.listeners.find((x) => !controllerNames.has(x.name)) ?? this.server.listeners[0]!;
    return `${l.host || 'localhost'}:${l.port}`;
  }

  static async start(config: BrokerConfig, logger: Logger, opts: BrokerStartOptions = {}): Promise<Broker> {
    const started = Date.now();
    const nodeId = config.nodeId;
    let { clusterId } = await loadMetaPropertiesEnsemble(config);
    if (clusterId === null) {
      if (!opts.autoFormat) {
        throw new Error(`No meta.properties found in ${config.logDirs.join(', ')} (have you run \`samsa storage format\` to format the directories?)`);
      }
      clusterId = randomUuid();
      await formatStorage(config, clusterId, { ignoreFormatted: true });
      logger.info({ clusterId, logDirs: config.logDirs }, 'formatted storage for a new cluster');
    }
    // The seam every timer and callback of this node starts through; a fatal state stops the node.
    let fatalBroker: Broker | undefined;
    let fatalSeen = false;
    const scheduler = new SystemScheduler({
      logger,
      faults: opts.faults,
      fatal: (err) => {
        if (fatalSeen) return;
        fatalSeen = true;
        const stopped = fatalBroker ? fatalBroker.stop() : Promise.resolve();
        if (opts.onFatal) opts.onFatal(err, stopped);
        else stopped.catch((e: unknown) => logger.error({ err: e }, 'stop after a fatal error failed'));
      },
    });
    const logConfigOf = (image: MetadataImage, topic: string) =>
      topicLogConfig(Object.fromEntries(topicConfigs(image, topic)), config, dynamicBrokerConfigs(image, nodeId));
    const brokerLogDefaults = topicLogConfig({}, config);
    let publisher: MetadataPublisher | undefined;
    const logManager = await LogManager.start({
      logDirs: [...config.logDirs],
      defaultConfig: brokerLogDefaults,
      topicConfig: (topic) => (publisher ? logConfigOf(publisher.image, topic) : brokerLogDefaults),
      logger: logger.child({ module: 'log-manager' }),
      meta: { clusterId, nodeId },
      recoveryThreadsPerDataDir: config.get('num.recovery.threads.per.data.dir'),
      retentionCheckIntervalMs: config.get('log.retention.check.interval.ms'),
      fileDeleteDelayMs: config.get('log.segment.delete.delay.ms'),
      scheduler,
    });
    // Leadership waits for this life's registration: replayed metadata may name this broker leader in an epoch whose log end it lost.
    const replicaManager = new ReplicaManager({ nodeId, logs: logManager, logger: logger.child({ module: 'replica-manager' }), topicLogConfig: logConfigOf, scheduler, awaitRegistration: true });
    publisher = new MetadataPublisher(replicaManager, logger.child({ module: 'metadata-publisher' }), scheduler);

    const raftLog = await FileReplicatedLog.open(config.metadataLogDir, logger, { segmentBytes: config.get('metadata.log.segment.bytes') });
    const voterEndpoints = new Map(config.quorumVoters.map((v) => [v.id, { host: v.host, port: v.port }]));
    // controller.quorum.bootstrap.servers get ids -2, -3, ... as in Kafka; a dynamic quorum's voters
    // are reached at the endpoints their VotersRecord names (KIP-853).
    config.quorumBootstrapServers.forEach((b, i) => voterEndpoints.set(-2 - i, { host: b.host, port: b.port }));
    let quorumReplica: RaftClient | undefined;
    const requestTimeoutMs = config.get('controller.quorum.request.timeout.ms');
    const connections = new NodeConnections({
      endpointOf: (id) => voterEndpoints.get(id) ?? quorumReplica?.endpointOf(id),
      clientId: `samsa-node-${nodeId}`,
      logger: logger.child({ module: 'node-connections' }),
      security: clientSecurity(config, config.controllerListenerNames[0] ?? '', config.get('sasl.mechanism.controller.protocol')),
      requestTimeoutMs,
      reconnectBackoffMs: config.get('controller.quorum.retry.backoff.ms'),
    });
    const raft = new RaftClient({
      nodeId,
      voters: config.quorumVoters.map((v) => v.id),
      directoryId: (await readMetaProperties(config.metadataLogDir))?.directoryId ?? undefined,
      bootstrapServers: config.quorumVoters.length === 0 ? config.quorumBootstrapServers.map((_, i) => -2 - i) : [],
      listenerName: config.controllerListenerNames[0],
      localEndpoints: config.listeners
        .filter((l) => config.controllerListenerNames.includes(l.name) && l.port > 0)
        .map((l) => ({ name: l.name, host: l.host ?? 'localhost', port: l.port })),
      retention: { maxBytes: Number(config.get('metadata.max.retention.bytes')), maxMs: Number(config.get('metadata.max.retention.ms')) },
      log: raftLog,
      stateStore: new QuorumStateStore(join(config.metadataLogDir, METADATA_LOG_DIR)),
      logger: logger.child({ module: 'raft' }),
      scheduler,
      transport: new RaftTcpTransport(connections, requestTimeoutMs),
      clusterId,
      config: {
        electionTimeoutMs: config.get('controller.quorum.election.timeout.ms'),
        fetchTimeoutMs: config.get('controller.quorum.fetch.timeout.ms'),
        electionBackoffMaxMs: config.get('controller.quorum.election.backoff.max.ms'),
        requestTimeoutMs,
        retryBackoffMs: config.get('controller.quorum.retry.backoff.ms'),
      },
    });
    quorumReplica = raft;
    const controller = new QuorumController({
      raft,
      bootstrapMetadata: await readBootstrapMetadata(config.metadataLogDir),
      scheduler,
      brokerSessionTimeoutMs: config.get('broker.session.timeout.ms'),
      uncleanLeaderElectionEnable: config.get('unclean.leader.election.enable'),
      snapshotPolicy: { maxBytesBetweenSnapshots: config.get('metadata.log.max.record.bytes.between.snapshots'), maxIntervalMs: config.get('metadata.log.max.snapshot.interval.ms') },
      logger: logger.child({ module: 'controller' }),
      deleteTopicEnable: config.get('delete.topic.enable'),
      leaderRebalance: { enable: config.get('auto.leader.rebalance.enable'), checkIntervalMs: Number(config.get('leader.imbalance.check.interval.seconds')) * 1000, imbalancePercentage: config.get('leader.imbalance.per.broker.percentage') },
      topicDefaults: {
        numPartitions: config.get('num.partitions'),
        defaultReplicationFactor: config.get('default.replication.factor'),
        validateConfigs: (configs) => validateTopicConfigs(Object.fromEntries(configs), config).map((p) => p.message),
      },
    });
    const pub = publisher;
    controller.subscribe((image, delta) => pub.handle(image, delta));
    followDynamicBrokerConfigs(pub, replicaManager, config, logger.child({ module: 'dynamic-broker-config' }));
    await controller.start();
    await publisher.waitFor(controller.image.offset);

    const controllerChannel = new ControllerChannel({
      nodeId,
      clusterId,
      controller,
      connections,
      logger: logger.child({ module: 'controller-channel' }),
      timeoutMs: Math.max(requestTimeoutMs, config.get('controller.quorum.fetch.timeout.ms') + 2 * config.get('controller.quorum.election.timeout.ms')),
    });
    let lifecycle: BrokerLifecycle | undefined;
    const producerIds = new ProducerIdManager({
      allocate: () => controllerChannel.allocateProducerIds(nodeId, lifecycle?.brokerEpoch ?? -1n),
    });
    const context: BrokerContext = {
      nodeId,
      clusterId,
      config,
      logger,
      metadata: publisher,
      controller,
      controllerChannel,
      replicaManager,
      producerIds,
      fetchSessions: new FetchSessionCache({ maxEntries: config.get('max.incremental.fetch.session.cache.slots'), evictionMs: config.get('min.incremental.fetch.session.eviction.ms') }),
      fetchPurgatory: new DelayedFetchPurgatory({ scheduler }),
      groupCoordinator: createGroupCoordinator({ nodeId, config, logger, metadata: publisher, controllerChannel, replicaManager, scheduler }),
      authorizer: configuredAuthorizer(config, () => pub.image.acls),
      txnCoordinator: createTransactionCoordinator({ nodeId, config, logger, metadata: publisher, controllerChannel, replicaManager, producerIds, scheduler }),
      scheduler,
      now: () => Date.now(),
    };
    const fetchPurgatory = context.fetchPurgatory!;
    const metrics = config.get('metrics.enabled') ? new NodeMetrics(context) : undefined;
    replicaManager.onAppend((p) => fetchPurgatory.notify(partitionKey(p.topic, p.partition)));

    const unstable = config.get('unstable.api.versions.enable');
    const brokerRouter = new Router(unstable);
    registerBrokerHandlers(brokerRouter, context);
    const controllerRouter = new Router(unstable);
    registerControllerHandlers(controllerRouter, context);
    const controllerNames = new Set(config.controllerListenerNames);
    const clientQuotas = new ClientQuotas({ samples: config.get('quota.window.num'), windowMs: config.get('quota.window.size.seconds') * 1000 }, () => pub.image);
    const server = new SocketServer({
      logger: logger.child({ module: 'socket-server' }),
      maxRequestSize: config.get('socket.request.max.bytes'),
      idleTimeoutMs: config.get('connections.max.idle.ms'),
      maxInFlight: config.get('queued.max.requests'),
      scheduler,
      observer: metrics?.observer,
      connectionQuotas: new ConnectionQuotas(connectionLimits(config), () => pub.image),
      // Client quotas on client listeners; controller listeners carry the quorum's own traffic.
      throttle: (listener) => (controllerNames.has(listener) ? undefined : clientQuotas),
    });
    const bound = await server.start(
      // A broker's client listeners read nothing until it is caught up and unfenced (Kafka's enableRequestProcessing).
      config.listeners.map((l) => ({ name: l.name, host: l.host ?? '', port: l.port, router: controllerNames.has(l.name) ? controllerRouter : brokerRouter, security: brokerListenerSecurity(config, l, publisher), held: config.isBroker && !controllerNames.has(l.name) })),
    );
    followDynamicTls(publisher, server, config, logger.child({ module: 'listener-security' }));

    // Metrics and health from here on: /health/ready tells how far start-up has come.
    let serving = false;
    const readiness = readinessCheck({
      controller,
      publisher: config.isBroker ? pub : undefined,
      fenced: config.isBroker ? () => lifecycle?.isFenced ?? true : undefined,
      serving: () => serving,
      stopping: () => fatalBroker?.stopping != null,
    });
    const http: HttpServer = new HttpServer({
      logger: logger.child({ module: 'http' }),
      scheduler,
      routes: nodeRoutes({
        metrics,
        extra: consoleRoutes(context, { router: brokerRouter, metrics, readiness, httpListeners: () => http.listeners }),
        readiness,
      }),
    });
    await http.start(parseHttpListeners(config.get('http.listeners')));

    // Register with the advertised endpoints (ports resolved when a listener asked for port 0).
    const boundPort = new Map(bound.map((b) => [b.name, b.port]));
    const endpoints = config.advertisedListeners.map((l) => ({
      name: l.name,
      host: l.host || hostname(),
      port: l.port === 0 ? (boundPort.get(l.name) ?? 0) : l.port,
      securityProtocol: SECURITY_PROTOCOL_IDS[l.securityProtocol] ?? 0,
    }));
    if (config.isBroker) {
      const incarnationId = randomUuid();
      lifecycle = new BrokerLifecycle({
        nodeId,
        channel: controllerChannel,
        scheduler,
        logger: logger.child({ module: 'broker-lifecycle' }),
        heartbeatIntervalMs: config.get('broker.heartbeat.interval.ms'),
        registration: () => ({
          brokerId: nodeId,
          incarnationId,
          endpoints,
          rack: config.get('broker.rack'),
          logDirs: [],
          features: [{ name: 'metadata.version', minSupportedVersion: 1, maxSupportedVersion: 21 }],
        }),
        publishedOffset: () => publisher.image.offset,
        startTimeoutMs: config.get('initial.broker.registration.timeout.ms'),
      });
      const starting = lifecycle;
      await lifecycle.start().catch(async (err: unknown) => {
        await new Broker(context, server, logManager, raftLog, connections, starting, http).stop().catch(() => undefined);
        throw err;
      });
      const registered = lifecycle;
      await replicaManager.startReplication({
        alterPartition: (request) => controllerChannel.alterPartition(request),
        brokerEpoch: () => registered.brokerEpoch,
        image: () => publisher.image,
        interBrokerListenerName: config.interBrokerListenerName,
        security: clientSecurity(config, config.interBrokerListenerName, config.get('sasl.mechanism.inter.broker.protocol')),
        replicaLagTimeMaxMs: config.get('replica.lag.time.max.ms'),
        reconnectBackoffMs: config.get('replica.fetch.backoff.ms'),
        fetcher: {
          maxWaitMs: config.get('replica.fetch.wait.max.ms'),
          minBytes: config.get('replica.fetch.min.bytes'),
          maxBytes: config.get('replica.fetch.response.max.bytes'),
          partitionMaxBytes: config.get('replica.fetch.max.bytes'),
          backoffMs: config.get('replica.fetch.backoff.ms'),
          requestTimeoutMs: config.get('replica.socket.timeout.ms'),
        },
      });
      // Serve from an image that shows this broker unfenced (and its partitions led again).
      await publisher.waitFor(await controllerChannel.committedOffset());
    }
    logger.info({ nodeId, clusterId, roles: config.processRoles, brokerEpoch: String(lifecycle?.brokerEpoch ?? -1n), listeners: bound, ms: Date.now() - started }, 'broker started');
    fatalBroker = new Broker(context, server, logManager, raftLog, connections, lifecycle, http);
    server.enableRequestProcessing();
    serving = true;
    return fatalBroker;
  }

  /** Stops accepting, answers in-flight requests, flushes and closes everything. Idempotent. */
  stop(): Promise<void> {
    return this.shutdown(true);
  }

  /**
   * Stops as a crashed node looks to the rest of the cluster: no controlled shutdown, no
   * resignation from the quorum, connections cut at once, no checkpoints or clean-shutdown
   * marker (the next start recovers its logs). What was written stays, as the page cache keeps
   * it through a SIGKILL. For embedded clusters' fault tests. Idempotent, like stop().
   */
  halt(): Promise<void> {
    return this.shutdown(false);
  }

  private shutdown(graceful: boolean): Promise<void> {
    this.stopping ??= (async () => {
      const log = this.context.logger;
      if (!graceful) {
        this.lifecycle?.stop();
        await this.server.stop(0);
      }
      // Controlled shutdown first, while still serving: leaderships move to other brokers.
      if (graceful && this.lifecycle) await this.lifecycle.shutdown(this.context.config.get('broker.session.timeout.ms')).catch((err: unknown) => log.warn({ err }, 'controlled shutdown failed'));
      // Waiting fetches answer now rather than hold the drain of in-flight requests.
      this.context.fetchPurgatory?.shutdown();
      // Likewise acks=all answers waiting for followers.
      this.context.replicaManager.delayedProduce.shutdown();
      // Likewise JoinGroup and SyncGroup waiting for a rebalance: answered NOT_COORDINATOR.
      this.context.groupCoordinator?.shutdown();
      // And transaction markers still being sent: the next coordinator resumes them.
      await this.context.txnCoordinator?.shutdown();
      // The quorum replica stops before the listeners: a leader resigns and must hear of its
      // successor (a Vote or BeginQuorumEpoch on its controller listener) to stop at once.
      await this.context.controller.close({ resign: graceful });
      await this.server.stop();
      await this.http?.stop();
      await this.context.metadata.idle();
      await this.context.replicaManager.close();
      await this.connections.close();
      await this.raftLog.close();
      await this.logManager.shutdown({ clean: graceful });
      log.info(graceful ? 'broker stopped' : 'broker halted');
    })();
    return this.stopping;
  }
}
