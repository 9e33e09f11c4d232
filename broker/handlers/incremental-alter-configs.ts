// IncrementalAlterConfigs (key 44), v0-v1: SET, DELETE, APPEND and SUBTRACT (LIST configs only,
// from the default when unset) on TOPIC resources, BROKER resources (this node's id, or "" for
// the cluster-wide default) and BROKER_LOGGER (log levels, applied on this broker only and not
// stored, as in Kafka). Checks in Kafka's order: duplicate resources, duplicate keys, null
// values, broker ids and broker config rules on the receiving broker, then the controller's
// validation of the resulting set and the topic's existence. The change is visible in the
// published image (and the open logs) before the answer.
import { ConfigResourceType } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { alterLoggerLevels } from './broker-loggers.ts';
import { alterConfigResources, type PlannedAlteration } from './config-alteration.ts';
import { AlterConfigOp, applyIncrementalOps, checkAlterableResource, duplicates } from './config-resources.ts';

export function incrementalAlterConfigsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.IncrementalAlterConfigs,
    async handle(req, rc) {
      const dupResources = duplicates(req.resources.map((r) => `${r.resourceType}:${r.resourceName}`));
      const plans: PlannedAlteration[] = req.resources.map((r) => {
        const plan: PlannedAlteration = { resourceType: r.resourceType, resourceName: r.resourceName, replaceAll: false };
        try {
          if (dupResources.has(`${r.resourceType}:${r.resourceName}`)) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');
          if (duplicates(r.configs.map((c) => c.name)).size > 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
          const nulls = r.configs.filter((c) => c.configOperation !== AlterConfigOp.DELETE && c.value === null).map((c) => c.name);
          if (nulls.length > 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
          switch (r.resourceType) {
            case ConfigResourceType.BrokerLogger:
              alterLoggerLevels(ctx.logger, ctx.nodeId, r.resourceName, r.configs, req.validateOnly);
              rc.logger.info({ loggers: r.configs.map((c) => `${c.name}=${c.value}`), validateOnly: req.validateOnly }, 'log levels altered');
              return plan;
            default:
              checkAlterableResource(r.resourceType, r.resourceName, ctx.nodeId);
          }
          plan.changes = (current) => applyIncrementalOps(r.resourceType, current, r.configs);
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          plan.error = err;
        }
        return plan;
      });
      const responses = await alterConfigResources(ctx, plans, req.validateOnly);
      return { throttleTimeMs: 0, responses };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      responses: req.resources.map((r) => ({ resourceType: r.resourceType, resourceName: r.resourceName, errorCode: err.errorCode, errorMessage: err.message })),
    }),
  });
}
