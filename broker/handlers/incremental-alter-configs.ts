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
import { AclOperation } from '../auth/acl.ts';
import { requireConfigAccess } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { alterLoggerLevels } from './broker-loggers.ts';
import { alterConfigResources, everyResourceFailed, planAlterations } from './config-alteration.ts';
import { AlterConfigOp, applyIncrementalOps, checkAlterableResource } from './config-resources.ts';
import { onControllerListener } from './quorum-handler.ts';

export function incrementalAlterConfigsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.IncrementalAlterConfigs,
    async handle(req, rc) {
      const plans = planAlterations(req.resources, false, (r, plan) => {
        requireConfigAccess(ctx, rc, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName);
        const nulls = r.configs.filter((c) => c.configOperation !== AlterConfigOp.DELETE && c.value === null).map((c) => c.name);
        if (nulls.length > 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
        if (r.resourceType === ConfigResourceType.BrokerLogger) {
          // Applied here and now, not stored: the plan carries no changes to the controller.
          alterLoggerLevels(ctx.logger, ctx.nodeId, r.resourceName, r.configs, req.validateOnly);
          rc.logger.info({ loggers: r.configs.map((c) => `${c.name}=${c.value}`), validateOnly: req.validateOnly }, 'log levels altered');
          return;
        }
        checkAlterableResource(r.resourceType, r.resourceName, onControllerListener(ctx, rc) ? null : ctx.nodeId);
        plan.changes = (current) => applyIncrementalOps(r.resourceType, current, r.configs);
      });
      const responses = await alterConfigResources(ctx, plans, req.validateOnly);
      return { throttleTimeMs: 0, responses };
    },
    errorResponse: (req, err) => everyResourceFailed(req.resources, err),
  });
}
