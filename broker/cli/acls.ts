// `samsa acls`: Kafka's kafka-acls.sh. --add, --remove and --list of ACLs on topics, groups,
// transactional ids and the cluster (CreateAcls, DeleteAcls, DescribeAcls), with Kafka's flags:
// --allow-principal/--deny-principal and --allow-host/--deny-host (`*` when principals are given
// without hosts), --operation (repeatable; Read, Write, ClusterAction, All...), the
// --producer/--consumer conveniences, --resource-pattern-type (LITERAL by default; ANY and MATCH
// for --list and --remove), --force to remove without asking, and --command-config for a secured
// listener (broker/cli/acls-connection.ts). Output follows kafka-acls.sh: "Adding ACLs for
// resource `ResourcePattern(...)`:" with one "(principal=..., host=..., operation=...,
// permissionType=...)" line per ACL, then the resource's current ACLs.
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { ConnectionError } from '../../protocol/client/connection-errors.ts';
import type { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { type AclBinding, type AclBindingFilter, AclOperation, CLUSTER_NAME, codeByName, operationName, PatternType, patternTypeName, PermissionType, permissionTypeName, ResourceType, resourceTypeName } from '../auth/acl.ts';
import { ClientSecurityError } from '../security/client-security.ts';
import { connectSecured, loadCommandConfig, securityFromProperties } from './acls-connection.ts';
import { describeFailure } from './admin-connection.ts';
import { CliError, collect, type CommandIo, processIo } from './command-io.ts';

export interface AclsOptions {
  bootstrapServer?: string;
  commandConfig?: string;
  add?: boolean;
  remove?: boolean;
  list?: boolean;
  allowPrincipal?: string[];
  denyPrincipal?: string[];
  principal?: string[];
  allowHost?: string[];
  denyHost?: string[];
  operation?: string[];
  topic?: string[];
  group?: string[];
  cluster?: boolean;
  transactionalId?: string[];
  resourcePatternType?: string;
  producer?: boolean;
  consumer?: boolean;
  idempotent?: boolean;
  force?: boolean;
}

interface Pattern {
  resourceType: number;
  resourceName: string;
  patternType: number;
}

const normalized = (s: string): string => s.replace(/[_\-\s]/g, '').toUpperCase();

/** Kafka's operation names as kafka-acls.sh takes them: Read, Write, ClusterAction, IdempotentWrite, All... */
export function parseOperation(name: string): number {
  const want = normalized(name);
  const hit = Object.entries(AclOperation).find(([n, code]) => normalized(n) === want && code !== AclOperation.UNKNOWN && code !== AclOperation.ANY);
  if (!hit) throw new CliError(`Invalid operation ${name}: expected one of Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens, All`);
  return hit[1];
}

export const formatPattern = (p: Pattern, filter = false): string => `${filter ? 'ResourcePatternFilter' : 'ResourcePattern'}(resourceType=${resourceTypeName(p.resourceType)}, name=${p.resourceName}, patternType=${patternTypeName(p.patternType)})`;
export const formatEntry = (a: Pick<AclBinding, 'principal' | 'host' | 'operation' | 'permissionType'>): string => `(principal=${a.principal}, host=${a.host}, operation=${operationName(a.operation)}, permissionType=${permissionTypeName(a.permissionType)})`;

function patterns(o: AclsOptions, patternType: number): Pattern[] {
  const out: Pattern[] = [];
  for (const t of o.topic ?? []) out.push({ resourceType: ResourceType.TOPIC, resourceName: t, patternType });
  for (const g of o.group ?? []) out.push({ resourceType: ResourceType.GROUP, resourceName: g, patternType });
  for (const x of o.transactionalId ?? []) out.push({ resourceType: ResourceType.TRANSACTIONAL_ID, resourceName: x, patternType });
  if (o.cluster) out.push({ resourceType: ResourceType.CLUSTER, resourceName: CLUSTER_NAME, patternType: PatternType.LITERAL });
  return out;
}

type Entry = Pick<AclBinding, 'principal' | 'host' | 'operation' | 'permissionType'>;

function entries(o: AclsOptions, operations: readonly number[]): Entry[] {
  const out: Entry[] = [];
  const add = (principals: string[] | undefined, hosts: string[] | undefined, permissionType: number): void => {
    for (const principal of principals ?? []) {
      if (!principal.includes(':')) throw new CliError(`Invalid principal ${principal}: expected type:name, e.g. User:alice`);
      for (const host of hosts && hosts.length > 0 ? hosts : ['*']) for (const operation of operations) out.push({ principal, host, operation, permissionType });
    }
  };
  add(o.allowPrincipal, o.allowHost, PermissionType.ALLOW);
  add(o.denyPrincipal, o.denyHost, PermissionType.DENY);
  return out;
}

/** The ACLs --add asks for, by resource, with --producer and --consumer expanded as Kafka does. */
export function requestedAcls(o: AclsOptions, patternType: number): Map<string, { pattern: Pattern; entries: Entry[] }> {
  const byResource = new Map<string, { pattern: Pattern; entries: Entry[] }>();
  const put = (pattern: Pattern, es: Entry[]): void => {
    const key = formatPattern(pattern);
    const slot = byResource.get(key) ?? { pattern, entries: [] };
    slot.entries.push(...es);
    byResource.set(key, slot);
  };
  if (o.producer || o.consumer) {
    if (o.operation?.length) throw new CliError('--operation cannot be used with --producer or --consumer');
    if (o.consumer && !(o.group?.length)) throw new CliError('With --consumer you must specify a --group');
    for (const t of o.topic ?? []) {
      const ops = [...(o.producer ? [AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE] : []), ...(o.consumer ? [AclOperation.READ, AclOperation.DESCRIBE] : [])];
      put({ resourceType: ResourceType.TOPIC, resourceName: t, patternType }, entries(o, [...new Set(ops)]));
    }
    if (o.consumer) for (const g of o.group ?? []) put({ resourceType: ResourceType.GROUP, resourceName: g, patternType }, entries(o, [AclOperation.READ]));
    if (o.producer) {
      for (const x of o.transactionalId ?? []) put({ resourceType: ResourceType.TRANSACTIONAL_ID, resourceName: x, patternType }, entries(o, [AclOperation.WRITE, AclOperation.DESCRIBE]));
      if (o.idempotent) put({ resourceType: ResourceType.CLUSTER, resourceName: CLUSTER_NAME, patternType: PatternType.LITERAL }, entries(o, [AclOperation.IDEMPOTENT_WRITE]));
    }
    return byResource;
  }
  const operations = (o.operation ?? []).map(parseOperation);
  if (operations.length === 0) throw new CliError('You must specify at least one --operation (or --producer/--consumer) with --add');
  for (const p of patterns(o, patternType)) put(p, entries(o, operations));
  return byResource;
}

function patternTypeOf(o: AclsOptions): number {
  const raw = o.resourcePatternType ?? 'LITERAL';
  const code = codeByName(PatternType, raw);
  if (code === undefined || code === PatternType.UNKNOWN) throw new CliError(`Invalid --resource-pattern-type ${raw}: expected ANY, MATCH, LITERAL or PREFIXED`);
  return code;
}

async function describeAcls(conn: KafkaConnection, f: AclBindingFilter) {
  const r = await conn.send(ApiKey.DescribeAcls, { resourceTypeFilter: f.resourceType, resourceNameFilter: f.resourceName, patternTypeFilter: f.patternType, principalFilter: f.principal, hostFilter: f.host, operation: f.operation, permissionType: f.permissionType });
  if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode as ErrorCode, r.errorMessage ?? undefined);
  return r.resources;
}

const anyEntry = { principal: null, host: null, operation: AclOperation.ANY, permissionType: PermissionType.ANY };

async function printCurrent(io: CommandIo, conn: KafkaConnection, filters: readonly AclBindingFilter[]): Promise<void> {
  for (const f of filters) {
    for (const r of await describeAcls(conn, f)) {
      const p = { resourceType: r.resourceType, resourceName: r.resourceName, patternType: r.patternType ?? PatternType.LITERAL };
      io.out(`Current ACLs for resource \`${formatPattern(p)}\`: \n ${r.acls.map((a) => `\t${formatEntry(a)}`).join('\n')} \n\n`);
    }
  }
}

async function confirm(io: CommandIo, question: string): Promise<boolean> {
  io.out(`${question} (y/n)\n`);
  const rl = createInterface({ input: process.stdin });
  const line = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  return line.trim().toLowerCase() === 'y';
}

async function run(io: CommandIo, o: AclsOptions): Promise<void> {
  const actions = [o.add, o.remove, o.list].filter(Boolean).length;
  if (actions !== 1) throw new CliError('Command must include exactly one action: --list, --add, --remove.');
  if (o.bootstrapServer === undefined) throw new CliError('Missing required argument "[bootstrap-server]"');
  const security = securityFromProperties(loadCommandConfig(o.commandConfig));
  const patternType = patternTypeOf(o);
  if (o.add && (patternType === PatternType.ANY || patternType === PatternType.MATCH)) throw new CliError(`A '--resource-pattern-type' value of '${patternTypeName(patternType)}' is not valid when adding acls.`);
  const conn = await connectSecured(o.bootstrapServer.split(',').map((s) => s.trim()).filter((s) => s !== ''), security, 'samsa-acls');
  try {
    if (o.add) {
      const wanted = requestedAcls(o, patternType);
      if (wanted.size === 0) throw new CliError('You must specify one of: --allow-principal, --deny-principal with a resource (--topic, --group, --transactional-id, --cluster)');
      for (const { pattern, entries: es } of wanted.values()) {
        if (es.length === 0) throw new CliError('You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.');
        io.out(`Adding ACLs for resource \`${formatPattern(pattern)}\`: \n ${es.map((e) => `\t${formatEntry(e)}`).join('\n')} \n\n`);
        const r = await conn.send(ApiKey.CreateAcls, { creations: es.map((e) => ({ resourceType: pattern.resourceType, resourceName: pattern.resourceName, resourcePatternType: pattern.patternType, ...e })) });
        const failed = r.results.find((x) => x.errorCode !== ErrorCode.NONE);
        if (failed) throw new KafkaError(failed.errorCode as ErrorCode, failed.errorMessage ?? undefined);
      }
      await printCurrent(io, conn, [...wanted.values()].map(({ pattern }) => ({ resourceType: pattern.resourceType, resourceName: pattern.resourceName, patternType: pattern.patternType, ...anyEntry })));
      return;
    }
    const resources = patterns(o, patternType);
    if (o.remove) {
      if (resources.length === 0) throw new CliError('You must specify a resource (--topic, --group, --transactional-id, --cluster) with --remove');
      const ops = (o.operation ?? []).map(parseOperation);
      const es = o.allowPrincipal || o.denyPrincipal ? entries(o, ops.length > 0 ? ops : [AclOperation.ANY]) : [];
      for (const p of resources) {
        const question = es.length === 0
          ? `Are you sure you want to delete all ACLs for resource filter \`${formatPattern(p, true)}\`?`
          : `Are you sure you want to remove ACLs: \n ${es.map((e) => `\t${formatEntry(e)}`).join('\n')} \n from resource filter \`${formatPattern(p, true)}\`?`;
        if (!o.force && !(await confirm(io, question))) continue;
        const filters = es.length === 0
          ? [{ resourceTypeFilter: p.resourceType, resourceNameFilter: p.resourceName, patternTypeFilter: p.patternType, principalFilter: null, hostFilter: null, operation: AclOperation.ANY, permissionType: PermissionType.ANY }]
          : es.map((e) => ({ resourceTypeFilter: p.resourceType, resourceNameFilter: p.resourceName, patternTypeFilter: p.patternType, principalFilter: e.principal, hostFilter: e.host, operation: e.operation, permissionType: e.permissionType }));
        const r = await conn.send(ApiKey.DeleteAcls, { filters });
        const failed = r.filterResults.find((x) => x.errorCode !== ErrorCode.NONE);
        if (failed) throw new KafkaError(failed.errorCode as ErrorCode, failed.errorMessage ?? undefined);
      }
      await printCurrent(io, conn, resources.map((p) => ({ resourceType: p.resourceType, resourceName: p.resourceName, patternType: p.patternType, ...anyEntry })));
      return;
    }
    const principal = o.principal?.length === 1 ? o.principal[0]! : null;
    const filters: AclBindingFilter[] = resources.length === 0
      ? [{ resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY, ...anyEntry, principal }]
      : resources.map((p) => ({ resourceType: p.resourceType, resourceName: p.resourceName, patternType: o.resourcePatternType === undefined ? PatternType.ANY : p.patternType, ...anyEntry, principal }));
    await printCurrent(io, conn, filters);
  } finally {
    await conn.close();
  }
}

export function aclsCommand(io: CommandIo = processIo): Command {
  return new Command('acls')
    .description('Add, remove and list ACLs (kafka-acls.sh).')
    .option('--bootstrap-server <servers>', 'A list of host:port pairs of brokers to connect to.')
    .option('--command-config <file>', 'Property file containing configs to be passed to Admin Client.')
    .option('--add', 'Indicates you are trying to add ACLs.')
    .option('--remove', 'Indicates you are trying to remove ACLs.')
    .option('--list', 'List ACLs for the specified resource; all ACLs without one.')
    .option('--allow-principal <principal>', 'Principal (type:name) the ALLOW ACLs are for; repeatable.', collect)
    .option('--deny-principal <principal>', 'Principal (type:name) the DENY ACLs are for; repeatable.', collect)
    .option('--principal <principal>', 'With --list, only the ACLs of this principal.', collect)
    .option('--allow-host <host>', 'Host the ALLOW ACLs apply to (default * with --allow-principal); repeatable.', collect)
    .option('--deny-host <host>', 'Host the DENY ACLs apply to (default * with --deny-principal); repeatable.', collect)
    .option('--operation <operation>', 'Operation: Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All; repeatable.', collect)
    .option('--topic <topic>', 'Topic resource; * for all topics; repeatable.', collect)
    .option('--group <group>', 'Consumer group resource; * for all groups; repeatable.', collect)
    .option('--transactional-id <id>', 'Transactional id resource; * for all; repeatable.', collect)
    .option('--cluster', 'The cluster resource.')
    .option('--resource-pattern-type <type>', 'LITERAL (default), PREFIXED; ANY or MATCH with --list and --remove.')
    .option('--producer', 'Convenience: WRITE, DESCRIBE and CREATE on the topics (WRITE, DESCRIBE on transactional ids).')
    .option('--consumer', 'Convenience: READ and DESCRIBE on the topics, READ on the groups.')
    .option('--idempotent', 'With --producer, IDEMPOTENT_WRITE on the cluster.')
    .option('--force', 'Assume yes to every prompt.')
    .action(async (o: AclsOptions) => {
      try {
        await run(io, o);
      } catch (e) {
        if (e instanceof CliError) io.err(`${e.message}\n`);
        else if (e instanceof KafkaError || e instanceof ConnectionError) io.err(`Error while executing ACL command: ${describeFailure(e)}\n`);
        else if (e instanceof ClientSecurityError) io.err(`Error while executing ACL command: ${e.message}\n`);
        else throw e;
        io.fail(1);
      }
    });
}
