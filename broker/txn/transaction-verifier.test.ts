import { describe, expect, it } from 'vitest';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { createTransactionVerifier } from './transaction-verifier.ts';
import { settle, txnHarness } from './txn-test-support.ts';

function imageWithCoordinator(leader: number): MetadataImage {
  return { topicsByName: new Map([['__transaction_state', { partitions: [{ partition: 0, leader }] }]]) } as unknown as MetadataImage;
}

const ASK = { transactionalId: 't', producerId: 1000n, producerEpoch: 0, topic: 'a', partition: 0 };

describe('transaction verifier', () => {
  it('asks the local coordinator and translates its answer for producers', async () => {
    const h = txnHarness();
    await h.coordinator.elect(0, 1);
    const v = createTransactionVerifier({ nodeId: 1, coordinator: h.coordinator, image: () => imageWithCoordinator(1), connections: { send: () => Promise.reject(new Error('not used')) } });
    expect(await v.verify(ASK)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    await h.coordinator.initProducerId('t', 60000, null);
    expect(await v.verify(ASK)).toBe(ErrorCode.INVALID_TXN_STATE); // not added: TRANSACTION_ABORTABLE
    await h.coordinator.addPartitions('t', 1000n, 0, [{ topic: 'a', partition: 0 }]);
    expect(await v.verify(ASK)).toBe(ErrorCode.NONE);
    expect(await v.verify({ ...ASK, producerEpoch: 5 })).toBe(ErrorCode.INVALID_PRODUCER_EPOCH); // PRODUCER_FENCED
    h.markers.hold = true;
    await h.coordinator.endTxn('t', 1000n, 0, true);
    await settle();
    expect(await v.verify(ASK)).toBe(ErrorCode.NOT_ENOUGH_REPLICAS); // CONCURRENT_TRANSACTIONS
  });

  it('asks a remote coordinator with AddPartitionsToTxn v4 verifyOnly', async () => {
    const sent: unknown[] = [];
    let reply: unknown = { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [{ transactionalId: 't', topicResults: [{ name: 'a', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 0 }] }] }] };
    const v = createTransactionVerifier({
      nodeId: 1,
      coordinator: { partitionFor: () => 0, verifyPartitions: () => [] },
      image: () => imageWithCoordinator(2),
      connections: {
        send: (async (node: number, key: number, req: unknown, opts: unknown) => {
          sent.push([node, key, req, opts]);
          if (reply instanceof Error) throw reply;
          return reply;
        }) as never,
      },
    });
    expect(await v.verify(ASK)).toBe(ErrorCode.NONE);
    expect(sent[0]).toMatchObject([2, 24, { transactions: [{ transactionalId: 't', producerId: 1000n, verifyOnly: true, topics: [{ name: 'a', partitions: [0] }] }] }, { version: 4 }]);
    reply = new KafkaError(ErrorCode.NETWORK_EXCEPTION, 'down');
    expect(await v.verify(ASK)).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    reply = new KafkaError(ErrorCode.UNSUPPORTED_VERSION, 'old');
    expect(await v.verify(ASK)).toBe(ErrorCode.NONE);
    reply = { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [] };
    expect(await v.verify(ASK)).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('answers NOT_ENOUGH_REPLICAS while the coordinator partition has no leader', async () => {
    const v = createTransactionVerifier({ nodeId: 1, coordinator: { partitionFor: () => 0, verifyPartitions: () => [] }, image: () => imageWithCoordinator(-1), connections: { send: () => Promise.reject(new Error('x')) } });
    expect(await v.verify(ASK)).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
  });
});
