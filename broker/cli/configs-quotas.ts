// `samsa configs` for client quotas (KIP-546), as kafka-configs.sh: entities are users, clients
// and ips, named (--entity-name, or --user/--client/--ip) or the default (--entity-default, or
// --user-defaults/--client-defaults/--ip-defaults); a user and a client together name
// /users/<u>/clients/<c>. --alter sends AlterClientQuotas (--add-config k=v sets, --delete-config
// k removes), --describe sends DescribeClientQuotas with a strict filter of the given entity and
// prints "Quota configs for user-principal 'alice', client-id 'app' are producer_byte_rate=1048576.0"
// (values as the Java tool prints doubles).
import type { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { CliError } from './command-io.ts';
import type { CommandIo } from './command-io.ts';

/** One part of a quota entity; name null is the default, undefined every entity of the type (describe). */
export interface QuotaEntityPart {
  entityType: 'user' | 'client-id' | 'ip';
  entityName: string | null | undefined;
}

export const QUOTA_KEYS = new Set(['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'controller_mutation_rate', 'connection_creation_rate']);

/** The quota entity type of a configs entity type: users → user, clients → client-id, ips → ip. */
export function quotaEntityType(entityType: string): QuotaEntityPart['entityType'] | undefined {
  return entityType === 'users' ? 'user' : entityType === 'clients' ? 'client-id' : entityType === 'ips' ? 'ip' : undefined;
}

/** Java's Double.toString for the values kafka-configs prints (1048576 → 1048576.0). */
export function formatQuotaValue(v: number): string {
  return Number.isInteger(v) && Math.abs(v) < 1e7 ? `${v}.0` : String(v);
}

export function describeQuotaLine(entity: readonly { entityType: string; entityName: string | null }[], values: readonly { key: string; value: number }[]): string {
  const label: Record<string, string> = { user: 'user-principal', 'client-id': 'client-id', ip: 'ip' };
  const parts = ['user', 'client-id', 'ip']
    .map((t) => entity.find((e) => e.entityType === t))
    .filter((e) => e !== undefined)
    .map((e) => (e.entityName === null ? `the default ${label[e.entityType]}` : `${label[e.entityType]} '${e.entityName}'`));
  const entries = [...values].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((v) => `${v.key}=${formatQuotaValue(v.value)}`);
  return `Quota configs for ${parts.join(', ')} are ${entries.join(', ')}`;
}

/** Checks quota keys and values as ConfigCommand does before sending anything. */
export function quotaOps(addConfigs: ReadonlyMap<string, string>, deleteConfigs: readonly string[]): { key: string; value: number; remove: boolean }[] {
  const unknown = [...addConfigs.keys(), ...deleteConfigs].filter((k) => !QUOTA_KEYS.has(k));
  if (unknown.length > 0) throw new CliError(`Invalid config(s): ${unknown.join(',')}`);
  return [
    ...[...addConfigs].map(([key, raw]) => {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new CliError(`Cannot parse quota configuration value for ${key}: ${raw}`);
      return { key, value, remove: false };
    }),
    ...deleteConfigs.map((key) => ({ key, value: 0, remove: true })),
  ];
}

function entityLabel(entity: readonly QuotaEntityPart[]): string {
  const noun: Record<string, string> = { user: 'user', 'client-id': 'client', ip: 'ip' };
  return entity.map((e) => (e.entityName === null ? `default ${noun[e.entityType]}` : `${noun[e.entityType]} ${e.entityName}`)).join(', ');
}

export async function alterQuotas(client: KafkaClient, entity: readonly QuotaEntityPart[], addConfigs: ReadonlyMap<string, string>, deleteConfigs: readonly string[], io: CommandIo): Promise<void> {
  const ops = quotaOps(addConfigs, deleteConfigs);
  const response = await client.send('any', ApiKey.AlterClientQuotas, {
    entries: [{ entity: entity.map((e) => ({ entityType: e.entityType, entityName: e.entityName ?? null })), ops }],
    validateOnly: false,
  });
  const failed = response.entries.find((e) => e.errorCode !== ErrorCode.NONE);
  if (failed) throw new KafkaError(failed.errorCode as ErrorCodeValue, failed.errorMessage ?? undefined);
  io.out(`Completed updating config for ${entityLabel(entity)}.\n`);
}

export async function describeQuotas(client: KafkaClient, entity: readonly QuotaEntityPart[], io: CommandIo): Promise<void> {
  const components = entity.map((e) =>
    e.entityName === undefined ? { entityType: e.entityType, matchType: 2, match: null } : e.entityName === null ? { entityType: e.entityType, matchType: 1, match: null } : { entityType: e.entityType, matchType: 0, match: e.entityName },
  );
  const response = await client.send('any', ApiKey.DescribeClientQuotas, { components, strict: true });
  if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode as ErrorCodeValue, response.errorMessage ?? undefined);
  const lines = (response.entries ?? []).map((e) => describeQuotaLine(e.entity, e.values)).sort();
  for (const line of lines) io.out(line + '\n');
}
