import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { WriteTxnMarkersRequest } from '../../protocol/generated/message/write-txn-markers-request.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { NetworkMarkerSender } from './transaction-markers.ts';
import type { MarkerRequest } from './transaction-shard.ts';

/** Just the part of an image the sender reads: topics with partition leaders. */
function image(leaders: Record<string, number[]>): MetadataImage {
  const topicsByName = new Map(Object.entries(leaders).map(([name, ls]) => [name, { name, partitions: ls.map((leader, partition) => ({ partition, leader })) }]));
  return { topicsByName } as unknown as MetadataImage;
}

const REQUEST: MarkerRequest = {
  transactionalId: 'tx',
  producerId: 5n,
  producerEpoch: 2,
  coordinatorEpoch: 7,
  commit: true,
  partitions: [
    { topic: 'a', partition: 0 },
    { topic: 'a', partition: 1 },
    { topic: 'b', partition: 0 },
  ],
};

type Answer = (node: number, req: WriteTxnMarkersRequest) => Record<string, number> | Error;

function harness(leaders: Record<string, number[]>, answer: Answer) {
  const scheduler = new ManualScheduler();
  let current = image(leaders);
  const sent: { node: number; partitions: string[] }[] = [];
  const connections = {
    send: async (node: number, _key: unknown, req: WriteTxnMarkersRequest) => {
      const m = req.markers[0]!;
      expect([m.producerId, m.producerEpoch, m.coordinatorEpoch, m.transactionResult]).toEqual([5n, 2, 7, true]);
      const partitions = m.topics.flatMap((t) => t.partitionIndexes.map((p) => `${t.name}-${p}`));
      sent.push({ node, partitions });
      const a = answer(node, req);
      if (a instanceof Error) throw a;
      return { markers: [{ producerId: 5n, topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, errorCode: a[`${t.name}-${p}`] ?? ErrorCode.NONE })) })) }] };
    },
  };
  const sender = new NetworkMarkerSender({ connections: connections as never, image: () => current, scheduler, logger: pino({ level: 'silent' }), retryBackoffMs: 100 });
  return { scheduler, sent, sender, setImage: (l: Record<string, number[]>) => (current = image(l)) };
}

async function drive(scheduler: ManualScheduler, done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) {
    await new Promise((r) => setImmediate(r));
    scheduler.advance(100);
  }
}

describe('NetworkMarkerSender', () => {
  it('sends one request per leader and resolves once all have the marker', async () => {
    const h = harness({ a: [1, 2], b: [1] }, () => ({}));
    await h.sender.send(REQUEST, () => false);
    expect(h.sent.sort((x, y) => x.node - y.node)).toEqual([
      { node: 1, partitions: ['a-0', 'b-0'] },
      { node: 2, partitions: ['a-1'] },
    ]);
  });

  it('retries retriable errors and unreachable leaders with the leaders of the current image', async () => {
    let failures = 0;
    const h = harness({ a: [1, 2], b: [1] }, (node): Record<string, number> | Error => {
      if (node === 2) return failures++ === 0 ? new KafkaError(ErrorCode.NETWORK_EXCEPTION, 'down') : {};
      if (node === 1) return { 'b-0': ErrorCode.NOT_LEADER_OR_FOLLOWER };
      return {};
    });
    let done = false;
    const sent = h.sender.send(REQUEST, () => false).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    h.setImage({ a: [1, 2], b: [3] });
    await drive(h.scheduler, () => done);
    await sent;
    expect(h.sent.map((s) => `${s.node}:${s.partitions.join(',')}`)).toEqual(['1:a-0,b-0', '2:a-1', '3:b-0', '2:a-1']);
  });

  it('skips partitions of deleted topics and leaders that cannot write markers; waits for a leader', async () => {
    const h = harness({ a: [-1, 2] }, () => ({ 'a-1': ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT }));
    let done = false;
    const sent = h.sender.send(REQUEST, () => false).then(() => (done = true));
    await drive(h.scheduler, () => h.sent.length >= 1);
    expect(done).toBe(false);
    h.setImage({ a: [3, 2] });
    await drive(h.scheduler, () => done);
    await sent;
    expect(h.sent.map((s) => `${s.node}:${s.partitions.join(',')}`)).toEqual(['2:a-1', '3:a-0']);
  });

  it('stops when this coordinator is fenced or its shard unloaded', async () => {
    const fenced = harness({ a: [1, 1], b: [1] }, () => ({ 'a-0': ErrorCode.TRANSACTION_COORDINATOR_FENCED }));
    await expect(fenced.sender.send(REQUEST, () => false)).rejects.toMatchObject({ errorCode: ErrorCode.TRANSACTION_COORDINATOR_FENCED });
    let cancelled = false;
    const stuck = harness({ a: [1, 1], b: [1] }, () => ({ 'a-0': ErrorCode.NOT_ENOUGH_REPLICAS }));
    const sent = stuck.sender.send(REQUEST, () => cancelled);
    await drive(stuck.scheduler, () => stuck.sent.length >= 2);
    cancelled = true;
    stuck.scheduler.advance(200);
    await expect(sent).rejects.toMatchObject({ errorCode: ErrorCode.NOT_COORDINATOR });
  });
});
