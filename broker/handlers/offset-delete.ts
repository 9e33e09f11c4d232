// OffsetDelete (key 47), v0, served by the classic group coordinator: removes committed offsets
// of an Empty group, or of topics a consumer group is not subscribed to (the others get
// GROUP_SUBSCRIBED_TO_TOPIC); a non-consumer group with members gets NON_EMPTY_GROUP. Partitions
// of unknown topics get UNKNOWN_TOPIC_OR_PARTITION.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { OffsetDeleteResponseTopic } from '../../protocol/generated/message/offset-delete-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTopic, requireGroup } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { defineHandler } from './api-handler.ts';
import { partitionExists } from './offset-commit.ts';

export function offsetDeleteHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.OffsetDelete,
    async handle(req, rc) {
      requireGroup(ctx, rc, AclOperation.DELETE, req.groupId);
      const coordinator = await readyGroupCoordinator(ctx);
      const image = ctx.metadata.image;
      const topics: OffsetDeleteResponseTopic[] = req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE })) }));
      const wanted: { topic: string; partition: number }[] = [];
      const slots: { t: number; p: number }[] = [];
      req.topics.forEach((t, ti) =>
        t.partitions.forEach((p, pi) => {
          if (!allowedOnTopic(ctx, rc, AclOperation.READ, t.name)) {
            topics[ti]!.partitions[pi]!.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          } else if (!partitionExists(image, t.name, p.partitionIndex)) {
            topics[ti]!.partitions[pi]!.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          } else {
            wanted.push({ topic: t.name, partition: p.partitionIndex });
            slots.push({ t: ti, p: pi });
          }
        }),
      );
      const r = await coordinator.deleteOffsets(req.groupId, wanted);
      if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [] };
      r.partitions.forEach((code, i) => (topics[slots[i]!.t]!.partitions[slots[i]!.p]!.errorCode = code));
      return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics };
    },
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, throttleTimeMs: 0, topics: [] }),
  });
}
