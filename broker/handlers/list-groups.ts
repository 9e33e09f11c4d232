// ListGroups (key 16), v0-v5: the groups of the `__consumer_offsets` partitions this broker
// leads. v4+ filter by state (case-insensitive) and report it; v5+ filter by type and report it:
// every group here is "classic", so any other type filter lists nothing, as Kafka's classic
// coordinator answers. COORDINATOR_LOAD_IN_PROGRESS while a partition is still loading.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnCluster, allowedOnGroup } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';

export function listGroupsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.ListGroups,
    handle(req, rc) {
      const v = rc.apiVersion;
      const c = ctx.groupCoordinator;
      if (!c) return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
      const r = c.listGroups(v >= 4 ? (req.statesFilter ?? []) : [], v >= 5 ? (req.typesFilter ?? []) : []);
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        groups: r.groups.filter((g) => allowedOnCluster(ctx, rc, AclOperation.DESCRIBE) || allowedOnGroup(ctx, rc, AclOperation.DESCRIBE, g.groupId)).map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: 'classic' })),
      };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, groups: [] }),
  });
}
