// Kafka's checkpoint text files. Format: a version line (`0`), a count line, then one entry per
// line with space-separated fields, e.g. `topic partition offset` for the offset checkpoints
// (recovery-point-offset-checkpoint, log-start-offset-checkpoint, replication-offset-checkpoint,
// cleaner-offset-checkpoint) or `epoch startOffset` for leader-epoch-checkpoint.
// Writes are atomic: the content goes to `<file>.tmp`, is fsynced, renamed over the file, and the
// directory is fsynced, so a crash leaves either the old or the new file, never a mix.
import * as fs from 'node:fs';
import path from 'node:path';

export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
export const REPLICATION_OFFSET_CHECKPOINT_FILE = 'replication-offset-checkpoint';
export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';

export class CheckpointFormatError extends Error {
  readonly code = 'CHECKPOINT_FORMAT';
  constructor(file: string, message: string) {
    super(`malformed checkpoint file ${file}: ${message}`);
    this.name = 'CheckpointFormatError';
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Atomically replaces `file` with `lines` (already formatted entry lines). */
export async function writeCheckpointLines(file: string, lines: string[], version = 0): Promise<void> {
  const tmp = `${file}.tmp`;
  const text = `${version}\n${lines.length}\n${lines.map((l) => `${l}\n`).join('')}`;
  const fh = await fs.promises.open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

/** Entry lines split into fields; null when the file does not exist. */
export async function readCheckpointLines(file: string, fieldsPerLine: number, expectedVersion = 0): Promise<string[][] | null> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length < 2) throw new CheckpointFormatError(file, 'missing version or count');
  if (Number(lines[0]) !== expectedVersion || !/^\d+$/.test(lines[0]!.trim())) throw new CheckpointFormatError(file, `unsupported version ${lines[0]}`);
  const count = Number(lines[1]);
  if (!/^\d+$/.test(lines[1]!.trim()) || lines.length - 2 !== count) throw new CheckpointFormatError(file, `count ${lines[1]} does not match ${lines.length - 2} entries`);
  return lines.slice(2).map((l) => {
    const fields = l.trim().split(/\s+/);
    if (fields.length !== fieldsPerLine) throw new CheckpointFormatError(file, `bad entry line: ${l}`);
    return fields;
  });
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

function parseInteger(file: string, s: string): number {
  if (!/^-?\d+$/.test(s)) throw new CheckpointFormatError(file, `not an integer: ${s}`);
  return Number(s);
}

export async function readOffsetCheckpoint(file: string): Promise<TopicPartitionOffset[]> {
  const lines = await readCheckpointLines(file, 3);
  if (lines === null) return [];
  return lines.map(([topic, partition, offset]) => ({ topic: topic!, partition: parseInteger(file, partition!), offset: parseInteger(file, offset!) }));
}

export async function writeOffsetCheckpoint(file: string, entries: Iterable<TopicPartitionOffset>): Promise<void> {
  const lines: string[] = [];
  for (const e of entries) lines.push(`${e.topic} ${e.partition} ${e.offset}`);
  await writeCheckpointLines(file, lines);
}

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export async function readEpochCheckpoint(file: string): Promise<EpochEntry[]> {
  const lines = await readCheckpointLines(file, 2);
  if (lines === null) return [];
  return lines.map(([epoch, offset]) => ({ epoch: parseInteger(file, epoch!), startOffset: parseInteger(file, offset!) }));
}

export async function writeEpochCheckpoint(file: string, entries: readonly EpochEntry[]): Promise<void> {
  await writeCheckpointLines(file, entries.map((e) => `${e.epoch} ${e.startOffset}`));
}

/** Key of a partition in maps: Kafka's directory name `<topic>-<partition>`. */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}
