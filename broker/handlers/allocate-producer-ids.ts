// AllocateProducerIds (key 67), v0, on the controller listener: hands a broker the next block of
// producer ids (ProducerIdsRecord), checked against its broker epoch. Other controllers answer
// NOT_CONTROLLER.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';

export function allocateProducerIdsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.AllocateProducerIds,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      const r = await ctx.controller.allocateProducerIds(req.brokerId, req.brokerEpoch);
      return { throttleTimeMs: 0, ...r };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, producerIdStart: -1n, producerIdLen: 0 }),
  });
}
