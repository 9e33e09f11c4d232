// Group APIs through a real in-process broker with the internal client: FindCoordinator at every
// version and key type, offsets by v0/v1 and flexible versions, unknown topics, DescribeGroups,
// ListGroups filters, OffsetDelete and DeleteGroups, and the `__consumer_offsets` topic itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { GROUP_METADATA_TOPIC_NAME, partitionForGroup } from './offsets-topic.ts';

describe('group APIs', () => {
  let broker: StartedBroker;
  let client: KafkaClient;

  beforeAll(async () => {
    broker = await startBroker({ overrides: { 'group.initial.rebalance.delay.ms': '0' } });
    client = new KafkaClient({ bootstrapServers: broker.bootstrap });
    await client.createTopics([{ name: 'orders', numPartitions: 3, replicationFactor: 1 }]);
  });

  afterAll(async () => {
    await client.close();
    await broker.stop();
  });

  it('FindCoordinator creates __consumer_offsets and answers at every version', async () => {
    const port = Number(broker.bootstrap.split(':')[1]);
    for (const version of [0, 1, 2, 3]) {
      const r = await client.send('any', ApiKey.FindCoordinator, { key: 'grp', keyType: 0 }, { version });
      expect(r).toMatchObject({ errorCode: ErrorCode.NONE, nodeId: 1, host: '127.0.0.1', port });
    }
    for (const version of [4, 5, 6]) {
      const r = await client.send('any', ApiKey.FindCoordinator, { keyType: 0, coordinatorKeys: ['a', 'b'] }, { version });
      expect(r.coordinators).toEqual([
        { key: 'a', nodeId: 1, host: '127.0.0.1', port, errorCode: ErrorCode.NONE, errorMessage: 'NONE' },
        { key: 'b', nodeId: 1, host: '127.0.0.1', port, errorCode: ErrorCode.NONE, errorMessage: 'NONE' },
      ]);
    }
    const txn = await client.send('any', ApiKey.FindCoordinator, { keyType: 1, coordinatorKeys: ['tx'] });
    // Transaction keys are served too (the transaction coordinator creates __transaction_state).
    expect(txn.coordinators![0]).toMatchObject({ key: 'tx', nodeId: 1, port, errorCode: ErrorCode.NONE });
    const md = await client.metadata([GROUP_METADATA_TOPIC_NAME]);
    const t = md.topics[0]!;
    expect(t).toMatchObject({ errorCode: ErrorCode.NONE, isInternal: true });
    expect(t.partitions).toHaveLength(50);
    const configs = await client.describeConfigs([{ resourceType: 2, resourceName: GROUP_METADATA_TOPIC_NAME, configurationKeys: ['cleanup.policy', 'compression.type'] }]);
    const values = Object.fromEntries(configs.results[0]!.configs.map((c) => [c.name, c.value]));
    expect(values).toEqual({ 'cleanup.policy': 'compact', 'compression.type': 'producer' });
  });

  it('commits and fetches offsets at old and new versions; unknown topics are refused', async () => {
    const v0 = await client.send('any', ApiKey.OffsetCommit, { groupId: 'simple', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: 'm0' }] }] }, { version: 0 });
    expect(v0.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    const v8 = await client.send('any', ApiKey.OffsetCommit, {
      groupId: 'simple',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        { name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 9n, committedLeaderEpoch: 0, committedMetadata: null }, { partitionIndex: 7, committedOffset: 1n, committedMetadata: null }] },
        { name: 'nope', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] },
      ],
    });
    expect(v8.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([[ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
    const f1 = await client.send('any', ApiKey.OffsetFetch, { groupId: 'simple', topics: [{ name: 'orders', partitionIndexes: [0, 1, 2] }] }, { version: 1 });
    expect(f1.topics![0]!.partitions.map((p) => [p.committedOffset, p.metadata])).toEqual([[5n, 'm0'], [9n, ''], [-1n, '']]);
    const f5 = await client.send('any', ApiKey.OffsetFetch, { groupId: 'simple', topics: null }, { version: 5 });
    expect(f5.errorCode).toBe(ErrorCode.NONE);
    expect(f5.topics![0]!.partitions.map((p) => p.partitionIndex).sort()).toEqual([0, 1]);
    const f8 = await client.send('any', ApiKey.OffsetFetch, { groups: [{ groupId: 'simple', topics: null }, { groupId: 'none', topics: [{ name: 'orders', partitionIndexes: [0] }] }], requireStable: true });
    expect(f8.groups!.map((g) => [g.groupId, g.errorCode, g.topics.flatMap((t) => t.partitions.map((p) => p.committedOffset))])).toEqual([
      ['simple', ErrorCode.NONE, expect.arrayContaining([5n, 9n])],
      ['none', ErrorCode.NONE, [-1n]],
    ]);
    const bad = await client.send('any', ApiKey.OffsetCommit, { groupId: 'simple', generationIdOrMemberEpoch: 3, memberId: 'x', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: 'x'.repeat(5000) }] }] });
    expect(bad.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a group joined through the protocol is described, listed, and deleted only when empty', async () => {
    const join = await client.send('any', ApiKey.JoinGroup, { groupId: 'live', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 6, ...Buffer.from('orders'), 0xff, 0xff, 0xff, 0xff]) }], reason: null });
    expect(join.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const joined = await client.send('any', ApiKey.JoinGroup, { groupId: 'live', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: join.memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 6, ...Buffer.from('orders'), 0xff, 0xff, 0xff, 0xff]) }], reason: 'test' });
    expect(joined).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, leader: join.memberId, protocolName: 'range' });
    const synced = await client.send('any', ApiKey.SyncGroup, { groupId: 'live', generationId: 1, memberId: join.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: join.memberId, assignment: Buffer.from('asg') }] });
    expect(synced).toMatchObject({ errorCode: ErrorCode.NONE, protocolType: 'consumer', protocolName: 'range' });
    expect(synced.assignment.toString()).toBe('asg');
    const hb = await client.send('any', ApiKey.Heartbeat, { groupId: 'live', generationId: 1, memberId: join.memberId, groupInstanceId: null });
    expect(hb.errorCode).toBe(ErrorCode.NONE);
    await client.send('any', ApiKey.OffsetCommit, { groupId: 'live', generationIdOrMemberEpoch: 1, memberId: join.memberId, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 3n, committedMetadata: null }] }] });

    const d = await client.send('any', ApiKey.DescribeGroups, { groups: ['live', 'ghost'], includeAuthorizedOperations: true });
    expect(d.groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(d.groups[0]!.members[0]!).toMatchObject({ memberId: join.memberId, clientHost: '/127.0.0.1' });
    expect(d.groups[0]!.members[0]!.memberAssignment.toString()).toBe('asg');
    expect(d.groups[1]).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Dead', members: [] });

    const stable = await client.send('any', ApiKey.ListGroups, { statesFilter: ['stable'], typesFilter: [] });
    expect(stable.groups).toEqual([{ groupId: 'live', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }]);
    const other = await client.send('any', ApiKey.ListGroups, { statesFilter: [], typesFilter: ['consumer'] });
    expect(other.groups).toEqual([]);

    const subscribed = await client.send('any', ApiKey.OffsetDelete, { groupId: 'live', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }] });
    expect(subscribed.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
    expect((await client.send('any', ApiKey.DeleteGroups, { groupsNames: ['live'] })).results[0]!.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);

    const left = await client.send('any', ApiKey.LeaveGroup, { groupId: 'live', members: [{ memberId: join.memberId, groupInstanceId: null, reason: 'done' }] });
    expect(left.members![0]!.errorCode).toBe(ErrorCode.NONE);
    const deleted = await client.send('any', ApiKey.DeleteGroups, { groupsNames: ['live', 'ghost'] });
    expect(deleted.results.map((r) => r.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.GROUP_ID_NOT_FOUND]);
    const after = await client.send('any', ApiKey.OffsetFetch, { groups: [{ groupId: 'live', topics: null }] });
    expect(after.groups![0]!.topics).toEqual([]);
    expect(partitionForGroup('live', 50)).toBeGreaterThanOrEqual(0);
  });

  it('JoinGroup checks the session timeout and group id', async () => {
    const base = { groupId: 'bad', rebalanceTimeoutMs: 1000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null };
    expect((await client.send('any', ApiKey.JoinGroup, { ...base, sessionTimeoutMs: 10 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await client.send('any', ApiKey.JoinGroup, { ...base, groupId: '', sessionTimeoutMs: 10_000 })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    const v3 = await client.send('any', ApiKey.LeaveGroup, { groupId: 'bad', memberId: 'm' }, { version: 1 });
    expect(v3.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});
