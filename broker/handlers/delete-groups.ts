// DeleteGroups (key 42), v0-v2, served by the classic group coordinator: only Empty groups are
// deleted (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND for unknown ones); their offsets and
// metadata get tombstones in `__consumer_offsets`.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { defineHandler } from './api-handler.ts';

export function deleteGroupsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DeleteGroups,
    async handle(req) {
      const coordinator = await readyGroupCoordinator(ctx);
      const errors = await coordinator.deleteGroups(req.groupsNames);
      return { throttleTimeMs: 0, results: req.groupsNames.map((groupId, i) => ({ groupId, errorCode: errors[i]! })) };
    },
    errorResponse: (req, err) => ({ throttleTimeMs: 0, results: req.groupsNames.map((groupId) => ({ groupId, errorCode: err.errorCode })) }),
  });
}
