// DescribeGroups (key 15), v0-v5, served by the classic group coordinator. Member metadata and
// assignments are shown only while the group is Stable, as Kafka does; an unknown group is
// described as Dead with no error. v3+ report the authorized operations when asked (every group
// operation: no authorizer is configured).
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DescribedGroup } from '../../protocol/generated/message/describe-groups-response.ts';
import { AclOperation, ResourceType } from '../auth/acl.ts';
import { allowedOnGroup, authorizedOperations } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { OPERATIONS_NOT_REQUESTED } from './acl-operations.ts';
import { defineHandler } from './api-handler.ts';

/** READ (3), DELETE (6), DESCRIBE (8): what a group supports. */
export const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

function failed(groupId: string, errorCode: number): DescribedGroup {
  return { errorCode, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: OPERATIONS_NOT_REQUESTED };
}

export function describeGroupsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeGroups,
    async handle(req, rc) {
      const coordinator = await readyGroupCoordinator(ctx);
      const ops = rc.apiVersion >= 3 && req.includeAuthorizedOperations ? GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED;
      const groups = req.groups.map((groupId): DescribedGroup => {
        if (!allowedOnGroup(ctx, rc, AclOperation.DESCRIBE, groupId)) return failed(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED);
        const r = coordinator.describeGroup(groupId);
        if (r.errorCode !== ErrorCode.NONE) return failed(groupId, r.errorCode);
        const s = r.summary;
        return {
          errorCode: ErrorCode.NONE,
          groupId,
          groupState: s.state,
          protocolType: s.protocolType,
          protocolData: s.protocol,
          members: s.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.metadata,
            memberAssignment: m.assignment,
          })),
          authorizedOperations: ops === OPERATIONS_NOT_REQUESTED ? ops : authorizedOperations(ctx, rc, ResourceType.GROUP, groupId, ops),
        };
      });
      return { throttleTimeMs: 0, groups };
    },
    errorResponse: (req, err) => ({ throttleTimeMs: 0, groups: req.groups.map((g) => failed(g, err.errorCode)) }),
  });
}
