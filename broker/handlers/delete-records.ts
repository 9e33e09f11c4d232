// DeleteRecords (key 21), v0-v2. On the leader of each partition: moves the log start offset up
// to the requested offset (-1 means the high watermark) and answers the new low watermark (the
// log start offset). An offset above the high watermark (or below 0 after conversion) gets
// OFFSET_OUT_OF_RANGE; topics whose cleanup.policy lacks "delete" get POLICY_VIOLATION. Segments
// wholly below the new start are deleted now. With the leader as the only replica the low
// watermark of all replicas is reached at once, so no request waits (timeoutMs is not needed).
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DeleteRecordsPartitionResult } from '../../protocol/generated/message/delete-records-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireTopic } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { partitionErrorCode } from '../fetch/partition-access.ts';
import { defineHandler } from './api-handler.ts';

const HIGH_WATERMARK = -1n;

function errorPartition(partitionIndex: number, errorCode: number): DeleteRecordsPartitionResult {
  return { partitionIndex, errorCode, lowWatermark: -1n };
}

export function deleteRecordsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DeleteRecords,
    async handle(req, rc) {
      const image = ctx.metadata.image;
      const topics = req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map(async (p): Promise<DeleteRecordsPartitionResult> => {
          try {
            requireTopic(ctx, rc, AclOperation.DELETE, t.name);
            const partition = ctx.replicaManager.leaderPartition(image, t.name, p.partitionIndex);
            const log = partition.log;
            if (!log.config.cleanupPolicy.includes('delete')) {
              throw new KafkaError(ErrorCode.POLICY_VIOLATION, `Records of partition ${partition.name} can not be deleted due to the configured policy`);
            }
            const offset = p.offset === HIGH_WATERMARK ? log.highWatermark : Number(p.offset);
            if (offset < 0) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `The offset ${offset} for partition ${partition.name} is not valid`);
            if (offset > log.highWatermark) {
              throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `Cannot increment the log start offset to ${offset} of partition ${partition.name} since it is larger than the high watermark ${log.highWatermark}`);
            }
            const lowWatermark = await log.deleteRecordsBefore(offset);
            rc.logger.info({ partition: partition.name, offset, lowWatermark }, 'deleted records');
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, lowWatermark: BigInt(lowWatermark) };
          } catch (err) {
            return errorPartition(p.partitionIndex, partitionErrorCode(err, rc.logger, `${t.name}-${p.partitionIndex}`));
          }
        }),
      }));
      const out = [];
      for (const t of topics) out.push({ name: t.name, partitions: await Promise.all(t.partitions) });
      return { throttleTimeMs: 0, topics: out };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => errorPartition(p.partitionIndex, err.errorCode)) })),
    }),
  });
}
