// `samsa configs`: Kafka's kafka-configs.sh for topics, brokers and broker loggers. --describe
// prints, per entity, "Dynamic configs for topic t are:" (or "All configs ..." with --all, or
// "Default configs for brokers in the cluster are:") and one line per entry,
// "  name=value sensitive=false synonyms={SOURCE:name=value, ...}", sorted by name, keeping only
// the entity's own dynamic source unless --all. --alter sends IncrementalAlterConfigs with SET for
// --add-config (k=v,k2=[a,b]) and DELETE for --delete-config, refusing to delete keys that are not
// set, as ConfigCommand does. Failures print "Error while executing config command with args '...'".
// Users (--entity-type users) carry SCRAM credentials: --add-config
// 'SCRAM-SHA-256=[iterations=8192,password=secret]' salts and hashes the password here and sends
// AlterUserScramCredentials (the password never leaves this process), --delete-config SCRAM-SHA-256
// removes one, and --describe prints "SCRAM credential configs for user-principal 'alice' are
// SCRAM-SHA-256=iterations=8192" from DescribeUserScramCredentials, as ConfigCommand does.
import { Command } from 'commander';
import { AlterConfigOp, ConfigResourceType } from '../../protocol/client/client.ts';
import type { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import type { DescribeConfigsResourceResult } from '../../protocol/generated/message/describe-configs-response.ts';
import { CliError, clientFor, processIo, runAction } from './command-io.ts';
import { randomBytes } from 'node:crypto';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { saltedPassword, scramMechanism, scramMechanismOfType } from '../security/scram.ts';
import type { CommandIo } from './command-io.ts';
import { alterQuotas, describeQuotas, QUOTA_KEYS, type QuotaEntityPart, quotaEntityType } from './configs-quotas.ts';

export type ConfigEntityType = 'topics' | 'brokers' | 'broker-loggers' | 'users' | 'clients' | 'ips';

export interface ConfigsOptions {
  action: 'describe' | 'alter';
  bootstrapServer: string;
  entityType: ConfigEntityType;
  /** undefined: every entity of the type; '' : the cluster-wide default (brokers). */
  entityName?: string;
  all: boolean;
  addConfigs: Map<string, string>;
  deleteConfigs: string[];
  /** Users, clients and ips: the client quota entity (a user and a client together with --user and --client). */
  quotaEntity?: QuotaEntityPart[];
}

interface RawConfigsOptions {
  bootstrapServer?: string;
  entityType?: string;
  entityName?: string;
  entityDefault?: boolean;
  topic?: string;
  broker?: string;
  brokerDefaults?: boolean;
  describe?: boolean;
  alter?: boolean;
  all?: boolean;
  addConfig?: string;
  deleteConfig?: string[];
  user?: string;
  client?: string;
  ip?: string;
  userDefaults?: boolean;
  clientDefaults?: boolean;
  ipDefaults?: boolean;
}

/** Kafka's ConfigEntry.ConfigSource names by DescribeConfigs source id. */
const CONFIG_SOURCES = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
  'CLIENT_METRICS_CONFIG',
  'GROUP_CONFIG',
] as const;
const SOURCE = { DYNAMIC_TOPIC_CONFIG: 1, DYNAMIC_BROKER_CONFIG: 2, DYNAMIC_DEFAULT_BROKER_CONFIG: 3 } as const;

export function defineConfigsOptions(cmd: Command): Command {
  return cmd
    .description('Add, change, remove or describe configs of topics and brokers (kafka-configs).')
    .option('--bootstrap-server <server>', 'REQUIRED: the Kafka server(s) to connect to, host:port[,host:port]')
    .option('--entity-type <type>', 'Type of entity: topics, brokers, broker-loggers or users.')
    .option('--entity-name <name>', 'Name of the entity (topic name, broker id).')
    .option('--entity-default', 'The cluster-wide default (brokers only).')
    .option('--topic <topic>', 'Shorthand for --entity-type topics --entity-name <topic>.')
    .option('--broker <id>', 'Shorthand for --entity-type brokers --entity-name <id>.')
    .option('--broker-defaults', 'Shorthand for --entity-type brokers --entity-default.')
    .option('--describe', 'List configs for the given entity.')
    .option('--alter', 'Alter the configuration of the entity.')
    .option('--all', 'With --describe: list all configs, not only dynamic ones.')
    .option('--add-config <k=v,...>', 'Configs to add or update: k1=v1,k2=[v1,v2,v3].')
    .option('--user <user>', 'Shorthand for --entity-type users --entity-name <user> (combines with --client).')
    .option('--client <client-id>', 'Shorthand for --entity-type clients --entity-name <client-id>.')
    .option('--ip <ip>', 'Shorthand for --entity-type ips --entity-name <ip>.')
    .option('--user-defaults', 'Shorthand for --entity-type users --entity-default.')
    .option('--client-defaults', 'Shorthand for --entity-type clients --entity-default.')
    .option('--ip-defaults', 'Shorthand for --entity-type ips --entity-default.')
    .option('--delete-config <k,...>', 'Config keys to remove (comma list; repeatable).', (v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
}

/** Splits --add-config as ConfigCommand: commas and '=' inside [...] belong to the value. */
export function parseAddConfigs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  for (const item of items) {
    const at = item.indexOf('=');
    if (at < 0 || item.slice(0, at).trim() === '') throw new CliError('Invalid entity config: all configs to be added must be in the format "key=val".');
    out.set(item.slice(0, at).trim(), item.slice(at + 1).replace(/[[\]]/g, '').trim());
  }
  return out;
}

export function toConfigsOptions(raw: RawConfigsOptions): ConfigsOptions {
  if ((raw.describe === true) === (raw.alter === true)) throw new CliError('Command must include exactly one action: --describe, --alter');
  if (raw.bootstrapServer === undefined) throw new CliError('Missing required argument "[bootstrap-server]"');
  let entityType = raw.entityType;
  let entityName = raw.entityName;
  let entityDefault = raw.entityDefault === true;
  const shorthand = (type: string, name: string | undefined, isDefault: boolean): void => {
    if (entityType !== undefined && entityType !== type) throw new CliError(`Only one entity type may be specified: ${entityType}, ${type}`);
    entityType = type;
    if (name !== undefined) entityName = name;
    if (isDefault) entityDefault = true;
  };
  if (raw.topic !== undefined) shorthand('topics', raw.topic, false);
  if (raw.broker !== undefined) shorthand('brokers', raw.broker, false);
  if (raw.brokerDefaults) shorthand('brokers', undefined, true);
  // A user and a client id together name one quota entity (/users/<u>/clients/<c>).
  const quotaParts: QuotaEntityPart[] = [];
  for (const [type, name, isDefault] of [
    ['user', raw.user, raw.userDefaults],
    ['client-id', raw.client, raw.clientDefaults],
    ['ip', raw.ip, raw.ipDefaults],
  ] as const) {
    if (name !== undefined && isDefault) throw new CliError(`--${type === 'client-id' ? 'client' : type} and --${type === 'client-id' ? 'client' : type}-defaults cannot both be specified`);
    if (name !== undefined || isDefault) quotaParts.push({ entityType: type, entityName: isDefault ? null : name });
  }
  if (quotaParts.length > 0) {
    if (entityType !== undefined) throw new CliError(`Only one entity type may be specified: ${entityType}, ${quotaParts[0]!.entityType}`);
    entityType = quotaParts[0]!.entityType === 'user' ? 'users' : quotaParts[0]!.entityType === 'client-id' ? 'clients' : 'ips';
    entityName = quotaParts[0]!.entityName ?? undefined;
    entityDefault = quotaParts[0]!.entityName === null;
  }
  if (entityType === undefined) throw new CliError('Missing required argument "[entity-type]"');
  if (entityType !== 'topics' && entityType !== 'brokers' && entityType !== 'broker-loggers' && entityType !== 'users' && entityType !== 'clients' && entityType !== 'ips') {
    throw new CliError(`Invalid entity type ${entityType}, the entity type must be one of topics, brokers, broker-loggers, users, clients, ips`);
  }
  if (entityName !== undefined && entityDefault) throw new CliError('--entity-name and --entity-default cannot both be specified');
  if (entityDefault && entityType !== 'brokers' && quotaEntityType(entityType) === undefined) throw new CliError(`--entity-default is not supported for ${entityType}`);
  if (entityName !== undefined && (entityType === 'brokers' || entityType === 'broker-loggers') && !/^\d+$/.test(entityName)) {
    throw new CliError(`The entity name for ${entityType} must be a valid integer broker id, but it is: ${entityName}`);
  }
  const action = raw.describe ? 'describe' : 'alter';
  if (raw.all && action !== 'describe') throw new CliError('--all can only be used with --describe');
  if (action === 'describe' && (raw.addConfig !== undefined || raw.deleteConfig !== undefined)) {
    throw new CliError('--add-config and --delete-config can only be used with --alter');
  }
  if (action === 'alter') {
    if (entityName === undefined && !entityDefault) throw new CliError(`an entity name must be specified with --alter of ${entityType}`);
    if (raw.addConfig === undefined && raw.deleteConfig === undefined) {
      throw new CliError('At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter');
    }
    if (entityType === 'broker-loggers') throw new CliError('Altering broker-loggers is not supported');
  }
  const addConfigs = raw.addConfig === undefined ? new Map<string, string>() : parseAddConfigs(raw.addConfig);
  const deleteConfigs = (raw.deleteConfig ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  const both = deleteConfigs.filter((k) => addConfigs.has(k));
  if (both.length > 0) throw new CliError(`Invalid config(s): ${both.join(',')}`);
  const qt = quotaEntityType(entityType);
  const quotaEntity = quotaParts.length > 0 ? quotaParts : qt ? [{ entityType: qt, entityName: entityDefault ? null : entityName }] : undefined;
  return {
    action,
    bootstrapServer: raw.bootstrapServer,
    entityType,
    entityName: entityDefault ? '' : entityName,
    all: raw.all === true,
    addConfigs,
    deleteConfigs,
    ...(quotaEntity && { quotaEntity }),
  };
}

function resourceType(t: ConfigEntityType): number {
  return t === 'topics' ? ConfigResourceType.TOPIC : t === 'brokers' ? ConfigResourceType.BROKER : ConfigResourceType.BROKER_LOGGER;
}

/** The singular noun ConfigCommand prints: "topic", "broker", "broker-logger". */
function singular(t: ConfigEntityType): string {
  return t.slice(0, -1);
}

export function formatConfigEntry(e: DescribeConfigsResourceResult): string {
  const synonyms = (e.synonyms ?? []).map((s) => `${CONFIG_SOURCES[s.source] ?? 'UNKNOWN'}:${s.name}=${s.value}`).join(', ');
  return `  ${e.name}=${e.value} sensitive=${e.isSensitive} synonyms={${synonyms}}`;
}

export function describeHeader(entityType: ConfigEntityType, entityName: string, all: boolean): string {
  if (entityName === '') return `Default configs for ${entityType} in the cluster are:`;
  return `${all ? 'All' : 'Dynamic'} configs for ${singular(entityType)} ${entityName} are:`;
}

/** The entries ConfigCommand shows: the entity's own dynamic source unless --all, sorted by name. */
export function visibleEntries(entityType: ConfigEntityType, entityName: string, all: boolean, entries: readonly DescribeConfigsResourceResult[]): DescribeConfigsResourceResult[] {
  let source: number | undefined;
  if (!all) {
    if (entityType === 'topics') source = SOURCE.DYNAMIC_TOPIC_CONFIG;
    else if (entityType === 'brokers') source = entityName === '' ? SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG : SOURCE.DYNAMIC_BROKER_CONFIG;
  }
  return entries.filter((e) => source === undefined || e.configSource === source).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function resourceConfigs(client: KafkaClient, entityType: ConfigEntityType, entityName: string): Promise<DescribeConfigsResourceResult[]> {
  const response = await client.describeConfigs([{ resourceType: resourceType(entityType), resourceName: entityName }], { includeSynonyms: true });
  const r = response.results[0];
  if (!r) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'DescribeConfigs response has no result');
  if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode as ErrorCodeValue, r.errorMessage ?? undefined);
  return r.configs;
}

export async function runConfigs(o: ConfigsOptions, io: CommandIo): Promise<void> {
  const client = clientFor(o.bootstrapServer, 'samsa-configs');
  try {
    if (o.quotaEntity) await runQuotaConfigs(client, o, o.quotaEntity, io);
    else if (o.action === 'describe') await describe(client, o, io);
    else await alter(client, o, io);
  } finally {
    await client.close();
  }
}

async function describe(client: KafkaClient, o: ConfigsOptions, io: CommandIo): Promise<void> {
  let entities: string[];
  if (o.entityName !== undefined) {
    entities = [o.entityName];
  } else if (o.entityType === 'topics') {
    const md = await client.metadata(null);
    entities = md.topics.filter((t) => t.name !== null && t.errorCode === ErrorCode.NONE).map((t) => t.name!).sort();
  } else {
    await client.metadata([]);
    entities = [...client.brokers.keys()].sort((a, b) => a - b).map(String);
    if (o.entityType === 'brokers') entities.push('');
  }
  for (const entity of entities) {
    const entries = await resourceConfigs(client, o.entityType, entity);
    io.out(describeHeader(o.entityType, entity, o.all) + '\n');
    for (const e of visibleEntries(o.entityType, entity, o.all, entries)) io.out(formatConfigEntry(e) + '\n');
  }
}

async function alter(client: KafkaClient, o: ConfigsOptions, io: CommandIo): Promise<void> {
  const name = o.entityName!;
  if (o.deleteConfigs.length > 0) {
    const current = new Set(visibleEntries(o.entityType, name, false, await resourceConfigs(client, o.entityType, name)).map((e) => e.name));
    const missing = o.deleteConfigs.filter((k) => !current.has(k));
    if (missing.length > 0) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Invalid config(s): ${missing.join(',')}`);
  }
  const response = await client.incrementalAlterConfigs([
    {
      resourceType: resourceType(o.entityType),
      resourceName: name,
      configs: [
        ...[...o.addConfigs].map(([k, value]) => ({ name: k, configOperation: AlterConfigOp.SET, value })),
        ...o.deleteConfigs.map((k) => ({ name: k, configOperation: AlterConfigOp.DELETE, value: null })),
      ],
    },
  ]);
  const r = response.responses[0];
  if (r && r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode as ErrorCodeValue, r.errorMessage ?? undefined);
  io.out(name === '' ? `Completed updating default config for ${o.entityType} in the cluster.\n` : `Completed updating config for ${singular(o.entityType)} ${name}.\n`);
}

/** Users, clients and ips: client quotas; a single named user also carries SCRAM credentials. */
async function runQuotaConfigs(client: KafkaClient, o: ConfigsOptions, entity: QuotaEntityPart[], io: CommandIo): Promise<void> {
  const scramUser = o.entityType === 'users' && entity.length === 1 && entity[0]!.entityName !== null;
  if (o.action === 'describe') {
    await describeQuotas(client, entity, io);
    if (scramUser) await describeUsers(client, o, io);
    return;
  }
  const isQuota = (k: string): boolean => QUOTA_KEYS.has(k) || !scramUser;
  const quotaAdds = new Map([...o.addConfigs].filter(([k]) => isQuota(k)));
  const quotaDeletes = o.deleteConfigs.filter(isQuota);
  if (quotaAdds.size + quotaDeletes.length < o.addConfigs.size + o.deleteConfigs.length) {
    await alterUsers(client, { ...o, addConfigs: new Map([...o.addConfigs].filter(([k]) => !isQuota(k))), deleteConfigs: o.deleteConfigs.filter((k) => !isQuota(k)) }, io);
  }
  if (quotaAdds.size + quotaDeletes.length > 0) await alterQuotas(client, entity, quotaAdds, quotaDeletes, io);
}

/** Parses `iterations=8192,password=secret` (the value of a SCRAM-SHA-* --add-config entry). */
export function parseScramConfig(mechanism: string, value: string): { iterations: number; password: string } {
  const fields = new Map<string, string>();
  for (const part of value.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) throw new CliError(`Invalid ${mechanism} config: ${value} (expected [iterations=N,password=...])`);
    fields.set(part.slice(0, at).trim(), part.slice(at + 1));
  }
  const password = fields.get('password');
  if (password === undefined) throw new CliError(`Invalid ${mechanism} config: a password must be given (${mechanism}=[password=...])`);
  const iterations = fields.has('iterations') ? Number(fields.get('iterations')) : 4096;
  if (!Number.isInteger(iterations)) throw new CliError(`Invalid ${mechanism} config: iterations must be an integer`);
  return { iterations, password };
}

async function alterUsers(client: KafkaClient, o: ConfigsOptions, io: CommandIo): Promise<void> {
  const name = o.entityName!;
  const upsertions = [...o.addConfigs].map(([key, value]) => {
    const m = scramMechanism(key);
    if (!m) throw new CliError(`Invalid config(s): ${key} (users take SCRAM-SHA-256 and SCRAM-SHA-512 credentials)`);
    const { iterations, password } = parseScramConfig(key, value);
    const salt = randomBytes(32);
    return { name, mechanism: m.type, iterations, salt, saltedPassword: saltedPassword(m, password, salt, iterations) };
  });
  const deletions = o.deleteConfigs.map((key) => {
    const m = scramMechanism(key);
    if (!m) throw new CliError(`Invalid config(s): ${key} (users take SCRAM-SHA-256 and SCRAM-SHA-512 credentials)`);
    return { name, mechanism: m.type };
  });
  const response = await client.send('any', ApiKey.AlterUserScramCredentials, { deletions, upsertions });
  const r = response.results.find((x) => x.errorCode !== ErrorCode.NONE);
  if (r) throw new KafkaError(r.errorCode as ErrorCodeValue, r.errorMessage ?? undefined);
  io.out(`Completed updating config for user ${name}.\n`);
}

async function describeUsers(client: KafkaClient, o: ConfigsOptions, io: CommandIo): Promise<void> {
  const response = await client.send('any', ApiKey.DescribeUserScramCredentials, { users: o.entityName === undefined ? null : [{ name: o.entityName }] });
  if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode as ErrorCodeValue, response.errorMessage ?? undefined);
  for (const r of response.results) {
    // A named user without credentials is described as having none, as ConfigCommand does.
    if (r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.RESOURCE_NOT_FOUND) throw new KafkaError(r.errorCode as ErrorCodeValue, r.errorMessage ?? undefined);
    const creds = r.credentialInfos.map((c) => `${scramMechanismOfType(c.mechanism)?.name ?? `UNKNOWN(${c.mechanism})`}=iterations=${c.iterations}`).join(', ');
    io.out(`SCRAM credential configs for user-principal '${r.user}' are ${creds}\n`);
  }
}

export function configsCommand(io: CommandIo = processIo): Command {
  const cmd = defineConfigsOptions(new Command('configs'));
  return cmd.action(async (raw: RawConfigsOptions) => {
    const args = process.argv.slice(process.argv.indexOf('configs') + 1).join(' ');
    await runAction(io, '', async () => {
      const o = toConfigsOptions(raw);
      try {
        await runConfigs(o, io);
      } catch (e) {
        if (e instanceof KafkaError) {
          throw new CliError(`Error while executing config command with args '${args}'\n${exceptionName(e)}: ${e.message}`);
        }
        throw e;
      }
    });
  });
}

/** The Java exception class Kafka's tool would print for an error code, e.g. InvalidConfigurationException. */
function exceptionName(e: KafkaError): string {
  const special: Record<string, string> = {
    INVALID_CONFIG: 'InvalidConfigurationException',
    UNKNOWN_TOPIC_OR_PARTITION: 'UnknownTopicOrPartitionException',
    INVALID_REQUEST: 'InvalidRequestException',
  };
  const name =
    special[e.errorName] ??
    e.errorName
      .toLowerCase()
      .split('_')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('') + 'Exception';
  return `org.apache.kafka.common.errors.${name}`;
}
