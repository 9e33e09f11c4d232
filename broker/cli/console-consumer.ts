// `samsa console-consumer`: Kafka's kafka-console-consumer.sh. Without --partition it subscribes
// to the topic through a consumer group: --group (or group.id), whose offsets it commits every
// auto.commit.interval.ms and on close, or else a generated `console-consumer-<n>` group that
// commits nothing (enable.auto.commit=false unless given), as Kafka 3.9's tool does. With
// --partition it assigns that partition and seeks (--offset, or earliest/latest), committing to
// the group only if one was given. Where a group has no committed offset, it starts at the latest
// offset unless --from-beginning (auto.offset.reset). Each record is printed with
// DefaultMessageFormatter's rules; it stops after --max-messages, after --timeout-ms without a
// record, or on SIGINT/SIGTERM, then prints "Processed a total of N messages" on stderr.
import { Command } from 'commander';
import { CliError, clientFor, collect, parseInteger, parseKeyValues, processIo, runAction } from './command-io.ts';
import type { CommandIo } from './command-io.ts';
import { formatRecord, formatterConfig } from './message-formatter.ts';
import type { FormatterConfig } from './message-formatter.ts';
import { DEFAULT_AUTO_COMMIT_INTERVAL_MS, GroupConsumer } from './group-consumer.ts';
import type { GroupMemberSettings } from './group-member.ts';
import type { StartPosition } from './record-consumer.ts';

export interface ConsoleConsumerOptions {
  bootstrapServer: string;
  topic: string;
  partition?: number;
  start: StartPosition;
  /** -1: no limit. */
  maxMessages: number;
  /** undefined: wait for ever. */
  timeoutMs?: number;
  isolationLevel: number;
  formatter: FormatterConfig;
  maxPartitionFetchBytes?: number;
  /** group.id: the one given, or a generated one. */
  groupId: string;
  /** enable.auto.commit: true when a group was given, false for a generated one, unless set. */
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  /** client.id and the group member's timeouts from --consumer-property. */
  member: Partial<GroupMemberSettings> & { clientId: string };
}

interface RawConsoleConsumerOptions {
  bootstrapServer?: string;
  topic?: string;
  include?: string;
  partition?: string;
  offset?: string;
  fromBeginning?: boolean;
  maxMessages?: string;
  timeoutMs?: string;
  property?: string[];
  consumerProperty?: string[];
  isolationLevel?: string;
  group?: string;
  formatter?: string;
}

export function defineConsoleConsumerOptions(cmd: Command): Command {
  return cmd
    .description('Print the records of a topic on standard output (kafka-console-consumer).')
    .option('--bootstrap-server <server>', 'REQUIRED: the Kafka server(s) to connect to, host:port[,host:port]')
    .option('--topic <topic>', 'The topic to consume from.')
    .option('--partition <n>', 'Consume only this partition (default: all partitions of the topic).')
    .option('--offset <offset>', "Where to start in --partition: 'earliest', 'latest' or an offset.")
    .option('--from-beginning', 'Start at the earliest offset instead of the latest.')
    .option('--max-messages <n>', 'Exit after this many records.')
    .option('--timeout-ms <ms>', 'Exit when no record arrived for this long.')
    .option('--property <prop>', 'Formatter properties: print.timestamp, print.partition, print.offset, print.headers, print.key, print.value, key.separator, line.separator, headers.separator, headers.key.separator, null.literal (repeatable).', collect)
    .option('--formatter-property <prop>', 'Same as --property.', collect)
    .option('--consumer-property <prop>', 'A consumer property: group.id, client.id, enable.auto.commit, auto.commit.interval.ms, auto.offset.reset, isolation.level, max.partition.fetch.bytes, session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms (repeatable).', collect)
    .option('--isolation-level <level>', 'read_committed or read_uncommitted.', 'read_uncommitted')
    .option('--formatter <class>', 'The message formatter; only the default one is available.')
    .option('--group <group>', 'The consumer group id of the consumer.');
}

export function toConsoleConsumerOptions(raw: RawConsoleConsumerOptions & { formatterProperty?: string[] }): ConsoleConsumerOptions {
  if (raw.bootstrapServer === undefined) throw new CliError('Missing required argument "[bootstrap-server]"');
  if (raw.topic === undefined) throw new CliError(raw.include !== undefined ? '--include is not supported: give --topic' : 'Exactly one of --include/--topic is required.');
  if (raw.formatter !== undefined && !/DefaultMessageFormatter$/.test(raw.formatter)) throw new CliError(`Formatter ${raw.formatter} is not available; only kafka.tools.DefaultMessageFormatter is`);
  const partition = parseInteger('--partition', raw.partition, 0);
  if (raw.offset !== undefined && partition === undefined) throw new CliError('The partition is required when offset is specified.');
  if (raw.offset !== undefined && raw.fromBeginning) throw new CliError("Options from-beginning and offset cannot be specified together.");
  const consumerProps = parseKeyValues(raw.consumerProperty ?? [], '--consumer-property');
  let isolation = consumerProps.get('isolation.level') ?? raw.isolationLevel ?? 'read_uncommitted';
  isolation = isolation.trim().toLowerCase();
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') {
    throw new CliError(`Invalid value ${isolation} for configuration isolation.level: String must be one of: read_committed, read_uncommitted`);
  }
  let start: StartPosition = raw.fromBeginning ? 'earliest' : ((consumerProps.get('auto.offset.reset') as 'earliest' | 'latest' | undefined) ?? 'latest');
  if (start !== 'earliest' && start !== 'latest') throw new CliError(`Invalid value ${String(start)} for configuration auto.offset.reset`);
  if (raw.offset !== undefined) {
    const v = raw.offset.trim().toLowerCase();
    if (v === 'earliest' || v === 'latest') start = v;
    else if (/^\d+$/.test(v)) start = BigInt(v);
    else throw new CliError(`The provided offset value '${raw.offset}' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.`);
  }
  const groupIds = new Set<string>();
  if (raw.group !== undefined) groupIds.add(raw.group);
  if (consumerProps.has('group.id')) groupIds.add(consumerProps.get('group.id')!);
  if (groupIds.size > 1) {
    throw new CliError(
      `The group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: ${[...groupIds].map((g) => `'${g}'`).join(', ')}`,
    );
  }
  const groupGiven = groupIds.size === 1;
  // A generated group is not meant to be used again: it commits nothing unless asked to.
  const groupId = groupGiven ? [...groupIds][0]! : `console-consumer-${Math.floor(Math.random() * 100_000)}`;
  const autoCommitText = consumerProps.get('enable.auto.commit')?.trim().toLowerCase();
  if (autoCommitText !== undefined && autoCommitText !== 'true' && autoCommitText !== 'false') {
    throw new CliError(`Invalid value ${autoCommitText} for configuration enable.auto.commit: Expected value to be either true or false`);
  }
  const intProp = (name: string, min: number): number | undefined => parseInteger(name, consumerProps.get(name), min);
  const member: Partial<GroupMemberSettings> & { clientId: string } = { clientId: consumerProps.get('client.id') ?? `consumer-${groupId}-1` };
  const sessionTimeoutMs = intProp('session.timeout.ms', 1);
  const heartbeatIntervalMs = intProp('heartbeat.interval.ms', 1);
  const rebalanceTimeoutMs = intProp('max.poll.interval.ms', 1);
  if (sessionTimeoutMs !== undefined) member.sessionTimeoutMs = sessionTimeoutMs;
  if (heartbeatIntervalMs !== undefined) member.heartbeatIntervalMs = heartbeatIntervalMs;
  if (rebalanceTimeoutMs !== undefined) member.rebalanceTimeoutMs = rebalanceTimeoutMs;
  const maxPartitionFetchBytes = consumerProps.has('max.partition.fetch.bytes') ? parseInteger('max.partition.fetch.bytes', consumerProps.get('max.partition.fetch.bytes'), 1) : undefined;
  return {
    bootstrapServer: raw.bootstrapServer,
    topic: raw.topic,
    partition,
    start,
    maxMessages: parseInteger('--max-messages', raw.maxMessages, 1) ?? -1,
    timeoutMs: parseInteger('--timeout-ms', raw.timeoutMs, 0),
    isolationLevel: isolation === 'read_committed' ? 1 : 0,
    formatter: formatterConfig(parseKeyValues([...(raw.property ?? []), ...(raw.formatterProperty ?? [])], '--property')),
    maxPartitionFetchBytes,
    groupId,
    autoCommit: autoCommitText === undefined ? groupGiven : autoCommitText === 'true',
    autoCommitIntervalMs: intProp('auto.commit.interval.ms', 0) ?? DEFAULT_AUTO_COMMIT_INTERVAL_MS,
    member,
  };
}

export interface ConsumeControl {
  /** Set to stop after the current poll (a signal). */
  stopped: boolean;
  /** Set while consuming: cuts short a wait for a rebalance (Kafka's consumer.wakeup()). */
  wake?: () => void;
}

export async function runConsoleConsumer(o: ConsoleConsumerOptions, io: CommandIo, control: ConsumeControl = { stopped: false }): Promise<void> {
  const client = clientFor(o.bootstrapServer, o.member.clientId);
  let count = 0;
  const consumer = new GroupConsumer(client, o.topic, {
    groupId: o.groupId,
    autoCommit: o.autoCommit,
    autoCommitIntervalMs: o.autoCommitIntervalMs,
    member: o.member,
    consumer: {
      isolationLevel: o.isolationLevel,
      autoOffsetReset: o.start === 'earliest' ? 'earliest' : 'latest',
      ...(o.maxPartitionFetchBytes !== undefined ? { partitionMaxBytes: o.maxPartitionFetchBytes } : {}),
    },
  });
  control.wake = () => consumer.wakeup();
  try {
    const all = await consumer.partitions();
    if (o.partition !== undefined) {
      if (!all.includes(o.partition)) {
        throw new CliError(`Error processing message, terminating consumer process: partition ${o.partition} of topic ${o.topic} does not exist`);
      }
      await consumer.assign([o.partition], o.start);
    }
    let lastRecordAt = Date.now();
    while (!control.stopped && (o.maxMessages < 0 || count < o.maxMessages)) {
      if (o.timeoutMs !== undefined && Date.now() - lastRecordAt >= o.timeoutMs) {
        io.err('ERROR Error processing message, terminating consumer process: org.apache.kafka.common.errors.TimeoutException\n');
        break;
      }
      const records = await consumer.poll();
      if (records.length === 0) continue;
      lastRecordAt = Date.now();
      let text = '';
      for (const r of records) {
        if (o.maxMessages >= 0 && count >= o.maxMessages) break;
        text += formatRecord(o.formatter, r);
        count++;
      }
      io.out(text);
    }
  } finally {
    io.err(`Processed a total of ${count} messages\n`);
    control.wake = undefined;
    try {
      await consumer.close();
    } finally {
      await client.close();
    }
  }
}

export function consoleConsumerCommand(io: CommandIo = processIo): Command {
  return defineConsoleConsumerOptions(new Command('console-consumer')).action(async (raw: RawConsoleConsumerOptions) => {
    const control: ConsumeControl = { stopped: false };
    const stop = (): void => {
      control.stopped = true;
      control.wake?.();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await runAction(io, 'ERROR Error processing message, terminating consumer process: ', async () => runConsoleConsumer(toConsoleConsumerOptions(raw), io, control));
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}
