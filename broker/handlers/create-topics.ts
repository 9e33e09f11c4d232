// CreateTopics (key 19), v0-v7. Topics go to the quorum controller (names, partitions and
// replication factor with -1 for the broker defaults, manual assignments, config overrides
// validated with Kafka's INVALID_CONFIG messages); the answer waits, within timeoutMs, for this
// broker to publish the new image, so a Metadata request after it sees the topics (an expired wait
// answers REQUEST_TIMED_OUT, the topics still being created; timeoutMs <= 0 does not wait).
// From v5 a created (or validated) topic reports its partitions, replication factor and every
// effective config with its source; v7 adds the topic id. As in Kafka's controller, a name given
// twice gets one INVALID_REQUEST answer and __cluster_metadata is refused as unauthorized.
// Differences from Kafka: validateOnly answers the zero topic id (Kafka shows a random id it
// then discards), and an expired wait is checked after the controller has committed.
import { METADATA_TOPIC } from '../../controller/topic-names.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { CreatableTopicResult } from '../../protocol/generated/message/create-topics-response.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnCluster, allowedOnTopic } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { effectiveTopicConfig } from '../config/topic-config.ts';
import { defineHandler } from './api-handler.ts';
import { duplicates, dynamicBrokerConfigs } from './config-resources.ts';
import { awaitPublished } from './publication-wait.ts';

function failed(name: string, errorCode: number, errorMessage: string | null): CreatableTopicResult {
  return { name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: [] };
}

export function createTopicsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.CreateTopics,
    async handle(req, rc) {
      const validateOnly = rc.apiVersion >= 1 && (req.validateOnly ?? false);
      const dup = duplicates(req.topics.map((t) => t.name));
      const mayCreate = (name: string): boolean => allowedOnCluster(ctx, rc, AclOperation.CREATE) || allowedOnTopic(ctx, rc, AclOperation.CREATE, name);
      const requested = req.topics.filter((t) => !dup.has(t.name) && t.name !== METADATA_TOPIC && mayCreate(t.name));
      const outcomes = requested.length === 0 ? [] : await ctx.controllerChannel.createTopics(
        requested.map((t) => ({
          name: t.name,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          assignments: t.assignments.map((a) => ({ partitionIndex: a.partitionIndex, brokerIds: [...a.brokerIds] })),
          configs: t.configs.map((c) => ({ name: c.name, value: c.value })),
        })),
        validateOnly,
      );
      const created = outcomes.some((o) => o.errorCode === ErrorCode.NONE);
      const inTime = validateOnly || !created || (await awaitPublished(ctx, req.timeoutMs));
      const dynamic = dynamicBrokerConfigs(ctx.metadata.image, ctx.nodeId);
      const topics: CreatableTopicResult[] = outcomes.map((o, i) => {
        if (o.errorCode !== ErrorCode.NONE) return failed(o.name, o.errorCode, o.errorMessage);
        if (!inTime) return failed(o.name, ErrorCode.REQUEST_TIMED_OUT, null);
        const overrides: Record<string, string> = {};
        for (const c of requested[i]!.configs) if (c.value !== null) overrides[c.name] = c.value;
        const configs = effectiveTopicConfig(overrides, ctx.config, dynamic).entries.map((e) => ({
          name: e.name,
          value: e.isSensitive ? null : e.value,
          readOnly: e.readOnly,
          configSource: e.configSource,
          isSensitive: e.isSensitive,
        }));
        if (!validateOnly) rc.logger.info({ topic: o.name, topicId: o.topicId, partitions: o.numPartitions, replicationFactor: o.replicationFactor }, 'created topic');
        return { name: o.name, topicId: o.topicId, errorCode: ErrorCode.NONE, errorMessage: null, topicConfigErrorCode: ErrorCode.NONE, numPartitions: o.numPartitions, replicationFactor: o.replicationFactor, configs };
      });
      for (const t of req.topics) if (!dup.has(t.name) && t.name !== METADATA_TOPIC && !mayCreate(t.name)) topics.push(failed(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
      for (const name of dup) topics.push(failed(name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
      if (req.topics.some((t) => t.name === METADATA_TOPIC) && !dup.has(METADATA_TOPIC)) {
        topics.push(failed(METADATA_TOPIC, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
      }
      return { throttleTimeMs: 0, topics };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => failed(t.name, err.errorCode, err.message)),
    }),
  });
}
