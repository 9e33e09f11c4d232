// `samsa log-dirs --describe`: Kafka's kafka-log-dirs.sh. Asks each broker (all, or those of
// --broker-list) for its log directories with DescribeLogDirs, sent to that broker since each
// answers only for its own, and prints Kafka's JSON: per broker, per log dir, the error (null when
// fine) and every replica's size, offset lag and whether it is a future replica, optionally only
// for the topics of --topic-list.
import { Command } from 'commander';
import { ErrorCode, errorByCode } from '../../protocol/errors.ts';
import type { KafkaClient } from '../../protocol/client/client.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DescribeLogDirsResult } from '../../protocol/generated/message/describe-log-dirs-response.ts';
import { javaExceptionName } from './admin-connection.ts';
import { CliError, clientFor, processIo, runAction, type CommandIo } from './command-io.ts';

export interface LogDirsOptions {
  bootstrapServer?: string;
  describe?: boolean;
  brokerList?: string;
  topicList?: string;
}

export interface BrokerLogDirs {
  broker: number;
  logDirs: { logDir: string; error: string | null; partitions: { partition: string; size: number; offsetLag: number; isFuture: boolean }[] }[];
}

function parseList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** One broker's answer as the tool prints it; `topics` empty means every topic. */
export function brokerLogDirs(broker: number, results: readonly DescribeLogDirsResult[], topics: readonly string[]): BrokerLogDirs {
  return {
    broker,
    logDirs: results.map((d) => ({
      logDir: d.logDir,
      error: d.errorCode === ErrorCode.NONE ? null : `org.apache.kafka.common.errors.${javaExceptionName(errorByCode(d.errorCode).name.replace(/_ERROR$/, ''))}`,
      partitions: d.topics
        .filter((t) => topics.length === 0 || topics.includes(t.name))
        .flatMap((t) => t.partitions.map((p) => ({ partition: `${t.name}-${p.partitionIndex}`, size: Number(p.partitionSize), offsetLag: Number(p.offsetLag), isFuture: p.isFutureKey }))),
    })),
  };
}

export function formatLogDirsJson(brokers: readonly BrokerLogDirs[]): string {
  return JSON.stringify({ brokers, version: 1 });
}

async function describe(io: CommandIo, client: KafkaClient, o: LogDirsOptions): Promise<void> {
  await client.metadata([]);
  const existing = [...client.brokers.keys()].sort((a, b) => a - b);
  const asked = parseList(o.brokerList).map((s) => {
    if (!/^\d+$/.test(s)) throw new CliError(`Invalid broker id in --broker-list: ${s}`);
    return Number(s);
  });
  const missing = asked.filter((b) => !existing.includes(b));
  if (missing.length > 0) throw new CliError(`ERROR: The given brokers do not exist from --broker-list: ${missing.join(',')}. Current existent brokers: ${existing.join(',')}`);
  const brokers = asked.length > 0 ? asked : existing;
  const topics = parseList(o.topicList);
  io.out('Querying brokers for log directories information\n');
  const out: BrokerLogDirs[] = [];
  for (const b of brokers) {
    const r = await client.send({ nodeId: b }, ApiKey.DescribeLogDirs, { topics: null });
    if (r.errorCode !== undefined && r.errorCode !== ErrorCode.NONE) throw new CliError(`Broker ${b} refused DescribeLogDirs: ${errorByCode(r.errorCode).name}`);
    out.push(brokerLogDirs(b, r.results, topics));
  }
  io.out(`Received log directory information from brokers ${brokers.join(',')}\n`);
  io.out(`${formatLogDirsJson(out)}\n`);
}

export async function runLogDirs(o: LogDirsOptions, io: CommandIo = processIo): Promise<void> {
  if (!o.describe) throw new CliError('Command must include exactly one action: --describe');
  const client = clientFor(o.bootstrapServer, 'samsa-log-dirs');
  try {
    await describe(io, client, o);
  } finally {
    await client.close();
  }
}

export function logDirsCommand(io: CommandIo = processIo): Command {
  return new Command('log-dirs')
    .description('Describe the log directories of brokers and the replicas in them (kafka-log-dirs).')
    .option('--bootstrap-server <servers>', 'the server(s) to use for bootstrapping')
    .option('--describe', 'Describe the specified log directories on the specified brokers.')
    .option('--broker-list <ids>', 'The brokers to query, e.g. "0,1,2"; all brokers when absent.')
    .option('--topic-list <topics>', 'The topics to show, e.g. "topic1,topic2"; all topics when absent.')
    .action(async (o: LogDirsOptions) => {
      await runAction(io, 'Error: ', () => runLogDirs(o, io));
    });
}
