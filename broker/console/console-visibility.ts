// What the console shows a principal. Every list and detail the console serves passes through
// mayDescribe, the one place where an authorizer plugs in (Kafka's DESCRIBE on the topic, group
// or cluster, with the node's context to reach it); until one is wired here, everything is shown
// to everyone who may use the console. The actions themselves are Kafka requests served by the
// handlers, which authorize them as they would any client's.
import type { BrokerContext } from '../broker-context.ts';

export type ConsoleResource = { type: 'topic' | 'group'; name: string } | { type: 'cluster' };

export function mayDescribe(_ctx: BrokerContext, _principal: string, _resource: ConsoleResource): boolean {
  return true;
}
