// DeleteTopics (key 20), v0-v6: topics by name (v0-v5) or by name or id (v6). Checks as in
// Kafka's controller: deletion disabled fails the whole request (INVALID_REQUEST before v3,
// TOPIC_DELETION_DISABLED after); a name or id given twice, neither or both given, or a name
// whose id was also given, is INVALID_REQUEST; unknown names UNKNOWN_TOPIC_OR_PARTITION and
// unknown ids UNKNOWN_TOPIC_ID. Internal topics may be deleted, as Kafka allows. The answer waits,
// within timeoutMs, for this broker to publish the image without the topics, by which time their
// logs are renamed `-delete` (an expired wait answers REQUEST_TIMED_OUT; the deletion stands).
// Difference from Kafka: the controller's answers come first, then those refused before it, in
// request order (Kafka shuffles them).
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DeletableTopicResult } from '../../protocol/generated/message/delete-topics-response.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTopic } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { defineHandler } from './api-handler.ts';
import { awaitPublished } from './publication-wait.ts';

export function deleteTopicsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DeleteTopics,
    async handle(req, rc) {
      const v = rc.apiVersion;
      if (!ctx.config.get('delete.topic.enable')) {
        throw v < 3 ? new KafkaError(ErrorCode.INVALID_REQUEST, 'Topic deletion is disabled.') : new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED);
      }
      const states = v >= 6 ? (req.topics ?? []) : (req.topicNames ?? []).map((name) => ({ name, topicId: ZERO_UUID }));
      const early: DeletableTopicResult[] = [];
      const answer = (name: string | null, topicId: string, errorCode: number, errorMessage: string | null): void => {
        early.push({ name, topicId, errorCode, errorMessage });
      };
      const names: string[] = [];
      const ids: string[] = [];
      const dupNames = new Set<string>();
      const dupIds = new Set<string>();
      for (const t of states) {
        if (t.name === null) {
          if (t.topicId === ZERO_UUID) answer(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.');
          else if (ids.includes(t.topicId)) dupIds.add(t.topicId);
          else ids.push(t.topicId);
        } else if (t.topicId === ZERO_UUID) {
          if (names.includes(t.name)) dupNames.add(t.name);
          else names.push(t.name);
        } else {
          answer(t.name, t.topicId, ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.');
        }
      }
      for (const n of dupNames) answer(n, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.');
      for (const id of dupIds) answer(null, id, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.');
      const image = ctx.controller.image;
      const byName: string[] = [];
      const byId = new Set(ids.filter((id) => !dupIds.has(id)));
      for (const id of byId) {
        const name = image.topicsById.get(id)?.name;
        if (name !== undefined && !allowedOnTopic(ctx, rc, AclOperation.DELETE, name)) {
          byId.delete(id);
          answer(null, id, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
        }
      }
      for (const n of names.filter((x) => !dupNames.has(x))) {
        const id = image.topicsByName.get(n)?.id;
        if (!allowedOnTopic(ctx, rc, AclOperation.DELETE, n)) {
          answer(n, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
        } else if (n === '') {
          answer(n, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
        } else if (id !== undefined && byId.has(id)) {
          // Kafka then deletes neither and answers only for the name.
          byId.delete(id);
          answer(n, id, ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.');
        } else {
          byName.push(n);
        }
      }
      const inputs = [...byName.map((name) => ({ name, topicId: ZERO_UUID })), ...[...byId].map((topicId) => ({ name: null, topicId }))];
      const outcomes = inputs.length === 0 ? [] : await ctx.controllerChannel.deleteTopics(inputs);
      const deleted = outcomes.filter((o) => o.errorCode === ErrorCode.NONE);
      for (const o of deleted) rc.logger.info({ topic: o.name, topicId: o.topicId }, 'deleted topic');
      const inTime = deleted.length === 0 || (await awaitPublished(ctx, req.timeoutMs));
      const responses: DeletableTopicResult[] = outcomes.map((o) =>
        o.errorCode === ErrorCode.NONE && !inTime
          ? { name: o.name, topicId: o.topicId, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: null }
          : { name: o.name, topicId: o.topicId, errorCode: o.errorCode, errorMessage: o.errorMessage },
      );
      return { throttleTimeMs: 0, responses: [...responses, ...early] };
    },
    errorResponse: (req, err, rc) => {
      const states = rc.apiVersion >= 6 ? (req.topics ?? []) : (req.topicNames ?? []).map((name) => ({ name, topicId: ZERO_UUID }));
      return { throttleTimeMs: 0, responses: states.map((t) => ({ name: t.name, topicId: t.topicId, errorCode: err.errorCode, errorMessage: null })) };
    },
  });
}
