// `samsa consumer-perf-test`: Kafka's kafka-consumer-perf-test.sh (ConsumerPerformance) with
// manual assignment of every partition from the earliest offset (or the latest with
// --from-latest). Consumes until --messages records or --timeout ms without a record, then prints
// Kafka's header and one CSV line. There is no group, so rebalance.time.ms is 0 and the fetch
// figures equal the totals.
import { Command } from 'commander';
import { CliError, clientFor, parseInteger, processIo, runAction } from './command-io.ts';
import type { CommandIo } from './command-io.ts';
import { RecordConsumer } from './record-consumer.ts';

export interface ConsumerPerfOptions {
  bootstrapServer: string;
  topic: string;
  messages: number;
  timeoutMs: number;
  fetchSize: number;
  fromLatest: boolean;
  hideHeader: boolean;
  showDetailedStats: boolean;
  reportingIntervalMs: number;
  dateFormat?: string;
}

interface RawConsumerPerfOptions {
  bootstrapServer?: string;
  topic?: string;
  messages?: string;
  timeout?: string;
  fetchSize?: string;
  fromLatest?: boolean;
  hideHeader?: boolean;
  showDetailedStats?: boolean;
  reportingInterval?: string;
  group?: string;
}

export const HEADER = 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';
const DETAILED_HEADER = 'time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';

export function defineConsumerPerfOptions(cmd: Command): Command {
  return cmd
    .description('Measure consumer throughput (kafka-consumer-perf-test).')
    .option('--bootstrap-server <server>', 'REQUIRED: the Kafka server(s) to connect to, host:port[,host:port]')
    .option('--topic <topic>', 'REQUIRED: the topic to consume from.')
    .option('--messages <n>', 'REQUIRED: the number of records to consume.')
    .option('--timeout <ms>', 'The longest wait between two records before giving up.', '10000')
    .option('--fetch-size <bytes>', 'max.partition.fetch.bytes: the bytes to fetch per partition per request.', '1048576')
    .option('--from-latest', 'Start at the latest offset instead of the earliest.')
    .option('--hide-header', 'Do not print the header line.')
    .option('--show-detailed-stats', 'Print a line every --reporting-interval.')
    .option('--reporting-interval <ms>', 'Interval of detailed stats.', '5000')
    .option('--group <group>', 'A consumer group (not available yet).');
}

export function toConsumerPerfOptions(raw: RawConsumerPerfOptions): ConsumerPerfOptions {
  if (raw.group !== undefined) throw new CliError('Consumer groups are not available yet in samsa consumer-perf-test: leave out --group (partitions are assigned manually).');
  if (raw.bootstrapServer === undefined) throw new CliError('Missing required argument "[bootstrap-server]"');
  if (raw.topic === undefined) throw new CliError('Missing required argument "[topic]"');
  if (raw.messages === undefined) throw new CliError('Missing required argument "[messages]"');
  return {
    bootstrapServer: raw.bootstrapServer,
    topic: raw.topic,
    messages: parseInteger('--messages', raw.messages, 1)!,
    timeoutMs: parseInteger('--timeout', raw.timeout, 1) ?? 10_000,
    fetchSize: parseInteger('--fetch-size', raw.fetchSize, 1) ?? 1_048_576,
    fromLatest: raw.fromLatest === true,
    hideHeader: raw.hideHeader === true,
    showDetailedStats: raw.showDetailedStats === true,
    reportingIntervalMs: parseInteger('--reporting-interval', raw.reportingInterval, 1) ?? 5000,
  };
}

/** Kafka's default --date-format, yyyy-MM-dd HH:mm:ss:SSS, in local time. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}:${p(d.getMilliseconds(), 3)}`;
}

export function resultLine(startMs: number, endMs: number, bytes: number, messages: number, rebalanceMs = 0): string {
  const elapsedSecs = (endMs - startMs) / 1000;
  const mb = bytes / (1024 * 1024);
  const fetchMs = endMs - startMs - rebalanceMs;
  const fetchSecs = fetchMs / 1000;
  return [
    formatDate(startMs),
    formatDate(endMs),
    mb.toFixed(4),
    (mb / elapsedSecs).toFixed(4),
    String(messages),
    (messages / elapsedSecs).toFixed(4),
    String(rebalanceMs),
    String(fetchMs),
    (mb / fetchSecs).toFixed(4),
    (messages / fetchSecs).toFixed(4),
  ].join(', ');
}

export async function runConsumerPerf(o: ConsumerPerfOptions, io: CommandIo): Promise<void> {
  const client = clientFor(o.bootstrapServer, 'perf-consumer-client');
  try {
    const consumer = new RecordConsumer(client, o.topic, { partitionMaxBytes: o.fetchSize, autoOffsetReset: o.fromLatest ? 'latest' : 'earliest' });
    const partitions = await consumer.partitions();
    if (!o.hideHeader && !o.showDetailedStats) io.out(`${HEADER}\n`);
    if (!o.hideHeader && o.showDetailedStats) io.out(`${DETAILED_HEADER}\n`);
    const startMs = Date.now();
    await consumer.assign(partitions, o.fromLatest ? 'latest' : 'earliest');
    let messages = 0;
    let bytes = 0;
    let lastConsumed = Date.now();
    let lastReport = startMs;
    let reportedMessages = 0;
    let reportedBytes = 0;
    while (messages < o.messages && Date.now() - lastConsumed <= o.timeoutMs) {
      const records = await consumer.poll();
      const now = Date.now();
      if (records.length > 0) lastConsumed = now;
      for (const r of records) {
        if (messages >= o.messages) break;
        messages++;
        bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
      }
      if (o.showDetailedStats && now - lastReport >= o.reportingIntervalMs) {
        const line = resultLine(lastReport, now, bytes - reportedBytes, messages - reportedMessages).split(', ');
        io.out([formatDate(now), '0', (bytes / 1048576).toFixed(4), line[3], String(messages), line[5], '0', String(now - lastReport), line[8], line[9]].join(', ') + '\n');
        lastReport = now;
        reportedBytes = bytes;
        reportedMessages = messages;
      }
    }
    const endMs = Date.now();
    if (messages < o.messages) {
      io.err(`WARNING: Exiting before consuming the expected number of messages: timeout (${o.timeoutMs} ms) exceeded. You can use the --timeout option to increase the timeout.\n`);
    }
    if (!o.showDetailedStats) io.out(resultLine(startMs, endMs, bytes, messages) + '\n');
  } finally {
    await client.close();
  }
}

export function consumerPerfTestCommand(io: CommandIo = processIo): Command {
  return defineConsumerPerfOptions(new Command('consumer-perf-test')).action(async (raw: RawConsumerPerfOptions) => {
    await runAction(io, '', async () => runConsumerPerf(toConsumerPerfOptions(raw), io));
  });
}
