// How the read-side handlers (Fetch, ListOffsets, OffsetForLeaderEpoch, DeleteRecords) find a
// hosted partition and turn what went wrong into the per-partition Kafka error code.
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { StorageError } from '../../storage/errors.ts';
import type { Logger } from 'pino';
import type { Log } from '../../storage/log.ts';
import type { Partition } from '../replica/partition.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';

/**
 * The partition if this broker hosts it (and leads it, when `requireLeader`), checking the
 * client's current leader epoch (-1: no check) as Kafka's localLogWithEpochOrThrow does.
 */
export function hostedPartition(rm: ReplicaManager, image: MetadataImage, topic: string, partition: number, currentLeaderEpoch: number, requireLeader: boolean): Partition {
  if (requireLeader) return rm.leaderPartition(image, topic, partition, currentLeaderEpoch);
  const t = image.topicsByName.get(topic);
  if (!t || partition < 0 || partition >= t.partitions.length) {
    throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic-partition: ${topic}-${partition}`);
  }
  const p = rm.getPartition(topic, partition);
  if (!p) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This broker does not host ${topic}-${partition}`);
  if (currentLeaderEpoch >= 0 && currentLeaderEpoch < p.leaderEpoch) throw new KafkaError(ErrorCode.FENCED_LEADER_EPOCH);
  if (currentLeaderEpoch > p.leaderEpoch) throw new KafkaError(ErrorCode.UNKNOWN_LEADER_EPOCH);
  return p;
}

/** The error code to answer for a partition whose operation threw `err`; broker faults are logged. */
export function partitionErrorCode(err: unknown, logger: Logger, topicPartition: string): ErrorCode {
  if (err instanceof KafkaError) return err.errorCode;
  if (err instanceof StorageError) {
    switch (err.code) {
      case 'OFFSET_OUT_OF_RANGE':
        return ErrorCode.OFFSET_OUT_OF_RANGE;
      case 'CORRUPT_MESSAGE':
        logger.error({ err, partition: topicPartition }, 'corrupt records in the log');
        return ErrorCode.CORRUPT_MESSAGE;
      case 'LOG_CLOSED':
        // The partition is going away (deleted or moved); clients refresh metadata.
        return ErrorCode.NOT_LEADER_OR_FOLLOWER;
      case 'KAFKA_STORAGE_ERROR':
        logger.error({ err, partition: topicPartition }, 'log is offline');
        return ErrorCode.KAFKA_STORAGE_ERROR;
      default:
        break;
    }
  }
  logger.error({ err, partition: topicPartition }, 'unexpected error reading a partition');
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}
