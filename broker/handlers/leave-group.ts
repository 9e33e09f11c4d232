// LeaveGroup (key 13), v0-v5, served by the classic group coordinator. v0-v2 name one member id
// and carry its outcome as the top-level error, as Kafka's response does for those versions; v3+
// name a batch of members by member id or (administratively, with an empty member id) by
// group.instance.id, each with its own error; v5 adds a reason per member.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireGroup } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { defineHandler } from './api-handler.ts';

export function leaveGroupHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.LeaveGroup,
    async handle(req, rc) {
      const v = rc.apiVersion;
      requireGroup(ctx, rc, AclOperation.READ, req.groupId);
      const coordinator = await readyGroupCoordinator(ctx);
      const leaving =
        v >= 3
          ? (req.members ?? []).map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null, reason: v >= 5 ? (m.reason ?? null) : null }))
          : [{ memberId: req.memberId ?? '', groupInstanceId: null, reason: null }];
      const r = coordinator.leaveGroup(req.groupId, leaving);
      if (v >= 3) return { throttleTimeMs: 0, errorCode: r.errorCode, members: r.members };
      const memberError = r.members.find((m) => m.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
      return { throttleTimeMs: 0, errorCode: r.errorCode !== ErrorCode.NONE ? r.errorCode : memberError, members: [] };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, members: [] }),
  });
}
