// Start-up work on a partition directory before its segments are opened, as Kafka's LogLoader:
// - leftovers of interrupted operations: `.cleaned` files (a cleaning that never reached its
//   swap) and `.deleted` files (deletion already decided) are removed; `.swap` files (a cleaning
//   that finished writing) replace the segments they cover and lose their suffix;
// - stray index files (`.index`, `.timeindex`, `.txnindex`) without a `.log` are removed;
// - the remaining `<20 digits>.log` base offsets are returned in order.
// Segment content recovery (scan, CRC, truncation, index rebuild) lives in LogSegment.recover().
import * as fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { TXN_INDEX_FILE_SUFFIX } from './txn-index.ts';
import { CLEANED_FILE_SUFFIX, DELETED_FILE_SUFFIX, INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX, LogSegment, SWAP_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, segmentFilePaths } from './segment.ts';

const SEGMENT_NAME = /^(\d{20})\.(log|index|timeindex|txnindex|snapshot)(\.deleted|\.cleaned|\.swap)?$/;

export interface SegmentConfigLike {
  segmentIndexBytes: number;
  indexIntervalBytes: number;
}

/** Cleans leftovers and returns the base offsets of the `.log` files, ascending. */
export async function prepareSegmentFiles(dir: string, config: SegmentConfigLike, now: number, logger: Logger): Promise<number[]> {
  let names = await fs.promises.readdir(dir);
  for (const name of names) {
    if (name.endsWith(DELETED_FILE_SUFFIX) || name.endsWith(CLEANED_FILE_SUFFIX) || name.endsWith('.tmp')) {
      await fs.promises.rm(path.join(dir, name), { force: true });
    }
  }
  names = await fs.promises.readdir(dir);
  const swaps = names.filter((n) => n.endsWith(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX)).sort();
  for (const name of swaps) {
    const base = Number(name.slice(0, 20));
    const swap = await LogSegment.open(dir, base, config, now, 0, SWAP_FILE_SUFFIX);
    await swap.recover(logger);
    const next = swap.nextOffset();
    await swap.close();
    // The swap segment replaces every segment whose base offset falls in its range.
    for (const other of names) {
      const m = SEGMENT_NAME.exec(other);
      if (m === null || m[3] !== undefined) continue;
      const otherBase = Number(m[1]);
      if (otherBase >= base && otherBase < Math.max(next, base + 1)) await fs.promises.rm(path.join(dir, other), { force: true });
    }
    const plain = segmentFilePaths(dir, base);
    const swapped = segmentFilePaths(dir, base, SWAP_FILE_SUFFIX);
    for (const [from, to] of [
      [swapped.index, plain.index],
      [swapped.timeIndex, plain.timeIndex],
      [swapped.log, plain.log],
      [swapped.log.replace(/\.log\.swap$/, `${TXN_INDEX_FILE_SUFFIX}${SWAP_FILE_SUFFIX}`), plain.log.replace(/\.log$/, TXN_INDEX_FILE_SUFFIX)],
    ] as const) {
      try {
        await fs.promises.rename(from, to);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    logger.info({ file: plain.log }, 'completed an interrupted segment swap');
    names = await fs.promises.readdir(dir);
  }
  for (const name of names) {
    if (name.endsWith(SWAP_FILE_SUFFIX)) await fs.promises.rm(path.join(dir, name), { force: true });
  }
  names = await fs.promises.readdir(dir);
  const logs = new Set<number>();
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m !== null && m[3] === undefined && m[2] === 'log') logs.add(Number(m[1]));
  }
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m === null || m[3] !== undefined) continue;
    const ext = `.${m[2]}`;
    if ((ext === INDEX_FILE_SUFFIX || ext === TIME_INDEX_FILE_SUFFIX || ext === TXN_INDEX_FILE_SUFFIX) && !logs.has(Number(m[1]))) {
      await fs.promises.rm(path.join(dir, name), { force: true });
    }
  }
  return [...logs].sort((a, b) => a - b);
}
