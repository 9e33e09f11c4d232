// DeleteGroups (key 42), v0-v2, served by the classic group coordinator: only Empty groups are
// deleted (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND for unknown ones); their offsets and
// metadata get tombstones in `__consumer_offsets`.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnGroup } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { defineHandler } from './api-handler.ts';

export function deleteGroupsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DeleteGroups,
    async handle(req, rc) {
      const coordinator = await readyGroupCoordinator(ctx);
      const names = req.groupsNames.filter((g) => allowedOnGroup(ctx, rc, AclOperation.DELETE, g));
      const errors = await coordinator.deleteGroups(names);
      const byName = new Map(names.map((g, i) => [g, errors[i]!]));
      return { throttleTimeMs: 0, results: req.groupsNames.map((groupId) => ({ groupId, errorCode: byName.get(groupId) ?? ErrorCode.GROUP_AUTHORIZATION_FAILED })) };
    },
    errorResponse: (req, err) => ({ throttleTimeMs: 0, results: req.groupsNames.map((groupId) => ({ groupId, errorCode: err.errorCode })) }),
  });
}
