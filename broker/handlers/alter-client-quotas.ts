// AlterClientQuotas (key 49), v0-1: sets or removes client quotas (KIP-546) for users, client
// ids and IPs. Brokers forward it, as it came, to the active controller, which validates each
// entry and writes ClientQuotaRecords (broker/quota/client-quota-control.ts); the answer is given
// once this node's image has them, so the quota is enforced here by then. validateOnly checks
// without writing.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import { alterClientQuotas } from '../quota/client-quota-control.ts';
import { defineHandler } from './api-handler.ts';
import { awaitPublished } from './publication-wait.ts';
import { onControllerListener } from './quorum-handler.ts';

const PUBLICATION_WAIT_MS = 30_000;

export function alterClientQuotasHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.AlterClientQuotas,
    async handle(req, rc) {
      if (!onControllerListener(ctx, rc) && !ctx.controller.isActive) {
        const forwarded = await ctx.controllerChannel.forward(ApiKey.AlterClientQuotas, req, (r) => r.entries.some((x) => x.errorCode === ErrorCode.NOT_CONTROLLER));
        if (forwarded) {
          if (!req.validateOnly) await awaitPublished(ctx, PUBLICATION_WAIT_MS);
          return forwarded;
        }
      }
      const response = await ctx.controller.run((image) => alterClientQuotas(image, req));
      const changed = response.entries.filter((e) => e.errorCode === ErrorCode.NONE);
      if (changed.length > 0 && !req.validateOnly) {
        rc.logger.info({ entities: changed.map((e) => e.entity), principal: rc.principal }, 'altered client quotas');
        await awaitPublished(ctx, PUBLICATION_WAIT_MS);
      }
      return response;
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      entries: req.entries.map((e) => ({ errorCode: err.errorCode, errorMessage: err.message, entity: e.entity.map((x) => ({ entityType: x.entityType, entityName: x.entityName })) })),
    }),
  });
}
