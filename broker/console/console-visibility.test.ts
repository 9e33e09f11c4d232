import { describe, expect, it } from 'vitest';
import { AclOperation, PatternType, PermissionType, ResourceType, type StandardAcl } from '../auth/acl.ts';
import { StandardAuthorizer } from '../auth/authorizer.ts';
import type { BrokerContext } from '../broker-context.ts';
import { mayDescribe } from './console-visibility.ts';

const acl = (id: string, a: Partial<StandardAcl>): StandardAcl => ({
  id,
  resourceType: ResourceType.TOPIC,
  resourceName: 'orders',
  patternType: PatternType.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: AclOperation.READ,
  permissionType: PermissionType.ALLOW,
  ...a,
});

function context(acls: StandardAcl[] | null): BrokerContext {
  const map = new Map((acls ?? []).map((a) => [a.id, a]));
  const authorizer = acls === null ? undefined : new StandardAuthorizer({ superUsers: new Set(['User:admin']), allowEveryoneIfNoAclFound: false, acls: () => map });
  return { authorizer } as unknown as BrokerContext;
}

describe('console visibility', () => {
  it('shows everything without an authorizer', () => {
    expect(mayDescribe(context(null), 'User:ANONYMOUS', { type: 'topic', name: 'orders' })).toBe(true);
  });

  it('shows what the principal may describe, READ implying DESCRIBE, and everything to super users', () => {
    const ctx = context([acl('1', {}), acl('2', { resourceType: ResourceType.GROUP, resourceName: 'billing', patternType: PatternType.PREFIXED, operation: AclOperation.DESCRIBE })]);
    expect(mayDescribe(ctx, 'User:alice', { type: 'topic', name: 'orders' })).toBe(true);
    expect(mayDescribe(ctx, 'User:alice', { type: 'topic', name: 'payments' })).toBe(false);
    expect(mayDescribe(ctx, 'User:alice', { type: 'group', name: 'billing-eu' })).toBe(true);
    expect(mayDescribe(ctx, 'User:alice', { type: 'cluster' })).toBe(false);
    expect(mayDescribe(ctx, 'User:bob', { type: 'topic', name: 'orders' })).toBe(false);
    expect(mayDescribe(ctx, 'User:admin', { type: 'cluster' })).toBe(true);
  });
});
