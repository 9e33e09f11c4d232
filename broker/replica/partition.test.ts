import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { Log } from '../../storage/log.ts';
import { defaultLogConfig } from '../../storage/log-config.ts';
import { ProducerStateManager } from '../../storage/producer-state.ts';
import { buildSimpleBatch } from '../../storage/test-batches.ts';
import { silentLogger, tempDir } from '../../storage/test-support.ts';
import { validateProducedRecords } from './append-validator.ts';
import { DelayedProducePurgatory } from './delayed-produce.ts';
import type { AlterIsrRequest, AlterIsrResult } from './isr-state.ts';
import { Partition } from './partition.ts';

const dirs: string[] = [];
const logs: Log[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Harness {
  p: Partition;
  scheduler: ManualScheduler;
  sent: AlterIsrRequest[];
  /** Answers the AlterPartition in flight. */
  answer(r: Partial<AlterIsrResult>): Promise<void>;
  changes: number;
  eligible: Set<number>;
}

async function leader(opts: { isr?: number[]; minIsr?: number } = {}): Promise<Harness> {
  const dir = tempDir('samsa-partition-');
  dirs.push(dir);
  const config = { ...defaultLogConfig, minInsyncReplicas: opts.minIsr ?? 1 };
  const log = await Log.open({ dir, topic: 't', partition: 0, config, logger: silentLogger() });
  logs.push(log);
  const scheduler = new ManualScheduler();
  const sent: AlterIsrRequest[] = [];
  let pending: ((r: AlterIsrResult) => void) | undefined;
  const h: Harness = {
    p: undefined as unknown as Partition,
    scheduler,
    sent,
    changes: 0,
    eligible: new Set([1, 2, 3]),
    async answer(r) {
      const last = sent.at(-1)!;
      pending?.({ errorCode: ErrorCode.NONE, leaderEpoch: last.leaderEpoch, partitionEpoch: last.partitionEpoch + 1, isr: last.newIsr.map((m) => m.brokerId), ...r });
      pending = undefined;
      await new Promise((res) => setImmediate(res));
    },
  };
  h.p = new Partition({
    topic: 't',
    partition: 0,
    topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
    log,
    producerState: new ProducerStateManager(dir, silentLogger()),
    nodeId: 1,
    logger: silentLogger(),
    onAppend: () => void h.changes++,
    replication: {
      now: () => scheduler.now(),
      alterIsr: (_p, request) => {
        sent.push(request);
        return new Promise((res) => (pending = res));
      },
      isEligible: (id) => h.eligible.has(id),
    },
  });
  h.p.update(1, 0, 0, [1, 2, 3], opts.isr ?? [1, 2, 3]);
  return h;
}

async function produce(p: Partition, count: number): Promise<number> {
  const v = validateProducedRecords(buildSimpleBatch(count, 10), { apiVersion: 9, topicPartition: 't-0', config: p.config, now: Date.now() });
  const r = await p.appendAsLeader(v, -1);
  return r.lastOffset + 1;
}

describe('leader high watermark', () => {
  it('is the smallest log end offset over the ISR, leader included, and never goes back', async () => {
    const { p } = await leader();
    const end = await produce(p, 5);
    expect(end).toBe(5);
    // Followers have not fetched yet: their positions are unknown.
    expect(p.log.highWatermark).toBe(0);
    p.updateFollowerFetchState(2, 3, 5, 7n);
    expect(p.log.highWatermark).toBe(0);
    p.updateFollowerFetchState(3, 4, 5, 7n);
    expect(p.log.highWatermark).toBe(3);
    p.updateFollowerFetchState(2, 5, 5, 7n);
    expect(p.log.highWatermark).toBe(4);
    p.updateFollowerFetchState(3, 5, 5, 7n);
    expect(p.log.highWatermark).toBe(5);
    // A follower that fetches from lower down (it truncated) does not move it back.
    p.updateFollowerFetchState(3, 2, 5, 7n);
    expect(p.log.highWatermark).toBe(5);
  });

  it('with the leader alone in the ISR, moves with every append', async () => {
    const { p } = await leader({ isr: [1] });
    expect(await produce(p, 3)).toBe(3);
    expect(p.log.highWatermark).toBe(3);
  });

  it('ignores fetches from brokers that are not replicas', async () => {
    const { p } = await leader({ isr: [1, 2] });
    await produce(p, 2);
    p.updateFollowerFetchState(9, 2, 2, 1n);
    expect(p.log.highWatermark).toBe(0);
    p.updateFollowerFetchState(2, 2, 2, 1n);
    expect(p.log.highWatermark).toBe(2);
  });
});

describe('ISR shrink and expansion', () => {
  it('removes a follower not caught up within replica.lag.time.max.ms, keeping it in the HW until committed', async () => {
    const h = await leader();
    const { p, scheduler } = h;
    await produce(p, 4);
    p.updateFollowerFetchState(2, 4, 4, 7n);
    p.updateFollowerFetchState(3, 1, 4, 8n);
    expect(p.log.highWatermark).toBe(1);
    scheduler.advance(500);
    p.updateFollowerFetchState(2, 4, 4, 7n);
    p.maybeShrinkIsr(1000);
    expect(h.sent).toHaveLength(0);
    scheduler.advance(600);
    p.updateFollowerFetchState(2, 4, 4, 7n);
    p.maybeShrinkIsr(1000);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]).toMatchObject({ leaderEpoch: 0, partitionEpoch: 0, newIsr: [{ brokerId: 1 }, { brokerId: 2, brokerEpoch: 7n }] });
    // Pending: the removed member still holds the high watermark, and no second change is sent.
    expect(p.isrChangePending).toBe(true);
    expect(p.log.highWatermark).toBe(1);
    p.maybeShrinkIsr(1000);
    expect(h.sent).toHaveLength(1);
    await h.answer({});
    expect(p.isr).toEqual([1, 2]);
    expect(p.partitionEpoch).toBe(1);
    expect(p.log.highWatermark).toBe(4);
  });

  it('counts a follower that keeps pace with appends as caught up as of its previous fetch', async () => {
    const h = await leader();
    const { p, scheduler } = h;
    let end = await produce(p, 1);
    p.updateFollowerFetchState(3, end, end, 8n);
    for (let i = 0; i < 10; i++) {
      const before = end;
      end = await produce(p, 1);
      scheduler.advance(400);
      // Each fetch reaches the log end the previous one saw, never the current one.
      p.updateFollowerFetchState(2, before, end, 7n);
      p.updateFollowerFetchState(3, end, end, 8n);
    }
    p.maybeShrinkIsr(1000);
    expect(h.sent).toHaveLength(0);
  });

  it('adds a follower back once it reaches the high watermark, and only an eligible one', async () => {
    const h = await leader({ isr: [1, 3] });
    const { p } = h;
    await produce(p, 6);
    p.updateFollowerFetchState(3, 6, 6, 8n);
    expect(p.log.highWatermark).toBe(6);
    p.updateFollowerFetchState(2, 4, 6, 7n);
    expect(h.sent).toHaveLength(0);
    h.eligible.delete(2);
    p.updateFollowerFetchState(2, 6, 6, 7n);
    expect(h.sent).toHaveLength(0);
    h.eligible.add(2);
    p.updateFollowerFetchState(2, 6, 6, 7n);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.newIsr.map((m) => m.brokerId)).toEqual([1, 3, 2]);
    // While pending, the joining member already counts for the high watermark (maximal ISR).
    expect(p.maximalIsr).toEqual([1, 3, 2]);
    await h.answer({ isr: [1, 2, 3] });
    expect(p.isr).toEqual([1, 2, 3]);
  });

  it('keeps the ISR it got from the controller over an older image, and takes a newer one', async () => {
    const h = await leader({ isr: [1, 3] });
    const { p } = h;
    p.updateFollowerFetchState(2, 0, 0, 7n);
    await h.answer({ isr: [1, 2, 3], partitionEpoch: 1 });
    p.update(1, 0, 0, [1, 2, 3], [1, 3]);
    expect(p.isr).toEqual([1, 2, 3]);
    p.update(1, 0, 2, [1, 2, 3], [1, 2]);
    expect(p.isr).toEqual([1, 2]);
    expect(p.partitionEpoch).toBe(2);
  });

  it('drops an answer that arrives after leadership moved', async () => {
    const h = await leader({ isr: [1, 3] });
    const { p } = h;
    p.updateFollowerFetchState(2, 0, 0, 7n);
    expect(h.sent).toHaveLength(1);
    p.update(3, 1, 1, [1, 2, 3], [3]);
    await h.answer({ isr: [1, 2, 3], partitionEpoch: 1 });
    expect(p.isr).toEqual([3]);
    expect(p.isLeader).toBe(false);
  });
});

describe('acks=all', () => {
  it('waits for the high watermark, answers NOT_ENOUGH_REPLICAS_AFTER_APPEND after a shrink below min.insync.replicas, and times out', async () => {
    const h = await leader({ minIsr: 2 });
    const { p, scheduler } = h;
    const purgatory = new DelayedProducePurgatory({ scheduler });
    const end = await produce(p, 3);
    let answered: number | undefined;
    void purgatory.wait(p, end, 5000).then((c) => (answered = c));
    p.updateFollowerFetchState(2, end, end, 7n);
    purgatory.notify(p);
    await Promise.resolve();
    expect(answered).toBeUndefined();
    p.updateFollowerFetchState(3, end, end, 8n);
    purgatory.notify(p);
    await Promise.resolve();
    expect(answered).toBe(ErrorCode.NONE);

    // ISR shrinks to the leader alone: the high watermark follows the leader, but min.insync.replicas is not met.
    const end2 = await produce(p, 1);
    let second: number | undefined;
    void purgatory.wait(p, end2, 5000).then((c) => (second = c));
    scheduler.advance(2000);
    p.maybeShrinkIsr(1000);
    await h.answer({});
    purgatory.notify(p);
    await Promise.resolve();
    expect(p.isr).toEqual([1]);
    expect(second).toBe(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);

    // Refused before the append when the ISR is already too small.
    const v = validateProducedRecords(buildSimpleBatch(1, 10), { apiVersion: 9, topicPartition: 't-0', config: p.config, now: Date.now() });
    expect(() => p.appendAsLeader(v, -1)).toThrow(expect.objectContaining({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS }));
  });

  it('times out with REQUEST_TIMED_OUT, and answers NOT_LEADER_OR_FOLLOWER when leadership moves', async () => {
    const h = await leader({ minIsr: 2 });
    const { p, scheduler } = h;
    const purgatory = new DelayedProducePurgatory({ scheduler });
    const end = await produce(p, 1);
    const timedOut = purgatory.wait(p, end, 100);
    scheduler.advance(101);
    expect(await timedOut).toBe(ErrorCode.REQUEST_TIMED_OUT);
    const moved = purgatory.wait(p, end, 1000);
    p.update(2, 1, 1, [1, 2, 3], [2, 3]);
    purgatory.notify(p);
    expect(await moved).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(purgatory.size).toBe(0);
  });

  it('once another broker leads, answers what became of the batch: NONE once committed there, NOT_LEADER_OR_FOLLOWER once truncated away', async () => {
    const h = await leader({ minIsr: 2 });
    const { p, scheduler } = h;
    const purgatory = new DelayedProducePurgatory({ scheduler });
    const epoch = p.leaderEpoch;
    const kept = await produce(p, 2);
    const lost = await produce(p, 2);
    const answers: number[] = [];
    const keptAnswer = purgatory.wait(p, kept, 5000, epoch).then((c) => (answers.push(c), c));
    const lostAnswer = purgatory.wait(p, lost, 5000, epoch).then((c) => (answers.push(c), c));
    p.update(2, epoch + 1, 1, [1, 2, 3], [2, 3]);
    purgatory.notify(p);
    await Promise.resolve();
    // What the new leader has is not known before this replica fetched from it.
    expect(answers).toEqual([]);
    // The new leader had the first batch only: the diverging tail goes...
    await p.truncateTo(kept);
    purgatory.notify(p);
    expect(await lostAnswer).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(answers).toHaveLength(1);
    // ...and the high watermark the new leader sends passes the first batch, still in its epoch.
    p.updateFollowerHighWatermark(kept);
    purgatory.notify(p);
    expect(await keptAnswer).toBe(ErrorCode.NONE);
    expect(purgatory.size).toBe(0);
  });

  it('answers NOT_LEADER_OR_FOLLOWER when the offsets of a batch came back in a later epoch', async () => {
    const h = await leader({ minIsr: 2 });
    const { p, scheduler } = h;
    const purgatory = new DelayedProducePurgatory({ scheduler });
    const epoch = p.leaderEpoch;
    const end = await produce(p, 2);
    const answer = purgatory.wait(p, end, 5000, epoch);
    p.update(2, epoch + 1, 1, [1, 2, 3], [2, 3]);
    await p.truncateTo(0);
    // The new leader's own records of its epoch fill the same offsets.
    const theirs = encodeRecordBatch({ baseOffset: 0n, partitionLeaderEpoch: epoch + 1, baseTimestamp: 1n, records: [0, 1].map((i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value: Buffer.from(`theirs-${i}`) })) });
    await p.appendAsFollower(theirs);
    p.updateFollowerHighWatermark(end);
    purgatory.notify(p);
    expect(await answer).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });
});

describe('follower', () => {
  it('appends the leader batches with their offsets and epochs, takes the HW up to its log end, and truncates', async () => {
    const h = await leader();
    const { p } = h;
    p.update(2, 1, 1, [1, 2, 3], [1, 2, 3]);
    const b1 = buildSimpleBatch(3, 10, { baseOffset: 0, partitionLeaderEpoch: 1 });
    const b2 = buildSimpleBatch(2, 10, { baseOffset: 3, partitionLeaderEpoch: 2 });
    await p.appendAsFollower(Buffer.concat([b1, b2]));
    expect(p.log.logEndOffset).toBe(5);
    expect(p.log.leaderEpochCache.epochEntries).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 3 },
    ]);
    // A repeated answer is skipped batch by batch; a trailing partial batch is left out.
    await p.appendAsFollower(Buffer.concat([b2, b1.subarray(0, 20)]));
    expect(p.log.logEndOffset).toBe(5);
    p.updateFollowerHighWatermark(9);
    expect(p.log.highWatermark).toBe(5);
    await p.truncateTo(3);
    expect(p.log.logEndOffset).toBe(3);
    expect(p.log.leaderEpochCache.latestEpoch()).toBe(1);
  });
});
