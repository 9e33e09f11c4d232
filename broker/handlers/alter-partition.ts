// AlterPartition (key 56), v0-v3, on the controller listener: a partition leader's ISR change,
// decided by controller/alter-partition.ts and answered once its record is committed. Other
// controllers answer NOT_CONTROLLER (top level), which the sending broker retries elsewhere.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { alterPartition } from '../../controller/alter-partition.ts';
import { defineHandler } from './api-handler.ts';

export function alterPartitionHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.AlterPartition,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      return ctx.controller.run((image) => alterPartition(image, req, rc.apiVersion));
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, topics: [] }),
  });
}
