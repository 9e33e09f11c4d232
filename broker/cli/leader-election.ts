// `samsa leader-election`: Kafka's kafka-leader-election.sh. Sends one ElectLeaders request
// (PREFERRED or UNCLEAN) for every partition (--all-topic-partitions), one partition (--topic
// with --partition) or the partitions of a JSON file ({"partitions": [{"topic": t, "partition": p}]}),
// and prints what LeaderElectionCommand prints: the partitions elected, those whose valid replica
// already leads (ELECTION_NOT_NEEDED), and one line per failure, then fails with
// "N replica(s) could not be elected" if any did.
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { ElectLeadersResponse } from '../../protocol/generated/message/elect-leaders-response.ts';
import { javaExceptionName, runAdmin } from './admin-connection.ts';
import { CliError, processIo } from './command-io.ts';
import type { CommandIo } from './command-io.ts';

export type ElectionTypeName = 'PREFERRED' | 'UNCLEAN';
const ELECTION_TYPES: Record<ElectionTypeName, number> = { PREFERRED: 0, UNCLEAN: 1 };

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

export interface LeaderElectionOptions {
  bootstrapServer?: string;
  electionType?: string;
  allTopicPartitions?: boolean;
  topic?: string;
  partition?: string;
  pathToJsonFile?: string;
}

export function parseElectionType(value: string | undefined): ElectionTypeName {
  if (value === undefined) throw new CliError('Missing required option(s) [election-type]');
  const name = value.toUpperCase();
  if (name !== 'PREFERRED' && name !== 'UNCLEAN') throw new CliError(`Cannot convert ${value} to election type: expected PREFERRED or UNCLEAN`);
  return name;
}

/** The partitions of a JSON file, refused as Kafka refuses a malformed or repetitive one. */
export function parseElectionJson(text: string): TopicPartitionRef[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new CliError(`Invalid JSON in the partitions file: ${(e as Error).message}`);
  }
  const list = (data as { partitions?: unknown })?.partitions;
  if (!Array.isArray(list)) throw new CliError('Replica election data is missing "partitions" field');
  const out: TopicPartitionRef[] = [];
  for (const item of list) {
    const { topic, partition } = (item ?? {}) as { topic?: unknown; partition?: unknown };
    if (typeof topic !== 'string' || typeof partition !== 'number' || !Number.isInteger(partition)) {
      throw new CliError(`Invalid partition in the partitions file: ${JSON.stringify(item)}`);
    }
    out.push({ topic, partition });
  }
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const p of out) {
    const k = `${p.topic}-${p.partition}`;
    if (seen.has(k)) dups.add(k);
    seen.add(k);
  }
  if (dups.size > 0) throw new CliError(`Replica election data contains duplicate partitions: ${[...dups].join(',')}`);
  return out;
}

/** The partitions asked for (null: all), checked as LeaderElectionCommand checks its options. */
export async function electionPartitions(o: LeaderElectionOptions): Promise<TopicPartitionRef[] | null> {
  const given = [o.allTopicPartitions === true, o.topic !== undefined, o.pathToJsonFile !== undefined].filter(Boolean).length;
  if (given !== 1) throw new CliError('One and only one of the following options is required: all-topic-partitions, topic, path-to-json-file');
  if (o.allTopicPartitions) return null;
  if (o.pathToJsonFile !== undefined) {
    let text: string;
    try {
      text = await readFile(o.pathToJsonFile, 'utf8');
    } catch (e) {
      throw new CliError(`Unable to read ${o.pathToJsonFile}: ${(e as Error).message}`);
    }
    return parseElectionJson(text);
  }
  if (o.partition === undefined) throw new CliError('Missing required option(s) [partition]');
  const partition = Number(o.partition);
  if (!/^\d+$/.test(o.partition.trim()) || !Number.isSafeInteger(partition)) throw new CliError(`Invalid partition: ${o.partition}`);
  return [{ topic: o.topic!, partition }];
}

function group(partitions: readonly TopicPartitionRef[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const p of partitions) {
    const list = byTopic.get(p.topic) ?? [];
    list.push(p.partition);
    byTopic.set(p.topic, list);
  }
  return [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps }));
}

/** What the tool prints for an ElectLeaders answer, and how many partitions failed. */
export function formatElectionResults(electionType: ElectionTypeName, response: ElectLeadersResponse): { text: string; failures: number } {
  const succeeded: string[] = [];
  const noop: string[] = [];
  const failed: string[] = [];
  for (const t of response.replicaElectionResults) {
    for (const p of t.partitionResult) {
      const name = `${t.topic}-${p.partitionId}`;
      if (p.errorCode === ErrorCode.NONE) succeeded.push(name);
      else if (p.errorCode === ErrorCode.ELECTION_NOT_NEEDED) noop.push(name);
      else {
        const e = new KafkaError(p.errorCode as ErrorCodeValue, p.errorMessage ?? undefined);
        failed.push(`Error completing leader election (${electionType}) for partition: ${name}: org.apache.kafka.common.errors.${javaExceptionName(e.errorName)}: ${e.message}\n`);
      }
    }
  }
  let text = '';
  if (succeeded.length > 0) text += `Successfully completed leader election (${electionType}) for partitions ${succeeded.join(', ')}\n`;
  if (noop.length > 0) text += `Valid replica already elected for partitions ${noop.join(', ')}\n`;
  text += failed.join('');
  return { text, failures: failed.length };
}

async function elect(io: CommandIo, connect: () => Promise<KafkaConnection>, o: LeaderElectionOptions): Promise<void> {
  const electionType = parseElectionType(o.electionType);
  const partitions = await electionPartitions(o);
  const conn = await connect();
  const response = await conn.send(ApiKey.ElectLeaders, {
    electionType: ELECTION_TYPES[electionType],
    topicPartitions: partitions === null ? null : group(partitions),
    timeoutMs: 30_000,
  });
  if (response.errorCode !== undefined && response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode as ErrorCodeValue);
  const { text, failures } = formatElectionResults(electionType, response);
  io.out(text);
  if (failures > 0) throw new CliError(`${failures} replica(s) could not be elected`);
}

export function leaderElectionCommand(io: CommandIo = processIo): Command {
  return new Command('leader-election')
    .description('Elect preferred or unclean leaders for partitions (kafka-leader-election).')
    .option('--bootstrap-server <servers>', 'A hostname and port for the broker to connect to, in the form host:port. Multiple comma separated URLs can be given.')
    .option('--election-type <type>', 'Type of election to attempt. Possible values are "preferred" for preferred leader election or "unclean" for unclean leader election.')
    .option('--all-topic-partitions', 'Perform election on all of the eligible topic partitions based on the type of election.')
    .option('--topic <topic>', 'Name of topic for which to perform an election. Requires --partition.')
    .option('--partition <partition>', 'Partition id for which to perform an election. Requires --topic.')
    .option('--path-to-json-file <file>', 'The JSON file with the list of partitions for which leader elections should be performed.')
    .action(async (o: LeaderElectionOptions) => {
      await runAdmin(io, { bootstrapServer: o.bootstrapServer }, 'samsa-leader-election', (connect) => elect(io, connect, o));
    });
}
