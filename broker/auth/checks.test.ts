import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { RequestContext } from '../handlers/api-handler.ts';
import { CLUSTER_OPERATIONS, TOPIC_OPERATIONS } from '../handlers/acl-operations.ts';
import { voteHandler } from '../handlers/vote.ts';
import { AclOperation, PatternType, PermissionType, ResourceType, type StandardAcl } from './acl.ts';
import { StandardAuthorizer } from './authorizer.ts';
import { allowedOnTopic, authorizedOperations, clusterAuthorizedOperations, describableOffsets, requireCluster, requireProducerIdAccess } from './checks.ts';

const acl = (a: Partial<StandardAcl>): StandardAcl => ({ id: Math.random().toString(36), resourceType: ResourceType.TOPIC, resourceName: 't', patternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation: AclOperation.READ, permissionType: PermissionType.ALLOW, ...a });

function context(acls: StandardAcl[] | null): BrokerContext {
  const map = new Map((acls ?? []).map((a) => [a.id, a]));
  return {
    config: { controllerListenerNames: ['CONTROLLER'] },
    ...(acls && { authorizer: new StandardAuthorizer({ superUsers: new Set(['User:admin']), allowEveryoneIfNoAclFound: false, acls: () => map }) }),
  } as unknown as BrokerContext;
}

const request = (principal: string, listenerName = 'SASL_PLAINTEXT'): RequestContext => ({ apiKey: 0, apiVersion: 0, correlationId: 1, clientId: null, clientAddress: '127.0.0.1:5000', listenerName, logger: pino({ level: 'silent' }), principal });

const codeOf = (f: () => unknown): number => {
  try {
    f();
    return ErrorCode.NONE;
  } catch (e) {
    if (e instanceof KafkaError) return e.errorCode;
    throw e;
  }
};

describe('authorization checks', () => {
  it('pass everything without an authorizer', () => {
    const ctx = context(null);
    expect(allowedOnTopic(ctx, request('User:x'), AclOperation.WRITE, 't')).toBe(true);
    expect(authorizedOperations(ctx, request('User:x'), ResourceType.TOPIC, 't', TOPIC_OPERATIONS)).toBe(TOPIC_OPERATIONS);
  });

  it('refuse with the error Kafka gives for the resource', () => {
    const ctx = context([acl({ operation: AclOperation.WRITE })]);
    expect(codeOf(() => requireCluster(ctx, request('User:alice'), AclOperation.ALTER))).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(codeOf(() => requireCluster(ctx, request('User:admin'), AclOperation.ALTER))).toBe(ErrorCode.NONE);
    // KIP-679: WRITE on some topic lets an idempotent producer have an id; a transactional id needs its own ACL.
    expect(codeOf(() => requireProducerIdAccess(ctx, request('User:alice'), null))).toBe(ErrorCode.NONE);
    expect(codeOf(() => requireProducerIdAccess(ctx, request('User:bob'), null))).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(codeOf(() => requireProducerIdAccess(ctx, request('User:alice'), 'tx'))).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  it('the quorum APIs need CLUSTER_ACTION', async () => {
    const ctx = context([acl({ principal: 'User:broker', resourceType: ResourceType.CLUSTER, resourceName: 'kafka-cluster', operation: AclOperation.CLUSTER_ACTION })]);
    const vote = voteHandler(ctx);
    expect(codeOf(() => vote.handle({} as never, request('User:alice', 'CONTROLLER')))).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });

  it('trust a forwarding broker (CLUSTER_ACTION) on a controller listener only', () => {
    const ctx = context([acl({ principal: 'User:broker', resourceType: ResourceType.CLUSTER, resourceName: 'kafka-cluster', operation: AclOperation.CLUSTER_ACTION })]);
    expect(allowedOnTopic(ctx, request('User:broker', 'CONTROLLER'), AclOperation.CREATE, 'x')).toBe(true);
    expect(allowedOnTopic(ctx, request('User:broker'), AclOperation.CREATE, 'x')).toBe(false);
  });

  it('compute authorized operations; the cluster shows 0 without DESCRIBE', () => {
    const ctx = context([acl({ operation: AclOperation.READ }), acl({ resourceType: ResourceType.CLUSTER, resourceName: 'kafka-cluster', operation: AclOperation.CREATE })]);
    expect(authorizedOperations(ctx, request('User:alice'), ResourceType.TOPIC, 't', TOPIC_OPERATIONS)).toBe((1 << AclOperation.READ) | (1 << AclOperation.DESCRIBE));
    expect(clusterAuthorizedOperations(ctx, request('User:alice'), CLUSTER_OPERATIONS)).toBe(0);
    expect(clusterAuthorizedOperations(ctx, request('User:admin'), CLUSTER_OPERATIONS)).toBe(CLUSTER_OPERATIONS);
  });

  it('filter OffsetFetch offsets to described topics', () => {
    const ctx = context([acl({ operation: AclOperation.READ })]);
    const offsets = [{ topic: 't', partition: 0, offset: 5n, errorCode: 0 }, { topic: 'u', partition: 0, offset: 7n, errorCode: 0 }];
    expect(describableOffsets(ctx, request('User:alice'), offsets, false).map((o) => o.topic)).toEqual(['t']);
    expect(describableOffsets(ctx, request('User:alice'), offsets, true)[1]).toEqual({ topic: 'u', partition: 0, offset: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED });
  });
});
