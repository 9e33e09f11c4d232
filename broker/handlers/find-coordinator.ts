// FindCoordinator (key 10), v0-v6: one key (v0-v3) or a batch of keys (v4+). Group keys (type 0)
// map to the leader of their `__consumer_offsets` partition, transaction keys (type 1) to the
// leader of their `__transaction_state` partition, answered with that broker's endpoint on the
// listener the request came in on; the topic is created on the first request. Unlike Kafka, which
// answers COORDINATOR_NOT_AVAILABLE while it creates the topic, this answers once the topic
// exists. Other key types are INVALID_REQUEST.
import { ErrorCode, errorByCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { Coordinator } from '../../protocol/generated/message/find-coordinator-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnGroup, allowedOnTransactionalId } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { GROUP_METADATA_TOPIC_NAME } from '../group/offsets-topic.ts';
import { TRANSACTION_STATE_TOPIC_NAME } from '../txn/transaction-log.ts';
import { readyTxnCoordinator } from '../txn/txn-setup.ts';
import { defineHandler, type RequestContext } from './api-handler.ts';
import { brokersOnListener } from './metadata.ts';

const GROUP_KEY = 0;
const TRANSACTION_KEY = 1;

/** Kafka puts Errors.message() in the field: the exception's message, or "NONE". */
function messageFor(errorCode: number, message?: string): string {
  if (errorCode === ErrorCode.NONE) return 'NONE';
  return message ?? errorByCode(errorCode).message;
}

function noNode(key: string, errorCode: number, message?: string): Coordinator {
  return { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage: messageFor(errorCode, message) };
}

export function findCoordinatorHandler(ctx: BrokerContext) {
  async function find(key: string, keyType: number, rc: RequestContext): Promise<Coordinator> {
    if (keyType !== GROUP_KEY && keyType !== TRANSACTION_KEY) return noNode(key, ErrorCode.INVALID_REQUEST, `Unknown coordinator type ${keyType}`);
    if (keyType === GROUP_KEY && !allowedOnGroup(ctx, rc, AclOperation.DESCRIBE, key)) return noNode(key, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    if (keyType === TRANSACTION_KEY && !allowedOnTransactionalId(ctx, rc, AclOperation.DESCRIBE, key)) return noNode(key, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    let coordinator: { partitionFor(key: string): number };
    try {
      coordinator = keyType === GROUP_KEY ? await readyGroupCoordinator(ctx) : await readyTxnCoordinator(ctx);
    } catch (err) {
      if (err instanceof KafkaError) return noNode(key, err.errorCode, err.message);
      throw err;
    }
    const image = ctx.metadata.image;
    const topic = image.topicsByName.get(keyType === GROUP_KEY ? GROUP_METADATA_TOPIC_NAME : TRANSACTION_STATE_TOPIC_NAME);
    const partition = topic?.partitions[coordinator.partitionFor(key)];
    const node = partition ? brokersOnListener(image, rc.listenerName).find((b) => b.nodeId === partition.leader) : undefined;
    if (!node) return noNode(key, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return { key, nodeId: node.nodeId, host: node.host, port: node.port, errorCode: ErrorCode.NONE, errorMessage: messageFor(ErrorCode.NONE) };
  }

  return defineHandler({
    apiKey: ApiKey.FindCoordinator,
    async handle(req, rc) {
      const keyType = req.keyType ?? GROUP_KEY;
      if (rc.apiVersion >= 4) {
        const coordinators = await Promise.all((req.coordinatorKeys ?? []).map((k) => find(k, keyType, rc)));
        return { throttleTimeMs: 0, coordinators };
      }
      const c = await find(req.key ?? '', keyType, rc);
      return { throttleTimeMs: 0, errorCode: c.errorCode, errorMessage: c.errorMessage, nodeId: c.nodeId, host: c.host, port: c.port };
    },
    errorResponse: (req, err, rc) => {
      if (rc.apiVersion >= 4) return { throttleTimeMs: 0, coordinators: (req.coordinatorKeys ?? []).map((k) => noNode(k, err.errorCode, err.message)) };
      return { throttleTimeMs: 0, errorCode: err.errorCode, errorMessage: messageFor(err.errorCode, err.message), nodeId: -1, host: '', port: -1 };
    },
  });
}
