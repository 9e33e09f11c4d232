// OffsetForLeaderEpoch (key 23), v0-v4. For each partition this broker leads (current leader
// epoch checked, v2+): the largest epoch <= the requested one and the offset where the next epoch
// starts (the log end offset when it is the latest), from the leader epoch cache. An unknown or
// undefined epoch answers NONE with epoch -1 and offset -1, as Kafka does. Consumers use this
// after a leader change (KIP-320) to detect truncation; replicaId (v3+) does not change the answer.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { EpochEndOffset } from '../../protocol/generated/message/offset-for-leader-epoch-response.ts';
import { UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from '../../storage/leader-epoch-cache.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireTopic } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { hostedPartition, partitionErrorCode } from '../fetch/partition-access.ts';
import { defineHandler } from './api-handler.ts';

function errorPartition(partition: number, errorCode: number): EpochEndOffset {
  return { partition, errorCode, leaderEpoch: UNDEFINED_EPOCH, endOffset: BigInt(UNDEFINED_EPOCH_OFFSET) };
}

export function offsetForLeaderEpochHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.OffsetForLeaderEpoch,
    handle(req, rc) {
      const image = ctx.metadata.image;
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p): EpochEndOffset => {
            try {
              requireTopic(ctx, rc, AclOperation.DESCRIBE, t.topic);
              const partition = hostedPartition(ctx.replicaManager, image, t.topic, p.partition, p.currentLeaderEpoch ?? -1, true);
              const log = partition.log;
              const found = log.leaderEpochCache.endOffsetForEpoch(p.leaderEpoch, log.logEndOffset);
              if (found.endOffset === UNDEFINED_EPOCH_OFFSET) return { partition: p.partition, errorCode: ErrorCode.NONE, leaderEpoch: UNDEFINED_EPOCH, endOffset: BigInt(UNDEFINED_EPOCH_OFFSET) };
              return { partition: p.partition, errorCode: ErrorCode.NONE, leaderEpoch: found.epoch, endOffset: BigInt(found.endOffset) };
            } catch (err) {
              return errorPartition(p.partition, partitionErrorCode(err, rc.logger, `${t.topic}-${p.partition}`));
            }
          }),
        })),
      };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => errorPartition(p.partition, err.errorCode)) })),
    }),
  });
}
