// The authorization checks handlers make, one function per kind of check, as Kafka's KafkaApis
// and AuthHelper make them. Without an authorizer (authorizer.class.name empty) every check
// passes. A request on a controller listener from a principal holding CLUSTER_ACTION on the
// cluster (a broker forwarding a client's admin request, after checking it itself) passes too:
// the forwarded request carries the broker's principal, not the client's.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { RequestContext } from '../handlers/api-handler.ts';
import { AclOperation, CLUSTER_NAME, operationName, ResourceType, resourceTypeName } from './acl.ts';
import { hostOfAddress, type Requester } from './authorizer.ts';

const ANONYMOUS = 'User:ANONYMOUS';

export function requesterOf(rc: RequestContext): Requester {
  return { principal: rc.principal ?? ANONYMOUS, host: hostOfAddress(rc.clientAddress) };
}

function forwardedByBroker(ctx: BrokerContext, rc: RequestContext): boolean {
  if (!ctx.config.controllerListenerNames.includes(rc.listenerName)) return false;
  return ctx.authorizer!.authorize(requesterOf(rc), AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME);
}

/** Whether the request's principal may perform `operation` on the resource. */
export function allowed(ctx: BrokerContext, rc: RequestContext, operation: number, resourceType: number, resourceName: string): boolean {
  const a = ctx.authorizer;
  if (!a) return true;
  if (a.authorize(requesterOf(rc), operation, resourceType, resourceName) || forwardedByBroker(ctx, rc)) return true;
  rc.logger.debug({ principal: rc.principal, operation: operationName(operation), resourceType: resourceTypeName(resourceType), resourceName }, 'authorization denied');
  return false;
}

export const allowedOnCluster = (ctx: BrokerContext, rc: RequestContext, operation: number): boolean => allowed(ctx, rc, operation, ResourceType.CLUSTER, CLUSTER_NAME);
export const allowedOnTopic = (ctx: BrokerContext, rc: RequestContext, operation: number, topic: string): boolean => allowed(ctx, rc, operation, ResourceType.TOPIC, topic);
export const allowedOnGroup = (ctx: BrokerContext, rc: RequestContext, operation: number, group: string): boolean => allowed(ctx, rc, operation, ResourceType.GROUP, group);
export const allowedOnTransactionalId = (ctx: BrokerContext, rc: RequestContext, operation: number, id: string): boolean => allowed(ctx, rc, operation, ResourceType.TRANSACTIONAL_ID, id);

/** Whether the principal may perform `operation` on some resource of the type (Kafka's authorizeByResourceType). */
export function allowedOnAnyOf(ctx: BrokerContext, rc: RequestContext, operation: number, resourceType: number): boolean {
  const a = ctx.authorizer;
  if (!a) return true;
  return a.authorizeByResourceType(requesterOf(rc), operation, resourceType) || forwardedByBroker(ctx, rc);
}

/**
 * The authorized-operations bit set of a resource for Metadata, DescribeCluster and
 * DescribeGroups: of the operations the resource type supports (`supported`), those allowed.
 */
export function authorizedOperations(ctx: BrokerContext, rc: RequestContext, resourceType: number, resourceName: string, supported: number): number {
  if (!ctx.authorizer) return supported;
  let out = 0;
  for (let op = 0; op < 31; op++) {
    if ((supported & (1 << op)) !== 0 && allowed(ctx, rc, op, resourceType, resourceName)) out |= 1 << op;
  }
  return out;
}

/** The cluster's authorized operations (Metadata v8-10, DescribeCluster): 0 without DESCRIBE on the cluster, as Kafka answers. */
export function clusterAuthorizedOperations(ctx: BrokerContext, rc: RequestContext, supported: number): number {
  if (!allowedOnCluster(ctx, rc, AclOperation.DESCRIBE)) return 0;
  return authorizedOperations(ctx, rc, ResourceType.CLUSTER, CLUSTER_NAME, supported);
}

/** Throws the error Kafka answers when the principal lacks `operation` on the cluster. */
export function requireCluster(ctx: BrokerContext, rc: RequestContext, operation: number): void {
  if (!allowedOnCluster(ctx, rc, operation)) throw new KafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
}

export function requireGroup(ctx: BrokerContext, rc: RequestContext, operation: number, group: string): void {
  if (!allowedOnGroup(ctx, rc, operation, group)) throw new KafkaError(ErrorCode.GROUP_AUTHORIZATION_FAILED);
}

export function requireTopic(ctx: BrokerContext, rc: RequestContext, operation: number, topic: string): void {
  if (!allowedOnTopic(ctx, rc, operation, topic)) throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
}

export function requireTransactionalId(ctx: BrokerContext, rc: RequestContext, operation: number, id: string): void {
  if (!allowedOnTransactionalId(ctx, rc, operation, id)) throw new KafkaError(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
}

/**
 * InitProducerId: WRITE on the transactional id; without one (an idempotent producer, KIP-679),
 * IDEMPOTENT_WRITE on the cluster or WRITE on some topic.
 */
export function requireProducerIdAccess(ctx: BrokerContext, rc: RequestContext, transactionalId: string | null): void {
  if (transactionalId !== null) return requireTransactionalId(ctx, rc, AclOperation.WRITE, transactionalId);
  if (!allowedOnCluster(ctx, rc, AclOperation.IDEMPOTENT_WRITE) && !allowedOnAnyOf(ctx, rc, AclOperation.WRITE, ResourceType.TOPIC)) throw new KafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
}

/** Config resources (ConfigResource types): topics and groups are checked on themselves, brokers and loggers on the cluster. */
export function requireConfigAccess(ctx: BrokerContext, rc: RequestContext, operation: number, configResourceType: number, name: string): void {
  if (configResourceType === 2) requireTopic(ctx, rc, operation, name);
  else if (configResourceType === 32) requireGroup(ctx, rc, operation, name);
  else requireCluster(ctx, rc, operation);
}

/**
 * OffsetFetch's topic filter: offsets of topics the principal may not DESCRIBE are answered
 * TOPIC_AUTHORIZATION_FAILED when the request named them, and left out when it asked for all.
 */
export function describableOffsets<T extends { topic: string; offset: bigint; errorCode: number }>(ctx: BrokerContext, rc: RequestContext, offsets: readonly T[], named: boolean): T[] {
  if (!ctx.authorizer) return [...offsets];
  const out: T[] = [];
  for (const o of offsets) {
    if (allowedOnTopic(ctx, rc, AclOperation.DESCRIBE, o.topic)) out.push(o);
    else if (named) out.push({ ...o, offset: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED });
  }
  return out;
}
