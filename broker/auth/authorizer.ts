// The authorizer, with the semantics of Kafka's StandardAuthorizer (KIP-801): ACLs come from the
// metadata image (AccessControlEntryRecords), indexed once per image by resource type and name.
// A request is allowed when the principal is a super user, or when some ALLOW ACL matches and no
// DENY ACL does (DENY wins). An ACL matches when its pattern covers the resource (LITERAL equal
// name, LITERAL `*`, or PREFIXED prefix of the name), its principal is the requester's or
// `User:*`, its host is the client's or `*`, and its operation is the one asked, ALL, or (ALLOW
// only) one that implies it: READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies
// DESCRIBE_CONFIGS. A resource no ACL pattern covers at all is allowed only with
// allow.everyone.if.no.acl.found=true.
import { type AclBindingFilter, AclOperation, filterMatches, PatternType, PermissionType, type StandardAcl, WILDCARD_HOST, WILDCARD_PRINCIPAL, WILDCARD_RESOURCE } from './acl.ts';

export interface AuthorizerOptions {
  /** Principals (`User:admin`) allowed everything, whatever the ACLs say. */
  superUsers: ReadonlySet<string>;
  allowEveryoneIfNoAclFound: boolean;
  /** The ACLs in force: the current metadata image's. */
  acls: () => ReadonlyMap<string, StandardAcl> | undefined;
}

/** Who asks: the connection's principal and the client's host address. */
export interface Requester {
  principal: string;
  host: string;
}

interface TypeIndex {
  literal: Map<string, StandardAcl[]>;
  prefixed: Map<string, StandardAcl[]>;
}

type AclIndex = Map<number, TypeIndex>;

const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

const EMPTY_ACLS: ReadonlyMap<string, StandardAcl> = new Map();

/** Parses `super.users`: principals separated by semicolons. */
export function parseSuperUsers(value: string | null | undefined): Set<string> {
  return new Set((value ?? '').split(';').map((s) => s.trim()).filter((s) => s !== ''));
}

/** The host part of a "host:port" client address, as Kafka prints an InetAddress (IPv4-mapped IPv6 as IPv4). */
export function hostOfAddress(address: string): string {
  const colon = address.lastIndexOf(':');
  let host = colon > 0 ? address.slice(0, colon) : address;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

/** Whether an ACL's operation and permission decide `operation`: 'allow', 'deny' or null (no say). */
function verdict(acl: StandardAcl, operation: number): 'allow' | 'deny' | null {
  if (acl.operation !== AclOperation.ALL) {
    if (acl.permissionType === PermissionType.ALLOW) {
      if (operation === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return null;
      } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return null;
      } else if (acl.operation !== operation) return null;
    } else if (acl.operation !== operation) return null;
  }
  if (acl.permissionType === PermissionType.ALLOW) return 'allow';
  return acl.permissionType === PermissionType.DENY ? 'deny' : null;
}

function buildIndex(acls: ReadonlyMap<string, StandardAcl>): AclIndex {
  const index: AclIndex = new Map();
  for (const acl of acls.values()) {
    let t = index.get(acl.resourceType);
    if (!t) index.set(acl.resourceType, (t = { literal: new Map(), prefixed: new Map() }));
    const m = acl.patternType === PatternType.PREFIXED ? t.prefixed : t.literal;
    const list = m.get(acl.resourceName);
    if (list) list.push(acl);
    else m.set(acl.resourceName, [acl]);
  }
  return index;
}

export class StandardAuthorizer {
  private readonly opts: AuthorizerOptions;
  private cachedFor: ReadonlyMap<string, StandardAcl> | null = null;
  private cached: AclIndex = new Map();

  constructor(opts: AuthorizerOptions) {
    this.opts = opts;
  }

  isSuperUser(principal: string): boolean {
    return this.opts.superUsers.has(principal);
  }

  private index(): AclIndex {
    const acls = this.opts.acls() ?? EMPTY_ACLS;
    if (acls !== this.cachedFor) {
      this.cached = buildIndex(acls);
      this.cachedFor = acls;
    }
    return this.cached;
  }

  /** Whether `who` may perform `operation` on the resource (type, name). */
  authorize(who: Requester, operation: number, resourceType: number, resourceName: string): boolean {
    if (this.isSuperUser(who.principal)) return true;
    const t = this.index().get(resourceType);
    let covered = false;
    let allowed = false;
    const consider = (list: readonly StandardAcl[] | undefined): boolean => {
      if (!list) return false;
      covered = true;
      for (const acl of list) {
        if (acl.principal !== who.principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
        if (acl.host !== WILDCARD_HOST && acl.host !== who.host) continue;
        const v = verdict(acl, operation);
        if (v === 'deny') return true;
        if (v === 'allow') allowed = true;
      }
      return false;
    };
    if (t) {
      if (consider(t.literal.get(resourceName))) return false;
      if (resourceName !== WILDCARD_RESOURCE && consider(t.literal.get(WILDCARD_RESOURCE))) return false;
      if (t.prefixed.size > 0) {
        for (let n = resourceName.length; n >= 0; n--) {
          if (consider(t.prefixed.get(resourceName.slice(0, n)))) return false;
        }
      }
    }
    if (allowed) return true;
    return !covered && this.opts.allowEveryoneIfNoAclFound;
  }

  /**
   * Whether `who` may perform `operation` on some resource of the type (Kafka's
   * authorizeByResourceType, used for idempotent producers per KIP-679 and transactional ids):
   * an ALLOW for the exact operation (or ALL) that no DENY dominates, i.e. no `*` or empty-prefix
   * DENY, no DENY of the same literal name, no DENY prefix of the allowed name.
   */
  authorizeByResourceType(who: Requester, operation: number, resourceType: number): boolean {
    // A made-up name, as Kafka does, lets super users and allow.everyone.if.no.acl.found through.
    if (this.authorize(who, operation, resourceType, 'hardcode')) return true;
    const t = this.index().get(resourceType);
    if (!t) return false;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allowLiteral: string[] = [];
    const allowPrefixed: string[] = [];
    let wildcardAllow = false;
    for (const [isPrefixed, m] of [[false, t.literal], [true, t.prefixed]] as const) {
      for (const [name, list] of m) {
        for (const acl of list) {
          if (acl.host !== who.host && acl.host !== WILDCARD_HOST) continue;
          if (acl.principal !== who.principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
          if (acl.operation !== operation && acl.operation !== AclOperation.ALL) continue;
          if (acl.permissionType === PermissionType.DENY) {
            if (isPrefixed ? name === '' : name === WILDCARD_RESOURCE) return false;
            (isPrefixed ? denyPrefixed : denyLiteral).add(name);
          } else if (acl.permissionType === PermissionType.ALLOW) {
            if (isPrefixed ? name === '' : name === WILDCARD_RESOURCE) wildcardAllow = true;
            else (isPrefixed ? allowPrefixed : allowLiteral).push(name);
          }
        }
      }
    }
    if (wildcardAllow) return true;
    const dominated = (name: string): boolean => {
      for (let n = 1; n <= name.length; n++) if (denyPrefixed.has(name.slice(0, n))) return true;
      return false;
    };
    if (allowLiteral.some((name) => !denyLiteral.has(name) && !dominated(name))) return true;
    return allowPrefixed.some((name) => !dominated(name));
  }

  /** The ACLs a filter matches (DescribeAcls), in id order. */
  acls(filter: AclBindingFilter): StandardAcl[] {
    const out: StandardAcl[] = [];
    for (const acl of (this.opts.acls() ?? EMPTY_ACLS).values()) if (filterMatches(filter, acl)) out.push(acl);
    return out;
  }
}
