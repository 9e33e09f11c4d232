// AlterUserScramCredentials (key 51), v0: adds, changes or removes users' SCRAM credentials.
// Brokers forward it, as it came, to the active controller, which writes the metadata records
// (broker/security/scram-control.ts); the answer is given once this node's image has them, so a
// client can authenticate with the new credential on any listener of this broker right after.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { alterUserScramCredentials } from '../security/scram-control.ts';
import { defineHandler } from './api-handler.ts';
import { awaitPublished } from './publication-wait.ts';
import { onControllerListener } from './quorum-handler.ts';

const PUBLICATION_WAIT_MS = 30_000;

export function alterUserScramCredentialsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.AlterUserScramCredentials,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.ALTER);
      if (!onControllerListener(ctx, rc) && !ctx.controller.isActive) {
        const forwarded = await ctx.controllerChannel.forward(ApiKey.AlterUserScramCredentials, req, (r) => r.results.some((x) => x.errorCode === ErrorCode.NOT_CONTROLLER));
        if (forwarded) {
          await awaitPublished(ctx, PUBLICATION_WAIT_MS);
          return forwarded;
        }
      }
      const response = await ctx.controller.run((image) => alterUserScramCredentials(image, req));
      const changed = response.results.filter((r) => r.errorCode === ErrorCode.NONE).map((r) => r.user);
      if (changed.length > 0) {
        rc.logger.info({ users: changed, principal: rc.principal }, 'altered SCRAM credentials');
        await awaitPublished(ctx, PUBLICATION_WAIT_MS);
      }
      return response;
    },
    errorResponse: (req, err) => {
      const users = [...new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)])];
      return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode: err.errorCode, errorMessage: err.message })) };
    },
  });
}
