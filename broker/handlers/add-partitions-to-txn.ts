// AddPartitionsToTxn (key 24), v0-v5. v0-v3: one transaction from its producer; v4+: a batch of
// transactions (sent by partition leaders), each with verifyOnly to check, without adding, that
// the partitions are already in the transaction (KIP-890). As Kafka: partitions of unknown
// topics get UNKNOWN_TOPIC_OR_PARTITION and the others of that transaction OPERATION_NOT_ATTEMPTED,
// nothing being added; otherwise every partition gets the coordinator's answer. Clients before
// v2 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED.
import { ErrorCode, type KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { AddPartitionsToTxnTopic } from '../../protocol/generated/message/add-partitions-to-txn-request.ts';
import type { AddPartitionsToTxnTopicResult } from '../../protocol/generated/message/add-partitions-to-txn-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnTopic, requireCluster, requireTransactionalId } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { TopicPartition } from '../txn/transaction-log.ts';
import { readyTxnCoordinator } from '../txn/txn-setup.ts';
import { defineHandler, type RequestContext } from './api-handler.ts';
import { partitionExists } from './offset-commit.ts';

function results(topics: readonly AddPartitionsToTxnTopic[], codeOf: (tp: TopicPartition, i: number) => number): AddPartitionsToTxnTopicResult[] {
  let i = 0;
  return topics.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: codeOf({ topic: t.name, partition: p }, i++) })) }));
}

export function addPartitionsToTxnHandler(ctx: BrokerContext) {
  async function one(transactionalId: string, producerId: bigint, producerEpoch: number, verifyOnly: boolean, topics: readonly AddPartitionsToTxnTopic[], version: number, rc: RequestContext): Promise<AddPartitionsToTxnTopicResult[]> {
    const image = ctx.metadata.image;
    // Brokers verifying (v4+) act for the cluster; clients need WRITE on the id and the topics.
    if (version >= 4) requireCluster(ctx, rc, AclOperation.CLUSTER_ACTION);
    else requireTransactionalId(ctx, rc, AclOperation.WRITE, transactionalId);
    if (topics.some((t) => !allowedOnTopic(ctx, rc, AclOperation.WRITE, t.name))) {
      return results(topics, (tp) => (allowedOnTopic(ctx, rc, AclOperation.WRITE, tp.topic) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.TOPIC_AUTHORIZATION_FAILED));
    }
    const tps: TopicPartition[] = topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p })));
    if (!verifyOnly && tps.some((tp) => !partitionExists(image, tp.topic, tp.partition))) {
      return results(topics, (tp) => (partitionExists(image, tp.topic, tp.partition) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    }
    const coordinator = await readyTxnCoordinator(ctx);
    if (verifyOnly) {
      const codes = coordinator.verifyPartitions(transactionalId, producerId, producerEpoch, tps);
      return results(topics, (_tp, i) => codes[i]!);
    }
    let code = await coordinator.addPartitions(transactionalId, producerId, producerEpoch, tps);
    if (code === ErrorCode.PRODUCER_FENCED && version < 2) code = ErrorCode.INVALID_PRODUCER_EPOCH;
    return results(topics, () => code);
  }

  return defineHandler({
    apiKey: ApiKey.AddPartitionsToTxn,
    async handle(req, rc) {
      if (rc.apiVersion >= 4) {
        const resultsByTransaction = await Promise.all(
          (req.transactions ?? []).map(async (t) => ({
            transactionalId: t.transactionalId,
            topicResults: await one(t.transactionalId, t.producerId, t.producerEpoch, t.verifyOnly, t.topics, rc.apiVersion, rc).catch((err: KafkaError) =>
              results(t.topics, () => err.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR),
            ),
          })),
        );
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction };
      }
      const topics = req.v3AndBelowTopics ?? [];
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: await one(req.v3AndBelowTransactionalId ?? '', req.v3AndBelowProducerId ?? -1n, req.v3AndBelowProducerEpoch ?? -1, false, topics, rc.apiVersion, rc) };
    },
    errorResponse: (req, err, rc) => {
      if (rc.apiVersion >= 4) return { throttleTimeMs: 0, errorCode: err.errorCode, resultsByTransaction: [] };
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: results(req.v3AndBelowTopics ?? [], () => err.errorCode) };
    },
  });
}
