// `samsa get-offsets`: Kafka's kafka-get-offsets.sh (GetOffsetShell). Prints "topic:partition:offset"
// for every matching partition, sorted by topic then partition, where the offset is what
// ListOffsets answers for --time: -1/latest, -2/earliest, -3/max-timestamp, -4/earliest-local,
// -5/latest-tiered, or a timestamp in ms (the first offset whose timestamp is at least that). A
// partition without such an offset prints nothing, and one whose lookup fails is skipped with a
// line on stderr, as Kafka's tool does.
import { Command } from 'commander';
import type { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { CliError, clientFor, processIo, runAction } from './command-io.ts';
import type { CommandIo } from './command-io.ts';
import { topicMatcher } from './topics.ts';

export interface GetOffsetsOptions {
  bootstrapServer: string;
  topic?: string;
  partitions?: Array<[number, number]>;
  topicPartitions?: Array<{ topic: string; partitions?: Array<[number, number]> }>;
  time: bigint;
  excludeInternalTopics: boolean;
}

interface RawGetOffsetsOptions {
  bootstrapServer?: string;
  topic?: string;
  partitions?: string;
  topicPartitions?: string;
  time?: string;
  excludeInternalTopics?: boolean;
}

const TIME_NAMES: Record<string, bigint> = { latest: -1n, earliest: -2n, 'max-timestamp': -3n, 'earliest-local': -4n, 'latest-tiered': -5n };

export function defineGetOffsetsOptions(cmd: Command): Command {
  return cmd
    .description('Print the offsets of topic partitions at a point in time (kafka-get-offsets).')
    .option('--bootstrap-server <server>', 'REQUIRED: the Kafka server(s) to connect to, host:port[,host:port]')
    .option('--topic <topic>', 'The topic(s) to get offsets of: a name, comma list or regular expression (default: all).')
    .option('--partitions <list>', 'Comma list of partition ids or ranges, e.g. 0,2-4 (default: all).')
    .option('--topic-partitions <list>', 'Comma list of topic:partitions, e.g. t1:0,t2:1-3,t3 (cannot be used with --topic or --partitions).')
    .option('--time <time>', '-1 or latest, -2 or earliest, -3 or max-timestamp, -4 or earliest-local, -5 or latest-tiered, or a timestamp in ms.', '-1')
    .option('--exclude-internal-topics', 'Leave out internal topics.');
}

/** "0,2-4" → [[0,0],[2,4]]; also "3-" (3 and up). */
export function parsePartitionRanges(text: string): Array<[number, number]> {
  return text.split(',').map((part) => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d*)\s*)?$/.exec(part);
    if (!m) throw new CliError(`Invalid partition '${part}': expected a partition id or a range such as 2-4`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : m[2] === '' ? Number.MAX_SAFE_INTEGER : Number(m[2]);
    if (hi < lo) throw new CliError(`Invalid partition range '${part}'`);
    return [lo, hi];
  });
}

export function parseTime(text: string): bigint {
  const named = TIME_NAMES[text.trim().toLowerCase()];
  if (named !== undefined) return named;
  if (!/^-?\d+$/.test(text.trim())) throw new CliError(`Malformed time argument ${text}. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp`);
  const t = BigInt(text.trim());
  if (t < -5n) throw new CliError(`Malformed time argument ${text}`);
  return t;
}

export function toGetOffsetsOptions(raw: RawGetOffsetsOptions): GetOffsetsOptions {
  if (raw.bootstrapServer === undefined) throw new CliError('Missing required argument "[bootstrap-server]"');
  if (raw.topicPartitions !== undefined && (raw.topic !== undefined || raw.partitions !== undefined)) {
    throw new CliError('--topic-partitions cannot be used with --topic or --partitions');
  }
  return {
    bootstrapServer: raw.bootstrapServer,
    topic: raw.topic,
    partitions: raw.partitions === undefined ? undefined : parsePartitionRanges(raw.partitions),
    topicPartitions: raw.topicPartitions?.split(',').map((item) => {
      const at = item.indexOf(':');
      return at < 0 ? { topic: item.trim() } : { topic: item.slice(0, at).trim(), partitions: parsePartitionRanges(item.slice(at + 1)) };
    }),
    time: parseTime(raw.time ?? '-1'),
    excludeInternalTopics: raw.excludeInternalTopics === true,
  };
}

function inRanges(p: number, ranges: Array<[number, number]> | undefined): boolean {
  return ranges === undefined || ranges.some(([lo, hi]) => p >= lo && p <= hi);
}

async function selectPartitions(client: KafkaClient, o: GetOffsetsOptions): Promise<Array<{ topic: string; partition: number }>> {
  const md = await client.metadata(null);
  const out: Array<{ topic: string; partition: number }> = [];
  const filters = o.topicPartitions ?? [{ topic: o.topic ?? '.*', partitions: o.partitions }];
  const matchers = filters.map((f) => ({ match: topicMatcher(f.topic), partitions: f.partitions }));
  for (const t of md.topics) {
    if (t.name === null || t.errorCode !== ErrorCode.NONE) continue;
    if (o.excludeInternalTopics && t.isInternal) continue;
    for (const p of t.partitions) {
      if (matchers.some((m) => m.match(t.name!) && inRanges(p.partitionIndex, m.partitions))) out.push({ topic: t.name, partition: p.partitionIndex });
    }
  }
  return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

export async function runGetOffsets(o: GetOffsetsOptions, io: CommandIo): Promise<void> {
  const client = clientFor(o.bootstrapServer, 'samsa-get-offsets');
  try {
    const partitions = await selectPartitions(client, o);
    if (partitions.length === 0) throw new CliError('Error occurred: Could not match any topic-partitions with the specified filters');
    const answers = await Promise.allSettled(partitions.map((tp) => client.listOffsets(tp.topic, tp.partition, o.time)));
    partitions.forEach((tp, i) => {
      const a = answers[i]!;
      if (a.status === 'rejected') {
        if (!(a.reason instanceof KafkaError)) throw a.reason;
        io.err(`Skip getting offsets for topic-partition ${tp.topic}:${tp.partition} due to error: ${a.reason.message}\n`);
        return;
      }
      const offset = a.value.offset ?? a.value.oldStyleOffsets?.[0];
      // UNKNOWN_OFFSET (-1): no record at or after the time; Kafka's tool prints nothing for it.
      if (offset === undefined || offset === -1n) return;
      io.out(`${tp.topic}:${tp.partition}:${offset}\n`);
    });
  } finally {
    await client.close();
  }
}

export function getOffsetsCommand(io: CommandIo = processIo): Command {
  return defineGetOffsetsOptions(new Command('get-offsets')).action(async (raw: RawGetOffsetsOptions) => {
    await runAction(io, 'Error occurred: ', async () => runGetOffsets(toGetOffsetsOptions(raw), io));
  });
}
