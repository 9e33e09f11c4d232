// The broker-to-controller channel: how this node asks the active controller for a metadata
// change. When the active controller is this very process, the call goes straight to it; when
// it is another node, the same operation travels as the Kafka request of the same name to that
// node's controller listener (BrokerRegistration, BrokerHeartbeat, AllocateProducerIds,
// CreateTopics, DeleteTopics, CreatePartitions, AlterPartition, and admin requests forwarded as they came).
// Until a controller is known, or while it moves (NOT_CONTROLLER, a lost connection), a call
// waits for the next leader and tries again, within its deadline; past it the answer is
// NOT_CONTROLLER, which clients retry. The answers are the controller's: the change is committed.
// `committedOffset` tells how far the active controller has committed, so a caller can wait for
// its own image to show a change before answering.
import type { Logger } from 'pino';
import { ALTER_PARTITION_VERSION, alterPartition } from '../controller/alter-partition.ts';
import type { HeartbeatInput, HeartbeatOutcome, RegisterBrokerInput } from '../controller/cluster-control.ts';
import type { NodeConnections } from '../controller/network/node-connections.ts';
import type { QuorumController } from '../controller/quorum-controller.ts';
import type { CreatePartitionsInput, CreateTopicInput, CreateTopicOutcome, DeleteTopicInput, DeleteTopicOutcome, TopicOutcome } from '../controller/topic-control.ts';
import { ConnectionError } from '../protocol/client/connection-errors.ts';
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { ApiKey, type ApiMessages, apiSpec } from '../protocol/generated/api-table.ts';
import type { AlterPartitionRequest } from '../protocol/generated/message/alter-partition-request.ts';
import type { AlterPartitionResponse } from '../protocol/generated/message/alter-partition-response.ts';

const RETRY_MS = 50;

export interface ControllerChannelOptions {
  nodeId: number;
  clusterId: string;
  /** This process's controller: the active one sometimes, a replayer of the log always. */
  controller: QuorumController;
  /** Connections to controllers by node id (their controller listeners). */
  connections: NodeConnections;
  logger: Logger;
  /** How long a call waits for a controller before answering NOT_CONTROLLER. */
  timeoutMs: number;
}

export class ControllerChannel {
  private readonly opts: ControllerChannelOptions;

  constructor(opts: ControllerChannelOptions) {
    this.opts = opts;
  }

  /** Runs `local` on this process's active controller, else `remote` on the active one's node. */
  private async call<T>(what: string, local: (c: QuorumController) => Promise<T>, remote: (leader: number) => Promise<T>, timeoutMs = this.opts.timeoutMs): Promise<T> {
    const { controller, nodeId } = this.opts;
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        if (controller.isActive) return await local(controller);
        const leader = controller.raft.currentLeader;
        if (leader >= 0 && leader !== nodeId) return await remote(leader);
      } catch (err) {
        if (!retriable(err)) throw err;
        lastError = err;
      }
      if (Date.now() + RETRY_MS > deadline) {
        this.opts.logger.debug({ what, err: lastError }, 'no active controller answered in time');
        throw new KafkaError(ErrorCode.NOT_CONTROLLER, `No active controller answered ${what} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  private send<K extends ApiKey>(leader: number, apiKey: K, request: ApiMessages[K]['request']): Promise<ApiMessages[K]['response']> {
    return this.opts.connections.send(leader, apiKey, request) as Promise<ApiMessages[K]['response']>;
  }

  registerBroker(input: RegisterBrokerInput): Promise<{ errorCode: number; brokerEpoch: bigint }> {
    return this.call(
      'BrokerRegistration',
      (c) => c.registerBroker(input),
      async (leader) => {
        const r = await this.send(leader, ApiKey.BrokerRegistration, {
          brokerId: input.brokerId,
          clusterId: this.opts.clusterId,
          incarnationId: input.incarnationId,
          listeners: input.endpoints.map((e) => ({ ...e })),
          features: input.features,
          rack: input.rack,
          isMigratingZkBroker: false,
          logDirs: input.logDirs,
          previousBrokerEpoch: -1n,
        });
        throwIfNotController(r.errorCode);
        return { errorCode: r.errorCode, brokerEpoch: r.brokerEpoch };
      },
    );
  }

  brokerHeartbeat(input: HeartbeatInput, timeoutMs?: number): Promise<HeartbeatOutcome> {
    return this.call(
      'BrokerHeartbeat',
      (c) => c.brokerHeartbeat(input),
      async (leader) => {
        const r = await this.send(leader, ApiKey.BrokerHeartbeat, { ...input, offlineLogDirs: [] });
        throwIfNotController(r.errorCode);
        return { errorCode: r.errorCode, isCaughtUp: r.isCaughtUp, isFenced: r.isFenced, shouldShutDown: r.shouldShutDown };
      },
      timeoutMs,
    );
  }

  allocateProducerIds(brokerId: number, brokerEpoch: bigint): Promise<{ errorCode: number; producerIdStart: bigint; producerIdLen: number }> {
    return this.call(
      'AllocateProducerIds',
      (c) => c.allocateProducerIds(brokerId, brokerEpoch),
      async (leader) => {
        const r = await this.send(leader, ApiKey.AllocateProducerIds, { brokerId, brokerEpoch });
        throwIfNotController(r.errorCode);
        return { errorCode: r.errorCode, producerIdStart: r.producerIdStart, producerIdLen: r.producerIdLen };
      },
    );
  }

  createTopics(topics: CreateTopicInput[], validateOnly: boolean): Promise<CreateTopicOutcome[]> {
    return this.call(
      'CreateTopics',
      (c) => c.createTopics(topics, validateOnly),
      async (leader) => {
        const r = await this.send(leader, ApiKey.CreateTopics, { topics, timeoutMs: 0, validateOnly });
        for (const t of r.topics) throwIfNotController(t.errorCode);
        const byName = new Map(r.topics.map((t) => [t.name, t]));
        return topics.map((t) => {
          const a = byName.get(t.name);
          if (!a) return { name: t.name, topicId: '', errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'no answer from the controller', numPartitions: -1, replicationFactor: -1 };
          return { name: a.name, topicId: a.topicId ?? '', errorCode: a.errorCode, errorMessage: a.errorMessage ?? null, numPartitions: a.numPartitions ?? -1, replicationFactor: a.replicationFactor ?? -1 };
        });
      },
    );
  }

  deleteTopics(topics: DeleteTopicInput[]): Promise<DeleteTopicOutcome[]> {
    return this.call(
      'DeleteTopics',
      (c) => c.deleteTopics(topics),
      async (leader) => {
        const r = await this.send(leader, ApiKey.DeleteTopics, { topics: topics.map((t) => ({ name: t.name, topicId: t.topicId })), timeoutMs: 0 });
        for (const t of r.responses) throwIfNotController(t.errorCode);
        return r.responses.map((a) => ({ name: a.name ?? null, topicId: a.topicId ?? '', errorCode: a.errorCode, errorMessage: a.errorMessage ?? null })) as DeleteTopicOutcome[];
      },
    );
  }

  createPartitions(topics: CreatePartitionsInput[], validateOnly: boolean): Promise<(TopicOutcome & { name: string })[]> {
    return this.call(
      'CreatePartitions',
      (c) => c.createPartitions(topics, validateOnly),
      async (leader) => {
        const r = await this.send(leader, ApiKey.CreatePartitions, {
          topics: topics.map((t) => ({ name: t.name, count: t.count, assignments: t.assignments ?? null })),
          timeoutMs: 0,
          validateOnly,
        });
        for (const t of r.results) throwIfNotController(t.errorCode);
        return r.results.map((a) => ({ name: a.name, errorCode: a.errorCode, errorMessage: a.errorMessage ?? null }));
      },
    );
  }

  /** AlterPartition: a leader's ISR change (controller/alter-partition.ts decides it). */
  alterPartition(request: AlterPartitionRequest, timeoutMs?: number): Promise<AlterPartitionResponse> {
    return this.call(
      'AlterPartition',
      (c) => c.run((image) => alterPartition(image, request, ALTER_PARTITION_VERSION)),
      async (leader) => {
        const r = await this.send(leader, ApiKey.AlterPartition, request);
        throwIfNotController(r.errorCode);
        return r;
      },
      timeoutMs,
    );
  }

  /**
   * Sends an admin request, as the client sent it, to the active controller's node, or returns
   * undefined when this process is the active controller (the caller serves it itself).
   */
  async forward<K extends ApiKey>(apiKey: K, request: ApiMessages[K]['request'], isNotController: (r: ApiMessages[K]['response']) => boolean): Promise<ApiMessages[K]['response'] | undefined> {
    return this.call(
      `forwarded ${apiSpec(apiKey)?.name ?? apiKey}`,
      async () => undefined,
      async (leader) => {
        const r = await this.send(leader, apiKey, request);
        if (isNotController(r)) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'the controller moved');
        return r;
      },
    );
  }

  /** The offset the active controller has committed up to (its last committed record). */
  async committedOffset(): Promise<bigint> {
    return this.call(
      'DescribeQuorum',
      async (c) => c.image.offset,
      async (leader) => {
        const r = await this.send(leader, ApiKey.DescribeQuorum, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
        const p = r.topics[0]?.partitions[0];
        if (!p || p.errorCode !== ErrorCode.NONE) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'the controller moved');
        return p.highWatermark - 1n;
      },
    );
  }
}

function throwIfNotController(errorCode: number): void {
  if (errorCode === ErrorCode.NOT_CONTROLLER) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'the controller moved');
}

/** Worth trying the next controller: it moved, or its node could not be reached. */
function retriable(err: unknown): boolean {
  if (err instanceof KafkaError) return err.errorCode === ErrorCode.NOT_CONTROLLER || err.errorCode === ErrorCode.NETWORK_EXCEPTION || err.errorCode === ErrorCode.REQUEST_TIMED_OUT;
  // Connection failures of the internal client (closed, timed out, refused).
  return err instanceof ConnectionError;
}
