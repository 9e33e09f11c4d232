import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AclOperation, filterMatches, PatternType, PermissionType, ResourceType, type StandardAcl } from './acl.ts';
import { hostOfAddress, parseSuperUsers, type Requester, StandardAuthorizer } from './authorizer.ts';

let nextId = 0;
const acl = (a: Partial<StandardAcl>): StandardAcl => ({
  id: `id${nextId++}`,
  resourceType: ResourceType.TOPIC,
  resourceName: 't',
  patternType: PatternType.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: AclOperation.READ,
  permissionType: PermissionType.ALLOW,
  ...a,
});

const authorizer = (acls: StandardAcl[], opts: { superUsers?: string[]; allowEveryone?: boolean } = {}): StandardAuthorizer => {
  const map = new Map(acls.map((a) => [a.id, a]));
  return new StandardAuthorizer({ superUsers: new Set(opts.superUsers ?? []), allowEveryoneIfNoAclFound: opts.allowEveryone ?? false, acls: () => map });
};

const alice: Requester = { principal: 'User:alice', host: '10.0.0.1' };
const bob: Requester = { principal: 'User:bob', host: '10.0.0.2' };

describe('StandardAuthorizer: Kafka documented cases', () => {
  it('denies a resource with no ACLs unless allow.everyone.if.no.acl.found', () => {
    expect(authorizer([]).authorize(alice, AclOperation.READ, ResourceType.TOPIC, 't')).toBe(false);
    expect(authorizer([], { allowEveryone: true }).authorize(alice, AclOperation.READ, ResourceType.TOPIC, 't')).toBe(true);
  });

  it('allow.everyone.if.no.acl.found does not apply once the resource has any ACL', () => {
    const a = authorizer([acl({ principal: 'User:bob' })], { allowEveryone: true });
    expect(a.authorize(alice, AclOperation.READ, ResourceType.TOPIC, 't')).toBe(false);
    expect(a.authorize(alice, AclOperation.READ, ResourceType.TOPIC, 'other')).toBe(true);
  });

  it('super users are allowed whatever the ACLs say', () => {
    const a = authorizer([acl({ principal: 'User:*', operation: AclOperation.ALL, permissionType: PermissionType.DENY })], { superUsers: ['User:alice'] });
    expect(a.authorize(alice, AclOperation.WRITE, ResourceType.TOPIC, 't')).toBe(true);
    expect(a.authorize(bob, AclOperation.WRITE, ResourceType.TOPIC, 't')).toBe(false);
  });

  it('READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS; others imply nothing', () => {
    for (const op of [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]) {
      expect(authorizer([acl({ operation: op })]).authorize(alice, AclOperation.DESCRIBE, ResourceType.TOPIC, 't')).toBe(true);
    }
    expect(authorizer([acl({ operation: AclOperation.CREATE })]).authorize(alice, AclOperation.DESCRIBE, ResourceType.TOPIC, 't')).toBe(false);
    expect(authorizer([acl({ operation: AclOperation.ALTER_CONFIGS })]).authorize(alice, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, 't')).toBe(true);
    expect(authorizer([acl({ operation: AclOperation.READ })]).authorize(alice, AclOperation.WRITE, ResourceType.TOPIC, 't')).toBe(false);
    expect(authorizer([acl({ operation: AclOperation.ALL })]).authorize(alice, AclOperation.IDEMPOTENT_WRITE, ResourceType.TOPIC, 't')).toBe(true);
  });

  it('a DENY of READ does not deny DESCRIBE (implication is for ALLOW only); DENY ALL denies everything', () => {
    const a = authorizer([acl({ operation: AclOperation.ALTER }), acl({ operation: AclOperation.READ, permissionType: PermissionType.DENY })]);
    expect(a.authorize(alice, AclOperation.DESCRIBE, ResourceType.TOPIC, 't')).toBe(true);
    expect(a.authorize(alice, AclOperation.READ, ResourceType.TOPIC, 't')).toBe(false);
    const b = authorizer([acl({ operation: AclOperation.ALL }), acl({ operation: AclOperation.ALL, permissionType: PermissionType.DENY, patternType: PatternType.PREFIXED, resourceName: 'secret' })]);
    expect(b.authorize(alice, AclOperation.DESCRIBE, ResourceType.TOPIC, 't')).toBe(true);
    expect(b.authorize(alice, AclOperation.DESCRIBE, ResourceType.TOPIC, 'secret-1')).toBe(false);
  });

  it('wildcard resource, wildcard principal, prefixed patterns and hosts', () => {
    const a = authorizer([
      acl({ resourceName: '*', principal: 'User:*', operation: AclOperation.DESCRIBE }),
      acl({ resourceName: 'orders-', patternType: PatternType.PREFIXED, operation: AclOperation.WRITE }),
      acl({ resourceName: 'orders-eu', principal: 'User:*', operation: AclOperation.WRITE, permissionType: PermissionType.DENY, host: '10.0.0.1' }),
    ]);
    expect(a.authorize(bob, AclOperation.DESCRIBE, ResourceType.TOPIC, 'anything')).toBe(true);
    expect(a.authorize(alice, AclOperation.WRITE, ResourceType.TOPIC, 'orders-us')).toBe(true);
    expect(a.authorize(alice, AclOperation.WRITE, ResourceType.TOPIC, 'orders')).toBe(false);
    expect(a.authorize(alice, AclOperation.WRITE, ResourceType.TOPIC, 'orders-eu')).toBe(false);
    expect(a.authorize({ principal: 'User:alice', host: '10.0.0.9' }, AclOperation.WRITE, ResourceType.TOPIC, 'orders-eu')).toBe(true);
    // A group of the same name is another resource.
    expect(a.authorize(alice, AclOperation.DESCRIBE, ResourceType.GROUP, 'anything')).toBe(false);
  });

  it('authorizeByResourceType (KIP-679): any non-dominated ALLOW for the exact operation', () => {
    const w = (acls: StandardAcl[]) => authorizer(acls).authorizeByResourceType(alice, AclOperation.WRITE, ResourceType.TOPIC);
    expect(w([])).toBe(false);
    expect(w([acl({ operation: AclOperation.WRITE })])).toBe(true);
    expect(w([acl({ operation: AclOperation.WRITE }), acl({ operation: AclOperation.WRITE, permissionType: PermissionType.DENY })])).toBe(false);
    expect(w([acl({ operation: AclOperation.WRITE, resourceName: 'abc' }), acl({ operation: AclOperation.WRITE, permissionType: PermissionType.DENY, patternType: PatternType.PREFIXED, resourceName: 'ab' })])).toBe(false);
    expect(w([acl({ operation: AclOperation.WRITE, resourceName: 'x' }), acl({ operation: AclOperation.WRITE, permissionType: PermissionType.DENY, resourceName: '*' })])).toBe(false);
    expect(w([acl({ operation: AclOperation.READ })])).toBe(false);
  });

  it('parses super.users and client hosts', () => {
    expect([...parseSuperUsers('User:admin; User:bob;')]).toEqual(['User:admin', 'User:bob']);
    expect(hostOfAddress('127.0.0.1:5555')).toBe('127.0.0.1');
    expect(hostOfAddress('::ffff:127.0.0.1:5555')).toBe('127.0.0.1');
    expect(hostOfAddress('::1:5555')).toBe('::1');
  });

  it('re-indexes when the image ACLs change', () => {
    let map = new Map<string, StandardAcl>();
    const a = new StandardAuthorizer({ superUsers: new Set(), allowEveryoneIfNoAclFound: false, acls: () => map });
    expect(a.authorize(alice, AclOperation.READ, ResourceType.TOPIC, 't')).toBe(false);
    const x = acl({});
    map = new Map([[x.id, x]]);
    expect(a.authorize(alice, AclOperation.READ, ResourceType.TOPIC, 't')).toBe(true);
  });
});

// The reference: every rule stated plainly over a linear scan of the ACLs.
function referenceAuthorize(acls: readonly StandardAcl[], superUsers: ReadonlySet<string>, allowEveryone: boolean, who: Requester, op: number, type: number, name: string): boolean {
  if (superUsers.has(who.principal)) return true;
  const covers = (a: StandardAcl) => a.resourceType === type && (a.patternType === PatternType.LITERAL ? a.resourceName === name || a.resourceName === '*' : name.startsWith(a.resourceName));
  const onResource = acls.filter(covers);
  const mine = onResource.filter((a) => (a.principal === who.principal || a.principal === 'User:*') && (a.host === who.host || a.host === '*'));
  const implied: Record<number, number[]> = { [AclOperation.DESCRIBE]: [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER], [AclOperation.DESCRIBE_CONFIGS]: [AclOperation.ALTER_CONFIGS] };
  if (mine.some((a) => a.permissionType === PermissionType.DENY && (a.operation === op || a.operation === AclOperation.ALL))) return false;
  if (mine.some((a) => a.permissionType === PermissionType.ALLOW && (a.operation === op || a.operation === AclOperation.ALL || (implied[op] ?? []).includes(a.operation)))) return true;
  return onResource.length === 0 && allowEveryone;
}

const names = ['a', 'ab', 'abc', 'b', 'ba', '*'];
const arbAcl = fc.record({
  resourceType: fc.constantFrom(ResourceType.TOPIC, ResourceType.GROUP),
  resourceName: fc.constantFrom(...names),
  patternType: fc.constantFrom(PatternType.LITERAL, PatternType.PREFIXED),
  principal: fc.constantFrom('User:alice', 'User:bob', 'User:*'),
  host: fc.constantFrom('*', 'h1', 'h2'),
  operation: fc.constantFrom(AclOperation.ALL, AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.ALTER, AclOperation.ALTER_CONFIGS, AclOperation.DESCRIBE_CONFIGS),
  permissionType: fc.constantFrom(PermissionType.ALLOW, PermissionType.DENY),
});
const arbAcls = fc.array(arbAcl, { maxLength: 12 }).map((xs) => xs.map((x, i) => ({ ...x, id: `acl${i}` })));
const arbWho = fc.record({ principal: fc.constantFrom('User:alice', 'User:bob', 'User:carol'), host: fc.constantFrom('h1', 'h2') });

describe('StandardAuthorizer against the reference model', () => {
  it('authorize agrees for random ACL sets and requests', () => {
    fc.assert(
      fc.property(arbAcls, arbWho, fc.constantFrom(AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS), fc.constantFrom(ResourceType.TOPIC, ResourceType.GROUP), fc.constantFrom('a', 'ab', 'abc', 'abd', 'b', 'c', '*'), fc.boolean(), fc.boolean(), (acls, who, op, type, name, allowEveryone, aliceSuper) => {
        const supers = new Set(aliceSuper ? ['User:alice'] : []);
        const a = new StandardAuthorizer({ superUsers: supers, allowEveryoneIfNoAclFound: allowEveryone, acls: () => new Map(acls.map((x) => [x.id, x])) });
        expect(a.authorize(who, op, type, name)).toBe(referenceAuthorize(acls, supers, allowEveryone, who, op, type, name));
      }),
      { numRuns: 2000 },
    );
  });

  it('authorizeByResourceType for WRITE equals "some topic name would be allowed"', () => {
    // Names up to one character longer than any ACL name cover every case the ACLs can tell apart.
    const letters = ['', 'a', 'b', 'c', '*'];
    const candidates = [...new Set(letters.flatMap((w) => letters.flatMap((x) => letters.flatMap((y) => letters.map((z) => w + x + y + z)))))].filter((n) => n !== '');
    fc.assert(
      fc.property(arbAcls, arbWho, (acls, who) => {
        const topicWrites = acls.map((x) => ({ ...x, resourceType: ResourceType.TOPIC, operation: x.operation === AclOperation.ALL ? AclOperation.ALL : AclOperation.WRITE }));
        const a = new StandardAuthorizer({ superUsers: new Set(), allowEveryoneIfNoAclFound: false, acls: () => new Map(topicWrites.map((x) => [x.id, x])) });
        const some = candidates.some((n) => referenceAuthorize(topicWrites, new Set(), false, who, AclOperation.WRITE, ResourceType.TOPIC, n));
        expect(a.authorizeByResourceType(who, AclOperation.WRITE, ResourceType.TOPIC)).toBe(some);
      }),
      { numRuns: 500 },
    );
  });

  it('acls(filter) returns exactly the matching ACLs', () => {
    fc.assert(
      fc.property(arbAcls, fc.constantFrom(PatternType.ANY, PatternType.MATCH, PatternType.LITERAL, PatternType.PREFIXED), fc.constantFrom(null, 'a', 'ab', 'abc', '*'), (acls, patternType, resourceName) => {
        const a = new StandardAuthorizer({ superUsers: new Set(), allowEveryoneIfNoAclFound: false, acls: () => new Map(acls.map((x) => [x.id, x])) });
        const filter = { resourceType: ResourceType.ANY, resourceName, patternType, principal: null, host: null, operation: AclOperation.ANY, permissionType: PermissionType.ANY };
        const got = a.acls(filter);
        expect(got.length).toBe(acls.filter((x) => filterMatches(filter, x)).length);
        if (patternType === PatternType.MATCH && resourceName !== null) {
          // MATCH returns what could apply to a resource of that name.
          for (const x of got) expect(x.patternType === PatternType.LITERAL ? x.resourceName === resourceName || x.resourceName === '*' : resourceName.startsWith(x.resourceName)).toBe(true);
        }
      }),
    );
  });
});
