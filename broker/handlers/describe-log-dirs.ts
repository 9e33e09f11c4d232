// DescribeLogDirs (key 35), v0-v4. Every configured log dir (absolute path) with the hosted
// partitions whose logs live in it (all when the request's topics are null, else those named;
// as in Kafka, every topic with a log in the dir is listed, unnamed ones with no partitions):
// size of the segments, offsetLag = max(highWatermark - logEndOffset, 0) and isFutureKey false
// (no AlterReplicaLogDirs). v4 adds totalBytes and usableBytes of the volume, from statfs.
// A dir that cannot be read answers KAFKA_STORAGE_ERROR for that dir only.
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DescribeLogDirsResult, DescribeLogDirsTopic } from '../../protocol/generated/message/describe-log-dirs-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireCluster } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { Partition } from '../replica/partition.ts';
import { defineHandler } from './api-handler.ts';

const LONG_MAX = 9223372036854775807n;

export function describeLogDirsHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeLogDirs,
    async handle(req, rc) {
      requireCluster(ctx, rc, AclOperation.DESCRIBE);
      const wanted = req.topics === null ? null : new Map(req.topics.map((t) => [t.topic, new Set(t.partitions)]));
      const byDir = new Map<string, Partition[]>();
      for (const p of ctx.replicaManager.allPartitions()) {
        const dir = resolve(dirname(p.log.dir));
        let list = byDir.get(dir);
        if (!list) byDir.set(dir, (list = []));
        list.push(p);
      }
      const results: DescribeLogDirsResult[] = [];
      for (const configured of new Set(ctx.config.logDirs.map((d) => resolve(d)))) {
        try {
          const fsStats = await statfs(configured, { bigint: true });
          const topics = new Map<string, DescribeLogDirsTopic>();
          for (const p of byDir.get(configured) ?? []) {
            let t = topics.get(p.topic);
            if (!t) topics.set(p.topic, (t = { name: p.topic, partitions: [] }));
            if (wanted !== null && !wanted.get(p.topic)?.has(p.partition)) continue;
            const log = p.log;
            t.partitions.push({
              partitionIndex: p.partition,
              partitionSize: BigInt(log.size),
              offsetLag: BigInt(Math.max(log.highWatermark - log.logEndOffset, 0)),
              isFutureKey: false,
            });
          }
          const total = fsStats.blocks * fsStats.bsize;
          const usable = fsStats.bavail * fsStats.bsize;
          results.push({
            errorCode: ErrorCode.NONE,
            logDir: configured,
            topics: [...topics.values()],
            totalBytes: total < 0n ? LONG_MAX : total,
            usableBytes: usable < 0n ? LONG_MAX : usable,
          });
        } catch (err) {
          rc.logger.warn({ err, logDir: configured }, 'cannot describe log dir');
          results.push({ errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir: configured, topics: [], totalBytes: -1n, usableBytes: -1n });
        }
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
    },
    errorResponse: (_req, err) => ({ throttleTimeMs: 0, errorCode: err.errorCode, results: [] }),
  });
}
