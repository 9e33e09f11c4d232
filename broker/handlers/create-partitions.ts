// CreatePartitions (key 37), v0-v3: grows topics through the quorum controller (new count,
// optional manual assignments of the new partitions, validateOnly); the answer waits, within
// timeoutMs, for this broker to publish the new image (an expired wait answers REQUEST_TIMED_OUT,
// the partitions still being added). A name given twice gets one INVALID_REQUEST answer, as in
// Kafka's controller.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { CreatePartitionsTopicResult } from '../../protocol/generated/message/create-partitions-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTopic } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { duplicates } from './config-resources.ts';
import { awaitPublished } from './publication-wait.ts';

export function createPartitionsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.CreatePartitions,
    async handle(req, rc) {
      const dup = duplicates(req.topics.map((t) => t.name));
      const requested = req.topics.filter((t) => !dup.has(t.name) && allowedOnTopic(ctx, rc, AclOperation.ALTER, t.name));
      const outcomes = requested.length === 0 ? [] : await ctx.controllerChannel.createPartitions(
        requested.map((t) => ({ name: t.name, count: t.count, assignments: t.assignments && t.assignments.map((a) => ({ brokerIds: [...a.brokerIds] })) })),
        req.validateOnly,
      );
      const grown = !req.validateOnly && outcomes.some((o) => o.errorCode === ErrorCode.NONE);
      const inTime = !grown || (await awaitPublished(ctx, req.timeoutMs));
      const results: CreatePartitionsTopicResult[] = [];
      for (const t of req.topics) if (!dup.has(t.name) && !requested.includes(t)) results.push({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' });
      for (const name of dup) results.push({ name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
      for (const [i, o] of outcomes.entries()) {
        if (o.errorCode === ErrorCode.NONE && !req.validateOnly) rc.logger.info({ topic: o.name, count: requested[i]!.count }, 'added partitions');
        if (o.errorCode === ErrorCode.NONE && !inTime) results.push({ name: o.name, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: null });
        else results.push({ name: o.name, errorCode: o.errorCode, errorMessage: o.errorMessage });
      }
      return { throttleTimeMs: 0, results };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      results: req.topics.map((t) => ({ name: t.name, errorCode: err.errorCode, errorMessage: err.message })),
    }),
  });
}
