// Retention of a delete-policy log, Kafka's three rules, applied to whole sealed segments from
// the oldest: (1) retention.ms: the segment's largest timestamp is older than now - retention.ms;
// (2) retention.bytes: the log is larger than retention.bytes by at least the segment's size;
// (3) log start offset: the next segment starts at or below the log start offset. Compacted-only
// logs get rule 3 alone. Log.deleteOldSegments never takes the active segment nor a segment
// reaching the high watermark, renames files to `.deleted` and removes them after
// file.delete.delay.ms.
import { isDeleteEnabled } from './log-config.ts';
import type { Log } from './log.ts';

export async function deleteRetentionMsBreachedSegments(log: Log, now: number): Promise<number> {
  const retentionMs = log.config.retentionMs;
  if (retentionMs < 0) return 0;
  return log.deleteOldSegments((seg) => now - seg.largestTimestamp > retentionMs, `retention.ms ${retentionMs} breached`);
}

export async function deleteRetentionSizeBreachedSegments(log: Log): Promise<number> {
  const retentionBytes = log.config.retentionBytes;
  if (retentionBytes < 0 || log.size < retentionBytes) return 0;
  let diff = log.size - retentionBytes;
  return log.deleteOldSegments((seg) => {
    if (diff - seg.size < 0) return false;
    diff -= seg.size;
    return true;
  }, `retention.bytes ${retentionBytes} breached`);
}

export async function deleteLogStartOffsetBreachedSegments(log: Log): Promise<number> {
  return log.deleteOldSegments((_seg, next) => next !== undefined && next.baseOffset <= log.logStartOffset, 'log start offset breached');
}

/** One retention pass over a log (Kafka's UnifiedLog.deleteOldSegments); segments deleted. */
export async function deleteOldSegments(log: Log, now: number): Promise<number> {
  if (log.isClosed || log.isOffline) return 0;
  if (isDeleteEnabled(log.config)) {
    return (await deleteRetentionMsBreachedSegments(log, now)) + (await deleteRetentionSizeBreachedSegments(log)) + (await deleteLogStartOffsetBreachedSegments(log));
  }
  return deleteLogStartOffsetBreachedSegments(log);
}
