// `samsa consumer-groups`: Kafka's kafka-consumer-groups.sh over the group APIs (ListGroups to
// every broker, FindCoordinator, DescribeGroups, OffsetFetch, OffsetCommit, DeleteGroups,
// OffsetDelete) and ListOffsets. Exactly one action per run: --list, --describe, --delete,
// --reset-offsets or --delete-offsets. Tables are padded as ConsumerGroupCommand pads them
// (Java's %-Ns); "-" marks an unknown value. As Kafka's tool does, per-group refusals ("Error:
// ..." for a dead group, a reset of an active group, a failed deletion) are printed on stdout and
// leave the exit code 0; a usage mistake or a failed request prints on stderr and exits 1.
// Reset offsets are a dry run unless --execute; --to-offset and --shift-by are clamped to the
// partition's [earliest, latest], --to-datetime and --by-duration fall back to the latest offset
// where no record is that recent, and --to-current to the latest where nothing is committed.
import { Command } from 'commander';
import { OffsetSpec } from '../../protocol/client/client.ts';
import type { Coordinator, KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode, KafkaError, errorByCode } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DescribedGroup } from '../../protocol/generated/message/describe-groups-response.ts';
import { CliError, clientFor, collect, parseInteger, processIo, runAction, sleep } from './command-io.ts';
import type { CommandIo } from './command-io.ts';
import { decodeAssignment } from './group-member.ts';

const ERROR_PREFIX = '\nError: Executing consumer group command failed due to ';
const MISSING = '-';
const COORDINATOR_ATTEMPTS = 20;

export type ConsumerGroupsAction = 'list' | 'describe' | 'delete' | 'reset-offsets' | 'delete-offsets';
export type DescribeView = 'offsets' | 'members' | 'state';

/** Kafka's ConsumerGroupState names. */
export const GROUP_STATES = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty', 'Assigning', 'Reconciling'] as const;
/** Kafka's GroupType names a consumer group can have. */
export const GROUP_TYPES = ['Consumer', 'Classic'] as const;

export type ResetSpec =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'current' }
  | { kind: 'offset'; offset: bigint }
  | { kind: 'shift'; by: bigint }
  /** --to-datetime, and --by-duration measured back from the time the options were read. */
  | { kind: 'datetime'; timestamp: number };

export interface ConsumerGroupsOptions {
  action: ConsumerGroupsAction;
  bootstrapServer: string;
  groups: string[];
  allGroups: boolean;
  /** --topic values: "t" or "t:0,1" (reset-offsets, delete-offsets). */
  topics: string[];
  allTopics: boolean;
  view: DescribeView;
  verbose: boolean;
  /** --list: print a STATE column; states to keep (empty: all). */
  listStates?: string[];
  /** --list: print a TYPE column; types to keep (empty: all). */
  listTypes?: string[];
  reset?: ResetSpec;
  execute: boolean;
  /** Neither --execute nor --dry-run: Kafka warns that nothing will be done. */
  warnNoExecute: boolean;
  timeoutMs: number;
}

interface RawConsumerGroupsOptions {
  bootstrapServer?: string;
  list?: boolean;
  describe?: boolean;
  delete?: boolean;
  resetOffsets?: boolean;
  deleteOffsets?: boolean;
  group?: string[];
  allGroups?: boolean;
  topic?: string[];
  allTopics?: boolean;
  members?: boolean;
  verbose?: boolean;
  offsets?: boolean;
  state?: boolean | string;
  type?: boolean | string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toCurrent?: boolean;
  toOffset?: string;
  shiftBy?: string;
  toDatetime?: string;
  byDuration?: string;
  dryRun?: boolean;
  execute?: boolean;
  timeout?: string;
}

export function defineConsumerGroupsOptions(cmd: Command): Command {
  return cmd
    .description('List, describe, delete consumer groups and reset or delete their offsets (kafka-consumer-groups).')
    .option('--bootstrap-server <server>', 'REQUIRED: the server(s) to connect to, host:port[,host:port]')
    .option('--list', 'List all consumer groups.')
    .option('--describe', 'Describe consumer group and list offset lag (number of messages not yet processed) related to given group.')
    .option('--delete', 'Pass in groups to delete topic partition offsets and ownership information over the entire consumer group.')
    .option('--reset-offsets', 'Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive.')
    .option('--delete-offsets', 'Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics.')
    .option('--group <group>', 'The consumer group we wish to act on (repeatable).', collect)
    .option('--all-groups', 'Apply to all consumer groups.')
    .option('--topic <topic>', 'The topic whose consumer group information should be deleted or reset: topic or topic:partitions (repeatable).', collect)
    .option('--all-topics', 'Consider all topics assigned to a group in the reset-offsets process.')
    .option('--members', 'Describe members of the group.')
    .option('--verbose', 'Provide additional information, if any, when describing the group (with --members: the assignment).')
    .option('--offsets', 'Describe the group and list all topic partitions in the group along with their offset lag (the default).')
    .option('--state [states]', 'With --describe: the state of the group. With --list: show the state, optionally only groups in these comma-separated states.')
    .option('--type [types]', 'With --list: show the type, optionally only groups of these comma-separated types (consumer, classic).')
    .option('--to-earliest', 'Reset offsets to earliest offset.')
    .option('--to-latest', 'Reset offsets to latest offset.')
    .option('--to-current', 'Reset offsets to current offset.')
    .option('--to-offset <offset>', 'Reset offsets to a specific offset.')
    .option('--shift-by <n>', "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative.")
    .option('--to-datetime <datetime>', "Reset offsets to offset from datetime. Format: 'YYYY-MM-DDTHH:mm:SS.sss'")
    .option('--by-duration <duration>', "Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'")
    .option('--dry-run', 'Only show results without executing changes on Consumer Groups (the default).')
    .option('--execute', 'Execute operation.')
    .option('--timeout <ms>', 'The timeout for some use cases, e.g. describing a group that has just been created.', '5000');
}

const SCENARIOS = ['toEarliest', 'toLatest', 'toCurrent', 'toOffset', 'shiftBy', 'toDatetime', 'byDuration'] as const;
const flag = (name: string): string => `[${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;

/** Checks option combinations as ConsumerGroupCommandOptions.checkArgs does. */
export function toConsumerGroupsOptions(raw: RawConsumerGroupsOptions, now = Date.now()): ConsumerGroupsOptions {
  const actions = (['list', 'describe', 'delete', 'resetOffsets', 'deleteOffsets'] as const).filter((a) => raw[a] === true);
  if (actions.length !== 1) throw new CliError('Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets');
  const action = ({ list: 'list', describe: 'describe', delete: 'delete', resetOffsets: 'reset-offsets', deleteOffsets: 'delete-offsets' } as const)[actions[0]!];
  if (raw.bootstrapServer === undefined) throw new CliError('Missing required argument "[bootstrap-server]"');
  const groups = raw.group ?? [];
  const allGroups = raw.allGroups === true;
  const topics = raw.topic ?? [];
  const groupChoice = 'takes one of these options: [all-groups], [group]';
  if (groups.length > 0 && allGroups) throw new CliError('Option "[group]" can\'t be used with option "[all-groups]"');
  if (action === 'list' && (groups.length > 0 || allGroups)) throw new CliError(`Option "[${groups.length > 0 ? 'group' : 'all-groups'}]" can't be used with option "[list]"`);
  if ((action === 'describe' || action === 'delete' || action === 'reset-offsets') && groups.length === 0 && !allGroups) throw new CliError(`Option [${action}] ${groupChoice}`);
  if (topics.length > 0 && (action === 'list' || action === 'describe')) throw new CliError(`Option "[topic]" can't be used with option "[${action}]"`);
  if (action === 'delete' && topics.length > 0) throw new CliError('The consumer does not support topic-specific offset deletion from a consumer group.');
  if (action === 'delete-offsets' && (groups.length !== 1 || topics.length === 0)) throw new CliError('Option [delete-offsets] takes the following options: [group], [topic]');

  let view: DescribeView = 'offsets';
  let listStates: string[] | undefined;
  let listTypes: string[] | undefined;
  if (action === 'describe') {
    const views = [raw.members === true, raw.offsets === true, raw.state !== undefined].filter((x) => x).length;
    if (views > 1) throw new CliError('Option [describe] takes at most one of these options: [members], [offsets], [state]');
    if (typeof raw.state === 'string') throw new CliError('Option [describe] does not take a value for [state]');
    view = raw.members === true ? 'members' : raw.state !== undefined ? 'state' : 'offsets';
  } else {
    for (const [given, name] of [[raw.members, 'members'], [raw.offsets, 'offsets'], [raw.verbose, 'verbose']] as const) {
      if (given === true) throw new CliError(`Option "[${name}]" can't be used with option "[${action}]"`);
    }
    if (raw.state !== undefined && action !== 'list') throw new CliError(`Option "[state]" can't be used with option "[${action}]"`);
  }
  if (raw.type !== undefined && action !== 'list') throw new CliError(`Option "[type]" can't be used with option "[${action}]"`);
  if (action === 'list') {
    if (raw.state !== undefined) listStates = parseStates(typeof raw.state === 'string' ? raw.state : '');
    if (raw.type !== undefined) listTypes = parseTypes(typeof raw.type === 'string' ? raw.type : '');
  }

  const scenarios = SCENARIOS.filter((s) => raw[s] !== undefined && raw[s] !== false);
  let reset: ResetSpec | undefined;
  if (action === 'reset-offsets') {
    if (raw.dryRun === true && raw.execute === true) throw new CliError('Option [reset-offsets] only accepts one of [execute] and [dry-run]');
    if (scenarios.length > 1) throw new CliError(`Option "${flag(scenarios[0]!)}" can't be used with option "${flag(scenarios[1]!)}"`);
    if (scenarios.length === 0) throw new CliError(`Option '[reset-offsets]' requires one of the following scenarios: [${SCENARIOS.map(flag).join(', ')}]`);
    if (topics.length === 0 && raw.allTopics !== true) throw new CliError('One of the reset scopes should be defined: --all-topics, --topic.');
    if (topics.length > 0 && raw.allTopics === true) throw new CliError('Option "[topic]" can\'t be used with option "[all-topics]"');
    reset = resetSpec(raw, scenarios[0]!, now);
  } else {
    if (scenarios.length > 0) throw new CliError(`Option "${flag(scenarios[0]!)}" can't be used with option "[${action}]"`);
    for (const [given, name] of [[raw.dryRun, 'dry-run'], [raw.execute, 'execute'], [raw.allTopics, 'all-topics']] as const) {
      if (given === true) throw new CliError(`Option "[${name}]" can't be used with option "[${action}]"`);
    }
  }
  return {
    action,
    bootstrapServer: raw.bootstrapServer,
    groups,
    allGroups,
    topics,
    allTopics: raw.allTopics === true,
    view,
    verbose: raw.verbose === true,
    listStates,
    listTypes,
    reset,
    execute: raw.execute === true,
    warnNoExecute: action === 'reset-offsets' && raw.execute !== true && raw.dryRun !== true,
    timeoutMs: parseInteger('--timeout', raw.timeout, 1) ?? 5000,
  };
}

function resetSpec(raw: RawConsumerGroupsOptions, scenario: (typeof SCENARIOS)[number], now: number): ResetSpec {
  const long = (name: string, value: string): bigint => {
    if (!/^[-+]?\d+$/.test(value.trim())) throw new CliError(`Cannot parse argument '${value}' of option ${name}`);
    return BigInt(value.trim());
  };
  switch (scenario) {
    case 'toEarliest':
      return { kind: 'earliest' };
    case 'toLatest':
      return { kind: 'latest' };
    case 'toCurrent':
      return { kind: 'current' };
    case 'toOffset':
      return { kind: 'offset', offset: long('to-offset', raw.toOffset!) };
    case 'shiftBy':
      return { kind: 'shift', by: long('shift-by', raw.shiftBy!) };
    case 'toDatetime':
      return { kind: 'datetime', timestamp: parseDateTime(raw.toDatetime!) };
    case 'byDuration':
      return { kind: 'datetime', timestamp: now - parseDuration(raw.byDuration!) };
  }
}

/** A state list as ConsumerGroupCommand parses it: comma-separated, case-insensitive; '' is all. */
export function parseStates(text: string): string[] {
  if (text.trim() === '') return [];
  return text.split(',').map((s) => {
    const found = GROUP_STATES.find((g) => g.toLowerCase() === s.trim().toLowerCase());
    if (found === undefined || found === 'Unknown') throw new CliError(`Invalid state list '${text}'. Valid states are: ${GROUP_STATES.filter((g) => g !== 'Unknown').join(', ')}`);
    return found;
  });
}

export function parseTypes(text: string): string[] {
  if (text.trim() === '') return [];
  return text.split(',').map((s) => {
    const found = GROUP_TYPES.find((g) => g.toLowerCase() === s.trim().toLowerCase());
    if (found === undefined) throw new CliError(`Invalid types list '${text}'. Valid types are: ${GROUP_TYPES.map((g) => g.toLowerCase()).join(', ')}`);
    return found;
  });
}

/**
 * Kafka's Utils.getDateTime: 'yyyy-MM-ddTHH:mm:ss.SSS' with an optional zone (Z, ±HH, ±HHmm,
 * ±HH:mm); without one the time is UTC. Milliseconds since the epoch.
 */
export function parseDateTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(text.trim());
  if (!text.includes('T')) throw new CliError("Error parsing timestamp. It does not contain a 'T' according to ISO8601 format");
  if (!m) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unparseable date: "${text}"`);
  const [, y, mo, d, h, mi, s, ms, zone] = m;
  const fields = [y, mo, d, h, mi, s, ms].map(Number) as [number, number, number, number, number, number, number];
  const utc = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], fields[6]);
  // Strict, as Kafka's non-lenient parser: 2024-02-30 is not a date.
  const check = new Date(utc);
  if (check.getUTCMonth() !== fields[1] - 1 || check.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unparseable date: "${text}"`);
  }
  if (zone === undefined || zone === 'Z') return utc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0);
  return utc - sign * offsetMinutes * 60_000;
}

/** java.time.Duration.parse ("PnDTnHnMn.nS", case-insensitive, signed parts), in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?$/i.exec(text.trim());
  if (!m || /T$/i.test(text.trim()) || (m[2] === undefined && m[3] === undefined && m[4] === undefined && m[5] === undefined)) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Text cannot be parsed to a Duration`);
  }
  const [, sign, d, h, mi, s, frac] = m;
  const seconds = Number(s ?? 0);
  const fraction = frac ? Number(`0.${frac}`) * (s?.startsWith('-') ? -1 : 1) : 0;
  const ms = Number(d ?? 0) * 86_400_000 + Number(h ?? 0) * 3_600_000 + Number(mi ?? 0) * 60_000 + (seconds + fraction) * 1000;
  return Math.round(sign === '-' ? -ms : ms);
}

/** What is known of one partition when its new offset is computed. */
export interface PartitionOffsets {
  earliest?: bigint;
  latest?: bigint;
  committed?: bigint;
  /** The first offset with a timestamp at or after the requested one; undefined if none. */
  atTimestamp?: bigint;
}

/** Kafka's checkOffsetsRange: an offset past the end is the end, one before the start is the start. */
export function clampOffset(offset: bigint, p: PartitionOffsets, partition: string, warn: (text: string) => void = () => {}): bigint {
  if (p.latest !== undefined && offset > p.latest) {
    warn(`New offset (${offset}) is higher than latest offset for topic partition ${partition}. Value will be set to ${p.latest}`);
    return p.latest;
  }
  if (p.earliest !== undefined && offset < p.earliest) {
    warn(`New offset (${offset}) is lower than earliest offset for topic partition ${partition}. Value will be set to ${p.earliest}`);
    return p.earliest;
  }
  return offset;
}

/** The new offset of one partition under a reset scenario, as prepareOffsetsToReset computes it. */
export function resetOffset(spec: ResetSpec, p: PartitionOffsets, partition: string, warn?: (text: string) => void): bigint {
  const need = (v: bigint | undefined, what: string): bigint => {
    if (v === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `Unexpected non-existing ${what} for topic partition ${partition}`);
    return v;
  };
  switch (spec.kind) {
    case 'earliest':
      return need(p.earliest, 'earliest offset');
    case 'latest':
      return need(p.latest, 'latest offset');
    case 'current':
      return p.committed ?? need(p.latest, 'latest offset');
    case 'offset':
      return clampOffset(spec.offset, p, partition, warn);
    case 'shift':
      if (p.committed === undefined) throw new CliError(`Cannot shift offset for partition ${partition} since there is no current committed offset`);
      return clampOffset(p.committed + spec.by, p, partition, warn);
    case 'datetime':
      return p.atTimestamp ?? need(p.latest, 'latest offset');
  }
}

/** Java's "%-Ns": left-justified, padded to at least N characters. */
function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export interface OffsetRow {
  group: string;
  topic?: string;
  partition?: number;
  currentOffset?: bigint;
  logEndOffset?: bigint;
  consumerId: string;
  host: string;
  clientId: string;
}

/** LAG = LOG-END-OFFSET − CURRENT-OFFSET, unknown when either is. */
export function lagOf(row: OffsetRow): bigint | undefined {
  if (row.currentOffset === undefined || row.currentOffset < 0n || row.logEndOffset === undefined) return undefined;
  return row.logEndOffset - row.currentOffset;
}

/** The default --describe table: a blank line, the header, then one line per row. */
export function formatOffsets(rows: readonly OffsetRow[]): string {
  let g = 15, t = 15, c = 15, h = 15;
  for (const r of rows) {
    g = Math.max(g, r.group.length);
    t = Math.max(t, (r.topic ?? MISSING).length);
    c = Math.max(c, r.consumerId.length);
    h = Math.max(h, r.host.length);
  }
  const line = (cols: string[]): string =>
    `${pad(cols[0]!, g)} ${pad(cols[1]!, t)} ${pad(cols[2]!, 10)} ${pad(cols[3]!, 15)} ${pad(cols[4]!, 15)} ${pad(cols[5]!, 15)} ${pad(cols[6]!, c)} ${pad(cols[7]!, h)} ${cols[8]!}\n`;
  let out = '\n' + line(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']);
  for (const r of rows) {
    const show = (v: bigint | number | undefined): string => (v === undefined ? MISSING : String(v));
    out += line([r.group, r.topic ?? MISSING, show(r.partition), show(r.currentOffset !== undefined && r.currentOffset >= 0n ? r.currentOffset : undefined), show(r.logEndOffset), show(lagOf(r)), r.consumerId, r.host, r.clientId]);
  }
  return out;
}

export interface MemberRow {
  group: string;
  consumerId: string;
  groupInstanceId: string;
  host: string;
  clientId: string;
  assignment: ReadonlyMap<string, readonly number[]>;
}

/** --describe --members [--verbose]: GROUP-INSTANCE-ID only when a member has one. */
export function formatMembers(rows: readonly MemberRow[], verbose: boolean): string {
  let g = 15, c = 15, i = 17, h = 15, cl = 15;
  let withInstance = false;
  for (const r of rows) {
    g = Math.max(g, r.group.length);
    c = Math.max(c, r.consumerId.length);
    i = Math.max(i, r.groupInstanceId.length);
    h = Math.max(h, r.host.length);
    cl = Math.max(cl, r.clientId.length);
    withInstance ||= r.groupInstanceId !== '';
  }
  const line = (group: string, consumer: string, instance: string, host: string, client: string, count: string): string =>
    `${pad(group, g)} ${pad(consumer, c)} ${withInstance ? `${pad(instance, i)} ` : ''}${pad(host, h)} ${pad(client, cl)} ${pad(count, 15)} `;
  let out = '\n' + line('GROUP', 'CONSUMER-ID', 'GROUP-INSTANCE-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS') + (verbose ? 'ASSIGNMENT' : '') + '\n';
  for (const r of rows) {
    const count = [...r.assignment.values()].reduce((n, ps) => n + ps.length, 0);
    out += line(r.group, r.consumerId, r.groupInstanceId, r.host, r.clientId, String(count));
    if (verbose) {
      const parts = [...r.assignment]
        .filter(([, ps]) => ps.length > 0)
        .map(([topic, ps]) => `${topic}(${[...ps].sort((a, b) => a - b).join(',')})`)
        .sort();
      out += parts.length === 0 ? MISSING : parts.join(',');
    }
    out += '\n';
  }
  return out;
}

export interface GroupStateRow {
  group: string;
  coordinator: Coordinator;
  assignmentStrategy: string;
  state: string;
  members: number;
}

/** --describe --state. */
export function formatState(s: GroupStateRow): string {
  const coordinator = `${s.coordinator.host}:${s.coordinator.port} (${s.coordinator.nodeId})`;
  const width = Math.max(25, coordinator.length);
  const line = (cols: string[]): string => `\n${pad(cols[0]!, width)} ${pad(cols[1]!, 25)} ${pad(cols[2]!, 20)} ${pad(cols[3]!, 15)} ${cols[4]!}`;
  return line(['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS']) + line([s.group, coordinator, s.assignmentStrategy, s.state, String(s.members)]) + '\n';
}

export interface ResetRow {
  group: string;
  topic: string;
  partition: number;
  offset: bigint;
}

/** The reset plan: "GROUP TOPIC PARTITION NEW-OFFSET", printed whether or not it was executed. */
export function formatResetPlan(groups: number, rows: readonly ResetRow[]): string {
  const line = (cols: string[]): string => `${pad(cols[0]!, 30)} ${pad(cols[1]!, 30)} ${pad(cols[2]!, 10)} ${pad(cols[3]!, 15)}\n`;
  let out = groups > 0 ? '\n' + line(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET']) : '';
  for (const r of rows) out += line([r.group, r.topic, String(r.partition), String(r.offset)]);
  return out;
}

export interface GroupListing {
  groupId: string;
  state: string;
  type: string;
}

/** --list with --state and/or --type: a column per option asked for. */
export function formatListing(groups: readonly GroupListing[], withType: boolean, withState: boolean): string {
  const width = Math.max(15, ...groups.map((g) => g.groupId.length)) + 10;
  const line = (id: string, type: string, state: string): string => `${pad(id, width)}${withType ? ` ${pad(type, 20)}` : ''}${withState ? ` ${pad(state, 20)}` : ''}\n`;
  return line('GROUP', 'TYPE', 'STATE') + groups.map((g) => line(g.groupId, g.type, g.state)).join('');
}

/** Java's exception class for an error code, as Kafka's tool prints a Throwable. */
export function javaException(code: number, message?: string): string {
  const known: Record<number, string> = {
    [ErrorCode.NON_EMPTY_GROUP]: 'GroupNotEmptyException',
    [ErrorCode.GROUP_ID_NOT_FOUND]: 'GroupIdNotFoundException',
    [ErrorCode.INVALID_GROUP_ID]: 'InvalidGroupIdException',
    [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC]: 'GroupSubscribedToTopicException',
    [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]: 'UnknownTopicOrPartitionException',
    [ErrorCode.GROUP_AUTHORIZATION_FAILED]: 'GroupAuthorizationException',
    [ErrorCode.COORDINATOR_NOT_AVAILABLE]: 'CoordinatorNotAvailableException',
    [ErrorCode.NOT_COORDINATOR]: 'NotCoordinatorException',
  };
  const info = errorByCode(code);
  const name = known[code] ?? `${info.name.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())}Exception`;
  return `org.apache.kafka.common.errors.${name}: ${message ?? info.message}`;
}

// ---- talking to the cluster ----

const COORDINATOR_ERRORS: ReadonlySet<number> = new Set([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);

/**
 * Runs a request against a group's coordinator; `errorOf` picks the answer's group-level error.
 * Coordinator errors are retried a bounded number of times after finding the coordinator again.
 */
async function atCoordinator<T>(client: KafkaClient, groupId: string, send: (c: Coordinator) => Promise<T>, errorOf: (r: T) => number): Promise<T> {
  let last: T | undefined;
  for (let attempt = 0; attempt < COORDINATOR_ATTEMPTS; attempt++) {
    const c = await client.findCoordinator(groupId);
    last = await send(c);
    if (!COORDINATOR_ERRORS.has(errorOf(last))) return last;
    await sleep(200);
  }
  return last!;
}

interface DescribedConsumerGroup {
  groupId: string;
  state: string;
  protocolType: string;
  assignmentStrategy: string;
  coordinator: Coordinator;
  members: MemberRow[];
}

async function describeGroup(client: KafkaClient, groupId: string): Promise<DescribedConsumerGroup> {
  let coordinator: Coordinator | undefined;
  const r = await atCoordinator(
    client,
    groupId,
    async (c) => {
      coordinator = c;
      const answer = await client.send({ nodeId: c.nodeId }, ApiKey.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
      return answer.groups.find((g) => g.groupId === groupId);
    },
    (g) => g?.errorCode ?? ErrorCode.NONE,
  );
  if (r === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeGroups response has no entry for ${groupId}`);
  if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode as ErrorCodeValue, javaException(r.errorCode));
  return {
    groupId,
    state: r.groupState,
    protocolType: r.protocolType,
    assignmentStrategy: r.protocolData,
    coordinator: coordinator!,
    members: r.members.map((m) => ({ group: groupId, consumerId: m.memberId, groupInstanceId: m.groupInstanceId ?? '', host: m.clientHost, clientId: m.clientId, assignment: memberAssignment(r, m.memberAssignment) })),
  };
}

function memberAssignment(g: DescribedGroup, bytes: Buffer): Map<string, number[]> {
  if (g.protocolType !== 'consumer') return new Map();
  try {
    return decodeAssignment(bytes);
  } catch {
    // A member's assignment this tool cannot read shows as none, as Kafka's admin skips it.
    return new Map();
  }
}

/** The group's committed offsets, by "topic\0partition". */
async function committedOffsets(client: KafkaClient, groupId: string): Promise<Map<string, { topic: string; partition: number; offset: bigint }>> {
  const r = await atCoordinator(
    client,
    groupId,
    (c) => client.send({ nodeId: c.nodeId }, ApiKey.OffsetFetch, { groupId, topics: null, groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }], requireStable: true }),
    (x) => x.groups?.find((g) => g.groupId === groupId)?.errorCode ?? x.errorCode ?? ErrorCode.NONE,
  );
  const group = r.groups?.find((g) => g.groupId === groupId);
  const code = group?.errorCode ?? r.errorCode ?? ErrorCode.NONE;
  if (code !== ErrorCode.NONE) throw new KafkaError(code as ErrorCodeValue, javaException(code));
  const out = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const t of group?.topics ?? r.topics ?? []) {
    for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE) throw new KafkaError(p.errorCode as ErrorCodeValue, javaException(p.errorCode));
      if (p.committedOffset >= 0n) out.set(tpKey(t.name, p.partitionIndex), { topic: t.name, partition: p.partitionIndex, offset: p.committedOffset });
    }
  }
  return out;
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

/** ListOffsets for each partition at a spec or timestamp; undefined where the broker has none. */
async function offsetsAt(client: KafkaClient, partitions: ReadonlyArray<{ topic: string; partition: number }>, timestamp: bigint): Promise<Map<string, bigint | undefined>> {
  const out = new Map<string, bigint | undefined>();
  await Promise.all(
    partitions.map(async ({ topic, partition }) => {
      try {
        const a = await client.listOffsets(topic, partition, timestamp);
        const offset = a.offset ?? a.oldStyleOffsets?.[0];
        out.set(tpKey(topic, partition), offset !== undefined && offset >= 0n ? offset : undefined);
      } catch (e) {
        if (!(e instanceof KafkaError)) throw e;
        out.set(tpKey(topic, partition), undefined);
      }
    }),
  );
  return out;
}

async function topicPartitionCounts(client: KafkaClient, topics: readonly string[]): Promise<Map<string, number>> {
  const md = await client.metadata([...topics]);
  const out = new Map<string, number>();
  for (const t of md.topics) {
    if (t.name === null) continue;
    if (t.errorCode !== ErrorCode.NONE) throw new KafkaError(t.errorCode as ErrorCodeValue, javaException(t.errorCode));
    out.set(t.name, t.partitions.length);
  }
  return out;
}

/** Consumer groups from every broker (ListGroups), as Admin.listConsumerGroups gathers them. */
async function listGroups(client: KafkaClient, states: readonly string[], types: readonly string[]): Promise<GroupListing[]> {
  await client.metadata([]);
  const out: GroupListing[] = [];
  const seen = new Set<string>();
  for (const nodeId of [...client.brokers.keys()].sort((a, b) => a - b)) {
    let r;
    for (let attempt = 0; attempt < COORDINATOR_ATTEMPTS; attempt++) {
      r = await client.send({ nodeId }, ApiKey.ListGroups, { statesFilter: [...states], typesFilter: types.map((t) => t.toLowerCase()) });
      if (r.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) break;
      await sleep(200);
    }
    if (r!.errorCode !== ErrorCode.NONE) throw new KafkaError(r!.errorCode as ErrorCodeValue, javaException(r!.errorCode));
    for (const g of r!.groups) {
      // The consumer groups are those of protocol type "consumer" and those that only commit.
      if ((g.protocolType !== 'consumer' && g.protocolType !== '') || seen.has(g.groupId)) continue;
      seen.add(g.groupId);
      const type = GROUP_TYPES.find((t) => t.toLowerCase() === (g.groupType ?? 'classic').toLowerCase()) ?? 'Unknown';
      out.push({ groupId: g.groupId, state: g.groupState ?? 'Unknown', type });
    }
  }
  return out;
}

async function groupsToActOn(client: KafkaClient, o: ConsumerGroupsOptions): Promise<string[]> {
  return o.allGroups ? (await listGroups(client, [], [])).map((g) => g.groupId) : o.groups;
}

/** The "Error: ..." or note Kafka's tool prints before a group's table, by state. */
function groupPreamble(io: CommandIo, groupId: string, state: string): void {
  if (state === 'Dead') io.out(`\nError: Consumer group '${groupId}' does not exist.\n`);
  else if (state === 'Empty') io.err(`\nConsumer group '${groupId}' has no active members.\n`);
  else if (state === 'PreparingRebalance' || state === 'CompletingRebalance' || state === 'Assigning' || state === 'Reconciling') io.err(`\nWarning: Consumer group '${groupId}' is rebalancing.\n`);
}

async function describeGroups(client: KafkaClient, o: ConsumerGroupsOptions, io: CommandIo): Promise<void> {
  const ids = [...(await groupsToActOn(client, o))].sort();
  for (const groupId of ids) {
    const g = await describeGroup(client, groupId);
    if (o.view === 'state') {
      groupPreamble(io, groupId, g.state);
      io.out(formatState({ group: groupId, coordinator: g.coordinator, assignmentStrategy: g.assignmentStrategy, state: g.state, members: g.members.length }));
      continue;
    }
    if (o.view === 'members') {
      groupPreamble(io, groupId, g.state);
      io.out(formatMembers(g.members, o.verbose));
      continue;
    }
    const committed = await committedOffsets(client, groupId);
    const rows: OffsetRow[] = [];
    const assigned = new Set<string>();
    // Members with partitions, the busiest first, then committed partitions nobody owns.
    const owners = g.members.filter((m) => [...m.assignment.values()].some((ps) => ps.length > 0));
    owners.sort((a, b) => count(b) - count(a));
    for (const m of owners) {
      const tps = [...m.assignment].flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
      tps.sort((a, b) => a.partition - b.partition || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
      for (const tp of tps) {
        assigned.add(tpKey(tp.topic, tp.partition));
        rows.push({ group: groupId, ...tp, currentOffset: committed.get(tpKey(tp.topic, tp.partition))?.offset, consumerId: m.consumerId, host: m.host, clientId: m.clientId });
      }
    }
    const unowned = [...committed.values()].filter((c) => !assigned.has(tpKey(c.topic, c.partition)));
    unowned.sort((a, b) => a.partition - b.partition || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
    for (const c of unowned) rows.push({ group: groupId, topic: c.topic, partition: c.partition, currentOffset: c.offset, consumerId: MISSING, host: MISSING, clientId: MISSING });
    const ends = await offsetsAt(client, rows.map((r) => ({ topic: r.topic!, partition: r.partition! })), OffsetSpec.LATEST);
    for (const r of rows) r.logEndOffset = ends.get(tpKey(r.topic!, r.partition!));
    groupPreamble(io, groupId, g.state);
    io.out(formatOffsets(rows));
  }
}

function count(m: MemberRow): number {
  return [...m.assignment.values()].reduce((n, ps) => n + ps.length, 0);
}

/** "t" (every partition) or "t:0,1". */
async function parseTopicPartitions(client: KafkaClient, topicArgs: readonly string[]): Promise<Array<{ topic: string; partition: number }>> {
  const out: Array<{ topic: string; partition: number }> = [];
  const whole = topicArgs.filter((t) => !t.includes(':'));
  const counts = whole.length > 0 ? await topicPartitionCounts(client, whole) : new Map<string, number>();
  for (const arg of topicArgs) {
    const at = arg.indexOf(':');
    if (at < 0) {
      const n = counts.get(arg);
      if (n === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, javaException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
      for (let p = 0; p < n; p++) out.push({ topic: arg, partition: p });
      continue;
    }
    const topic = arg.slice(0, at);
    for (const s of arg.slice(at + 1).split(',')) {
      const p = Number(s.trim());
      if (s.trim() === '' || !Number.isInteger(p)) throw new CliError(`For input string: "${s}"`);
      out.push({ topic, partition: p });
    }
  }
  return out;
}

async function resetOffsets(client: KafkaClient, o: ConsumerGroupsOptions, io: CommandIo): Promise<void> {
  if (o.warnNoExecute) {
    io.err(
      'WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.\n',
    );
  }
  const ids = await groupsToActOn(client, o);
  const rows: ResetRow[] = [];
  let groups = 0;
  for (const groupId of ids) {
    const g = await describeGroup(client, groupId);
    groups++;
    if (g.state !== 'Empty' && g.state !== 'Dead') {
      io.out(`\nError: Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${g.state}.\n`);
      continue;
    }
    const committed = await committedOffsets(client, groupId);
    const partitions = o.allTopics ? [...committed.values()].map(({ topic, partition }) => ({ topic, partition })) : await parseTopicPartitions(client, o.topics);
    partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    await checkPartitionsExist(client, partitions);
    const spec = o.reset!;
    const [earliest, latest, atTime] = await Promise.all([
      offsetsAt(client, partitions, OffsetSpec.EARLIEST),
      offsetsAt(client, partitions, OffsetSpec.LATEST),
      spec.kind === 'datetime' ? offsetsAt(client, partitions, BigInt(spec.timestamp)) : Promise.resolve(new Map<string, bigint | undefined>()),
    ]);
    const planned: ResetRow[] = [];
    for (const { topic, partition } of partitions) {
      const key = tpKey(topic, partition);
      const offset = resetOffset(spec, { earliest: earliest.get(key), latest: latest.get(key), committed: committed.get(key)?.offset, atTimestamp: atTime.get(key) }, `${topic}-${partition}`, (w) => io.err(`WARN ${w}\n`));
      planned.push({ group: groupId, topic, partition, offset });
    }
    if (o.execute) await commitOffsets(client, groupId, planned);
    rows.push(...planned);
  }
  io.out(formatResetPlan(groups, rows));
}

/** Kafka's checkAllTopicPartitionsValid: every partition exists and has a leader. */
async function checkPartitionsExist(client: KafkaClient, partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
  const topics = [...new Set(partitions.map((p) => p.topic))];
  if (topics.length === 0) return;
  await client.metadata(topics);
  const missing = partitions.filter((p) => client.topic(p.topic)?.errorCode !== ErrorCode.NONE || !client.topic(p.topic)?.partitions.has(p.partition));
  if (missing.length > 0) {
    throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The partitions "${missing.map((p) => `${p.topic}-${p.partition}`).join(',')}" does not exist`);
  }
  const leaderless = partitions.filter((p) => (client.topic(p.topic)!.partitions.get(p.partition)!.leaderId ?? -1) < 0);
  if (leaderless.length > 0) {
    throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `The partitions "${leaderless.map((p) => `${p.topic}-${p.partition}`).join(',')}" have no leader`);
  }
}

/** OffsetCommit as Admin.alterConsumerGroupOffsets sends it: no generation, no member. */
async function commitOffsets(client: KafkaClient, groupId: string, rows: readonly ResetRow[]): Promise<void> {
  if (rows.length === 0) return;
  const byTopic = new Map<string, ResetRow[]>();
  for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
  const first = (x: { topics: Array<{ partitions: Array<{ errorCode: number }> }> }): number => x.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)).find((c) => c !== ErrorCode.NONE) ?? ErrorCode.NONE;
  const r = await atCoordinator(
    client,
    groupId,
    (c) =>
      client.send({ nodeId: c.nodeId }, ApiKey.OffsetCommit, {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [...byTopic].map(([name, ps]) => ({
          name,
          partitions: ps.map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' })),
        })),
      }),
    first,
  );
  const code = first(r);
  if (code !== ErrorCode.NONE) throw new KafkaError(code as ErrorCodeValue, javaException(code));
}

async function deleteGroups(client: KafkaClient, o: ConsumerGroupsOptions, io: CommandIo): Promise<void> {
  const ids = await groupsToActOn(client, o);
  const ok: string[] = [];
  const failed: Array<[string, number]> = [];
  for (const groupId of ids) {
    const r = await atCoordinator(
      client,
      groupId,
      (c) => client.send({ nodeId: c.nodeId }, ApiKey.DeleteGroups, { groupsNames: [groupId] }),
      (x) => x.results.find((g) => g.groupId === groupId)?.errorCode ?? ErrorCode.NONE,
    );
    const code = r.results.find((g) => g.groupId === groupId)?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    if (code === ErrorCode.NONE) ok.push(groupId);
    else failed.push([groupId, code]);
  }
  if (failed.length === 0) {
    io.out(`Deletion of requested consumer groups ('${ok.join("', '")}') was successful.\n`);
    return;
  }
  io.out('\nError: Deletion of some consumer groups failed:\n');
  for (const [groupId, code] of failed) io.out(`* Group '${groupId}' could not be deleted due to: ${javaException(code)}\n`);
  if (ok.length > 0) io.out(`\nThese consumer groups were deleted successfully: '${ok.join("', '")}'\n`);
}

async function deleteOffsets(client: KafkaClient, o: ConsumerGroupsOptions, io: CommandIo): Promise<void> {
  const groupId = o.groups[0]!;
  const results: Array<{ topic: string; partition: number; error?: string }> = [];
  const partitions: Array<{ topic: string; partition: number }> = [];
  const whole = o.topics.filter((t) => !t.includes(':'));
  const md = whole.length > 0 ? await client.metadata(whole) : undefined;
  for (const name of whole) {
    const t = md!.topics.find((x) => x.name === name);
    if (!t || t.errorCode !== ErrorCode.NONE) {
      const code = t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      results.push({ topic: name, partition: -1, error: javaException(code) });
      continue;
    }
    for (const p of t.partitions) partitions.push({ topic: name, partition: p.partitionIndex });
  }
  for (const arg of o.topics.filter((t) => t.includes(':'))) partitions.push(...(await parseTopicPartitions(client, [arg])));
  let topLevel: number = ErrorCode.NONE;
  if (partitions.length > 0) {
    const byTopic = new Map<string, number[]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const r = await atCoordinator(
      client,
      groupId,
      (c) => client.send({ nodeId: c.nodeId }, ApiKey.OffsetDelete, { groupId, topics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex })) })) }),
      (x) => x.errorCode,
    );
    topLevel = r.errorCode;
    for (const p of partitions) {
      const code = topLevel !== ErrorCode.NONE ? topLevel : (r.topics.find((t) => t.name === p.topic)?.partitions.find((x) => x.partitionIndex === p.partition)?.errorCode ?? ErrorCode.NONE);
      if (code !== ErrorCode.NONE && topLevel === ErrorCode.NONE) topLevel = code;
      results.push({ ...p, ...(code !== ErrorCode.NONE ? { error: javaException(code) } : {}) });
    }
  }
  switch (topLevel) {
    case ErrorCode.NONE:
      io.out(`Request succeed for deleting offsets with topic ${o.topics.join(', ')} group ${groupId}\n`);
      break;
    case ErrorCode.INVALID_GROUP_ID:
      io.out(`\nError: '${groupId}' is not valid.\n`);
      break;
    case ErrorCode.GROUP_ID_NOT_FOUND:
      io.out(`\nError: '${groupId}' does not exist.\n`);
      break;
    case ErrorCode.GROUP_AUTHORIZATION_FAILED:
      io.out(`\nError: Access to '${groupId}' is not authorized.\n`);
      break;
    case ErrorCode.NON_EMPTY_GROUP:
      io.out(`\nError: Deleting offsets of a consumer group '${groupId}' is forbidden if the group is not empty.\n`);
      break;
    case ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC:
    case ErrorCode.TOPIC_AUTHORIZATION_FAILED:
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
      io.out('\nError: Encounter some partition level error, see the follow-up details:\n');
      break;
    default:
      io.out(`\nError: Encounter some unknown error: ${errorByCode(topLevel).name}\n`);
  }
  results.sort((a, b) => (`${a.topic}${a.partition}` < `${b.topic}${b.partition}` ? -1 : `${a.topic}${a.partition}` > `${b.topic}${b.partition}` ? 1 : 0));
  const line = (t: string, p: string, s: string): string => `\n${pad(t, 30)} ${pad(p, 15)} ${pad(s, 15)}`;
  let out = line('TOPIC', 'PARTITION', 'STATUS');
  for (const r of results) out += line(r.topic, r.partition >= 0 ? String(r.partition) : 'Not Provided', r.error !== undefined ? `Error: :${r.error}` : 'Successful');
  io.out(`${out}\n`);
}

export async function runConsumerGroups(o: ConsumerGroupsOptions, io: CommandIo): Promise<void> {
  const client = clientFor(o.bootstrapServer, 'samsa-consumer-groups', { requestTimeoutMs: Math.max(o.timeoutMs, 5000) });
  try {
    switch (o.action) {
      case 'list': {
        if (o.listStates === undefined && o.listTypes === undefined) {
          for (const g of await listGroups(client, [], [])) io.out(`${g.groupId}\n`);
          return;
        }
        const groups = await listGroups(client, o.listStates ?? [], o.listTypes ?? []);
        io.out(formatListing(groups, o.listTypes !== undefined, o.listStates !== undefined));
        return;
      }
      case 'describe':
        return await describeGroups(client, o, io);
      case 'reset-offsets':
        return await resetOffsets(client, o, io);
      case 'delete':
        return await deleteGroups(client, o, io);
      case 'delete-offsets':
        return await deleteOffsets(client, o, io);
    }
  } finally {
    await client.close();
  }
}

export function consumerGroupsCommand(io: CommandIo = processIo): Command {
  return defineConsumerGroupsOptions(new Command('consumer-groups')).action(async (raw: RawConsumerGroupsOptions) => {
    await runAction(io, ERROR_PREFIX, async () => runConsumerGroups(toConsumerGroupsOptions(raw), io));
  });
}
