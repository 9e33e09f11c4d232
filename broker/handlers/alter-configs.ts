// AlterConfigs (key 33), v0-v2: the legacy API that replaces a resource's whole set of dynamic
// configs (keys not named are removed). TOPIC and BROKER resources (a node id, or "" for the
// cluster-wide default); checks in Kafka's order: duplicate resources, duplicate keys, null
// values and broker ids on the receiving broker, then the controller's validation of the
// resulting set and the topic's existence. The change is visible in the published image before
// the answer. BROKER_LOGGER is not served by this API in Kafka either.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireConfigAccess } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { alterConfigResources, everyResourceFailed, planAlterations } from './config-alteration.ts';
import { checkAlterableResource } from './config-resources.ts';
import { onControllerListener } from './quorum-handler.ts';

export function alterConfigsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.AlterConfigs,
    async handle(req, rc) {
      const plans = planAlterations(req.resources, true, (r, plan) => {
        requireConfigAccess(ctx, rc, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName);
        const nulls = r.configs.filter((c) => c.value === null).map((c) => c.name);
        if (nulls.length > 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
        checkAlterableResource(r.resourceType, r.resourceName, onControllerListener(ctx, rc) ? null : ctx.nodeId);
        plan.changes = () => new Map(r.configs.map((c) => [c.name, c.value]));
      });
      const responses = await alterConfigResources(ctx, plans, req.validateOnly);
      return { throttleTimeMs: 0, responses };
    },
    errorResponse: (req, err) => everyResourceFailed(req.resources, err),
  });
}
