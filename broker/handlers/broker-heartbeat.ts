// BrokerHeartbeat (key 63), v0-v1, on the controller listener: keeps a broker's session alive
// with the active controller, reports how far it has replayed the metadata log (it is unfenced
// once caught up) and carries controlled shutdown (wantShutDown: its leaderships move away,
// then shouldShutDown). Other controllers answer NOT_CONTROLLER.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';

export function brokerHeartbeatHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.BrokerHeartbeat,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      const r = await ctx.controller.brokerHeartbeat({
        brokerId: req.brokerId,
        brokerEpoch: req.brokerEpoch,
        currentMetadataOffset: req.currentMetadataOffset,
        wantFence: req.wantFence,
        wantShutDown: req.wantShutDown,
      });
      return { throttleTimeMs: 0, ...r };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, isCaughtUp: false, isFenced: true, shouldShutDown: false }),
  });
}
