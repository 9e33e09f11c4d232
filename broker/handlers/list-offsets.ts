// ListOffsets (key 2), v0-v9. Per partition, on the leader (any hosting replica for the
// debugging replica id -2), with the current leader epoch checked (v4+):
//   -2 earliest and -4 earliest-local (v8+): the log start offset (no tiered storage: the same);
//   -1 latest: for consumers (replicaId -1) the high watermark, or the last stable offset under
//      read_committed; for others the log end offset; with the current leader epoch;
//   -3 max timestamp (v7+): the record with the largest timestamp;
//   -5 latest-tiered (v9+): offset -1 (nothing is tiered);
//   a time: the first record with timestamp >= it, among offsets a consumer may read.
// v0 answers Kafka's old style: up to maxNumOffsets segment start offsets at or before the time
// (by segment mtime), newest first, plus the log end (or the high watermark for consumers).
// A partition named twice in one request (v1+) gets INVALID_REQUEST.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { ListOffsetsPartitionResponse } from '../../protocol/generated/message/list-offsets-response.ts';
import { EARLIEST_LOCAL_TIMESTAMP, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type Log, type TimestampAndOffset } from '../../storage/log.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireTopic } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { hostedPartition, partitionErrorCode } from '../fetch/partition-access.ts';
import type { Partition } from '../replica/partition.ts';
import { defineHandler } from './api-handler.ts';

const CONSUMER_REPLICA_ID = -1;
const DEBUGGING_REPLICA_ID = -2;
const LATEST_TIERED_TIMESTAMP = -5;
const READ_COMMITTED = 1;

function errorPartition(partitionIndex: number, errorCode: number): ListOffsetsPartitionResponse {
  return { partitionIndex, errorCode, oldStyleOffsets: [], timestamp: -1n, offset: -1n, leaderEpoch: -1 };
}

/** Kafka's legacyFetchOffsetsBefore: segment base offsets (and the log end) by segment mtime. */
export function legacyOffsetsBefore(log: Log, timestamp: number, maxNumOffsets: number, now: number): number[] {
  const segments = log.logSegments();
  const pairs: [offset: number, time: number][] = segments.map((s) => [Math.max(s.baseOffset, log.logStartOffset), s.lastModified]);
  if (segments.at(-1)!.size > 0) pairs.push([log.logEndOffset, now]);
  let start: number;
  if (timestamp === LATEST_TIMESTAMP) start = pairs.length - 1;
  else if (timestamp === EARLIEST_TIMESTAMP) start = 0;
  else {
    start = pairs.length - 1;
    while (start >= 0 && pairs[start]![1] > timestamp) start--;
  }
  const out: number[] = [];
  const n = Math.min(Math.max(maxNumOffsets, 0), start + 1);
  for (let j = 0; j < n; j++) out.push(pairs[start - j]![0]);
  return out.sort((a, b) => b - a);
}

export function listOffsetsHandler(ctx: BrokerContext) {
  /** Kafka's Partition.fetchOffsetForTimestamp (null: no such offset). */
  function offsetForTimestamp(partition: Partition, timestamp: number, isolationLevel: number | null): TimestampAndOffset | null {
    const log = partition.log;
    const lastFetchable = isolationLevel === null ? log.logEndOffset : isolationLevel === READ_COMMITTED ? log.lastStableOffset : log.highWatermark;
    // A new leader whose epoch starts above the high watermark cannot yet say what consumers may read.
    const latest = log.leaderEpochCache.latestEntry();
    const epochStart = latest !== undefined && latest.epoch === partition.leaderEpoch ? latest.startOffset : undefined;
    const notAvailable = isolationLevel !== null && epochStart !== undefined && epochStart > log.highWatermark;
    const fail = (): never => {
      throw new KafkaError(ErrorCode.OFFSET_NOT_AVAILABLE, `Failed to fetch offsets for ${partition.name}: the leader's start offset ${epochStart} is above the high watermark ${log.highWatermark}`);
    };
    if (timestamp === LATEST_TIMESTAMP) {
      if (notAvailable) fail();
      return { timestamp: -1, offset: lastFetchable, leaderEpoch: partition.leaderEpoch };
    }
    if (timestamp === EARLIEST_TIMESTAMP || timestamp === EARLIEST_LOCAL_TIMESTAMP) return log.findOffsetByTimestamp(timestamp);
    const found = timestamp === LATEST_TIERED_TIMESTAMP ? { timestamp: -1, offset: -1, leaderEpoch: -1 } : log.findOffsetByTimestamp(timestamp);
    if (found !== null && found.offset < lastFetchable) return found;
    if (notAvailable) fail();
    return null;
  }

  return defineHandler({
    apiKey: ApiKey.ListOffsets,
    handle(req, rc) {
      const version = rc.apiVersion;
      const image = ctx.metadata.image;
      const isConsumer = req.replicaId === CONSUMER_REPLICA_ID;
      const requireLeader = req.replicaId !== DEBUGGING_REPLICA_ID;
      const isolationLevel = isConsumer ? (req.isolationLevel ?? 0) : null;
      const seen = new Map<string, number>();
      for (const t of req.topics) for (const p of t.partitions) seen.set(`${t.name}:${p.partitionIndex}`, (seen.get(`${t.name}:${p.partitionIndex}`) ?? 0) + 1);
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p): ListOffsetsPartitionResponse => {
            const tp = `${t.name}-${p.partitionIndex}`;
            try {
              requireTopic(ctx, rc, AclOperation.DESCRIBE, t.name);
              if (version >= 1 && seen.get(`${t.name}:${p.partitionIndex}`)! > 1) return errorPartition(p.partitionIndex, ErrorCode.INVALID_REQUEST);
              const partition = hostedPartition(ctx.replicaManager, image, t.name, p.partitionIndex, p.currentLeaderEpoch ?? -1, requireLeader);
              const timestamp = Number(p.timestamp);
              if (version === 0) {
                const log = partition.log;
                let offsets = legacyOffsetsBefore(log, timestamp, p.maxNumOffsets ?? 1, ctx.now());
                if (isConsumer) {
                  const hw = log.highWatermark;
                  if (offsets.some((o) => o > hw)) offsets = [hw, ...offsets.filter((o) => o <= hw)];
                }
                return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, oldStyleOffsets: offsets.map(BigInt) };
              }
              const found = offsetForTimestamp(partition, timestamp, isolationLevel);
              if (found === null) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1n, offset: -1n, leaderEpoch: -1 };
              return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, timestamp: BigInt(found.timestamp), offset: BigInt(found.offset), leaderEpoch: found.leaderEpoch };
            } catch (err) {
              return errorPartition(p.partitionIndex, partitionErrorCode(err, rc.logger, tp));
            }
          }),
        })),
      };
    },
    errorResponse: (req, err) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => errorPartition(p.partitionIndex, err.errorCode)) })),
    }),
  });
}
