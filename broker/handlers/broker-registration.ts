// BrokerRegistration (key 62), v0-v4, on the controller listener: a broker registers with the
// active controller (incarnation id, listeners, features, rack, log dirs) and is given its broker
// epoch; it stays fenced until a heartbeat shows it caught up. Other controllers answer
// NOT_CONTROLLER so the broker tries the active one. The cluster id must match this cluster's.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';

export function brokerRegistrationHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.BrokerRegistration,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      if (req.clusterId !== ctx.clusterId) {
        rc.logger.warn({ brokerId: req.brokerId, clusterId: req.clusterId }, 'refusing the registration of a broker of another cluster');
        return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, brokerEpoch: -1n };
      }
      const r = await ctx.controller.registerBroker({
        brokerId: req.brokerId,
        incarnationId: req.incarnationId,
        endpoints: req.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol })),
        rack: req.rack,
        logDirs: req.logDirs ?? [],
        features: req.features.map((f) => ({ name: f.name, minSupportedVersion: f.minSupportedVersion, maxSupportedVersion: f.maxSupportedVersion })),
      });
      if (r.errorCode === ErrorCode.NONE) rc.logger.info({ brokerId: req.brokerId, brokerEpoch: String(r.brokerEpoch) }, 'registered broker');
      return { throttleTimeMs: 0, errorCode: r.errorCode, brokerEpoch: r.brokerEpoch };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, brokerEpoch: -1n }),
  });
}
