import { describe, expect, it } from 'vitest';
import { configKey, ConfigResourceType, type MetadataImage } from '../../controller/metadata/image.ts';
import { parseBrokerConfig } from '../config/broker-config.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { createTransactionVerifier, partitionVerificationEnabled } from './transaction-verifier.ts';
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

  it('batches the checks for one coordinator node: one request in flight, the rest in the next', async () => {
    const sent: { transactions: { transactionalId: string; producerId: bigint; topics: { name: string; partitions: number[] }[] }[] }[] = [];
    const replies: ((r: unknown) => void)[] = [];
    const v = createTransactionVerifier({
      nodeId: 1,
      coordinator: { partitionFor: () => 0, verifyPartitions: () => [] },
      image: () => imageWithCoordinator(2),
      connections: {
        send: ((_node: number, _key: number, req: (typeof sent)[number]) => {
          sent.push(req);
          return new Promise((resolve) => replies.push(resolve));
        }) as never,
      },
    });
    const ok = (id: string, topic: string, ps: [number, number][]) => ({ transactionalId: id, topicResults: [{ name: topic, resultsByPartition: ps.map(([p, c]) => ({ partitionIndex: p, partitionErrorCode: c })) }] });
    // One turn: two partitions of 't' and one of 'u' go in one request.
    const first = [v.verify(ASK), v.verify({ ...ASK, partition: 1 }), v.verify({ ...ASK, transactionalId: 'u', producerId: 2000n })];
    await settle();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.transactions.map((t) => [t.transactionalId, t.topics])).toEqual([
      ['t', [{ name: 'a', partitions: [0, 1] }]],
      ['u', [{ name: 'a', partitions: [0] }]],
    ]);
    // While it is in flight, more checks wait; an older epoch of the same id is answered retriable.
    const stale = v.verify({ ...ASK, partition: 2 });
    const later = v.verify({ ...ASK, producerEpoch: 1, partition: 3 });
    await settle();
    expect(sent).toHaveLength(1);
    expect(await stale).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    replies[0]!({ throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [ok('t', 'a', [[0, 0], [1, ErrorCode.TRANSACTION_ABORTABLE]]), ok('u', 'a', [[0, ErrorCode.PRODUCER_FENCED]])] });
    expect(await Promise.all(first)).toEqual([ErrorCode.NONE, ErrorCode.INVALID_TXN_STATE, ErrorCode.INVALID_PRODUCER_EPOCH]);
    await settle();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.transactions).toMatchObject([{ transactionalId: 't', producerEpoch: 1, topics: [{ name: 'a', partitions: [3] }] }]);
    // A partition the answer leaves out is not let through.
    replies[1]!({ throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [] });
    expect(await later).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
  });

  it('answers NOT_ENOUGH_REPLICAS while the coordinator partition has no leader', async () => {
    const v = createTransactionVerifier({ nodeId: 1, coordinator: { partitionFor: () => 0, verifyPartitions: () => [] }, image: () => imageWithCoordinator(-1), connections: { send: () => Promise.reject(new Error('x')) } });
    expect(await v.verify(ASK)).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
  });

  it('takes transaction.partition.verification.enable from this broker\'s dynamic config, the cluster default, then the static one', () => {
    const key = 'transaction.partition.verification.enable';
    const image = (own?: string, cluster?: string) => {
      const configs = new Map<string, Map<string, string>>();
      if (own !== undefined) configs.set(configKey(ConfigResourceType.Broker, '1'), new Map([[key, own]]));
      if (cluster !== undefined) configs.set(configKey(ConfigResourceType.Broker, ''), new Map([[key, cluster]]));
      return { configs } as unknown as MetadataImage;
    };
    const props = { 'process.roles': 'broker,controller', 'node.id': '1', 'controller.quorum.voters': '1@localhost:9093', listeners: 'PLAINTEXT://:9092,CONTROLLER://:9093', 'controller.listener.names': 'CONTROLLER' };
    const on = parseBrokerConfig(props);
    const off = parseBrokerConfig({ ...props, [key]: 'false' });
    expect(partitionVerificationEnabled(on, image())).toBe(true);
    expect(partitionVerificationEnabled(off, image())).toBe(false);
    expect(partitionVerificationEnabled(on, image(undefined, 'false'))).toBe(false);
    expect(partitionVerificationEnabled(off, image(undefined, 'TRUE'))).toBe(true);
    expect(partitionVerificationEnabled(on, image('true', 'false'))).toBe(true);
    expect(partitionVerificationEnabled(on, image('false', 'true'))).toBe(false);
  });
});
