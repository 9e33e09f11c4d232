// DescribeAcls (key 29), v0-3: the ACLs a filter matches, grouped by resource pattern, read from
// this node's metadata image (Kafka serves it from the local authorizer, not the controller).
// Needs DESCRIBE on the cluster; without an authorizer the answer is SECURITY_DISABLED. A filter
// naming an unknown type, pattern, operation or permission is INVALID_REQUEST. v0 has no
// pattern types: its filter is LITERAL.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DescribeAclsResponse } from '../../protocol/generated/message/describe-acls-response.ts';
import { AclOperation, invalidFilter } from '../auth/acl.ts';
import { filterOf } from '../auth/acl-control.ts';
import { allowedOnCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';

const failed = (errorCode: number, errorMessage: string | null): DescribeAclsResponse => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });

export function describeAclsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeAcls,
    handle(req, rc) {
      if (!allowedOnCluster(ctx, rc, AclOperation.DESCRIBE)) return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
      if (!ctx.authorizer) return failed(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
      const filter = filterOf(req);
      const invalid = invalidFilter(filter);
      if (invalid !== null) return failed(ErrorCode.INVALID_REQUEST, invalid);
      const resources = new Map<string, DescribeAclsResponse['resources'][number]>();
      for (const acl of ctx.authorizer.acls(filter)) {
        const key = JSON.stringify([acl.resourceType, acl.resourceName, acl.patternType]);
        let r = resources.get(key);
        if (!r) resources.set(key, (r = { resourceType: acl.resourceType, resourceName: acl.resourceName, patternType: acl.patternType, acls: [] }));
        r.acls.push({ principal: acl.principal, host: acl.host, operation: acl.operation, permissionType: acl.permissionType });
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: [...resources.values()] };
    },
    errorResponse: (_req, err) => failed(err.errorCode, err.message),
  });
}
