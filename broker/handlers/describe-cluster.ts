// DescribeCluster (key 60), v0-v1. On a broker listener: the live brokers with an endpoint on the
// listener the request came in on, the cluster id, and this node as controller id (it is the
// node clients should send admin requests to, which it forwards to the active controller; -1
// if it has no endpoint on the listener). On a controller listener (KIP-919, clients with
// bootstrap.controllers): the controllers of the quorum with their controller endpoints and the
// active controller's id. v1 asks for an endpoint type: the other listener's type gets
// MISMATCHED_ENDPOINT_TYPE and unknown types UNSUPPORTED_ENDPOINT_TYPE (both INVALID_REQUEST in
// v0), with Kafka's messages.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { clusterAuthorizedOperations } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { CLUSTER_OPERATIONS, OPERATIONS_NOT_REQUESTED } from './acl-operations.ts';
import { defineHandler } from './api-handler.ts';
import { brokersOnListener } from './metadata.ts';
import { onControllerListener } from './quorum-handler.ts';

const BROKERS = 1;
const CONTROLLERS = 2;
const ENDPOINT_TYPE_NAMES: Record<number, string> = { [BROKERS]: 'BROKER', [CONTROLLERS]: 'CONTROLLER' };

export function describeClusterHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeCluster,
    handle(req, rc) {
      const v = rc.apiVersion;
      const served = onControllerListener(ctx, rc) ? CONTROLLERS : BROKERS;
      const wanted = v >= 1 ? (req.endpointType ?? BROKERS) : BROKERS;
      const base = { throttleTimeMs: 0, endpointType: BROKERS, clusterId: '', controllerId: -1, brokers: [], clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED };
      if (!(wanted in ENDPOINT_TYPE_NAMES)) {
        return { ...base, errorCode: v === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: `Unsupported endpoint type ${wanted}` };
      }
      if (wanted !== served) {
        return {
          ...base,
          errorCode: v === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE,
          errorMessage: `The request was sent to an endpoint of type ${ENDPOINT_TYPE_NAMES[served]}, but we wanted an endpoint of type ${ENDPOINT_TYPE_NAMES[wanted]}`,
        };
      }
      const clusterOps = req.includeClusterAuthorizedOperations ? clusterAuthorizedOperations(ctx, rc, CLUSTER_OPERATIONS) : OPERATIONS_NOT_REQUESTED;
      if (served === CONTROLLERS) {
        return {
          ...base,
          endpointType: CONTROLLERS,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          clusterId: ctx.clusterId,
          controllerId: ctx.controller.raft.currentLeader,
          brokers: quorumControllers(ctx),
          clusterAuthorizedOperations: clusterOps,
        };
      }
      const brokers = brokersOnListener(ctx.metadata.image, rc.listenerName);
      return {
        ...base,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        clusterId: ctx.clusterId,
        controllerId: brokers.some((b) => b.nodeId === ctx.nodeId) ? ctx.nodeId : -1,
        brokers: brokers.map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
        clusterAuthorizedOperations: clusterOps,
      };
    },
    errorResponse: (_req, err) => ({
      throttleTimeMs: 0,
      errorCode: err.errorCode,
      errorMessage: err.message,
      endpointType: BROKERS,
      clusterId: '',
      controllerId: -1,
      brokers: [],
      clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
    }),
  });
}

/**
 * The voters in force with their controller endpoints: the voter set of the log in a dynamic
 * quorum (KIP-853), where controller.quorum.voters is empty; the configured voters otherwise.
 */
function quorumControllers(ctx: BrokerContext) {
  const configured = new Map(ctx.config.quorumVoters.map((q) => [q.id, q]));
  return ctx.controller.raft.voters.flatMap((id) => {
    const ep = configured.get(id) ?? ctx.controller.raft.endpointOf(id);
    return ep ? [{ brokerId: id, host: ep.host, port: ep.port, rack: null }] : [];
  });
}
