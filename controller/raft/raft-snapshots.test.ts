import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { MemoryQuorumStateStore } from './quorum-state.ts';
import { type CommittedBatch, type LoadedSnapshot, RaftClient } from './raft-client.ts';
import type { RaftApi, RaftMessages, RaftTransport } from './raft-transport.ts';
import { MemoryReplicatedLog } from './replicated-log.ts';

const logger = pino({ level: 'silent' });
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A listener whose state is every committed value; snapshots are that state. */
function stateMachine(client: RaftClient) {
  const sm = { state: new Map<bigint, string>(), loaded: [] as LoadedSnapshot[], commits: [] as CommittedBatch[] };
  client.register({
    handleCommit: (b) => {
      sm.commits.push(b);
      for (const r of b.records) sm.state.set(r.offset, r.value.toString());
    },
    handleLoadSnapshot: (s) => {
      sm.loaded.push(s);
      sm.state = new Map(s.records.map((v) => v.toString().split('=')).map(([o, v]) => [BigInt(o!), v!]));
    },
  });
  return {
    ...sm,
    get current() {
      return sm.state;
    },
    records: () => [...sm.state].map(([o, v]) => Buffer.from(`${o}=${v}`)),
  };
}

function node(nodeId: number, clock: ManualScheduler, peers: Map<number, RaftClient>, log = new MemoryReplicatedLog()) {
  const transport: RaftTransport = {
    send: <A extends RaftApi>(to: number, api: A, request: RaftMessages[A]['request']) => {
      const peer = peers.get(to);
      if (!peer) return Promise.reject(new Error(`no node ${to}`));
      const dispatch: Record<RaftApi, (r: never) => Promise<unknown>> = {
        vote: (r) => peer.handleVote(r),
        beginQuorumEpoch: (r) => peer.handleBeginQuorumEpoch(r),
        endQuorumEpoch: (r) => peer.handleEndQuorumEpoch(r),
        fetch: (r) => peer.handleFetch(r),
        fetchSnapshot: (r) => peer.handleFetchSnapshot(r),
        describeQuorum: (r) => peer.handleDescribeQuorum(r),
        updateRaftVoter: (r) => peer.voterChanges.handleUpdateRequest(r),
      };
      return dispatch[api](request as never) as Promise<RaftMessages[A]['response']>;
    },
  };
  const client = new RaftClient({
    nodeId,
    voters: [1],
    log,
    stateStore: new MemoryQuorumStateStore(),
    logger,
    scheduler: clock,
    random: () => 0,
    transport,
    config: { fetchMaxWaitMs: 50, fetchSnapshotMaxBytes: 64 },
  });
  peers.set(nodeId, client);
  return { client, log, sm: stateMachine(client) };
}

async function leaderWithSnapshots(clock: ManualScheduler, peers: Map<number, RaftClient>) {
  const leader = node(1, clock, peers);
  await leader.client.start();
  for (let i = 0; i < 40; i++) {
    await leader.client.append([Buffer.from(`v${i}`)]);
    if (i === 14 || i === 29 || i === 34) {
      const last = leader.sm.commits.at(-1)!;
      expect(await leader.client.createSnapshot({ endOffset: last.lastOffset + 1n, epoch: last.epoch }, leader.sm.records(), last.timestamp)).toBe(true);
    }
  }
  return leader;
}

async function runUntil(clock: ManualScheduler, done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) {
    clock.advance(10);
    await settle();
  }
}

describe('snapshots of a replica', () => {
  it('keeps two snapshots and moves the log start offset to the older', async () => {
    const clock = new ManualScheduler({ startMs: 0 });
    const leader = await leaderWithSnapshots(clock, new Map());
    const ids = leader.log.snapshots.list();
    expect(ids.map((i) => i.endOffset)).toEqual([31n, 36n]);
    expect(leader.log.startOffset()).toBe(31n);
    expect(await leader.client.createSnapshot({ endOffset: 20n, epoch: 1 }, [], 0)).toBe(false);
    await expect(leader.client.createSnapshot({ endOffset: 500n, epoch: 1 }, [], 0)).rejects.toThrow(/past the committed offset/);
  });

  it('a restart loads the newest snapshot, then replays the log after it', async () => {
    const clock = new ManualScheduler({ startMs: 0 });
    const first = await leaderWithSnapshots(clock, new Map());
    const before = new Map(first.sm.current);
    await first.client.close();
    const again = node(1, clock, new Map(), first.log);
    await again.client.start();
    expect(again.sm.loaded.map((s) => s.id)).toEqual([{ endOffset: 36n, epoch: 1 }]);
    expect(again.sm.commits[0]!.baseOffset).toBe(36n);
    expect(again.sm.current).toEqual(before);
    expect(again.client.hw).toBeGreaterThanOrEqual(41n);
  });

  it('an observer behind the log start fetches the snapshot in chunks, installs it and fetches on', async () => {
    const clock = new ManualScheduler({ startMs: 0 });
    const peers = new Map<number, RaftClient>();
    const leader = await leaderWithSnapshots(clock, peers);
    const observer = node(2, clock, peers);
    await observer.client.start();
    await runUntil(clock, () => observer.client.hw === leader.client.hw && observer.sm.current.size === 40);
    expect(observer.client.snapshots.installed).toBe(1);
    expect(observer.sm.loaded.map((s) => s.id)).toEqual([{ endOffset: 36n, epoch: 1 }]);
    expect(observer.log.startOffset()).toBe(36n);
    expect(observer.log.snapshots.list()).toEqual([{ endOffset: 36n, epoch: 1 }]);
    expect(observer.sm.current).toEqual(leader.sm.current);
    // New commits keep flowing after the snapshot.
    await leader.client.append([Buffer.from('after')]);
    await runUntil(clock, () => observer.sm.current.size === 41);
    expect([...observer.sm.current.values()].at(-1)).toBe('after');
  });

  it('answers FetchSnapshot errors as Kafka does', async () => {
    const clock = new ManualScheduler({ startMs: 0 });
    const peers = new Map<number, RaftClient>();
    const leader = await leaderWithSnapshots(clock, peers);
    const req = (endOffset: bigint, position: bigint, epoch = leader.client.currentEpoch) => ({
      clusterId: null,
      replicaId: 2,
      maxBytes: 100,
      topics: [{ name: '__cluster_metadata', partitions: [{ partition: 0, currentLeaderEpoch: epoch, snapshotId: { endOffset, epoch: 1 }, position }] }],
    });
    const part = async (r: ReturnType<typeof req>) => (await leader.client.handleFetchSnapshot(r)).topics[0]!.partitions[0]!;
    expect((await part(req(35n, 0n))).errorCode).toBe(ErrorCode.SNAPSHOT_NOT_FOUND);
    const size = leader.log.snapshots.size({ endOffset: 36n, epoch: 1 });
    expect((await part(req(36n, BigInt(size)))).errorCode).toBe(ErrorCode.POSITION_OUT_OF_RANGE);
    expect((await part(req(36n, 0n, 0))).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    const ok = await part(req(36n, 10n));
    expect(ok).toMatchObject({ errorCode: 0, size: BigInt(size), position: 10n });
    expect(ok.unalignedRecords.length).toBe(64);
    // A fetch below the log start is answered with the latest snapshot's id.
    const fetch = await leader.client.handleFetch({
      replicaId: 2,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1000,
      topics: [{ topic: '__cluster_metadata', partitions: [{ partition: 0, currentLeaderEpoch: 1, fetchOffset: 5n, lastFetchedEpoch: 1, logStartOffset: 0n, partitionMaxBytes: 1000 }] }],
    } as never);
    expect(fetch.responses[0]!.partitions[0]!.snapshotId).toMatchObject({ endOffset: 36n, epoch: 1 });
  });

  it('a snapshot past the log end (a fetched one whose log replacement a crash cut short) replaces the log at start-up', async () => {
    const clock = new ManualScheduler({ startMs: 0 });
    const log = new MemoryReplicatedLog();
    const state = new Map([[3n, 'x'], [7n, 'y']]);
    const id = { endOffset: 50n, epoch: 4 };
    const { encodeSnapshot } = await import('./snapshot-format.ts');
    await log.snapshots.write(id, encodeSnapshot(id, [...state].map(([o, v]) => Buffer.from(`${o}=${v}`)), 0));
    const n = node(2, clock, new Map(), log);
    await n.client.start();
    expect(log.startOffset()).toBe(50n);
    expect(log.endOffset()).toBe(50n);
    expect(log.lastEpoch()).toBe(4);
    expect(n.client.hw).toBe(50n);
    expect(n.sm.current).toEqual(state);
    await n.client.close();
  });
});
