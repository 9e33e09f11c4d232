// DescribeUserScramCredentials (key 50), v0: the mechanisms and iteration counts of users' SCRAM
// credentials, from this broker's metadata image (never salts or keys). A null user list
// describes every user; a named user without credentials gets RESOURCE_NOT_FOUND, a user named
// twice DUPLICATE_RESOURCE, as in Kafka.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';

export function describeUserScramCredentialsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeUserScramCredentials,
    handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.DESCRIBE);
      const byUser = new Map<string, { mechanism: number; iterations: number }[]>();
      for (const c of ctx.metadata.image.scramCredentials?.values() ?? []) {
        byUser.set(c.name, [...(byUser.get(c.name) ?? []), { mechanism: c.mechanism, iterations: c.iterations }]);
      }
      const infos = (user: string) => (byUser.get(user) ?? []).sort((a, b) => a.mechanism - b.mechanism);
      if (req.users === null) {
        const results = [...byUser.keys()].sort().map((user) => ({ user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos(user) }));
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
      }
      const names = req.users.map((u) => u.name);
      const results = [...new Set(names)].map((user) => {
        if (names.filter((n) => n === user).length > 1) return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request', credentialInfos: [] };
        if (!byUser.has(user)) return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to describe a user credential that does not exist', credentialInfos: [] };
        return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos(user) };
      });
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, errorMessage: err.message, results: [] }),
  });
}
