// SyncGroup (key 14), v0-v5, served by the classic group coordinator: the leader hands over the
// assignments, every member waits for its own. v3+ carries group.instance.id; v5+ must name the
// protocol type and name (INCONSISTENT_GROUP_PROTOCOL when absent or different) and gets them back.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireGroup } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { defineHandler, inPurgatory } from './api-handler.ts';

const EMPTY = Buffer.alloc(0);

export function syncGroupHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.SyncGroup,
    async handle(req, rc) {
      const v = rc.apiVersion;
      const protocolType = v >= 5 ? (req.protocolType ?? null) : null;
      const protocolName = v >= 5 ? (req.protocolName ?? null) : null;
      if (v >= 5 && (protocolType === null || protocolName === null)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, protocolType: null, protocolName: null, assignment: EMPTY };
      }
      requireGroup(ctx, rc, AclOperation.READ, req.groupId);
      const coordinator = await readyGroupCoordinator(ctx);
      // A follower's sync waits for the leader's assignment: remote time, as Kafka's.
      const r = await inPurgatory(rc, coordinator.syncGroup({
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: v >= 3 ? (req.groupInstanceId ?? null) : null,
        protocolType,
        protocolName,
        assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
      }));
      return { throttleTimeMs: 0, errorCode: r.errorCode, protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, protocolType: null, protocolName: null, assignment: EMPTY }),
  });
}
