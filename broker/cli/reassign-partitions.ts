// `samsa reassign-partitions`: Kafka's kafka-reassign-partitions.sh against a running cluster.
//   --generate  --topics-to-move-json-file F --broker-list 1,2,3: prints the current assignment of
//               those topics and a proposed one over the brokers listed (nothing is changed);
//   --execute   --reassignment-json-file F [--throttle B/s] [--replica-alter-log-dirs-throttle B/s]
//               [--additional]: prints the current assignment (to roll back with), sets the
//               throttles (rates on every broker involved, throttled replicas on the topics), and
//               starts the reassignments (AlterPartitionReassignments);
//   --verify    --reassignment-json-file F [--preserve-throttles]: prints each partition's state,
//               and once all are complete removes the throttles;
//   --cancel    --reassignment-json-file F [--preserve-throttles]: cancels those still going on;
//   --list:     prints the reassignments going on.
// Output and messages are Kafka's (reassign-partitions-plan.ts holds the formats). Moves between
// log directories of one broker are not supported: log_dirs must be "any".
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { AlterConfigOp, ConfigResourceType, type KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode, KafkaError, type ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { ConnectionError } from '../../protocol/client/connection-errors.ts';
import { CliError, clientFor, processIo, runAction, sleep, type CommandIo } from './command-io.ts';
import {
  compareTopicPartitions,
  currentReassignmentsToString,
  formatReassignmentJson,
  type OngoingReassignmentView,
  type PartitionAssignment,
  type PartitionReassignmentState,
  parseBrokerList,
  parseReassignmentJson,
  parseTopicsToMove,
  proposeAssignment,
  reassignmentStatesToString,
  throttledReplicas,
  tpName,
} from './reassign-partitions-plan.ts';

export interface ReassignOptions {
  bootstrapServer?: string;
  generate?: boolean;
  execute?: boolean;
  verify?: boolean;
  cancel?: boolean;
  list?: boolean;
  topicsToMoveJsonFile?: string;
  brokerList?: string;
  reassignmentJsonFile?: string;
  throttle?: string;
  replicaAlterLogDirsThrottle?: string;
  additional?: boolean;
  preserveThrottles?: boolean;
  disableRackAware?: boolean;
  timeout?: string;
}

const LEADER_RATE = 'leader.replication.throttled.rate';
const FOLLOWER_RATE = 'follower.replication.throttled.rate';
const LOG_DIR_RATE = 'replica.alter.log.dirs.io.max.bytes.per.second';
const LEADER_REPLICAS = 'leader.replication.throttled.replicas';
const FOLLOWER_REPLICAS = 'follower.replication.throttled.replicas';

const CANNOT_EXECUTE_EXISTING =
  'Cannot execute because there is an existing partition assignment.  Use --additional to override this and create a new partition assignment in addition to the existing one.';
const RUN_VERIFY = 'Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.';

async function readText(path: string | undefined, option: string): Promise<string> {
  if (path === undefined) throw new CliError(`Missing required argument "[${option}]"`);
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(`Unable to read ${path}: ${(e as Error).message}`);
  }
}

function parseRate(value: string | undefined, option: string): number {
  if (value === undefined) return -1;
  if (!/^-?\d+$/.test(value.trim())) throw new CliError(`Invalid value for ${option}: ${value}`);
  return Number(value);
}

/** How long a call is retried while its errors are retriable (Kafka's default.api.timeout.ms). */
const API_TIMEOUT_MS = 60_000;
const RETRY_BACKOFF_MS = 250;

/** Runs `call` again while it fails retriably (the controller moving, a lost connection), as Kafka's admin client does. */
async function retrying<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + API_TIMEOUT_MS;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      const retriable = (e instanceof KafkaError && e.retriable) || e instanceof ConnectionError;
      if (!retriable || Date.now() + RETRY_BACKOFF_MS > deadline) throw e;
    }
    await sleep(RETRY_BACKOFF_MS);
  }
}

function kafkaError(code: number, message: string | null | undefined): KafkaError {
  return new KafkaError(code as ErrorCodeValue, message ?? undefined);
}

/** The current replicas of every partition of `topics` (all of them must exist). */
async function currentAssignment(client: KafkaClient, topics: readonly string[]): Promise<PartitionAssignment[]> {
  await client.metadata([...topics]);
  const out: PartitionAssignment[] = [];
  for (const name of topics) {
    const t = client.topic(name);
    if (!t || t.errorCode !== ErrorCode.NONE) throw new CliError(`Topic ${name} not found.`);
    for (const p of t.partitions.values()) out.push({ topic: name, partition: p.partition, replicas: [...p.replicas] });
  }
  return out.sort(compareTopicPartitions);
}

/** The current replicas of the partitions named, by "topic-partition". */
async function replicasOf(client: KafkaClient, parts: readonly PartitionAssignment[]): Promise<Map<string, number[]>> {
  const topics = [...new Set(parts.map((p) => p.topic))];
  await client.metadata(topics);
  const out = new Map<string, number[]>();
  for (const p of parts) {
    const replicas = client.topic(p.topic)?.partitions.get(p.partition)?.replicas;
    if (!replicas) throw new CliError(`Unable to find partition: ${tpName(p)}`);
    out.set(tpName(p), [...replicas]);
  }
  return out;
}

async function listOngoing(client: KafkaClient, timeoutMs: number, parts?: readonly PartitionAssignment[]): Promise<OngoingReassignmentView[]> {
  let topics: { name: string; partitionIndexes: number[] }[] | null = null;
  if (parts) {
    const byTopic = new Map<string, number[]>();
    for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
  }
  const r = await retrying(async () => {
    const a = await client.send('any', ApiKey.ListPartitionReassignments, { timeoutMs, topics });
    if (a.errorCode !== ErrorCode.NONE) throw kafkaError(a.errorCode, a.errorMessage);
    return a;
  });
  return r.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas })));
}

/** Sends AlterPartitionReassignments; returns the failures as Kafka's tool prints them. */
async function alterReassignments(client: KafkaClient, timeoutMs: number, parts: readonly { topic: string; partition: number; replicas: number[] | null }[]): Promise<string[]> {
  const byTopic = new Map<string, { partitionIndex: number; replicas: number[] | null }[]>();
  for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), { partitionIndex: p.partition, replicas: p.replicas }]);
  const r = await retrying(async () => {
    const a = await client.send('any', ApiKey.AlterPartitionReassignments, { timeoutMs, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) });
    if (a.errorCode !== ErrorCode.NONE) throw kafkaError(a.errorCode, a.errorMessage);
    return a;
  });
  const errors: string[] = [];
  for (const t of r.responses) {
    for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE) errors.push(`${t.name}-${p.partitionIndex}: ${kafkaError(p.errorCode, p.errorMessage).message}`);
    }
  }
  return errors;
}

async function alterConfigs(client: KafkaClient, resourceType: number, resourceName: string, configs: { name: string; value: string | null }[]): Promise<void> {
  await retrying(async () => {
    const r = await client.incrementalAlterConfigs([
      { resourceType, resourceName, configs: configs.map((c) => ({ name: c.name, configOperation: c.value === null ? AlterConfigOp.DELETE : AlterConfigOp.SET, value: c.value })) },
    ]);
    for (const res of r.responses) if (res.errorCode !== ErrorCode.NONE) throw kafkaError(res.errorCode, res.errorMessage);
  });
}

/** Removes the throttle rates of every live broker and of the target replicas, and the topics' throttled replicas. */
async function clearAllThrottles(io: CommandIo, client: KafkaClient, parts: readonly PartitionAssignment[]): Promise<void> {
  await client.metadata([]);
  const brokers = [...new Set([...client.brokers.keys(), ...parts.flatMap((p) => p.replicas)])].filter((b) => client.brokers.has(b)).sort((a, b) => a - b);
  io.out(`Clearing broker-level throttles on broker${brokers.length === 1 ? '' : 's'} ${brokers.join(',')}\n`);
  for (const b of brokers) await alterConfigs(client, ConfigResourceType.BROKER, String(b), [LEADER_RATE, FOLLOWER_RATE, LOG_DIR_RATE].map((name) => ({ name, value: null })));
  const topics = [...new Set(parts.map((p) => p.topic))];
  io.out(`Clearing topic-level throttles on topic${topics.length === 1 ? '' : 's'} ${topics.join(',')}\n`);
  for (const t of topics) await alterConfigs(client, ConfigResourceType.TOPIC, t, [LEADER_REPLICAS, FOLLOWER_REPLICAS].map((name) => ({ name, value: null })));
}

async function generate(io: CommandIo, client: KafkaClient, o: ReassignOptions): Promise<void> {
  const topics = parseTopicsToMove(await readText(o.topicsToMoveJsonFile, 'topics-to-move-json-file'));
  const brokers = parseBrokerList(o.brokerList);
  await client.metadata([]);
  const missing = brokers.filter((b) => !client.brokers.has(b));
  if (missing.length > 0) throw new CliError(`The given broker list contains brokers that are not registered: ${missing.join(',')}`);
  const current = await currentAssignment(client, topics);
  const proposed = proposeAssignment(current, brokers);
  io.out(`Current partition replica assignment\n${formatReassignmentJson(current)}\n\n`);
  io.out(`Proposed partition reassignment configuration\n${formatReassignmentJson(proposed)}\n`);
}

async function execute(io: CommandIo, client: KafkaClient, o: ReassignOptions, timeoutMs: number): Promise<void> {
  const proposed = parseReassignmentJson(await readText(o.reassignmentJsonFile, 'reassignment-json-file'));
  const throttle = parseRate(o.throttle, '--throttle');
  const logDirThrottle = parseRate(o.replicaAlterLogDirsThrottle, '--replica-alter-log-dirs-throttle');
  const ongoing = await listOngoing(client, timeoutMs);
  if (ongoing.length > 0 && !o.additional) throw new CliError(CANNOT_EXECUTE_EXISTING);
  const current = await replicasOf(client, proposed);
  const currentParts = proposed.map((p) => ({ topic: p.topic, partition: p.partition, replicas: current.get(tpName(p))! }));
  io.out(`Current partition replica assignment\n\n${formatReassignmentJson(currentParts)}\n\nSave this to use as the --reassignment-json-file option during rollback\n`);
  if (throttle >= 0 || logDirThrottle >= 0) {
    io.out(`${RUN_VERIFY}\n`);
    const moving = new Set<number>();
    for (const p of proposed) for (const r of [...p.replicas, ...current.get(tpName(p))!]) moving.add(r);
    if (throttle >= 0) {
      for (const [topic, t] of throttledReplicas(proposed, current)) {
        await alterConfigs(client, ConfigResourceType.TOPIC, topic, [
          { name: LEADER_REPLICAS, value: t.leader.join(',') },
          { name: FOLLOWER_REPLICAS, value: t.follower.join(',') },
        ]);
      }
      for (const b of [...moving].sort((x, y) => x - y)) {
        await alterConfigs(client, ConfigResourceType.BROKER, String(b), [
          { name: LEADER_RATE, value: String(throttle) },
          { name: FOLLOWER_RATE, value: String(throttle) },
        ]);
      }
      io.out(`The inter-broker throttle limit was set to ${throttle} B/s\n`);
    }
    if (logDirThrottle >= 0) {
      for (const b of [...moving].sort((x, y) => x - y)) await alterConfigs(client, ConfigResourceType.BROKER, String(b), [{ name: LOG_DIR_RATE, value: String(logDirThrottle) }]);
      io.out(`The replica-alter-dir throttle limit was set to ${logDirThrottle} B/s\n`);
    }
  }
  const errors = await alterReassignments(client, timeoutMs, proposed);
  if (errors.length > 0) throw new CliError(`Error reassigning partition(s):\n${errors.join('\n')}`);
  io.out(`Successfully started partition reassignment${proposed.length === 1 ? '' : 's'} for ${[...proposed].sort(compareTopicPartitions).map(tpName).join(',')}\n`);
}

async function verify(io: CommandIo, client: KafkaClient, o: ReassignOptions, timeoutMs: number): Promise<void> {
  const target = parseReassignmentJson(await readText(o.reassignmentJsonFile, 'reassignment-json-file'));
  const ongoing = new Set((await listOngoing(client, timeoutMs, target)).map(tpName));
  const current = await replicasOf(client, target);
  const states = new Map<string, PartitionReassignmentState & { topic: string; partition: number }>();
  for (const p of target) states.set(tpName(p), { topic: p.topic, partition: p.partition, currentReplicas: current.get(tpName(p))!, targetReplicas: p.replicas, done: !ongoing.has(tpName(p)) });
  io.out(`${reassignmentStatesToString(states)}\n`);
  if (ongoing.size === 0 && !o.preserveThrottles) await clearAllThrottles(io, client, target);
}

async function cancel(io: CommandIo, client: KafkaClient, o: ReassignOptions, timeoutMs: number): Promise<void> {
  const target = parseReassignmentJson(await readText(o.reassignmentJsonFile, 'reassignment-json-file'));
  const ongoing = await listOngoing(client, timeoutMs, target);
  if (ongoing.length > 0) {
    const errors = await alterReassignments(client, timeoutMs, ongoing.map((p) => ({ topic: p.topic, partition: p.partition, replicas: null })));
    if (errors.length > 0) throw new CliError(`Error cancelling partition reassignment${errors.length === 1 ? '' : 's'} for:\n${errors.join('\n')}`);
  }
  if (!o.preserveThrottles) await clearAllThrottles(io, client, target);
  if (ongoing.length > 0) io.out(`Successfully cancelled partition reassignment${ongoing.length === 1 ? '' : 's'} for: ${[...ongoing].sort(compareTopicPartitions).map(tpName).join(',')}\n`);
  else io.out('None of the specified partition reassignments are active.\n');
}

export async function runReassignPartitions(o: ReassignOptions, io: CommandIo = processIo): Promise<void> {
  const actions = [o.generate, o.execute, o.verify, o.cancel, o.list].filter(Boolean).length;
  if (actions !== 1) throw new CliError('Command must include exactly one action: --generate, --execute, --verify, --cancel, --list');
  if (o.bootstrapServer === undefined) throw new CliError('Please specify --bootstrap-server');
  const timeoutMs = o.timeout === undefined ? 10_000 : Number(o.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new CliError(`Invalid value for --timeout: ${o.timeout}`);
  const client = clientFor(o.bootstrapServer, 'samsa-reassign-partitions', { requestTimeoutMs: Math.max(timeoutMs, 30_000) });
  try {
    await client.connect();
    if (o.generate) await generate(io, client, o);
    else if (o.execute) await execute(io, client, o, timeoutMs);
    else if (o.verify) await verify(io, client, o, timeoutMs);
    else if (o.cancel) await cancel(io, client, o, timeoutMs);
    else io.out(`${currentReassignmentsToString(await listOngoing(client, timeoutMs))}\n`);
  } finally {
    await client.close();
  }
}

export function reassignPartitionsCommand(io: CommandIo = processIo): Command {
  return new Command('reassign-partitions')
    .description('Move partition replicas between brokers (kafka-reassign-partitions).')
    .option('--bootstrap-server <servers>', 'the server(s) to use for bootstrapping')
    .option('--generate', 'Generate a candidate partition reassignment configuration (nothing is executed).')
    .option('--execute', 'Kick off the reassignment as specified by the --reassignment-json-file option.')
    .option('--verify', 'Verify if the reassignment completed as specified by --reassignment-json-file; removes the throttles once it has.')
    .option('--cancel', 'Cancel the active reassignments of the partitions in --reassignment-json-file.')
    .option('--list', 'List all active partition reassignments.')
    .option('--topics-to-move-json-file <file>', 'Generate a reassignment moving the partitions of these topics ({"topics":[{"topic":"foo"}],"version":1}).')
    .option('--broker-list <ids>', 'The brokers to assign partitions to with --generate, e.g. "0,1,2".')
    .option('--reassignment-json-file <file>', 'The partition reassignment JSON, as --generate proposes it.')
    .option('--throttle <bytes/s>', 'The movement of partitions between brokers is throttled to this value (bytes/sec).')
    .option('--replica-alter-log-dirs-throttle <bytes/s>', 'The movement of replicas between log directories on one broker is throttled to this value (bytes/sec).')
    .option('--additional', 'Execute this reassignment in addition to any other ongoing ones.')
    .option('--preserve-throttles', 'Do not modify the throttles on --verify and --cancel.')
    .option('--disable-rack-aware', 'Disable rack aware replica assignment (placement is never rack aware here).')
    .option('--timeout <ms>', 'How long the reassignment calls may take (ms).', '10000')
    .action(async (o: ReassignOptions) => {
      await runAction(io, 'Error: ', () => runReassignPartitions(o, io));
    });
}
