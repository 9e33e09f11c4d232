import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchResponse, PartitionData } from '../../protocol/generated/message/fetch-response.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { Log } from '../../storage/log.ts';
import { defaultLogConfig } from '../../storage/log-config.ts';
import { ProducerStateManager } from '../../storage/producer-state.ts';
import { buildSimpleBatch } from '../../storage/test-batches.ts';
import { silentLogger, tempDir } from '../../storage/test-support.ts';
import { Partition } from './partition.ts';
import { type BrokerConnections, ReplicaFetcher } from './replica-fetcher.ts';

const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';
const dirs: string[] = [];
const logs: Log[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function follower(): Promise<Partition> {
  const dir = tempDir('samsa-fetcher-');
  dirs.push(dir);
  const log = await Log.open({ dir, topic: 't', partition: 0, config: { ...defaultLogConfig }, logger: silentLogger() });
  logs.push(log);
  const p = new Partition({ topic: 't', partition: 0, topicId: TOPIC_ID, log, producerState: new ProducerStateManager(dir, silentLogger()), nodeId: 2, logger: silentLogger(), onAppend: () => undefined });
  p.update(1, 3, 0, [1, 2], [1, 2]);
  return p;
}

function answer(data: Partial<PartitionData>, session: { sessionId?: number; errorCode?: number } = {}): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: session.errorCode ?? ErrorCode.NONE,
    sessionId: session.sessionId ?? 0,
    responses: [{ topic: '', topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE, highWatermark: 0n, lastStableOffset: 0n, logStartOffset: 0n, abortedTransactions: null, preferredReadReplica: -1, records: Buffer.alloc(0), ...data }] }],
    nodeEndpoints: [],
  };
}

/** A leader that answers each Fetch with the next scripted answer and records the requests. */
function scripted(answers: (FetchResponse | Error)[]) {
  const requests: FetchRequest[] = [];
  const connections = {
    send: async (_id: number, _key: number, request: FetchRequest) => {
      requests.push(request);
      const a = answers.shift();
      if (a === undefined) throw new Error('no more answers');
      if (a instanceof Error) throw a;
      return a;
    },
  } as unknown as BrokerConnections;
  return { requests, connections };
}

async function settle(scheduler: ManualScheduler, rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    scheduler.advance(0);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
  }
}

function fetcherFor(connections: BrokerConnections, scheduler: ManualScheduler): ReplicaFetcher {
  return new ReplicaFetcher(1, {
    nodeId: 2,
    brokerEpoch: () => 42n,
    connections,
    scheduler,
    logger: silentLogger(),
    config: { maxWaitMs: 500, minBytes: 1, maxBytes: 1 << 20, partitionMaxBytes: 1 << 20, backoffMs: 1000, requestTimeoutMs: 1000 },
  });
}

describe('replica fetcher', () => {
  it('fetches as a replica from its log end, appends the leader batches and takes the high watermark', async () => {
    const p = await follower();
    const scheduler = new ManualScheduler();
    const records = Buffer.concat([buildSimpleBatch(3, 10, { baseOffset: 0, partitionLeaderEpoch: 2 }), buildSimpleBatch(2, 10, { baseOffset: 3, partitionLeaderEpoch: 3 })]);
    const { requests, connections } = scripted([answer({ records, highWatermark: 4n })]);
    const f = fetcherFor(connections, scheduler);
    f.add(p, 3);
    await settle(scheduler);
    expect(requests[0]).toMatchObject({ replicaId: 2, replicaState: { replicaId: 2, replicaEpoch: 42n }, sessionId: 0, sessionEpoch: 0 });
    expect(requests[0]!.topics[0]!.partitions[0]).toMatchObject({ fetchOffset: 0n, currentLeaderEpoch: 3, lastFetchedEpoch: -1 });
    expect(p.log.logEndOffset).toBe(5);
    expect(p.log.highWatermark).toBe(4);
    expect(requests[1]!.topics[0]!.partitions[0]).toMatchObject({ fetchOffset: 5n, lastFetchedEpoch: 3 });
    await f.stop();
  });

  it('truncates where the leader says the logs diverge, then fetches from there', async () => {
    const p = await follower();
    // Local log: epoch 1 at 0..2, epoch 2 at 3..5 (written by a leader that lost its leadership).
    await p.appendAsFollower(Buffer.concat([buildSimpleBatch(3, 10, { baseOffset: 0, partitionLeaderEpoch: 1 }), buildSimpleBatch(3, 10, { baseOffset: 3, partitionLeaderEpoch: 2 })]));
    const scheduler = new ManualScheduler();
    // The leader never had epoch 2: its epoch 1 ends at 4.
    const { requests, connections } = scripted([answer({ divergingEpoch: { epoch: 1, endOffset: 4n } }), answer({ divergingEpoch: { epoch: 1, endOffset: 4n } })]);
    const f = fetcherFor(connections, scheduler);
    f.add(p, 3);
    await settle(scheduler);
    expect(requests[0]!.topics[0]!.partitions[0]).toMatchObject({ fetchOffset: 6n, lastFetchedEpoch: 2 });
    // Local epoch 1 ends at 3 (where epoch 2 starts): the smaller of both ends.
    expect(p.log.logEndOffset).toBe(3);
    expect(requests[1]!.topics[0]!.partitions[0]).toMatchObject({ fetchOffset: 3n, lastFetchedEpoch: 1 });
    await f.stop();
  });

  it('backs off after a failed request and after a partition error, and applies nothing once removed', async () => {
    const p = await follower();
    const scheduler = new ManualScheduler();
    const { requests, connections } = scripted([new Error('connection refused'), answer({ errorCode: ErrorCode.FENCED_LEADER_EPOCH })]);
    const f = fetcherFor(connections, scheduler);
    f.add(p, 3);
    await settle(scheduler);
    expect(requests).toHaveLength(1);
    scheduler.advance(1000);
    await settle(scheduler);
    expect(requests).toHaveLength(2);
    scheduler.advance(999);
    await settle(scheduler);
    expect(requests).toHaveLength(2);
    scheduler.advance(1);
    await settle(scheduler);
    expect(requests).toHaveLength(3);
    await f.remove(p);
    expect(f.size).toBe(0);
    await f.stop();
  });

  it('fetches again soon, then less and less often, while the leader has not heard of the epoch', async () => {
    const p = await follower();
    const scheduler = new ManualScheduler();
    const behind = () => answer({ errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH });
    const { requests, connections } = scripted([behind(), answer({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }), behind(), answer({}), behind()]);
    const f = fetcherFor(connections, scheduler);
    f.add(p, 3);
    await settle(scheduler);
    expect(requests).toHaveLength(1);
    // 20 ms, then 40 ms, then 80 ms: well under replica.fetch.backoff.ms (1000 here).
    for (const [wait, count] of [[19, 1], [1, 2], [39, 2], [1, 3], [79, 3], [1, 5]] as const) {
      scheduler.advance(wait);
      await settle(scheduler);
      expect(requests).toHaveLength(count);
    }
    // An answer without the error starts the count again: 20 ms.
    scheduler.advance(19);
    await settle(scheduler);
    expect(requests).toHaveLength(5);
    await f.stop();
  });

  it('fetches in an incremental session: full first, then only what changed, and a full request at once after a session error', async () => {
    const p = await follower();
    const scheduler = new ManualScheduler();
    const records = buildSimpleBatch(2, 10, { baseOffset: 0, partitionLeaderEpoch: 3 });
    const empty = (session: { sessionId?: number; errorCode?: number }): FetchResponse => ({ ...answer({}, session), responses: [] });
    const { requests, connections } = scripted([
      answer({ records, highWatermark: 0n }, { sessionId: 77 }),
      // The leader's incremental answer: the high watermark moved.
      answer({ highWatermark: 2n, logStartOffset: 0n }, { sessionId: 77 }),
      // Nothing new: the partition is left out.
      empty({ sessionId: 77 }),
      empty({ errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND }),
      answer({ highWatermark: 2n }, { sessionId: 78 }),
    ]);
    const f = fetcherFor(connections, scheduler);
    f.add(p, 3);
    await settle(scheduler, 8);
    expect(requests.map((r) => [r.sessionId, r.sessionEpoch, r.topics.flatMap((t) => t.partitions.map((x) => x.fetchOffset))])).toEqual([
      [0, 0, [0n]],
      // Its log end moved to 2: named again.
      [77, 1, [2n]],
      // Unchanged: named no more.
      [77, 2, []],
      [77, 3, []],
      // Session lost: a full request, without waiting out replica.fetch.backoff.ms.
      [0, 0, [2n]],
      [78, 1, []],
    ]);
    expect(p.log.highWatermark).toBe(2);
    await f.stop();
  });

  it('names a partition held back by an error again only if its fetch state changed, and forgets a removed one', async () => {
    const p = await follower();
    const q = await follower();
    q.topicId = 'AAAAAAAAAAAAAAAAAAAAAg';
    const scheduler = new ManualScheduler();
    // A leader answered by hand, one request at a time.
    const requests: FetchRequest[] = [];
    const pending: ((r: FetchResponse) => void)[] = [];
    const connections = {
      send: (_id: number, _key: number, request: FetchRequest) => {
        requests.push(request);
        return new Promise<FetchResponse>((resolve) => pending.push(resolve));
      },
    } as unknown as BrokerConnections;
    const nothing = (): FetchResponse => ({ ...answer({}, { sessionId: 5 }), responses: [] });
    const f = fetcherFor(connections, scheduler);
    // The first request goes out as p is added, before q.
    f.add(p, 3);
    f.add(q, 3);
    pending.shift()!(answer({ errorCode: ErrorCode.KAFKA_STORAGE_ERROR }, { sessionId: 5 }));
    await settle(scheduler);
    // p is held back after its error: q joins the session, p leaves it meanwhile.
    expect(requests[1]).toMatchObject({ sessionId: 5, sessionEpoch: 1, forgottenTopicsData: [{ topicId: TOPIC_ID, partitions: [0] }] });
    expect(requests[1]!.topics.map((t) => t.topicId)).toEqual([q.topicId]);
    const removed = f.remove(q);
    pending.shift()!(nothing());
    await removed;
    scheduler.advance(1000);
    await settle(scheduler);
    // p is back, in full; q is forgotten.
    expect(requests).toHaveLength(3);
    expect(requests[2]).toMatchObject({ sessionId: 5, sessionEpoch: 2, forgottenTopicsData: [{ topicId: q.topicId, partitions: [0] }] });
    expect(requests[2]!.topics.map((t) => [t.topicId, t.partitions.map((x) => x.fetchOffset)])).toEqual([[TOPIC_ID, [0n]]]);
    pending.shift()!(nothing());
    await settle(scheduler);
    // Unchanged since: named no more.
    expect(requests[3]).toMatchObject({ sessionId: 5, sessionEpoch: 3, topics: [], forgottenTopicsData: [] });
    const stopped = f.stop();
    pending.shift()!(nothing());
    await stopped;
  });
});
