// Metadata (key 3), v0-v12. Brokers are the live ones with an endpoint on the listener the
// request came in on; topics by name (or, from v10, by id); all topics when the list is null
// (or empty, in v0). Unknown topics are created when the client allows it (v4+ flag, always
// before v4) and auto.create.topics.enable is set; unlike Kafka, which answers
// LEADER_NOT_AVAILABLE while the topic is being created, this answers once it exists, which
// clients accept as the normal case. The controller id is this node (clients send admin
// requests there, and this node forwards nothing: it is the controller).
import { type MetadataImage, type TopicImage } from '../../controller/metadata/image.ts';
import { INTERNAL_TOPICS, topicNameProblem } from '../../controller/topic-names.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { MetadataResponseTopic } from '../../protocol/generated/message/metadata-response.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import { AclOperation, ResourceType } from '../auth/acl.ts';
import { allowedOnCluster, allowedOnTopic, authorizedOperations, clusterAuthorizedOperations } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { CLUSTER_OPERATIONS, OPERATIONS_NOT_REQUESTED, TOPIC_OPERATIONS } from './acl-operations.ts';
import { defineHandler, type RequestContext } from './api-handler.ts';

export function brokersOnListener(image: MetadataImage, listenerName: string) {
  const out: { nodeId: number; host: string; port: number; rack: string | null }[] = [];
  for (const b of image.brokers.values()) {
    if (b.fenced) continue;
    const ep = b.endpoints.find((e) => e.name === listenerName);
    if (ep) out.push({ nodeId: b.id, host: ep.host, port: ep.port, rack: b.rack });
  }
  return out.sort((a, b) => a.nodeId - b.nodeId);
}

function describeTopic(image: MetadataImage, t: TopicImage, listenerName: string, includeOps: boolean): MetadataResponseTopic {
  const reachable = new Set(brokersOnListener(image, listenerName).map((b) => b.nodeId));
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: INTERNAL_TOPICS.has(t.name),
    partitions: t.partitions.map((p) => ({
      errorCode: reachable.has(p.leader) ? ErrorCode.NONE : ErrorCode.LEADER_NOT_AVAILABLE,
      partitionIndex: p.partition,
      // A leader the client cannot reach (fenced, or without this listener) is named -1, as
      // Kafka does, so the client refreshes its metadata instead of looking for that broker.
      leaderId: reachable.has(p.leader) ? p.leader : -1,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: [...p.isr],
      offlineReplicas: p.replicas.filter((r) => !image.brokers.has(r) || image.brokers.get(r)!.fenced),
    })),
    topicAuthorizedOperations: includeOps ? TOPIC_OPERATIONS : OPERATIONS_NOT_REQUESTED,
  };
}

function missingTopic(name: string | null, topicId: string, errorCode: number): MetadataResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED };
}

export function metadataHandler(ctx: BrokerContext) {
  async function autoCreate(names: string[], rc: RequestContext): Promise<void> {
    const results = await ctx.controllerChannel.createTopics(
      names.map((name) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] })),
      false,
    );
    for (const r of results) {
      if (r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
        rc.logger.info({ topic: r.name, errorCode: r.errorCode }, `auto-creation failed: ${r.errorMessage}`);
      } else if (r.errorCode === ErrorCode.NONE) {
        rc.logger.info({ topic: r.name, partitions: r.numPartitions }, 'auto-created topic');
      }
    }
    await ctx.metadata.waitFor(await ctx.controllerChannel.committedOffset());
  }

  return defineHandler({
    apiKey: ApiKey.Metadata,
    async handle(req, rc) {
      const v = rc.apiVersion;
      const allTopics = req.topics === null || (v === 0 && req.topics.length === 0);
      const allowAuto = v < 4 ? true : (req.allowAutoTopicCreation ?? true);
      let image = ctx.metadata.image;
      const describable = (name: string): boolean => allowedOnTopic(ctx, rc, AclOperation.DESCRIBE, name);
      const creatable = (name: string): boolean => allowedOnCluster(ctx, rc, AclOperation.CREATE) || allowedOnTopic(ctx, rc, AclOperation.CREATE, name);
      if (!allTopics && allowAuto && ctx.config.get('auto.create.topics.enable')) {
        const missing = req.topics!
          .map((t) => t.name)
          .filter((n): n is string => n !== null && !image.topicsByName.has(n) && topicNameProblem(n) === null && !INTERNAL_TOPICS.has(n) && describable(n) && creatable(n));
        if (missing.length > 0) {
          await autoCreate([...new Set(missing)], rc);
          image = ctx.metadata.image;
        }
      }
      const includeOps = v >= 8 && (req.includeTopicAuthorizedOperations ?? false);
      let topics: MetadataResponseTopic[];
      if (allTopics) {
        topics = [...image.topicsByName.values()].filter((t) => describable(t.name)).map((t) => describeTopic(image, t, rc.listenerName, includeOps));
      } else {
        topics = req.topics!.map((rt) => {
          if (rt.name === null || rt.name === undefined) {
            const t = rt.topicId && rt.topicId !== ZERO_UUID ? image.topicsById.get(rt.topicId) : undefined;
            if (t && !describable(t.name)) return missingTopic(null, rt.topicId!, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            return t ? describeTopic(image, t, rc.listenerName, includeOps) : missingTopic(null, rt.topicId ?? ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_ID);
          }
          if (!describable(rt.name)) return missingTopic(rt.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          const t = image.topicsByName.get(rt.name);
          if (t) return describeTopic(image, t, rc.listenerName, includeOps);
          return missingTopic(rt.name, ZERO_UUID, topicNameProblem(rt.name) ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        });
      }
      if (includeOps) for (const t of topics) if (t.errorCode === ErrorCode.NONE && t.name) t.topicAuthorizedOperations = authorizedOperations(ctx, rc, ResourceType.TOPIC, t.name, TOPIC_OPERATIONS);
      return {
        throttleTimeMs: 0,
        brokers: brokersOnListener(image, rc.listenerName),
        clusterId: ctx.clusterId,
        controllerId: ctx.nodeId,
        topics,
        clusterAuthorizedOperations: v >= 8 && v <= 10 && req.includeClusterAuthorizedOperations ? clusterAuthorizedOperations(ctx, rc, CLUSTER_OPERATIONS) : OPERATIONS_NOT_REQUESTED,
      };
    },
    errorResponse: (req, err) => ({
      brokers: [],
      topics: (req.topics ?? []).map((t) => missingTopic(t.name, t.topicId ?? ZERO_UUID, err.errorCode)),
    }),
  });
}
