// A small cluster-aware client over KafkaConnection: bootstrap, a metadata cache, routing to a
// partition's leader, to a node, or to any broker, one pooled connection per broker address, and
// bounded retries. The convenience methods are thin: they build one request, send it where it
// belongs and return the decoded answer (or the one partition's entry of it), throwing KafkaError
// for an error code that is the call's own outcome.
// Invariants:
// - Only retriable failures are retried (ConnectionError, KafkaError.retriable), at most
//   `retries` times, with exponential backoff from retry.backoff.ms to retry.backoff.max.ms.
// - Routing failures (not leader, unknown topic or partition, leader not available, lost
//   connection, ...) drop the cached metadata they relied on, so the next attempt refreshes it.
// - The metadata cache only changes from Metadata responses; entries are replaced whole.

import { pino } from 'pino';
import type { Logger } from 'pino';
import { ErrorCode, errorByCode, KafkaError } from '../errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../errors.ts';
import { ApiKey } from '../generated/api-table.ts';
import type { ApiMessages } from '../generated/api-table.ts';
import type { CreatableReplicaAssignment, CreateTopicsRequest } from '../generated/message/create-topics-request.ts';
import type { CreateTopicsResponse } from '../generated/message/create-topics-response.ts';
import type { DeleteTopicsResponse } from '../generated/message/delete-topics-response.ts';
import type { DescribeConfigsResource } from '../generated/message/describe-configs-request.ts';
import type { DescribeConfigsResponse } from '../generated/message/describe-configs-response.ts';
import type { PartitionData } from '../generated/message/fetch-response.ts';
import type { AlterConfigsResource } from '../generated/message/incremental-alter-configs-request.ts';
import type { IncrementalAlterConfigsResponse } from '../generated/message/incremental-alter-configs-response.ts';
import type { ListOffsetsPartitionResponse } from '../generated/message/list-offsets-response.ts';
import type { MetadataResponse } from '../generated/message/metadata-response.ts';
import type { PartitionProduceResponse } from '../generated/message/produce-response.ts';
import { ZERO_UUID } from '../uuid.ts';
import { ConnectionError } from './connection-errors.ts';
import { KafkaConnection } from './connection.ts';
import type { SendOptions, SendResult } from './connection.ts';

export interface KafkaClientOptions {
  /** bootstrap.servers: "host:port" entries. */
  bootstrapServers: string | readonly string[];
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Retries after the first attempt of a call. */
  retries?: number;
  /** retry.backoff.ms and retry.backoff.max.ms. */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /** Whether Metadata requests may create topics (allow.auto.create.topics). */
  allowAutoTopicCreation?: boolean;
  logger?: Logger;
}

export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionMetadata {
  partition: number;
  errorCode: number;
  leaderId: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  errorCode: number;
  isInternal: boolean;
  partitions: ReadonlyMap<number, PartitionMetadata>;
}

/** Where a request goes: a partition's leader, a node, the controller, or any broker. */
export type Target = { topic: string; partition: number } | { nodeId: number } | 'controller' | 'any';

/** Kafka's ConfigResource.Type codes. */
export const ConfigResourceType = {
  UNKNOWN: 0,
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

/** Kafka's AlterConfigOp.OpType codes. */
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

/** Kafka's special ListOffsets timestamps. */
export const OffsetSpec = { LATEST: -1n, EARLIEST: -2n, MAX_TIMESTAMP: -3n } as const;

export interface NewTopic {
  name: string;
  /** -1: the broker's num.partitions. */
  numPartitions?: number;
  /** -1: the broker's default.replication.factor. */
  replicationFactor?: number;
  assignments?: CreatableReplicaAssignment[];
  configs?: Readonly<Record<string, string | null>>;
}

export interface ProduceOptions {
  /** 0, 1 or -1 (all). */
  acks?: number;
  /** The broker-side wait for acks (the request's timeoutMs). */
  timeoutMs?: number;
  transactionalId?: string | null;
  version?: number;
}

export interface FetchOptions {
  /** max.partition.fetch.bytes for this partition (and the request's fetch.max.bytes). */
  maxBytes?: number;
  maxWaitMs?: number;
  minBytes?: number;
  /** 0 = READ_UNCOMMITTED, 1 = READ_COMMITTED. */
  isolationLevel?: number;
  currentLeaderEpoch?: number;
  version?: number;
}

/** One partition's fetch answer; records are the raw bytes the broker sent (empty if none). */
export type FetchResult = PartitionData & { records: Buffer };

export interface ListOffsetsOptions {
  isolationLevel?: number;
  currentLeaderEpoch?: number;
  version?: number;
}

export interface Coordinator {
  nodeId: number;
  host: string;
  port: number;
}

const DEFAULT_RETRIES = 5;
const DEFAULT_RETRY_BACKOFF_MS = 100;
const DEFAULT_RETRY_BACKOFF_MAX_MS = 1000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const EMPTY = Buffer.alloc(0);

/** Errors after which the cached routing is wrong: drop it and ask again. */
const REFRESH_CODES: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.NOT_CONTROLLER,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
]);

/** Parses "host:port" or "[v6addr]:port". */
export function parseHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  let host = address.slice(0, at);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (at <= 0 || host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new TypeError(`Invalid address ${JSON.stringify(address)}: expected host:port`);
  }
  return { host, port };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class KafkaClient {
  private readonly options: KafkaClientOptions;
  private readonly log: Logger;
  private readonly bootstrap: Array<{ host: string; port: number }>;
  private readonly requestTimeoutMs: number;
  private readonly retries: number;
  // Open or opening connections by host:port; a connection removes itself when it closes.
  private readonly pool = new Map<string, Promise<KafkaConnection>>();
  private readonly brokerNodes = new Map<number, BrokerNode>();
  private readonly topicCache = new Map<string, TopicMetadata>();
  private controller: number | undefined;
  private cluster: string | null = null;
  private closed = false;

  constructor(options: KafkaClientOptions) {
    this.options = options;
    const servers = typeof options.bootstrapServers === 'string' ? options.bootstrapServers.split(',') : options.bootstrapServers;
    this.bootstrap = servers.map((s) => s.trim()).filter((s) => s !== '').map(parseHostPort);
    if (this.bootstrap.length === 0) throw new TypeError('bootstrapServers names no server');
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ module: 'kafka-client' });
  }

  /** Connects to a bootstrap server and learns the cluster's brokers. */
  async connect(): Promise<void> {
    await this.metadata([]);
  }

  get brokers(): ReadonlyMap<number, BrokerNode> {
    return this.brokerNodes;
  }

  /** The controller id from the last Metadata (in KRaft, a broker that forwards to it), or -1. */
  get controllerId(): number {
    return this.controller ?? -1;
  }

  get clusterId(): string | null {
    return this.cluster;
  }

  topic(name: string): TopicMetadata | undefined {
    return this.topicCache.get(name);
  }

  /**
   * Sends Metadata for the given topics (undefined: all topics; []: none, only brokers) to any
   * broker and caches what it says. Per-topic errors stay in the response and the cache.
   */
  async metadata(topics?: readonly string[] | null, options: { allowAutoTopicCreation?: boolean } = {}): Promise<MetadataResponse> {
    return this.retrying('Metadata', () => this.refreshMetadata(topics, options.allowAutoTopicCreation));
  }

  /** Sends one request to a target, retrying lost connections; the response is returned as is. */
  async send<K extends ApiKey>(target: Target, apiKey: K, request: ApiMessages[K]['request'], options: SendOptions = {}): Promise<SendResult<K>> {
    const topics = typeof target === 'object' && 'topic' in target ? [target.topic] : undefined;
    return this.retrying(`api ${apiKey}`, async () => (await this.connectionFor(target)).send(apiKey, request, options), topics);
  }

  /** The pooled connection for a target, opening it if needed. */
  async connectionFor(target: Target): Promise<KafkaConnection> {
    if (target === 'any') return this.anyConnection();
    if (target === 'controller') return this.controllerConnection();
    if ('nodeId' in target) return this.nodeConnection(target.nodeId);
    return this.leaderConnection(target.topic, target.partition);
  }

  /**
   * Appends an encoded record batch (or several, concatenated) to one partition on its leader.
   * Resolves with the partition's answer, or null for acks=0; throws KafkaError for its error.
   */
  async produce(topic: string, partition: number, records: Buffer, options: ProduceOptions = {}): Promise<PartitionProduceResponse | null> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    return this.retrying(
      'Produce',
      async () => {
        const conn = await this.leaderConnection(topic, partition);
        const response = await conn.send(
          ApiKey.Produce,
          {
            transactionalId: options.transactionalId ?? null,
            acks: options.acks ?? -1,
            timeoutMs,
            topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
          },
          // The broker may wait timeoutMs for acks; give the network that much more.
          { version: options.version, timeoutMs: this.requestTimeoutMs + timeoutMs },
        );
        if (response === null) return null;
        const answer = response.responses.find((t) => t.name === topic)?.partitionResponses.find((p) => p.index === partition);
        if (!answer) throw missingPartition('Produce', topic, partition);
        if (answer.errorCode !== ErrorCode.NONE) throw new KafkaError(answer.errorCode as ErrorCodeValue, answer.errorMessage ?? undefined);
        return answer;
      },
      [topic],
    );
  }

  /** Fetches from one partition's leader and returns that partition's answer with its raw records. */
  async fetch(topic: string, partition: number, offset: bigint, options: FetchOptions = {}): Promise<FetchResult> {
    const maxBytes = options.maxBytes ?? 1048576;
    const maxWaitMs = options.maxWaitMs ?? 500;
    return this.retrying(
      'Fetch',
      async () => {
        const conn = await this.leaderConnection(topic, partition);
        const topicId = this.topicCache.get(topic)?.topicId ?? ZERO_UUID;
        let version = options.version ?? conn.versionFor(ApiKey.Fetch);
        // Fetch v13+ names topics by id only; without one, stay on v12 as Kafka's clients do.
        if (options.version === undefined && version >= 13 && topicId === ZERO_UUID) version = 12;
        const response = await conn.send(
          ApiKey.Fetch,
          {
            replicaId: -1,
            maxWaitMs,
            minBytes: options.minBytes ?? 1,
            maxBytes,
            isolationLevel: options.isolationLevel ?? 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [
              {
                topic,
                topicId,
                partitions: [
                  {
                    partition,
                    currentLeaderEpoch: options.currentLeaderEpoch ?? -1,
                    fetchOffset: offset,
                    lastFetchedEpoch: -1,
                    logStartOffset: -1n,
                    partitionMaxBytes: maxBytes,
                  },
                ],
              },
            ],
            forgottenTopicsData: [],
            rackId: '',
          },
          { version, timeoutMs: this.requestTimeoutMs + maxWaitMs },
        );
        if (response.errorCode !== undefined && response.errorCode !== ErrorCode.NONE) {
          throw new KafkaError(response.errorCode as ErrorCodeValue);
        }
        const byTopic = response.responses.find((t) => (version >= 13 ? t.topicId === topicId : t.topic === topic));
        const answer = byTopic?.partitions.find((p) => p.partitionIndex === partition);
        if (!answer) throw missingPartition('Fetch', topic, partition);
        if (answer.errorCode !== ErrorCode.NONE) throw new KafkaError(answer.errorCode as ErrorCodeValue);
        answer.records ??= EMPTY;
        return answer as FetchResult;
      },
      [topic],
    );
  }

  /** The offset for a timestamp (or OffsetSpec.LATEST / EARLIEST / MAX_TIMESTAMP) on the leader. */
  async listOffsets(topic: string, partition: number, timestamp: bigint | number, options: ListOffsetsOptions = {}): Promise<ListOffsetsPartitionResponse> {
    return this.retrying(
      'ListOffsets',
      async () => {
        const conn = await this.leaderConnection(topic, partition);
        const response = await conn.send(
          ApiKey.ListOffsets,
          {
            replicaId: -1,
            isolationLevel: options.isolationLevel ?? 0,
            topics: [
              {
                name: topic,
                partitions: [{ partitionIndex: partition, currentLeaderEpoch: options.currentLeaderEpoch ?? -1, timestamp: BigInt(timestamp), maxNumOffsets: 1 }],
              },
            ],
          },
          { version: options.version },
        );
        const answer = response.topics.find((t) => t.name === topic)?.partitions.find((p) => p.partitionIndex === partition);
        if (!answer) throw missingPartition('ListOffsets', topic, partition);
        if (answer.errorCode !== ErrorCode.NONE) throw new KafkaError(answer.errorCode as ErrorCodeValue);
        return answer;
      },
      [topic],
    );
  }

  /** CreateTopics through the controller; per-topic outcomes are in the response. */
  async createTopics(topics: readonly NewTopic[], options: { timeoutMs?: number; validateOnly?: boolean } = {}): Promise<CreateTopicsResponse> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const request: CreateTopicsRequest = {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.numPartitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: t.assignments ?? [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs,
      validateOnly: options.validateOnly ?? false,
    };
    return this.retrying('CreateTopics', async () => {
      const conn = await this.controllerConnection();
      const response = await conn.send(ApiKey.CreateTopics, request, { timeoutMs: this.requestTimeoutMs + timeoutMs });
      throwIfAllNotController(response.topics);
      return response;
    });
  }

  /** DeleteTopics by name through the controller; per-topic outcomes are in the response. */
  async deleteTopics(names: readonly string[], options: { timeoutMs?: number } = {}): Promise<DeleteTopicsResponse> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    return this.retrying('DeleteTopics', async () => {
      const conn = await this.controllerConnection();
      // v6 names topics in a struct that also carries an id; older versions send bare names.
      const byStruct = conn.versionFor(ApiKey.DeleteTopics) >= 6;
      const response = await conn.send(
        ApiKey.DeleteTopics,
        byStruct ? { topics: names.map((name) => ({ name, topicId: ZERO_UUID })), timeoutMs } : { topicNames: [...names], timeoutMs },
        { timeoutMs: this.requestTimeoutMs + timeoutMs },
      );
      throwIfAllNotController(response.responses);
      return response;
    });
  }

  /**
   * DescribeConfigs. Broker resources name their node and are answered only by it, so the request
   * goes there; other resources can be described by any broker.
   */
  async describeConfigs(
    resources: ReadonlyArray<{ resourceType: number; resourceName: string; configurationKeys?: string[] | null }>,
    options: { includeSynonyms?: boolean; includeDocumentation?: boolean } = {},
  ): Promise<DescribeConfigsResponse> {
    const request: DescribeConfigsResource[] = resources.map((r) => ({ ...r, configurationKeys: r.configurationKeys ?? null }));
    const target = configTarget(resources);
    return this.retrying('DescribeConfigs', async () => {
      const conn = await this.connectionFor(target);
      return conn.send(ApiKey.DescribeConfigs, {
        resources: request,
        includeSynonyms: options.includeSynonyms ?? false,
        includeDocumentation: options.includeDocumentation ?? false,
      });
    });
  }

  /** IncrementalAlterConfigs, routed as describeConfigs; per-resource outcomes are in the response. */
  async incrementalAlterConfigs(
    resources: readonly AlterConfigsResource[],
    options: { validateOnly?: boolean } = {},
  ): Promise<IncrementalAlterConfigsResponse> {
    const target = configTarget(resources);
    return this.retrying('IncrementalAlterConfigs', async () => {
      const conn = await this.connectionFor(target);
      return conn.send(ApiKey.IncrementalAlterConfigs, { resources: [...resources], validateOnly: options.validateOnly ?? false });
    });
  }

  /** The coordinator for a group (keyType 0) or a transactional id (keyType 1). */
  async findCoordinator(key: string, keyType = 0): Promise<Coordinator> {
    return this.retrying('FindCoordinator', async () => {
      const conn = await this.anyConnection();
      // v4+ asks for a batch of keys; older versions for one.
      if (conn.versionFor(ApiKey.FindCoordinator) >= 4) {
        const response = await conn.send(ApiKey.FindCoordinator, { keyType, coordinatorKeys: [key] });
        const c = response.coordinators?.find((x) => x.key === key);
        if (!c) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `FindCoordinator response has no entry for ${key}`);
        if (c.errorCode !== ErrorCode.NONE) throw new KafkaError(c.errorCode as ErrorCodeValue, c.errorMessage ?? undefined);
        return { nodeId: c.nodeId, host: c.host, port: c.port };
      }
      const response = await conn.send(ApiKey.FindCoordinator, { key, keyType });
      if (response.errorCode) throw new KafkaError(response.errorCode as ErrorCodeValue, response.errorMessage ?? undefined);
      return { nodeId: response.nodeId ?? -1, host: response.host ?? '', port: response.port ?? -1 };
    });
  }

  /** Closes every connection; the client cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const conns = [...this.pool.values()];
    this.pool.clear();
    await Promise.all(conns.map((p) => p.then((c) => c.close(), () => undefined)));
  }

  private async retrying<T>(what: string, attempt: () => Promise<T>, topics?: readonly string[]): Promise<T> {
    const base = this.options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
    const max = this.options.retryBackoffMaxMs ?? DEFAULT_RETRY_BACKOFF_MAX_MS;
    for (let n = 0; ; n++) {
      if (this.closed) throw new Error('KafkaClient is closed');
      try {
        return await attempt();
      } catch (err) {
        const retriable = err instanceof ConnectionError || (err instanceof KafkaError && err.retriable);
        if (!retriable || n >= this.retries) throw err;
        if (err instanceof ConnectionError || REFRESH_CODES.has(err.errorCode)) this.invalidate(topics);
        const backoff = Math.min(max, base * 2 ** n);
        this.log.debug({ err, attempt: n + 1, backoffMs: backoff }, `${what} failed, retrying`);
        await sleep(backoff);
      }
    }
  }

  /** Forgets routing so the next attempt asks for fresh metadata. */
  private invalidate(topics: readonly string[] | undefined): void {
    this.controller = undefined;
    for (const t of topics ?? []) this.topicCache.delete(t);
  }

  /** One Metadata round trip, without retries (callers are inside a retry loop). */
  private async refreshMetadata(topics: readonly string[] | null | undefined, allowAutoTopicCreation?: boolean): Promise<MetadataResponse> {
    const conn = await this.anyConnection();
    const response = await conn.send(ApiKey.Metadata, {
      topics: topics == null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation: allowAutoTopicCreation ?? this.options.allowAutoTopicCreation ?? false,
    });
    this.applyMetadata(response, topics == null);
    return response;
  }

  private applyMetadata(response: MetadataResponse, allTopics: boolean): void {
    this.brokerNodes.clear();
    for (const b of response.brokers) this.brokerNodes.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack ?? null });
    this.controller = response.controllerId ?? -1;
    this.cluster = response.clusterId ?? null;
    if (allTopics) this.topicCache.clear();
    for (const t of response.topics) {
      if (t.name === null) continue;
      const partitions = new Map<number, PartitionMetadata>();
      for (const p of t.partitions) {
        partitions.set(p.partitionIndex, {
          partition: p.partitionIndex,
          errorCode: p.errorCode,
          leaderId: p.leaderId,
          leaderEpoch: p.leaderEpoch ?? -1,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas ?? [],
        });
      }
      this.topicCache.set(t.name, { name: t.name, topicId: t.topicId ?? ZERO_UUID, errorCode: t.errorCode, isInternal: t.isInternal ?? false, partitions });
    }
  }

  private async leaderConnection(topic: string, partition: number): Promise<KafkaConnection> {
    if (!this.topicCache.has(topic)) await this.refreshMetadata([topic]);
    const t = this.topicCache.get(topic);
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No metadata for topic ${topic}`);
    if (t.errorCode !== ErrorCode.NONE) throw new KafkaError(t.errorCode as ErrorCodeValue, `Metadata for topic ${topic}: ${errorByCode(t.errorCode).name}`);
    const p = t.partitions.get(partition);
    if (!p) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${topic} has no partition ${partition}`);
    if (p.leaderId < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition} has no leader`);
    return this.nodeConnection(p.leaderId);
  }

  private async controllerConnection(): Promise<KafkaConnection> {
    if (this.controller === undefined) await this.refreshMetadata([]);
    // In KRaft a Metadata controllerId is a broker that forwards; -1 means any broker will do.
    return this.controllerId >= 0 ? this.nodeConnection(this.controllerId) : this.anyConnection();
  }

  private async nodeConnection(nodeId: number): Promise<KafkaConnection> {
    if (!this.brokerNodes.has(nodeId)) await this.refreshMetadata([]);
    const node = this.brokerNodes.get(nodeId);
    if (!node) throw new ConnectionError('CONNECT_FAILED', `node ${nodeId}`, `Node ${nodeId} is not in the cluster metadata`);
    return this.connectionTo(node.host, node.port);
  }

  /** An open connection if there is one, else the first known broker or bootstrap server that answers. */
  private async anyConnection(): Promise<KafkaConnection> {
    let best: KafkaConnection | undefined;
    for (const pending of this.pool.values()) {
      const conn = await pending.catch(() => undefined);
      if (conn && !conn.isClosed && (!best || conn.inFlightCount < best.inFlightCount)) best = conn;
    }
    if (best) return best;
    const candidates = [...this.brokerNodes.values(), ...this.bootstrap];
    let last: unknown;
    for (const { host, port } of candidates) {
      try {
        return await this.connectionTo(host, port);
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        last = err;
        this.log.debug({ err }, 'broker unreachable, trying the next one');
      }
    }
    throw last;
  }

  private connectionTo(host: string, port: number): Promise<KafkaConnection> {
    const key = `${host}:${port}`;
    const existing = this.pool.get(key);
    if (existing) return existing;
    const opening = KafkaConnection.connect(host, port, {
      clientId: this.options.clientId,
      connectTimeoutMs: this.options.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      logger: this.log,
    }).then(
      (conn) => {
        conn.onClose(() => {
          if (this.pool.get(key) === opening) this.pool.delete(key);
        });
        if (this.closed) void conn.close();
        return conn;
      },
      (err: unknown) => {
        if (this.pool.get(key) === opening) this.pool.delete(key);
        throw err;
      },
    );
    this.pool.set(key, opening);
    return opening;
  }
}

function missingPartition(api: string, topic: string, partition: number): KafkaError {
  return new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `${api} response has no entry for ${topic}-${partition}`);
}

/** A whole request refused because it reached a non-controller is retried after a refresh. */
function throwIfAllNotController(items: ReadonlyArray<{ errorCode: number }>): void {
  if (items.length > 0 && items.every((i) => i.errorCode === ErrorCode.NOT_CONTROLLER)) {
    throw new KafkaError(ErrorCode.NOT_CONTROLLER);
  }
}

function configTarget(resources: ReadonlyArray<{ resourceType: number; resourceName: string }>): Target {
  const nodes = new Set<string>();
  for (const r of resources) {
    const perBroker = r.resourceType === ConfigResourceType.BROKER || r.resourceType === ConfigResourceType.BROKER_LOGGER;
    // An empty broker name is the cluster-wide default, which any broker answers.
    if (perBroker && r.resourceName !== '') nodes.add(r.resourceName);
  }
  if (nodes.size > 1) throw new TypeError(`Config resources of different brokers (${[...nodes].join(', ')}) need separate requests`);
  if (nodes.size === 0) return 'any';
  const nodeId = Number([...nodes][0]);
  if (!Number.isInteger(nodeId)) throw new TypeError(`Broker config resource name ${JSON.stringify([...nodes][0])} is not a node id`);
  return { nodeId };
}
