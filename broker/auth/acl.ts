// ACLs as Kafka defines them (KIP-11, prefixed patterns of KIP-290): an ACL binds a resource
// pattern (type, name, LITERAL or PREFIXED) to an entry (principal, host, operation, ALLOW or
// DENY). Filters (DescribeAcls, DeleteAcls) also take ANY and MATCH. Codes are Kafka's wire codes
// (ResourceType, PatternType, AclOperation, AclPermissionType); a code this broker does not know
// reads as UNKNOWN, which no stored ACL and no valid filter carries.
import type { AclImage } from '../../controller/metadata/image.ts';

export const ResourceType = { UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7 } as const;
export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;
export const PermissionType = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The wildcard resource name (a LITERAL `*` matches every resource of its type). */
export const WILDCARD_RESOURCE = '*';
/** The wildcard principal: matches every user. */
export const WILDCARD_PRINCIPAL = 'User:*';
export const WILDCARD_HOST = '*';
/** The only name the CLUSTER resource has. */
export const CLUSTER_NAME = 'kafka-cluster';

/** An ACL without its id: the metadata image's entry (AccessControlEntryRecord) minus the id. */
export type AclBinding = Omit<AclImage, 'id'>;

/** An ACL as stored in the metadata image, with the id its AccessControlEntryRecord gave it. */
/** An ACL with its id, as the metadata image holds it. */
export type StandardAcl = AclImage;

export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

const known = (table: Record<string, number>, code: number): number => (Object.values(table).includes(code) ? code : 0);
export const knownResourceType = (code: number): number => known(ResourceType, code);
export const knownPatternType = (code: number): number => known(PatternType, code);
export const knownOperation = (code: number): number => known(AclOperation, code);
export const knownPermissionType = (code: number): number => known(PermissionType, code);

const nameOf = (table: Record<string, number>, code: number): string => Object.entries(table).find(([, c]) => c === code)?.[0] ?? 'UNKNOWN';
export const resourceTypeName = (code: number): string => nameOf(ResourceType, code);
export const patternTypeName = (code: number): string => nameOf(PatternType, code);
export const operationName = (code: number): string => nameOf(AclOperation, code);
export const permissionTypeName = (code: number): string => nameOf(PermissionType, code);

/** Kafka's parse of names such as "Write", "idempotent-write" or "TRANSACTIONAL_ID" (case and `-` ignored). */
export function codeByName(table: Record<string, number>, name: string): number | undefined {
  const key = name.trim().toUpperCase().replace(/-/g, '_');
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Why a new ACL is refused (Kafka's AclControlManager.validateNewAcl and the broker's checks), or null. */
export function invalidNewAcl(b: AclBinding): string | null {
  if (b.resourceType === ResourceType.UNKNOWN || b.resourceType === ResourceType.ANY || knownResourceType(b.resourceType) === 0) return `Invalid resourceType ${resourceTypeName(b.resourceType)}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `Invalid patternType ${patternTypeName(b.patternType)}`;
  if (b.operation === AclOperation.UNKNOWN || b.operation === AclOperation.ANY || knownOperation(b.operation) === 0) return `Invalid operation ${operationName(b.operation)}`;
  if (b.permissionType !== PermissionType.ALLOW && b.permissionType !== PermissionType.DENY) return `Invalid permissionType ${permissionTypeName(b.permissionType)}`;
  if (b.resourceName === '') return 'Resource name should not be empty';
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  const colon = b.principal.indexOf(':');
  if (colon <= 0) return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  return null;
}

/** Why a filter is refused (it names an UNKNOWN element), or null. */
export function invalidFilter(f: AclBindingFilter): string | null {
  if (knownResourceType(f.resourceType) === ResourceType.UNKNOWN || knownPatternType(f.patternType) === PatternType.UNKNOWN) return 'Unknown patternFilter.';
  if (knownOperation(f.operation) === AclOperation.UNKNOWN || knownPermissionType(f.permissionType) === PermissionType.UNKNOWN) return 'Unknown entryFilter.';
  return null;
}

/** Kafka's ResourcePatternFilter.matches. */
export function patternMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== b.patternType) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === PatternType.ANY || f.patternType === b.patternType) return f.resourceName === b.resourceName;
  // MATCH: every stored pattern that would apply to a resource of this name.
  if (b.patternType === PatternType.LITERAL) return f.resourceName === b.resourceName || b.resourceName === WILDCARD_RESOURCE;
  return f.resourceName.startsWith(b.resourceName);
}

/** Kafka's AclBindingFilter.matches (pattern and entry). */
export function filterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (!patternMatches(f, b)) return false;
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  return f.permissionType === PermissionType.ANY || f.permissionType === b.permissionType;
}

export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return a.resourceType === b.resourceType && a.resourceName === b.resourceName && a.patternType === b.patternType && a.principal === b.principal && a.host === b.host && a.operation === b.operation && a.permissionType === b.permissionType;
}

export const bindingKey = (b: AclBinding): string => JSON.stringify([b.resourceType, b.resourceName, b.patternType, b.principal, b.host, b.operation, b.permissionType]);
