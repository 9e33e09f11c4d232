// `samsa metadata-quorum`: Kafka's kafka-metadata-quorum.sh. `describe --status` prints the
// quorum summary (cluster id from DescribeCluster, leader, epoch, high watermark, the largest
// follower lag in offsets and in time, voters and observers with their directory ids and
// endpoints); `describe --replication [--human-readable]` prints one row per replica, leader
// first, then followers and observers. `add-controller` reads the joining controller's
// properties (--command-config: node.id, the directory id in its metadata directory's
// meta.properties, its controller listeners) and sends AddRaftVoter; `remove-controller` sends
// RemoveRaftVoter. Requests go to the first reachable address of --bootstrap-server (a broker) or
// --bootstrap-controller (a controller listener). Output lines and refusals are worded as
// MetadataQuorumCommand's; a failed call prints the Java exception's class and message on stderr.
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DescribeQuorumResponse } from '../../protocol/generated/message/describe-quorum-response.ts';
import { ZERO_UUID, uuidToBytes } from '../../protocol/uuid.ts';
import { parseProperties } from '../../storage/java-properties.ts';
import { MetaPropertiesError, readMetaProperties } from '../../storage/meta-properties.ts';
import { runAdmin } from './admin-connection.ts';
import type { BootstrapChoice } from './admin-connection.ts';
import { CliError, processIo } from './command-io.ts';
import type { CommandIo } from './command-io.ts';
import { prettyTable } from './pretty-table.ts';

const METADATA_TOPIC = '__cluster_metadata';
const CLIENT_ID = 'samsa-metadata-quorum';
const REQUEST_TIMEOUT_MS = 30_000;

export interface RaftVoterEndpoint {
  listener: string;
  host: string;
  port: number;
}

export interface ReplicaState {
  replicaId: number;
  replicaDirectoryId: string;
  logEndOffset: bigint;
  /** undefined where the response says -1 (unknown), as Kafka's QuorumInfo's empty OptionalLong. */
  lastFetchTimestamp?: bigint;
  lastCaughtUpTimestamp?: bigint;
}

/** Kafka's QuorumInfo: what describe prints, decoded from a DescribeQuorum response. */
export interface QuorumInfo {
  leaderId: number;
  leaderEpoch: number;
  highWatermark: bigint;
  voters: ReplicaState[];
  observers: ReplicaState[];
  /** Voter endpoints by node id (DescribeQuorum v2+; empty before). */
  nodes: Map<number, RaftVoterEndpoint[]>;
}

/** Decodes a DescribeQuorum response as Kafka's admin client does, throwing its errors. */
export function quorumInfoFrom(response: DescribeQuorumResponse): QuorumInfo {
  if (response.errorCode !== ErrorCode.NONE) {
    throw new KafkaError(response.errorCode as ErrorCodeValue, response.errorMessage || undefined);
  }
  const topic = response.topics[0];
  if (response.topics.length !== 1 || topic === undefined || topic.topicName !== METADATA_TOPIC) {
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeMetadataQuorum response did not contain the ${METADATA_TOPIC} topic`);
  }
  const partition = topic.partitions[0];
  if (topic.partitions.length !== 1 || partition === undefined || partition.partitionIndex !== 0) {
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeMetadataQuorum response did not contain ${METADATA_TOPIC}-0`);
  }
  if (partition.errorCode !== ErrorCode.NONE) {
    throw new KafkaError(partition.errorCode as ErrorCodeValue, partition.errorMessage || undefined);
  }
  const replica = (r: DescribeQuorumResponse['topics'][number]['partitions'][number]['currentVoters'][number]): ReplicaState => ({
    replicaId: r.replicaId,
    replicaDirectoryId: r.replicaDirectoryId ?? ZERO_UUID,
    logEndOffset: r.logEndOffset,
    lastFetchTimestamp: r.lastFetchTimestamp === undefined || r.lastFetchTimestamp === -1n ? undefined : r.lastFetchTimestamp,
    lastCaughtUpTimestamp: r.lastCaughtUpTimestamp === undefined || r.lastCaughtUpTimestamp === -1n ? undefined : r.lastCaughtUpTimestamp,
  });
  const nodes = new Map<number, RaftVoterEndpoint[]>();
  for (const n of response.nodes ?? []) nodes.set(n.nodeId, n.listeners.map((l) => ({ listener: l.name, host: l.host, port: l.port })));
  return {
    leaderId: partition.leaderId,
    leaderEpoch: partition.leaderEpoch,
    highWatermark: partition.highWatermark,
    voters: partition.currentVoters.map(replica),
    observers: partition.observers.map(replica),
    nodes,
  };
}

/** RaftVoterEndpoint's text: LISTENER://host:port, an IPv6 host in brackets. */
export function endpointString(e: RaftVoterEndpoint): string {
  return `${e.listener}://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

function replicaList(info: QuorumInfo, replicas: readonly ReplicaState[]): string {
  const items = replicas.map((r) => {
    let s = `{"id": ${r.replicaId}`;
    if (r.replicaDirectoryId !== ZERO_UUID) s += `, "directoryId": "${r.replicaDirectoryId}"`;
    const endpoints = info.nodes.get(r.replicaId) ?? [];
    if (endpoints.length > 0) s += `, "endpoints": [${endpoints.map((e) => `"${endpointString(e)}"`).join(', ')}]`;
    return s + '}';
  });
  return `[${items.join(', ')}]`;
}

function leaderOf(info: QuorumInfo): ReplicaState {
  const leader = info.voters.find((v) => v.replicaId === info.leaderId);
  if (leader === undefined) throw new CliError(`The metadata quorum has no leader among its voters (LeaderId ${info.leaderId}).`);
  return leader;
}

/** The lines of `describe --status`, as MetadataQuorumCommand prints them. */
export function formatStatus(clusterId: string, info: QuorumInfo): string {
  const leader = leaderOf(info);
  // The first voter with the smallest log end offset, as Java's Stream.min picks it.
  let maxLagFollower = info.voters[0]!;
  for (const v of info.voters) if (v.logEndOffset < maxLagFollower.logEndOffset) maxLagFollower = v;
  const maxFollowerLag = leader.logEndOffset - maxLagFollower.logEndOffset;
  let maxFollowerLagTimeMs: bigint;
  if (maxLagFollower === leader) maxFollowerLagTimeMs = 0n;
  else if (leader.lastCaughtUpTimestamp !== undefined && maxLagFollower.lastCaughtUpTimestamp !== undefined) {
    maxFollowerLagTimeMs = leader.lastCaughtUpTimestamp - maxLagFollower.lastCaughtUpTimestamp;
  } else maxFollowerLagTimeMs = -1n;
  return (
    `ClusterId:              ${clusterId}\n` +
    `LeaderId:               ${info.leaderId}\n` +
    `LeaderEpoch:            ${info.leaderEpoch}\n` +
    `HighWatermark:          ${info.highWatermark}\n` +
    `MaxFollowerLag:         ${maxFollowerLag}\n` +
    `MaxFollowerLagTimeMs:   ${maxFollowerLagTimeMs}\n` +
    `CurrentVoters:          ${replicaList(info, info.voters)}\n` +
    `CurrentObservers:       ${replicaList(info, info.observers)}\n`
  );
}

/** Milliseconds since a leader timestamp; refuses one in the future or at the epoch, as Kafka does. */
export function relativeTimeMs(timestampMs: bigint, desc: string, nowMs: number): bigint {
  const now = BigInt(nowMs);
  if (!(timestampMs > 0n && timestampMs <= now)) {
    throw new CliError(
      `Error while computing relative time, possible drift in system clock.\nCurrent timestamp is ${now}, ${desc} timestamp is ${timestampMs}`,
    );
  }
  return now - timestampMs;
}

/** The table of `describe --replication`: the leader, then followers, then observers. */
export function formatReplication(info: QuorumInfo, humanReadable: boolean, nowMs: number = Date.now()): string {
  const leader = leaderOf(info);
  const time = (t: bigint | undefined, desc: string): string => {
    if (t === undefined) return '-1';
    return humanReadable ? `${relativeTimeMs(t, desc, nowMs)} ms ago` : String(t);
  };
  const rows = (replicas: readonly ReplicaState[], status: string): string[][] =>
    replicas.map((r) => [
      String(r.replicaId),
      r.replicaDirectoryId,
      String(r.logEndOffset),
      String(leader.logEndOffset - r.logEndOffset),
      time(r.lastFetchTimestamp, 'last fetch'),
      time(r.lastCaughtUpTimestamp, 'last caught up'),
      status,
    ]);
  return prettyTable(
    ['NodeId', 'DirectoryId', 'LogEndOffset', 'Lag', 'LastFetchTimestamp', 'LastCaughtUpTimestamp', 'Status'],
    [...rows([leader], 'Leader'), ...rows(info.voters.filter((v) => v !== leader), 'Follower'), ...rows(info.observers, 'Observer')],
  );
}

export async function describeQuorum(conn: KafkaConnection): Promise<QuorumInfo> {
  const response = await conn.send(ApiKey.DescribeQuorum, { topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }] });
  return quorumInfoFrom(response);
}

/** The cluster id from DescribeCluster, asking a controller listener for controller endpoints (KIP-919). */
export async function describeClusterId(conn: KafkaConnection, kind: BootstrapChoice['kind']): Promise<string> {
  const response = await conn.send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: kind === 'controller' ? 2 : 1 });
  if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode as ErrorCodeValue, response.errorMessage || undefined);
  return response.clusterId;
}

/** Kafka's getControllerId: node.id of a controller's properties. */
export function controllerIdFrom(props: Readonly<Record<string, string>>): number {
  const raw = props['node.id'];
  if (raw === undefined) throw new CliError('node.id not found in configuration file. Is this a valid controller configuration file?');
  const nodeId = Number(raw.trim());
  if (!Number.isInteger(nodeId)) throw new CliError(`For input string: "${raw}"`);
  if (nodeId < 0) throw new CliError('node.id was negative in configuration file. Is this a valid controller configuration file?');
  if (!(props['process.roles'] ?? '').includes('controller')) {
    throw new CliError("process.roles did not contain 'controller' in configuration file. Is this a valid controller configuration file?");
  }
  return nodeId;
}

/** Kafka's getMetadataDirectory: metadata.log.dir, else the first of log.dirs. */
export function metadataDirectoryFrom(props: Readonly<Record<string, string>>): string {
  if (props['metadata.log.dir'] !== undefined) return props['metadata.log.dir'];
  const first = props['log.dirs']?.trim().split(',')[0];
  if (first !== undefined) return first.trim();
  throw new CliError('Neither metadata.log.dir nor log.dirs were found. Is this a valid controller configuration file?');
}

function parseListenerList(raw: string): Map<string, RaftVoterEndpoint> {
  const out = new Map<string, RaftVoterEndpoint>();
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([A-Za-z0-9_-]+):\/\/(\[[^\]]*\]|[^:]*):(-?\d+)$/.exec(item);
    if (m === null) throw new CliError(`Unable to parse ${item} to a broker endpoint`);
    let host = m[2]!;
    if (host.startsWith('[')) host = host.slice(1, -1);
    const listener = m[1]!.toUpperCase();
    out.set(listener, { listener, host: host === '' ? 'localhost' : host, port: Number(m[3]) });
  }
  return out;
}

/** Kafka's getControllerAdvertisedListeners: each controller listener, advertised.listeners winning over listeners. */
export function controllerEndpointsFrom(props: Readonly<Record<string, string>>): RaftVoterEndpoint[] {
  const listeners = parseListenerList(props['listeners'] ?? '');
  for (const [name, e] of parseListenerList(props['advertised.listeners'] ?? '')) listeners.set(name, e);
  if (props['controller.listener.names'] === undefined) {
    throw new CliError('controller.listener.names was not found. Is this a valid controller configuration file?');
  }
  const result: RaftVoterEndpoint[] = [];
  for (const raw of props['controller.listener.names'].split(',')) {
    const name = raw.trim().toUpperCase();
    const endpoint = listeners.get(name);
    if (endpoint === undefined) throw new CliError(`Cannot find information about controller listener name: ${name}`);
    if (!result.some((e) => e.listener === endpoint.listener && e.host === endpoint.host && e.port === endpoint.port)) result.push(endpoint);
  }
  return result;
}

async function metadataDirectoryId(dir: string): Promise<string> {
  let meta;
  try {
    meta = await readMetaProperties(dir);
  } catch (e) {
    if (e instanceof MetaPropertiesError) throw new CliError(`Unable to read meta.properties from ${dir}`);
    throw e;
  }
  if (meta === null) throw new CliError(`Unable to read meta.properties from ${dir}`);
  if (meta.directoryId === null) throw new CliError(`No directory id found in ${dir}`);
  return meta.directoryId;
}

function throwIfFailed(errorCode: number, errorMessage: string | null): void {
  if (errorCode !== ErrorCode.NONE) throw new KafkaError(errorCode as ErrorCodeValue, errorMessage || undefined);
}

export interface DescribeOptions {
  status?: boolean;
  replication?: boolean;
  humanReadable?: boolean;
}

/** Kafka's checks of the describe flags; returns which view to print. */
export function describeMode(o: DescribeOptions): 'status' | 'replication' {
  if (o.status && o.replication) throw new CliError('Only one of --status or --replication should be specified with describe sub-command');
  if (o.replication) return 'replication';
  if (o.status) {
    if (o.humanReadable) throw new CliError('The option --human-readable is only supported along with --replication');
    return 'status';
  }
  throw new CliError('One of --status or --replication must be specified with describe sub-command');
}

interface GlobalOptions {
  bootstrapServer?: string;
  bootstrapController?: string;
  commandConfig?: string;
}

function loadCommandConfig(path: string | undefined): Record<string, string> {
  if (path === undefined) return {};
  if (!existsSync(path)) throw new CliError(`Properties file ${path} does not exist.`);
  return parseProperties(readFileSync(path, 'utf8'));
}

export function metadataQuorumCommand(io: CommandIo = processIo, now: () => number = Date.now): Command {
  const cmd = new Command('metadata-quorum')
    .description('Describe the KRaft metadata quorum and add or remove controllers (kafka-metadata-quorum).')
    .option('--bootstrap-server <servers>', 'A comma-separated list of host:port pairs to use for establishing the connection to the Kafka cluster.')
    .option('--bootstrap-controller <controllers>', 'A comma-separated list of host:port pairs to use for establishing the connection to the Kafka controllers.')
    .option('--command-config <file>', 'Property file containing configs to be passed to Admin Client. For add-controller, the file is used to specify the controller properties as well.');
  const global = (): GlobalOptions => cmd.opts<GlobalOptions>();
  const run = (body: (connect: () => Promise<KafkaConnection>, choice: BootstrapChoice) => Promise<void>): Promise<void> =>
    runAdmin(io, global(), CLIENT_ID, body, REQUEST_TIMEOUT_MS);

  cmd
    .command('describe')
    .description('Describe the metadata quorum info')
    .option('--status', 'A short summary of the quorum status and the other provides detailed information about the status of replication.')
    .option('--replication', 'Detailed information about the status of replication')
    .option('--human-readable', 'Human-readable output')
    .action(async (o: DescribeOptions) => {
      await run(async (connect, choice) => {
        loadCommandConfig(global().commandConfig);
        const mode = describeMode(o);
        const conn = await connect();
        if (mode === 'status') {
          const clusterId = await describeClusterId(conn, choice.kind);
          io.out(formatStatus(clusterId, await describeQuorum(conn)));
        } else {
          const info = await describeQuorum(conn);
          io.out(formatReplication(info, o.humanReadable === true, now()));
        }
      });
    });

  cmd
    .command('add-controller')
    .description('Add a controller to the KRaft controller cluster')
    .option('--dry-run', 'True if we should print what would be done, but not do it.')
    .action(async (o: { dryRun?: boolean }) => {
      await run(async (connect) => {
        const props = loadCommandConfig(global().commandConfig);
        if (global().commandConfig === undefined) {
          throw new CliError('You must supply the configuration file of the controller you are adding when using add-controller.');
        }
        const controllerId = controllerIdFrom(props);
        const directoryId = await metadataDirectoryId(metadataDirectoryFrom(props));
        const endpoints = controllerEndpointsFrom(props);
        if (!o.dryRun) {
          const conn = await connect();
          const response = await conn.send(ApiKey.AddRaftVoter, {
            clusterId: null,
            timeoutMs: REQUEST_TIMEOUT_MS,
            voterId: controllerId,
            voterDirectoryId: directoryId,
            listeners: endpoints.map((e) => ({ name: e.listener, host: e.host, port: e.port })),
          });
          throwIfFailed(response.errorCode, response.errorMessage);
        }
        io.out(`${o.dryRun ? 'DRY RUN of adding' : 'Added'} controller ${controllerId} with directory id ${directoryId} and endpoints: ${endpoints.map(endpointString).join(', ')}\n`);
      });
    });

  cmd
    .command('remove-controller')
    .description('Remove a controller from the KRaft controller cluster')
    .option('-i, --controller-id <id>', 'The id of the controller to remove.')
    .option('-d, --controller-directory-id <id>', 'The directory ID of the controller to remove.')
    .option('--dry-run', 'True if we should print what would be done, but not do it.')
    .action(async (o: { controllerId?: string; controllerDirectoryId?: string; dryRun?: boolean }) => {
      await run(async (connect) => {
        loadCommandConfig(global().commandConfig);
        const { controllerId, directoryId } = removeControllerArgs(o);
        if (!o.dryRun) {
          const conn = await connect();
          const response = await conn.send(ApiKey.RemoveRaftVoter, { clusterId: null, voterId: controllerId, voterDirectoryId: directoryId });
          throwIfFailed(response.errorCode, response.errorMessage);
        }
        // Kafka's format string puts a space after each verb and another before "KRaft".
        io.out(`${o.dryRun ? 'DRY RUN of removing ' : 'Removed '} KRaft controller ${controllerId} with directory id ${directoryId}\n`);
      });
    });
  return cmd;
}

/** Kafka's checks of remove-controller's arguments. */
export function removeControllerArgs(o: { controllerId?: string; controllerDirectoryId?: string }): { controllerId: number; directoryId: string } {
  if (o.controllerId === undefined) throw new CliError('argument --controller-id/-i is required');
  if (o.controllerDirectoryId === undefined) throw new CliError('argument --controller-directory-id/-d is required');
  const controllerId = Number(o.controllerId);
  if (o.controllerId.trim() === '' || !Number.isInteger(controllerId)) {
    throw new CliError(`argument --controller-id/-i: could not convert '${o.controllerId}' to Integer (For input string: "${o.controllerId}")`);
  }
  if (controllerId < 0) throw new CliError(`Invalid negative --controller-id: ${controllerId}`);
  try {
    uuidToBytes(o.controllerDirectoryId);
  } catch (e) {
    throw new CliError(`Failed to parse --controller-directory-id: ${(e as Error).message}`);
  }
  return { controllerId, directoryId: o.controllerDirectoryId };
}
