// DescribeCluster (key 60), v0-v1, on a broker listener: the live brokers with an endpoint on the
// listener the request came in on, the cluster id, and this node as controller id (it is the
// controller clients should send admin requests to; -1 if it has no endpoint on the listener,
// as Kafka answers for a controller it cannot name). v1 asks for an endpoint type: brokers (1)
// are served here; controllers (2) get MISMATCHED_ENDPOINT_TYPE and unknown types
// UNSUPPORTED_ENDPOINT_TYPE (both INVALID_REQUEST in v0), with Kafka's messages.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import { CLUSTER_OPERATIONS, OPERATIONS_NOT_REQUESTED } from './acl-operations.ts';
import { defineHandler } from './api-handler.ts';
import { brokersOnListener } from './metadata.ts';

const BROKERS = 1;
const CONTROLLERS = 2;
const ENDPOINT_TYPE_NAMES: Record<number, string> = { [BROKERS]: 'BROKER', [CONTROLLERS]: 'CONTROLLER' };

export function describeClusterHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.DescribeCluster,
    handle(req, rc) {
      const v = rc.apiVersion;
      const wanted = v >= 1 ? (req.endpointType ?? BROKERS) : BROKERS;
      const base = { throttleTimeMs: 0, endpointType: BROKERS, clusterId: '', controllerId: -1, brokers: [], clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED };
      if (!(wanted in ENDPOINT_TYPE_NAMES)) {
        return { ...base, errorCode: v === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: `Unsupported endpoint type ${wanted}` };
      }
      if (wanted !== BROKERS) {
        return {
          ...base,
          errorCode: v === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE,
          errorMessage: `The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type ${ENDPOINT_TYPE_NAMES[wanted]}`,
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
        clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : OPERATIONS_NOT_REQUESTED,
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
