// DescribeClientQuotas (key 48), v0-1: the client quotas (KIP-546) of the entities matching a
// filter, from this broker's metadata image. Filter components match a type's name exactly,
// its default, or any name the entity specifies (default included); strict leaves out entities
// with types the filter does not name. A malformed filter is a top-level INVALID_REQUEST.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import { describeClientQuotas } from '../quota/client-quota-control.ts';
import { defineHandler } from './api-handler.ts';

export function describeClientQuotasHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeClientQuotas,
    handle: (req) => describeClientQuotas(ctx.metadata.image, req),
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, errorMessage: err.message, entries: null }),
  });
}
