// AddRaftVoter, RemoveRaftVoter and UpdateRaftVoter handlers: their own error paths (cluster id,
// epochs, passing to the leader) over a real Raft replica; the leader's checks themselves are
// tested in controller/raft/voter-changes.test.ts.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryQuorumStateStore } from '../../controller/raft/quorum-state.ts';
import { RaftClient } from '../../controller/raft/raft-client.ts';
import { MemoryReplicatedLog } from '../../controller/raft/replicated-log.ts';
import { encodeSnapshot } from '../../controller/raft/snapshot-format.ts';
import type { VoterNode } from '../../controller/raft/voter-set.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { RequestContext } from './api-handler.ts';
import { addRaftVoterHandler } from './add-raft-voter.ts';
import { removeRaftVoterHandler } from './remove-raft-voter.ts';
import { updateRaftVoterHandler } from './update-raft-voter.ts';

const logger = pino({ level: 'silent' });
const dir = (id: number): string => `dir${id}`.padEnd(22, 'A');
const voter = (id: number): VoterNode => ({ id, directoryId: dir(id), endpoints: [{ name: 'CONTROLLER', host: 'localhost', port: 9000 + id }], minKraftVersion: 0, maxKraftVersion: 1 });
const rc = { listenerName: 'CONTROLLER' } as RequestContext;

async function node(opts: { dynamic: boolean; leader: boolean }) {
  const log = new MemoryReplicatedLog();
  if (opts.dynamic) await log.snapshots.write({ endOffset: 0n, epoch: 0 }, encodeSnapshot({ endOffset: 0n, epoch: 0 }, [], 0, opts.leader ? [voter(1)] : [voter(2)]));
  const raft = new RaftClient({
    nodeId: 1,
    voters: opts.dynamic ? [] : opts.leader ? [1] : [1, 2, 3],
    directoryId: dir(1),
    listenerName: 'CONTROLLER',
    log,
    stateStore: new MemoryQuorumStateStore(),
    logger,
    scheduler: new ManualScheduler({ startMs: 0 }),
    transport: { send: () => new Promise(() => undefined) },
  });
  await raft.start();
  const forwarded: number[] = [];
  const ctx = {
    clusterId: 'cluster-a',
    controller: { raft },
    controllerChannel: {
      forward: async (apiKey: number) => {
        forwarded.push(apiKey);
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: 'from the leader' };
      },
    },
  } as unknown as BrokerContext;
  return { raft, ctx, forwarded };
}

describe('raft voter handlers', () => {
  it('AddRaftVoter refuses another cluster id, and a non-leader passes the request to the leader', async () => {
    const { ctx } = await node({ dynamic: true, leader: true });
    const add = addRaftVoterHandler(ctx);
    const req = { clusterId: 'cluster-b', timeoutMs: 1000, voterId: 2, voterDirectoryId: dir(2), listeners: [{ name: 'CONTROLLER', host: 'localhost', port: 9002 }] };
    expect(await add.handle(req, rc)).toMatchObject({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID });
    // Not fetching from the leader yet.
    expect(await add.handle({ ...req, clusterId: null }, rc)).toMatchObject({ errorCode: ErrorCode.REQUEST_TIMED_OUT });
    const follower = await node({ dynamic: true, leader: false });
    expect(follower.raft.isLeader).toBe(false);
    expect(await addRaftVoterHandler(follower.ctx).handle({ ...req, clusterId: null }, rc)).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: 'from the leader' });
    expect(follower.forwarded).toEqual([ApiKey.AddRaftVoter]);
  });

  it('RemoveRaftVoter answers VOTER_NOT_FOUND for a replica that is not a voter, UNSUPPORTED_VERSION on a static quorum', async () => {
    const { ctx } = await node({ dynamic: true, leader: true });
    expect(await removeRaftVoterHandler(ctx).handle({ clusterId: null, voterId: 5, voterDirectoryId: dir(5) }, rc)).toMatchObject({ errorCode: ErrorCode.VOTER_NOT_FOUND });
    const fixed = await node({ dynamic: false, leader: true });
    expect(fixed.raft.isLeader).toBe(true);
    expect(await removeRaftVoterHandler(fixed.ctx).handle({ clusterId: null, voterId: 1, voterDirectoryId: dir(1) }, rc)).toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_VERSION });
  });

  it('UpdateRaftVoter checks the epoch, and names the leader and its endpoint', async () => {
    const { raft, ctx } = await node({ dynamic: true, leader: true });
    const update = updateRaftVoterHandler(ctx);
    const req = { clusterId: null, currentLeaderEpoch: raft.currentEpoch, voterId: 1, voterDirectoryId: dir(1), listeners: [{ name: 'CONTROLLER', host: 'localhost', port: 9001 }], kRaftVersionFeature: { minSupportedVersion: 0, maxSupportedVersion: 1 } };
    expect(await update.handle({ ...req, currentLeaderEpoch: raft.currentEpoch - 1 }, rc)).toMatchObject({ errorCode: ErrorCode.FENCED_LEADER_EPOCH });
    expect(await update.handle({ ...req, currentLeaderEpoch: raft.currentEpoch + 1 }, rc)).toMatchObject({ errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH });
    expect(await update.handle({ ...req, voterId: 7, voterDirectoryId: dir(7) }, rc)).toMatchObject({ errorCode: ErrorCode.VOTER_NOT_FOUND });
    const moved = await update.handle({ ...req, listeners: [{ name: 'CONTROLLER', host: 'elsewhere', port: 1234 }] }, rc);
    expect(moved).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, currentLeader: { leaderId: 1, leaderEpoch: raft.currentEpoch, host: 'elsewhere', port: 1234 } });
  });
});
