// UpdateFeatures (key 57), v0-v1: finalizes feature levels (metadata.version, kraft.version)
// through the active controller; brokers forward it there, as Kafka's do. v0's allowDowngrade
// means a safe downgrade. The whole request succeeds or fails together, answered per feature.
import { updateFeatures } from '../../controller/feature-control.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { SUPPORTED_FEATURES } from './api-versions.ts';
import { awaitPublished } from './publication-wait.ts';
import { onControllerListener } from './quorum-handler.ts';

const SUPPORTED = new Map(SUPPORTED_FEATURES.map((f) => [f.name, { min: f.minVersion, max: f.maxVersion }]));

export function updateFeaturesHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.UpdateFeatures,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.ALTER);
      if (!onControllerListener(ctx, rc) && !ctx.controller.isActive) {
        const forwarded = await ctx.controllerChannel.forward(ApiKey.UpdateFeatures, req, (r) => r.errorCode === ErrorCode.NOT_CONTROLLER);
        if (forwarded) {
          await awaitPublished(ctx, req.timeoutMs);
          return forwarded;
        }
      }
      const updates = req.featureUpdates.map((u) => ({
        feature: u.feature,
        maxVersionLevel: u.maxVersionLevel,
        upgradeType: rc.apiVersion >= 1 ? (u.upgradeType ?? 1) : u.allowDowngrade ? 2 : 1,
      }));
      const outcome = await ctx.controller.run((image) => updateFeatures(image, updates, SUPPORTED, req.validateOnly ?? false));
      if (outcome.errorCode === ErrorCode.NONE && !req.validateOnly) {
        rc.logger.info({ updates }, 'finalized feature levels');
        await awaitPublished(ctx, req.timeoutMs);
      }
      return { throttleTimeMs: 0, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, results: outcome.results };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      errorCode: err.errorCode,
      errorMessage: err.message,
      results: req.featureUpdates.map((u) => ({ feature: u.feature, errorCode: err.errorCode, errorMessage: err.message })),
    }),
  });
}
