// Heartbeat (key 12), v0-v4, served by the classic group coordinator: keeps a member's session
// alive; REBALANCE_IN_PROGRESS tells it to rejoin. v3+ carries group.instance.id.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireGroup } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { defineHandler } from './api-handler.ts';

export function heartbeatHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.Heartbeat,
    async handle(req, rc) {
      requireGroup(ctx, rc, AclOperation.READ, req.groupId);
      const coordinator = await readyGroupCoordinator(ctx);
      const errorCode = coordinator.heartbeat(req.groupId, req.memberId, rc.apiVersion >= 3 ? (req.groupInstanceId ?? null) : null, req.generationId);
      return { throttleTimeMs: 0, errorCode };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode }),
  });
}
