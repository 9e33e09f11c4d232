// ApiVersions (key 18), v0-v4. Advertises exactly the router's table (what is implemented),
// the features this broker supports and the finalized ones from the metadata image.
// A request of an unsupported version is answered by the connection in v0 (KIP-511).
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { Router } from '../router.ts';
import { defineHandler } from './api-handler.ts';
import { METADATA_VERSION_3_9_IV0 } from '../../controller/cluster-control.ts';

/** Feature ranges this broker can run at (Kafka 3.9's). */
export const SUPPORTED_FEATURES = [
  { name: 'kraft.version', minVersion: 0, maxVersion: 1 },
  { name: 'metadata.version', minVersion: 1, maxVersion: METADATA_VERSION_3_9_IV0 },
];

const CLIENT_SOFTWARE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export function apiVersionsHandler(ctx: BrokerContext, router: Router) {
  return defineHandler({
    apiKey: ApiKey.ApiVersions,
    handle(req, rc) {
      // v3+ clients name themselves; Kafka refuses names outside its pattern with INVALID_REQUEST.
      if (rc.apiVersion >= 3 && (!CLIENT_SOFTWARE.test(req.clientSoftwareName ?? '') || !CLIENT_SOFTWARE.test(req.clientSoftwareVersion ?? ''))) {
        return { errorCode: ErrorCode.INVALID_REQUEST, apiKeys: [] };
      }
      const image = ctx.metadata.image;
      return {
        errorCode: ErrorCode.NONE,
        apiKeys: router.versions(),
        throttleTimeMs: 0,
        supportedFeatures: SUPPORTED_FEATURES,
        finalizedFeaturesEpoch: image.offset,
        finalizedFeatures: [...image.features].map(([name, level]) => ({ name, maxVersionLevel: level, minVersionLevel: level })),
        zkMigrationReady: false,
      };
    },
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, apiKeys: [] }),
  });
}
