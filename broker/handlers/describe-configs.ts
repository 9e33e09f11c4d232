// DescribeConfigs (key 32), v0-v4, answered by this broker from its published image:
// TOPIC resources (every topic config with its effective value and source), BROKER resources
// (this node's id: every broker config; "" : the cluster-wide dynamic defaults that are set) and
// BROKER_LOGGER (log levels). configurationKeys null or empty lists every key; synonyms (v1+) and
// documentation (v3+) only when asked; sensitive values are null. As in Kafka, a broker answers
// only for its own id (INVALID_REQUEST otherwise) and an unknown resource type fails the whole
// request with INVALID_REQUEST.
import { ConfigResourceType, topicConfigs } from '../../controller/metadata/image.ts';
import { topicNameProblem } from '../../controller/topic-names.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DescribeConfigsResourceResult, DescribeConfigsResult } from '../../protocol/generated/message/describe-configs-response.ts';
import type { DescribeConfigsResource } from '../../protocol/generated/message/describe-configs-request.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireConfigAccess } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { ConfigSource, ConfigType } from '../config/config-def.ts';
import { type DescribedConfig, describeBrokerConfigs, effectiveTopicConfig } from '../config/topic-config.ts';
import { defineHandler } from './api-handler.ts';
import { loggerLevels } from './broker-loggers.ts';
import { checkBrokerResourceName, dynamicBrokerConfigs } from './config-resources.ts';

const KNOWN_TYPES: ReadonlySet<number> = new Set([ConfigResourceType.Topic, ConfigResourceType.Broker, ConfigResourceType.BrokerLogger]);

interface Options {
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}

function toResult(c: DescribedConfig, o: Options): DescribeConfigsResourceResult {
  return {
    name: c.name,
    value: c.value,
    readOnly: c.readOnly,
    isDefault: c.configSource === ConfigSource.DEFAULT_CONFIG,
    configSource: c.configSource,
    isSensitive: c.isSensitive,
    synonyms: o.includeSynonyms ? c.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })) : [],
    configType: c.configType,
    documentation: o.includeDocumentation && c.documentation !== '' ? c.documentation : null,
  };
}

export function describeConfigsHandler(ctx: BrokerContext) {
  /** The resource's entries, or null for a topic that does not exist (Kafka sends no message then). */
  function describe(r: DescribeConfigsResource): DescribedConfig[] | null {
    const image = ctx.metadata.image;
    const dynamic = dynamicBrokerConfigs(image, ctx.nodeId);
    switch (r.resourceType) {
      case ConfigResourceType.Topic: {
        const bad = topicNameProblem(r.resourceName);
        if (bad) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, bad);
        if (!image.topicsByName.has(r.resourceName)) return null;
        return [...effectiveTopicConfig(Object.fromEntries(topicConfigs(image, r.resourceName)), ctx.config, dynamic).entries];
      }
      case ConfigResourceType.Broker: {
        if (r.resourceName === '') {
          const set = dynamic.clusterDefault ?? {};
          return describeBrokerConfigs(ctx.config, dynamic, false).filter((c) => Object.hasOwn(set, c.name));
        }
        checkBrokerResourceName(r.resourceName, ctx.nodeId, 'Broker');
        return describeBrokerConfigs(ctx.config, dynamic, true);
      }
      default: {
        if (r.resourceName === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Broker id must not be empty');
        checkBrokerResourceName(r.resourceName, ctx.nodeId, 'Broker');
        return [...loggerLevels(ctx.logger)].map(([name, level]) => ({
          name,
          value: level,
          readOnly: false,
          configSource: ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG,
          isSensitive: false,
          synonyms: [],
          configType: ConfigType.UNKNOWN,
          documentation: '',
        }));
      }
    }
  }

  return defineHandler({
    apiKey: ApiKey.DescribeConfigs,
    handle(req, rc) {
      const unknown = req.resources.find((r) => !KNOWN_TYPES.has(r.resourceType));
      if (unknown) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected resource type ${unknown.resourceType} for resource ${unknown.resourceName}`);
      const o: Options = {
        includeSynonyms: rc.apiVersion >= 1 && (req.includeSynonyms ?? false),
        includeDocumentation: rc.apiVersion >= 3 && (req.includeDocumentation ?? false),
      };
      const results: DescribeConfigsResult[] = req.resources.map((r) => {
        const base = { resourceType: r.resourceType, resourceName: r.resourceName };
        try {
          requireConfigAccess(ctx, rc, AclOperation.DESCRIBE_CONFIGS, r.resourceType, r.resourceName);
          const keys = r.configurationKeys;
          const all = describe(r);
          if (all === null) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, configs: [] };
          const picked = keys === null || keys.length === 0 ? all : all.filter((c) => keys.includes(c.name));
          return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs: picked.map((c) => toResult(c, o)) };
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          rc.logger.debug({ resource: base, errorCode: err.errorCode }, err.message);
          return { ...base, errorCode: err.errorCode, errorMessage: err.message, configs: [] };
        }
      });
      return { throttleTimeMs: 0, results };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      results: req.resources.map((r) => ({ resourceType: r.resourceType, resourceName: r.resourceName, errorCode: err.errorCode, errorMessage: err.message, configs: [] })),
    }),
  });
}
