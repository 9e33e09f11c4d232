// Fetch (key 1) on the controller listener: followers and observers pull `__cluster_metadata-0`
// from the quorum leader (KIP-595: fetch offset and last fetched epoch; the leader answers a
// diverging epoch, its high watermark, or waits up to maxWaitMs for new records). Only the
// metadata partition is served here; client data is fetched from the broker listener.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { quorumReplica } from './quorum-handler.ts';

export function quorumFetchHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.Fetch,
    handle: (req, rc) => {
      requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
      return quorumReplica(ctx).handleFetch(req);
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, sessionId: 0, responses: [] }),
  });
}
