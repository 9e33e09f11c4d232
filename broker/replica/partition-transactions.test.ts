// Transactions through replication: a follower that appends the leader's bytes (data and markers)
// rebuilds the same open transactions and aborted-transaction index, and its LSO follows the
// leader's high watermark; the leader's markers wait for acks=all like any batch.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { Log } from '../../storage/log.ts';
import { defaultLogConfig } from '../../storage/log-config.ts';
import { ProducerStateManager } from '../../storage/producer-state.ts';
import { silentLogger, tempDir } from '../../storage/test-support.ts';
import { collectAbortedTransactions } from '../../storage/transaction-state.ts';
import { validateProducedRecords } from './append-validator.ts';
import { Partition } from './partition.ts';

const dirs: string[] = [];
const logs: Log[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function partition(nodeId: number, opts: { minIsr?: number } = {}): Promise<Partition> {
  const dir = tempDir('samsa-ptxn-');
  dirs.push(dir);
  const config = { ...defaultLogConfig, minInsyncReplicas: opts.minIsr ?? 1 };
  const log = await Log.open({ dir, topic: 't', partition: 0, config, logger: silentLogger() });
  logs.push(log);
  const p = new Partition({ topic: 't', partition: 0, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', log, producerState: new ProducerStateManager(dir, silentLogger()), nodeId, logger: silentLogger(), onAppend: () => undefined });
  p.update(1, 0, 0, [1, 2], [1, 2]);
  return p;
}

async function txnData(p: Partition, pid: bigint, seq: number, n: number): Promise<number> {
  const buf = encodeRecordBatch({
    baseTimestamp: BigInt(Date.now()),
    producerId: pid,
    producerEpoch: 0,
    baseSequence: seq,
    isTransactional: true,
    records: Array.from({ length: n }, (_, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value: Buffer.from('v') })),
  });
  const r = await p.appendAsLeader(validateProducedRecords(buf, { apiVersion: 9, topicPartition: 't-0', config: p.config, now: Date.now() }), 1);
  return r.baseOffset;
}

/** The follower fetches everything the leader has from its log end. */
async function replicate(leader: Partition, follower: Partition): Promise<void> {
  const { records } = await leader.log.read(follower.log.logEndOffset, 1 << 20, { minOneMessage: true });
  if (records.length > 0) await follower.appendAsFollower(records);
  leader.updateFollowerFetchState(2, follower.log.logEndOffset, leader.log.logEndOffset, 1n);
  follower.updateFollowerHighWatermark(leader.log.highWatermark);
}

describe('transactions on a follower', () => {
  it('rebuilds open transactions and the aborted index from the leader\'s batches; its LSO follows the high watermark', async () => {
    const leader = await partition(1);
    const follower = await partition(2);
    await txnData(leader, 10n, 0, 2); // 0-1
    await txnData(leader, 20n, 0, 1); // 2
    await leader.appendTxnMarkerAsLeader({ producerId: 10n, producerEpoch: 0, commit: false, coordinatorEpoch: 1 }, Date.now()); // 3
    await replicate(leader, follower);
    // Producer 20's transaction is open at 2 on both.
    expect(leader.log.lastStableOffset).toBe(2);
    expect(follower.log.lastStableOffset).toBe(2);
    expect(collectAbortedTransactions(follower.log.logSegments(), 0, 10)).toEqual(collectAbortedTransactions(leader.log.logSegments(), 0, 10));
    expect(collectAbortedTransactions(follower.log.logSegments(), 0, 10)).toEqual([{ producerId: 10n, firstOffset: 0, lastOffset: 3, lastStableOffset: 2 }]);
    await leader.appendTxnMarkerAsLeader({ producerId: 20n, producerEpoch: 0, commit: true, coordinatorEpoch: 1 }, Date.now()); // 4
    // Not yet replicated: the committed transaction still holds the leader's LSO.
    expect(leader.log.lastStableOffset).toBe(2);
    await replicate(leader, follower);
    expect(leader.log.lastStableOffset).toBe(5);
    expect(follower.log.lastStableOffset).toBe(5);
    // The follower learns the coordinator epoch from the replicated marker.
    expect(follower.producerState.entry(20n)?.coordinatorEpoch).toBe(1);
  });

  it('refuses markers below min.insync.replicas and answers acks=all only once the follower has them', async () => {
    const leader = await partition(1, { minIsr: 3 });
    await expect(Promise.resolve().then(() => leader.appendTxnMarkerAsLeader({ producerId: 1n, producerEpoch: 0, commit: true, coordinatorEpoch: 0 }, Date.now()))).rejects.toSatisfy(
      (e: unknown) => e instanceof KafkaError && e.errorCode === ErrorCode.NOT_ENOUGH_REPLICAS,
    );
    const l2 = await partition(1, { minIsr: 2 });
    const offset = await l2.appendTxnMarkerAsLeader({ producerId: 1n, producerEpoch: 0, commit: true, coordinatorEpoch: 0 }, Date.now());
    expect(l2.checkEnoughReplicasReachOffset(offset + 1)).toBeUndefined();
    l2.updateFollowerFetchState(2, offset + 1, l2.log.logEndOffset, 1n);
    expect(l2.checkEnoughReplicasReachOffset(offset + 1)).toBe(ErrorCode.NONE);
  });
});
