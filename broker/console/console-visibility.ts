// What the console shows a principal. Every list and detail the console serves passes through
// mayDescribe: with an authorizer configured, Kafka's DESCRIBE on the topic, group or cluster
// (implied by READ, WRITE, DELETE and ALTER, as for any client); without one, everything is shown
// to everyone who may use the console. The actions themselves are Kafka requests served by the
// handlers, which authorize them as they would any client's.
import { AclOperation, CLUSTER_NAME, ResourceType } from '../auth/acl.ts';
import type { BrokerContext } from '../broker-context.ts';

export type ConsoleResource = { type: 'topic' | 'group'; name: string } | { type: 'cluster' };

/**
 * The host a console viewer is authorized from: its HTTP requests do not reach this check, so
 * ACLs naming hosts match it only through `*` (an allow for a specific host shows nothing here).
 */
const CONSOLE_HOST = '*';

export function mayDescribe(ctx: BrokerContext, principal: string, resource: ConsoleResource): boolean {
  const a = ctx.authorizer;
  if (!a) return true;
  const who = { principal, host: CONSOLE_HOST };
  if (resource.type === 'cluster') return a.authorize(who, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME);
  return a.authorize(who, AclOperation.DESCRIBE, resource.type === 'topic' ? ResourceType.TOPIC : ResourceType.GROUP, resource.name);
}
