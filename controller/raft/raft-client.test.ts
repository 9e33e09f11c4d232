import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { decodeEndQuorumEpochRequest, encodeEndQuorumEpochRequest } from '../../protocol/generated/message/end-quorum-epoch-request.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { LeaderState } from './leader-state.ts';
import { MemoryQuorumStateStore } from './quorum-state.ts';
import { NotLeaderError, RaftClient } from './raft-client.ts';
import { beginQuorumEpochRequest, fetchRequest, voteRequest } from './raft-messages.ts';
import type { RaftApi, RaftTransport } from './raft-transport.ts';
import { MemoryReplicatedLog } from './replicated-log.ts';

const logger = pino({ level: 'silent' });
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Sent {
  to: number;
  api: RaftApi;
  request: unknown;
}

function replica(nodeId: number, voters = [1, 2, 3], log = new MemoryReplicatedLog(), store = new MemoryQuorumStateStore()) {
  const clock = new ManualScheduler({ startMs: 0 });
  const sent: Sent[] = [];
  const transport: RaftTransport = {
    send: (to, api, request) => {
      sent.push({ to, api, request });
      return new Promise(() => undefined);
    },
  };
  const client = new RaftClient({ nodeId, voters, log, stateStore: store, logger, scheduler: clock, random: () => 0, transport, config: { electionTimeoutMs: 100, fetchTimeoutMs: 200 } });
  return { client, clock, sent, log, store };
}

function batch(values: string[]): Buffer {
  return encodeRecordBatch({ baseTimestamp: 0n, records: values.map((v, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value: Buffer.from(v) })) });
}

function vote(candidateId: number, epoch: number, lastEpoch: number, endOffset: bigint) {
  return voteRequest(null, 1, candidateId, epoch, lastEpoch, endOffset);
}

describe('vote granting', () => {
  it('grants an up-to-date candidate once per epoch, persisting the vote before answering', async () => {
    const r = replica(1);
    await r.client.start();
    const yes = await r.client.handleVote(vote(2, 1, -1, 0n));
    expect(yes.topics[0]!.partitions[0]!.voteGranted).toBe(true);
    expect(r.store.current).toEqual({ epoch: 1, leaderId: -1, votedId: 2 });
    expect(r.client.role).toBe('voted');
    // Same candidate again: granted; another in the same epoch: refused.
    expect((await r.client.handleVote(vote(2, 1, -1, 0n))).topics[0]!.partitions[0]!.voteGranted).toBe(true);
    expect((await r.client.handleVote(vote(3, 1, -1, 0n))).topics[0]!.partitions[0]!.voteGranted).toBe(false);
  });

  it('keeps the vote across a restart', async () => {
    const log = new MemoryReplicatedLog();
    const store = new MemoryQuorumStateStore();
    const a = replica(1, [1, 2, 3], log, store);
    await a.client.start();
    await a.client.handleVote(vote(2, 4, -1, 0n));
    const b = replica(1, [1, 2, 3], log, store);
    await b.client.start();
    expect(b.client.role).toBe('voted');
    expect(b.client.currentEpoch).toBe(4);
    expect((await b.client.handleVote(vote(3, 4, -1, 0n))).topics[0]!.partitions[0]!.voteGranted).toBe(false);
  });

  it('refuses a candidate whose log is behind (last epoch, then end offset), but moves to its epoch', async () => {
    const log = new MemoryReplicatedLog();
    await log.appendAsLeader(batch(['a', 'b']), 3);
    const r = replica(1, [1, 2, 3], log);
    await r.client.start();
    const older = await r.client.handleVote(vote(2, 5, 2, 10n));
    expect(older.topics[0]!.partitions[0]!.voteGranted).toBe(false);
    expect(r.client.currentEpoch).toBe(5);
    expect(r.store.current).toEqual({ epoch: 5, leaderId: -1, votedId: -1 });
    const shorter = await r.client.handleVote(vote(2, 6, 3, 1n));
    expect(shorter.topics[0]!.partitions[0]!.voteGranted).toBe(false);
    const equal = await r.client.handleVote(vote(3, 7, 3, 2n));
    expect(equal.topics[0]!.partitions[0]!.voteGranted).toBe(true);
  });

  it('answers FENCED_LEADER_EPOCH to a candidate of an older epoch', async () => {
    const r = replica(1);
    await r.client.start();
    await r.client.handleVote(vote(2, 3, -1, 0n));
    const old = await r.client.handleVote(vote(3, 2, -1, 0n));
    expect(old.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(old.topics[0]!.partitions[0]!.leaderEpoch).toBe(3);
  });

  it('a follower, a candidate and a resigned leader grant no vote in their epoch', async () => {
    const r = replica(1);
    await r.client.start();
    await r.client.handleBeginQuorumEpoch(beginQuorumEpochRequest(null, 1, 2, 1));
    expect(r.client.role).toBe('follower');
    expect((await r.client.handleVote(vote(3, 1, -1, 0n))).topics[0]!.partitions[0]!.voteGranted).toBe(false);

    const c = replica(1);
    await c.client.start();
    c.clock.advance(250);
    await settle();
    expect(c.client.role).toBe('candidate');
    expect(c.sent.filter((s) => s.api === 'vote').map((s) => s.to)).toEqual([2, 3]);
    expect((await c.client.handleVote(vote(2, c.client.currentEpoch, -1, 0n))).topics[0]!.partitions[0]!.voteGranted).toBe(false);
  });
});

describe('leadership', () => {
  it('a single voter leads at once and commits each append when flushed', async () => {
    const r = replica(1, [1]);
    const committed: string[] = [];
    const changes: number[][] = [];
    r.client.register({ handleCommit: (b) => committed.push(...b.records.map((x) => x.value.toString())), handleLeaderChange: (l, e) => changes.push([l, e]) });
    await r.client.start();
    expect(r.client.isLeader).toBe(true);
    expect(r.client.hw).toBe(1n);
    expect(changes).toEqual([[1, 1]]);
    expect(await r.client.append([Buffer.from('x'), Buffer.from('y')])).toBe(2n);
    expect(committed).toEqual(['x', 'y']);
    expect(r.client.hw).toBe(3n);
  });

  it('a leader of three commits only once a follower fetched past its leader change', async () => {
    const log = new MemoryReplicatedLog();
    const r = replica(1, [1, 2, 3], log);
    await r.client.start();
    r.clock.advance(250);
    await settle();
    const epoch = r.client.currentEpoch;
    const grant = { errorCode: 0, topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: -1, leaderEpoch: epoch, voteGranted: true }] }] };
    // Answer the first vote request by hand: the transport here never answers on its own.
    const send = r.client.transport.send;
    expect(typeof send).toBe('function');
    await (r.client as unknown as { handlers: { onVoteResponse(d: number, g: number, v: unknown): Promise<void> } }).handlers.onVoteResponse(2, r.client.generation, grant);
    await settle();
    expect(r.client.isLeader).toBe(true);
    expect(log.endOffset()).toBe(1n);
    const appended = r.client.append([Buffer.from('v')]);
    await settle();
    expect(r.client.hw).toBe(0n);
    // Follower 2 fetches at 1 (it holds the leader change): offset 0 commits, the append not yet.
    const fetchAt = (offset: bigint, lastEpoch: number) =>
      r.client.handleFetch(fetchRequest(null, { replicaId: 2, currentLeaderEpoch: epoch, fetchOffset: offset, lastFetchedEpoch: lastEpoch, maxWaitMs: 0, maxBytes: 1 << 20 }));
    const f1 = await fetchAt(1n, epoch);
    expect(f1.responses[0]!.partitions[0]!.highWatermark).toBe(1n);
    expect(r.client.hw).toBe(1n);
    await fetchAt(2n, epoch);
    expect(await appended).toBe(1n);
    expect(r.client.hw).toBe(2n);
    // A follower whose last epoch the leader never had is sent back to where they agree.
    const diverging = await fetchAt(5n, epoch - 1);
    expect(diverging.responses[0]!.partitions[0]!.divergingEpoch).toEqual({ epoch: -1, endOffset: 0n });
  });

  it('a leader stepping down fails appends still waiting with NotLeaderError', async () => {
    const r = replica(1, [1, 2, 3]);
    await r.client.start();
    await expect(r.client.append([Buffer.from('x')])).rejects.toBeInstanceOf(NotLeaderError);
  });
});

describe('high watermark rule', () => {
  it('is the offset a majority reached, only past the epoch start, never lower', () => {
    const l = new LeaderState(4, 1, [1, 2, 3], 5n, [1, 2], 0);
    expect(l.updateLocalEnd(8n, 0)).toBe(false);
    expect(l.updateReplica(2, 5n, 8n, 0)).toBe(false); // majority at 5: the epoch start itself, not past it
    expect(l.highWatermark).toBeUndefined();
    expect(l.updateReplica(2, 7n, 8n, 0)).toBe(true);
    expect(l.highWatermark).toBe(7n);
    expect(l.updateReplica(3, 8n, 8n, 0)).toBe(true);
    expect(l.highWatermark).toBe(8n);
    expect(l.updateReplica(3, 6n, 8n, 0)).toBe(false); // a voter going back does not lower it
    expect(l.highWatermark).toBe(8n);
    expect(l.updateReplica(9, 100n, 8n, 0)).toBe(false); // observers do not count
    expect(l.successorsByEndOffset()).toEqual([2, 3]);
  });
});

describe('diverging epochs in the log', () => {
  it('finds the end of the largest epoch at or below a given one, and a follower truncates to it', async () => {
    const log = new MemoryReplicatedLog();
    await log.appendAsLeader(batch(['a', 'b']), 1); // 0-1
    await log.appendAsLeader(batch(['c']), 3); // 2
    await log.appendAsLeader(batch(['d', 'e']), 5); // 3-4
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: -1, endOffset: 0n });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2n });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 2n });
    expect(log.endOffsetForEpoch(4)).toEqual({ epoch: 3, endOffset: 3n });
    expect(log.endOffsetForEpoch(9)).toEqual({ epoch: 5, endOffset: 5n });

    const follower = new MemoryReplicatedLog();
    await follower.appendAsFollower(await log.read(0n, 1 << 20));
    expect(follower.endOffset()).toBe(5n);
    expect(follower.lastEpoch()).toBe(5);
    await follower.truncateTo(3n);
    expect(follower.endOffset()).toBe(3n);
    expect(follower.lastEpoch()).toBe(3);
    await follower.appendAsFollower(await log.read(3n, 1 << 20));
    expect(follower.endOffset()).toBe(5n);
    await expect(follower.appendAsFollower(await log.read(0n, 1 << 20))).rejects.toThrow(/expected 5/);
  });

  it('a follower told of a divergence truncates and learns no high watermark from that answer', async () => {
    const log = new MemoryReplicatedLog();
    await log.appendAsLeader(batch(['a']), 1);
    await log.appendAsLeader(batch(['stale']), 2);
    const r = replica(1, [1, 2, 3], log);
    await r.client.start();
    await r.client.handleBeginQuorumEpoch(beginQuorumEpochRequest(null, 1, 2, 3));
    await settle();
    const req = r.sent.find((s) => s.api === 'fetch')!.request as ReturnType<typeof fetchRequest>;
    expect(req.topics[0]!.partitions[0]).toMatchObject({ fetchOffset: 2n, lastFetchedEpoch: 2, currentLeaderEpoch: 3 });
    const handlers = (r.client as unknown as { handlers: { onFetchResponse(t: number, g: number, resp: unknown): Promise<void> } }).handlers;
    const { fetchResponse } = await import('./raft-messages.ts');
    await r.client.serial(() => handlers.onFetchResponse(2, r.client.generation, fetchResponse(0, { errorCode: 0, highWatermark: 5n, leader: { leaderId: 2, epoch: 3 }, divergingEpoch: { epoch: 1, endOffset: 1n } })));
    expect(log.endOffset()).toBe(1n);
    expect(r.client.hw).toBe(0n);
  });
});

describe('quorum view and resignation', () => {
  it('DescribeQuorum gives the leader view of voters and observers, and NOT_LEADER_OR_FOLLOWER elsewhere', async () => {
    const r = replica(1, [1]);
    await r.client.start();
    await r.client.handleFetch(fetchRequest(null, { replicaId: 7, currentLeaderEpoch: r.client.currentEpoch, fetchOffset: 1n, lastFetchedEpoch: r.client.currentEpoch, maxWaitMs: 0, maxBytes: 1024 }));
    const d = (await r.client.handleDescribeQuorum({ topics: [] })).topics[0]!.partitions[0]!;
    expect(d).toMatchObject({ errorCode: 0, leaderId: 1, leaderEpoch: 1, highWatermark: 1n });
    expect(d.currentVoters.map((v) => [v.replicaId, v.logEndOffset])).toEqual([[1, 1n]]);
    expect(d.observers.map((v) => [v.replicaId, v.logEndOffset])).toEqual([[7, 1n]]);
    const f = replica(2);
    await f.client.start();
    expect((await f.client.handleDescribeQuorum({ topics: [] })).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  it('the first preferred successor stands at once when its leader resigns; later ones wait', async () => {
    const first = replica(2);
    const second = replica(3);
    for (const r of [first, second]) {
      await r.client.start();
      await r.client.handleBeginQuorumEpoch(beginQuorumEpochRequest(null, r.client.nodeId, 1, 4));
    }
    const { endQuorumEpochRequest } = await import('./raft-messages.ts');
    // Through the codec at v1, which carries the successors as preferredCandidates only.
    const w = new Writer(64);
    encodeEndQuorumEpochRequest(w, 1, endQuorumEpochRequest(null, 1, 4, [2, 3]));
    const wire = decodeEndQuorumEpochRequest(new Reader(w.toBuffer()), 1);
    expect(wire.topics[0]!.partitions[0]!.preferredCandidates!.map((c) => c.candidateId)).toEqual([2, 3]);
    for (const r of [first, second]) await r.client.handleEndQuorumEpoch(wire);
    for (const r of [first, second]) {
      r.clock.advance(1);
      await settle();
    }
    expect(first.client.role).toBe('candidate');
    expect(first.client.currentEpoch).toBe(5);
    expect(second.client.role).toBe('follower');
  });

  it('a leader that hears from no majority for 1.5 fetch timeouts resigns and grants no vote in its epoch', async () => {
    const r = replica(1);
    await r.client.start();
    r.clock.advance(250);
    await settle();
    const epoch = r.client.currentEpoch;
    const grant = { errorCode: 0, topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: -1, leaderEpoch: epoch, voteGranted: true }] }] };
    await (r.client as unknown as { handlers: { onVoteResponse(d: number, g: number, v: unknown): Promise<void> } }).handlers.onVoteResponse(3, r.client.generation, grant);
    await settle();
    expect(r.client.isLeader).toBe(true);
    r.clock.advance(301);
    await settle();
    expect(r.client.role).toBe('resigned');
    expect(r.client.currentEpoch).toBe(epoch);
    expect(r.sent.filter((s) => s.api === 'endQuorumEpoch').map((s) => s.to)).toEqual([2, 3]);
    expect((await r.client.handleVote(vote(2, epoch, 9, 100n))).topics[0]!.partitions[0]!.voteGranted).toBe(false);
  });
});
