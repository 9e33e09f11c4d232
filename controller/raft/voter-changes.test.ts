import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { MemoryQuorumStateStore } from './quorum-state.ts';
import { RaftClient } from './raft-client.ts';
import { fetchRequest } from './raft-messages.ts';
import type { RaftApi, RaftMessages, RaftTransport } from './raft-transport.ts';
import { MemoryReplicatedLog } from './replicated-log.ts';
import { encodeSnapshot } from './snapshot-format.ts';
import type { VoterNode, VoterSet } from './voter-set.ts';

const logger = pino({ level: 'silent' });
const never: RaftTransport = { send: () => new Promise(() => undefined) };
const dir = (id: number): string => `dir${id}`.padEnd(22, 'A');
const voter = (id: number): VoterNode => ({ id, directoryId: dir(id), endpoints: [{ name: 'CONTROLLER', host: 'localhost', port: 9000 + id }], minKraftVersion: 0, maxKraftVersion: 1 });

/** Node 1 formatted --standalone (a bootstrap checkpoint with itself as the only voter), started: it leads. */
async function standalone(initial: VoterSet = [voter(1)], staticVoters: number[] = []) {
  const log = new MemoryReplicatedLog();
  if (staticVoters.length === 0) await log.snapshots.write({ endOffset: 0n, epoch: 0 }, encodeSnapshot({ endOffset: 0n, epoch: 0 }, [], 0, initial));
  const clock = new ManualScheduler({ startMs: 1000 });
  const client = new RaftClient({
    nodeId: 1,
    voters: staticVoters,
    directoryId: dir(1),
    listenerName: 'CONTROLLER',
    log,
    stateStore: new MemoryQuorumStateStore(),
    logger,
    scheduler: clock,
    random: () => 0,
    transport: never,
    config: { electionTimeoutMs: 100, fetchTimeoutMs: 200 },
  });
  await client.start();
  return { client, clock, log };
}

/** Replica `id` fetches from the leader at the leader's log end (caught up). */
async function fetchAtEnd(client: RaftClient, id: number, directoryId = dir(id)): Promise<void> {
  await client.handleFetch(
    fetchRequest(null, { replicaId: id, replicaDirectoryId: directoryId, currentLeaderEpoch: client.currentEpoch, fetchOffset: client.logEndOffset(), lastFetchedEpoch: client.log.lastEpoch(), maxWaitMs: 0, maxBytes: 1 << 20 }),
  );
}

/** Requests go straight to the peer's handlers (no loss, no delay beyond the promise queue). */
function peerTransport(peers: Map<number, RaftClient>): RaftTransport {
  return {
    send: <A extends RaftApi>(to: number, api: A, request: RaftMessages[A]['request']) => {
      const p = peers.get(to);
      if (!p) return Promise.reject(new Error(`no node ${to}`));
      const dispatch: Record<RaftApi, (r: never) => Promise<unknown>> = {
        vote: (r) => p.handleVote(r),
        beginQuorumEpoch: (r) => p.handleBeginQuorumEpoch(r),
        endQuorumEpoch: (r) => p.handleEndQuorumEpoch(r),
        fetch: (r) => p.handleFetch(r),
        fetchSnapshot: (r) => p.handleFetchSnapshot(r),
        describeQuorum: (r) => p.handleDescribeQuorum(r),
        updateRaftVoter: (r) => p.voterChanges.handleUpdateRequest(r),
      };
      return dispatch[api](request as never) as Promise<RaftMessages[A]['response']>;
    },
  };
}

/** A fresh log formatted like `leader`'s (bootstrap set [1]) holding a copy of everything `leader` has appended. */
async function copyOfLog(leader: RaftClient): Promise<MemoryReplicatedLog> {
  const log = new MemoryReplicatedLog();
  await log.snapshots.write({ endOffset: 0n, epoch: 0 }, encodeSnapshot({ endOffset: 0n, epoch: 0 }, [], 0, [voter(1)]));
  await log.appendAsFollower(await leader.log.read(0n, 1 << 20));
  await log.flush();
  return log;
}

describe('voter changes (KIP-853)', () => {
  it('a standalone leader writes its bootstrap voter set into the log with its first leader change', async () => {
    const { client } = await standalone();
    expect(client.isLeader).toBe(true);
    expect(client.kraftVersion).toBe(1);
    expect(client.controlLog.history.latestOffset()).toBeGreaterThanOrEqual(0n);
    expect(client.voters).toEqual([1]);
  });

  it('adds a caught-up observer, answering once the new set is committed', async () => {
    const { client } = await standalone();
    await fetchAtEnd(client, 2);
    await fetchAtEnd(client, 2);
    const pending = client.voterChanges.addVoter(voter(2), 5000);
    let answered = false;
    void pending.then(() => (answered = true));
    await new Promise((r) => setImmediate(r));
    // The set takes effect at once: the leader alone is no longer a majority.
    expect(client.voters).toEqual([1, 2]);
    expect(answered).toBe(false);
    await fetchAtEnd(client, 2);
    expect(await pending).toEqual({ errorCode: ErrorCode.NONE, errorMessage: null });
    const described = await client.handleDescribeQuorum({ topics: [] } as never);
    const p = described.topics[0]!.partitions[0]!;
    expect(p.currentVoters.map((v) => [v.replicaId, v.replicaDirectoryId])).toEqual([
      [1, dir(1)],
      [2, dir(2)],
    ]);
    expect(described.nodes!.map((n) => n.nodeId)).toEqual([1, 2]);
  });

  it('refuses an unknown or lagging observer and a duplicate voter', async () => {
    const { client } = await standalone();
    expect((await client.voterChanges.addVoter(voter(2), 5000)).errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    expect((await client.voterChanges.addVoter(voter(1), 5000)).errorCode).toBe(ErrorCode.DUPLICATE_VOTER);
    // Fetching with another directory id than the one to add: not that replica.
    await fetchAtEnd(client, 2, dir(7));
    expect((await client.voterChanges.addVoter(voter(2), 5000)).errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    // Caught up long ago only.
    const { client: c2, clock } = await standalone();
    await fetchAtEnd(c2, 3);
    clock.advance(10_000);
    expect((await c2.voterChanges.addVoter(voter(3), 5000)).errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    expect((await c2.voterChanges.addVoter({ ...voter(3), endpoints: [] }, 5000)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('allows one change at a time and times out a change that does not commit', async () => {
    const { client, clock } = await standalone();
    await fetchAtEnd(client, 2);
    const first = client.voterChanges.addVoter(voter(2), 1000);
    await new Promise((r) => setImmediate(r));
    await fetchAtEnd(client, 3);
    expect((await client.voterChanges.addVoter(voter(3), 1000)).errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    expect((await client.voterChanges.removeVoter(2, dir(2), 1000)).errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    clock.advance(1001);
    expect((await first).errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
  });

  it('removes a voter (VOTER_NOT_FOUND for an unknown one), and a leader that removes itself resigns once committed', async () => {
    const { client } = await standalone();
    await fetchAtEnd(client, 2);
    const add = client.voterChanges.addVoter(voter(2), 5000);
    await new Promise((r) => setImmediate(r));
    await fetchAtEnd(client, 2);
    expect((await add).errorCode).toBe(ErrorCode.NONE);
    expect((await client.voterChanges.removeVoter(3, dir(3), 5000)).errorCode).toBe(ErrorCode.VOTER_NOT_FOUND);
    expect((await client.voterChanges.removeVoter(2, dir(9), 5000)).errorCode).toBe(ErrorCode.VOTER_NOT_FOUND);
    const remove = client.voterChanges.removeVoter(1, dir(1), 5000);
    await new Promise((r) => setImmediate(r));
    expect(client.voters).toEqual([2]);
    await fetchAtEnd(client, 2);
    expect((await remove).errorCode).toBe(ErrorCode.NONE);
    expect(client.role).toBe('resigned');
    expect(client.isVoter).toBe(false);
  });

  it('refuses changes on a static quorum (UNSUPPORTED_VERSION) and on a non-leader (NOT_LEADER_OR_FOLLOWER)', async () => {
    const { client } = await standalone([], [1]);
    expect(client.kraftVersion).toBe(0);
    expect((await client.voterChanges.addVoter(voter(2), 5000)).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    const follower = new RaftClient({ nodeId: 2, voters: [1, 2, 3], log: new MemoryReplicatedLog(), stateStore: new MemoryQuorumStateStore(), logger, scheduler: new ManualScheduler({ startMs: 0 }), transport: never });
    await follower.start();
    expect((await follower.voterChanges.removeVoter(1, dir(1), 5000)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  it('updates a voter\'s endpoints (VOTER_NOT_FOUND for a non-voter)', async () => {
    const { client } = await standalone();
    const moved = [{ name: 'CONTROLLER', host: 'example', port: 1 }];
    const r = client.voterChanges.updateVoter(1, dir(1), moved, { min: 0, max: 1 }, 5000);
    expect((await r).errorCode).toBe(ErrorCode.NONE);
    expect(client.voterSet[0]!.endpoints).toEqual(moved);
    expect((await client.voterChanges.updateVoter(5, dir(5), moved, { min: 0, max: 1 }, 5000)).errorCode).toBe(ErrorCode.VOTER_NOT_FOUND);
  });

  it('a voter whose endpoints changed sends UpdateRaftVoter to its leader once it follows it', async () => {
    const clock = new ManualScheduler({ startMs: 0 });
    const peers = new Map<number, RaftClient>();
    const transport = peerTransport(peers);
    const moved = [{ name: 'CONTROLLER', host: 'moved', port: 1 }];
    const make = async (id: number, localEndpoints?: typeof moved): Promise<RaftClient> => {
      const log = new MemoryReplicatedLog();
      await log.snapshots.write({ endOffset: 0n, epoch: 0 }, encodeSnapshot({ endOffset: 0n, epoch: 0 }, [], 0, [voter(1), voter(2)]));
      const client = new RaftClient({
        nodeId: id,
        voters: [],
        directoryId: dir(id),
        listenerName: 'CONTROLLER',
        localEndpoints,
        log,
        stateStore: new MemoryQuorumStateStore(),
        logger,
        scheduler: clock,
        random: () => (id === 1 ? 0 : 0.9),
        transport,
        config: { electionTimeoutMs: 100, fetchTimeoutMs: 200, fetchMaxWaitMs: 10 },
      });
      peers.set(id, client);
      return client;
    };
    const a = await make(1);
    const b = await make(2, moved);
    await Promise.all([a.start(), b.start()]);
    const endpointsOf2 = () => a.voterSet.find((v) => v.id === 2)?.endpoints;
    for (let i = 0; i < 300 && JSON.stringify(endpointsOf2()) !== JSON.stringify(moved); i++) {
      clock.advance(5);
      await new Promise((r) => setImmediate(r));
    }
    expect(a.isLeader).toBe(true);
    expect(endpointsOf2()).toEqual(moved);
    // Committed and replicated: the follower holds the new entry too.
    for (let i = 0; i < 100 && JSON.stringify(b.voterSet.find((v) => v.id === 2)?.endpoints) !== JSON.stringify(moved); i++) {
      clock.advance(5);
      await new Promise((r) => setImmediate(r));
    }
    expect(b.voterSet.find((v) => v.id === 2)?.endpoints).toEqual(moved);
  });

  it('a restarted replica whose log alone holds its removal stands, commits it and hands over', async () => {
    // The log of the voter set [1] -> [1,5] (committed) -> [1] (removing 5, appended by 5 as leader
    // in the real case, then lost leadership and crashed): node 5 has all of it, node 1 only up to
    // [1,5]. Node 1 needs 5's vote, which 5 refuses (its log is longer). Restarted, node 5's high
    // watermark is the snapshot's end, below both records, so the set at its high watermark is
    // the bootstrap [1] without it; the set its removal replaced, [1,5], is committed and holds it.
    const { client: source } = await standalone();
    await fetchAtEnd(source, 5);
    const add = source.voterChanges.addVoter(voter(5), 5000);
    await new Promise((r) => setImmediate(r));
    await fetchAtEnd(source, 5);
    expect((await add).errorCode).toBe(ErrorCode.NONE);
    const shortLog = await copyOfLog(source);
    void source.voterChanges.removeVoter(5, dir(5), 5000);
    await new Promise((r) => setImmediate(r));
    expect(source.voters).toEqual([1]);
    const longLog = await copyOfLog(source);

    const clock = new ManualScheduler({ startMs: 0 });
    const peers = new Map<number, RaftClient>();
    const make = (id: number, log: MemoryReplicatedLog): RaftClient => {
      const client = new RaftClient({
        nodeId: id,
        voters: [],
        directoryId: dir(id),
        listenerName: 'CONTROLLER',
        bootstrapServers: [1],
        log,
        stateStore: new MemoryQuorumStateStore(),
        logger,
        scheduler: clock,
        // Node 1 backs off longer than node 5's election timeout, as random draws often make it.
        random: () => (id === 1 ? 0.9 : 0),
        transport: peerTransport(peers),
        config: { electionTimeoutMs: 100, fetchTimeoutMs: 200, fetchMaxWaitMs: 10, electionBackoffMaxMs: 300 },
      });
      peers.set(id, client);
      return client;
    };
    const one = make(1, shortLog);
    const five = make(5, longLog);
    await Promise.all([one.start(), five.start()]);
    expect(one.voters).toEqual([1, 5]);
    expect(five.isVoter).toBe(false);
    expect(five.mayStand).toBe(true);
    const settled = () => one.isLeader && five.currentLeader === 1 && five.currentEpoch === one.currentEpoch && five.hw === one.hw && one.voters.length === 1;
    for (let i = 0; i < 2000 && !settled(); i++) {
      clock.advance(5);
      await new Promise((r) => setImmediate(r));
    }
    // Node 5 led long enough to commit its removal, then resigned; node 1 leads alone.
    expect(settled()).toBe(true);
    expect(one.voters).toEqual([1]);
    expect(five.mayStand).toBe(false);
  });
});
