// CreateAcls (key 30), v0-3: adds ACLs. Needs ALTER on the cluster; without an authorizer every
// creation is SECURITY_DISABLED. Brokers forward the request to the active controller, which
// writes one AccessControlEntryRecord per new ACL (broker/auth/acl-control.ts); the answer is
// given once this node's image has them, so the ACLs are in force here when the client hears back.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { CreateAclsRequest } from '../../protocol/generated/message/create-acls-request.ts';
import type { CreateAclsResponse } from '../../protocol/generated/message/create-acls-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { createAcls } from '../auth/acl-control.ts';
import { allowedOnCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { awaitPublished } from './publication-wait.ts';
import { onControllerListener } from './quorum-handler.ts';

const PUBLICATION_WAIT_MS = 30_000;

const failure = (req: CreateAclsRequest, err: KafkaError): CreateAclsResponse => ({ throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode: err.errorCode, errorMessage: err.message })) });

export function createAclsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.CreateAcls,
    async handle(req, rc) {
      if (!allowedOnCluster(ctx, rc, AclOperation.ALTER)) return failure(req, new KafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED));
      if (!ctx.authorizer) return failure(req, new KafkaError(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.'));
      if (!onControllerListener(ctx, rc) && !ctx.controller.isActive) {
        const forwarded = await ctx.controllerChannel.forward(ApiKey.CreateAcls, req, (r) => r.results.some((x) => x.errorCode === ErrorCode.NOT_CONTROLLER));
        if (forwarded) {
          await awaitPublished(ctx, PUBLICATION_WAIT_MS);
          return forwarded;
        }
      }
      const response = await ctx.controller.run((image) => createAcls(image, req));
      rc.logger.info({ principal: rc.principal, created: response.results.filter((r) => r.errorCode === ErrorCode.NONE).length, failed: response.results.filter((r) => r.errorCode !== ErrorCode.NONE).length }, 'created ACLs');
      await awaitPublished(ctx, PUBLICATION_WAIT_MS);
      return response;
    },
    errorResponse: failure,
  });
}
