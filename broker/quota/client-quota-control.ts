// Client quotas as the metadata log holds them (KIP-546): the active controller turns each
// AlterClientQuotas entry into ClientQuotaRecords (one per key set or removed), and
// DescribeClientQuotas reads the entities of the image that match a filter.
// Checks, with Kafka's answers (ClientQuotaControlManager and ClientQuotasImage): an entity is
// user, client-id, user + client-id, or ip alone, each type at most once (else INVALID_REQUEST);
// an ip entity names a valid address or the default; keys are those of the entity's kind
// (producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate for
// users and clients, connection_creation_rate for ips), byte rates whole numbers. An entry that
// fails changes nothing; the others of the same request still apply. Removing a key that is not
// set writes nothing.
import { isIP } from 'node:net';
import type { ControllerResult } from '../../controller/controller-result.ts';
import { type ClientQuotaEntityPart, clientQuotaEntityKey, type MetadataImage } from '../../controller/metadata/image.ts';
import { type MetadataRecord, record } from '../../controller/metadata/record-serde.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { AlterClientQuotasRequest } from '../../protocol/generated/message/alter-client-quotas-request.ts';
import type { AlterClientQuotasResponse } from '../../protocol/generated/message/alter-client-quotas-response.ts';
import type { DescribeClientQuotasRequest } from '../../protocol/generated/message/describe-client-quotas-request.ts';
import type { DescribeClientQuotasResponse } from '../../protocol/generated/message/describe-client-quotas-response.ts';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';

export const USER = 'user';
export const CLIENT_ID = 'client-id';
export const IP = 'ip';

export const PRODUCER_BYTE_RATE = 'producer_byte_rate';
export const CONSUMER_BYTE_RATE = 'consumer_byte_rate';
export const REQUEST_PERCENTAGE = 'request_percentage';
export const CONTROLLER_MUTATION_RATE = 'controller_mutation_rate';
export const CONNECTION_CREATION_RATE = 'connection_creation_rate';

/** Quota keys by the kind of entity they apply to; `long` keys take whole numbers only. */
const CLIENT_KEYS: Record<string, 'int' | 'long' | 'double'> = {
  [PRODUCER_BYTE_RATE]: 'long',
  [CONSUMER_BYTE_RATE]: 'long',
  [REQUEST_PERCENTAGE]: 'double',
  [CONTROLLER_MUTATION_RATE]: 'double',
};
const IP_KEYS: Record<string, 'int' | 'long' | 'double'> = { [CONNECTION_CREATION_RATE]: 'int' };

const byType = (a: ClientQuotaEntityPart, b: ClientQuotaEntityPart): number => (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0);

/** The entity's parts, checked and sorted; throws INVALID_REQUEST as Kafka does. */
export function validateEntity(parts: readonly ClientQuotaEntityPart[]): ClientQuotaEntityPart[] {
  if (parts.length === 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Invalid empty client quota entity');
  const seen = new Set<string>();
  for (const p of parts) {
    if (p.entityType !== USER && p.entityType !== CLIENT_ID && p.entityType !== IP) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unhandled client quota entity type: ${p.entityType}`);
    }
    if (seen.has(p.entityType)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Entity type ${p.entityType} specified more than once`);
    seen.add(p.entityType);
    if (p.entityType === IP && p.entityName !== null && isIP(p.entityName) === 0) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `${p.entityName} is not a valid IP or resolvable host.`);
    }
  }
  if (seen.has(IP) && seen.size > 1) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Invalid quota entity combination, IP entity should not be combined with User or ClientId entities.');
  return parts.map((p) => ({ entityType: p.entityType, entityName: p.entityName })).sort(byType);
}

function validateOp(isIpEntity: boolean, key: string, value: number, remove: boolean): void {
  const type = (isIpEntity ? IP_KEYS : CLIENT_KEYS)[key];
  if (type === undefined) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Invalid configuration key ${key}`);
  if (remove) return;
  if (!Number.isFinite(value)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Configuration ${key} must be a number`);
  if (type !== 'double' && !Number.isInteger(value)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Configuration ${key} must be a ${type === 'int' ? 'Int' : 'Long'} value`);
}

type AlterEntry = AlterClientQuotasResponse['entries'][number];

/** AlterClientQuotas on the active controller: the records and the answer (records empty when validateOnly). */
export function alterClientQuotas(image: MetadataImage, req: AlterClientQuotasRequest): ControllerResult<AlterClientQuotasResponse> {
  const records: MetadataRecord[] = [];
  const entries: AlterEntry[] = req.entries.map((entry) => {
    const echo = entry.entity.map((e) => ({ entityType: e.entityType, entityName: e.entityName }));
    try {
      const entity = validateEntity(entry.entity);
      const isIpEntity = entity[0]!.entityType === IP;
      const keys = new Set<string>();
      for (const op of entry.ops) {
        validateOp(isIpEntity, op.key, op.value, op.remove);
        if (keys.has(op.key)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Duplicate quota key ${op.key} for one entity`);
        keys.add(op.key);
      }
      const current = image.clientQuotas?.get(clientQuotaEntityKey(entity))?.values;
      const mine: MetadataRecord[] = [];
      for (const op of entry.ops) {
        if (op.remove && !current?.has(op.key)) continue;
        mine.push(record(MetadataRecordType.ClientQuotaRecord, { entity: entity.map((e) => ({ ...e })), key: op.key, value: op.remove ? 0 : op.value, remove: op.remove }));
      }
      if (!req.validateOnly) records.push(...mine);
      return { errorCode: ErrorCode.NONE, errorMessage: null, entity: echo };
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      return { errorCode: err.errorCode, errorMessage: err.message, entity: echo };
    }
  });
  return { records, response: { throttleTimeMs: 0, entries } };
}

export const MATCH_EXACT = 0;
export const MATCH_DEFAULT = 1;
export const MATCH_SPECIFIED = 2;

/** DescribeClientQuotas against an image: the matching entities and their values, or a top-level error. */
export function describeClientQuotas(image: MetadataImage, req: DescribeClientQuotasRequest): DescribeClientQuotasResponse {
  const exact = new Map<string, string | null>();
  const anyOf = new Set<string>();
  try {
    for (const c of req.components) {
      if (c.entityType !== USER && c.entityType !== CLIENT_ID && c.entityType !== IP) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Invalid entity type ${c.entityType}`);
      if (exact.has(c.entityType) || anyOf.has(c.entityType)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Entity type ${c.entityType} cannot appear more than once in the filter.`);
      switch (c.matchType) {
        case MATCH_EXACT:
          if (c.match === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_EXACT, but set match string to null');
          exact.set(c.entityType, c.match);
          break;
        case MATCH_DEFAULT:
          if (c.match !== null) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_DEFAULT, but also specified a match string');
          exact.set(c.entityType, null);
          break;
        case MATCH_SPECIFIED:
          if (c.match !== null) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_SPECIFIED, but also specified a match string');
          anyOf.add(c.entityType);
          break;
        default:
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
      }
    }
    const types = new Set([...exact.keys(), ...anyOf]);
    if (types.has(IP) && types.size > 1) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Invalid entity filter component combination, IP filter component should not be used with user or clientId filter component.');
    }
  } catch (err) {
    if (!(err instanceof KafkaError)) throw err;
    return { throttleTimeMs: 0, errorCode: err.errorCode, errorMessage: err.message, entries: null };
  }
  const entries: NonNullable<DescribeClientQuotasResponse['entries']> = [];
  for (const q of image.clientQuotas?.values() ?? []) {
    const names = new Map(q.entity.map((e) => [e.entityType, e.entityName]));
    if (req.strict && names.size !== exact.size + anyOf.size) continue;
    let ok = true;
    for (const [type, name] of exact) if (!names.has(type) || names.get(type) !== name) ok = false;
    for (const type of anyOf) if (!names.has(type)) ok = false;
    if (!ok) continue;
    entries.push({ entity: q.entity.map((e) => ({ ...e })), values: [...q.values].map(([key, value]) => ({ key, value })) });
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries };
}
