// What the controller listener's KRaft handlers share: each passes its request to this node's
// Raft replica of `__cluster_metadata` and returns the replica's answer. A node without a
// replica to ask (it is shutting down) answers with the top-level error, as Kafka's
// ControllerApis does for a request it cannot serve.
import type { RaftClient } from '../../controller/raft/raft-client.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ApiKey, ApiMessages } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { RequestContext } from './api-handler.ts';

/** The node's Raft replica, or BROKER_NOT_AVAILABLE while it stops. */
export function quorumReplica(ctx: BrokerContext): RaftClient {
  const raft = ctx.controller.raft;
  if (raft.isClosed) throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, 'the metadata quorum replica of this node is stopped');
  return raft;
}

/** True for a request that came in on a controller listener (from a broker or a controller client). */
export function onControllerListener(ctx: BrokerContext, rc: RequestContext): boolean {
  return ctx.config.controllerListenerNames.includes(rc.listenerName);
}

/**
 * Sends a request only the quorum leader serves to it when this node does not lead (through the
 * controller channel, as brokers forward admin requests); undefined when this node serves it.
 */
export async function toQuorumLeader<K extends ApiKey>(
  ctx: BrokerContext,
  apiKey: K,
  request: ApiMessages[K]['request'],
  notLeader: (r: ApiMessages[K]['response']) => boolean,
): Promise<ApiMessages[K]['response'] | undefined> {
  if (ctx.controller.raft.isLeader) return undefined;
  return ctx.controllerChannel.forward(apiKey, request, notLeader);
}
