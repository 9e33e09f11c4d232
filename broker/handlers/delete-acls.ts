// DeleteAcls (key 31), v0-3: removes the ACLs each filter matches and reports them. Needs ALTER
// on the cluster; without an authorizer every filter is SECURITY_DISABLED. Forwarded to the
// active controller, which writes RemoveAccessControlEntryRecords (broker/auth/acl-control.ts);
// answered once this node's image no longer has them. v0 filters are LITERAL.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DeleteAclsRequest } from '../../protocol/generated/message/delete-acls-request.ts';
import type { DeleteAclsResponse } from '../../protocol/generated/message/delete-acls-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { deleteAcls } from '../auth/acl-control.ts';
import { allowedOnCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { awaitPublished } from './publication-wait.ts';
import { onControllerListener } from './quorum-handler.ts';

const PUBLICATION_WAIT_MS = 30_000;

const failure = (req: DeleteAclsRequest, err: KafkaError): DeleteAclsResponse => ({ throttleTimeMs: 0, filterResults: req.filters.map(() => ({ errorCode: err.errorCode, errorMessage: err.message, matchingAcls: [] })) });

export function deleteAclsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DeleteAcls,
    async handle(req, rc) {
      if (!allowedOnCluster(ctx, rc, AclOperation.ALTER)) return failure(req, new KafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED));
      if (!ctx.authorizer) return failure(req, new KafkaError(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.'));
      if (!onControllerListener(ctx, rc) && !ctx.controller.isActive) {
        const forwarded = await ctx.controllerChannel.forward(ApiKey.DeleteAcls, req, (r) => r.filterResults.some((x) => x.errorCode === ErrorCode.NOT_CONTROLLER));
        if (forwarded) {
          await awaitPublished(ctx, PUBLICATION_WAIT_MS);
          return forwarded;
        }
      }
      const response = await ctx.controller.run((image) => deleteAcls(image, req));
      rc.logger.info({ principal: rc.principal, deleted: response.filterResults.reduce((n, f) => n + f.matchingAcls.length, 0) }, 'deleted ACLs');
      await awaitPublished(ctx, PUBLICATION_WAIT_MS);
      return response;
    },
    errorResponse: failure,
  });
}
