// Fixtures shared by the group coordinator's unit tests: a configuration, a coordinator on a
// manual clock and an in-memory partition log with partition 0 loaded, JoinGroup/TxnOffsetCommit
// parameters, and helpers to drive a group to Stable and to read what was written.
import { pino } from 'pino';
import { expect } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { type LoadedRecord, MemoryPartitionLog } from '../coordinator/partition-log.ts';
import type { JoinGroupResult } from './classic-group.ts';
import { GroupCoordinator, type GroupCoordinatorConfig, type JoinGroupParams, type TxnOffsetCommitParams } from './group-coordinator.ts';

export const CONFIG: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 1,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3000,
  groupMaxSize: 10,
  offsetsRetentionMs: 7 * 24 * 3600_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
};

export const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

export const meta = (s: string): Buffer => Buffer.from(s);

/** A coordinator with partition 0 loaded from `log`. */
export async function setup(config: Partial<GroupCoordinatorConfig> = {}, log = new MemoryPartitionLog()) {
  const time = new ManualScheduler();
  const c = new GroupCoordinator({ config: { ...CONFIG, ...config }, log, scheduler: time, logger: pino({ level: 'silent' }) });
  await c.onElection(0, 0);
  return { c, time, log };
}

/** The plain and transactional records written, in log order (markers left out). */
export function written(log: MemoryPartitionLog, partition = 0): Extract<LoadedRecord, { kind: 'record' }>[] {
  return (log.partitions.get(partition) ?? []).filter((e): e is Extract<LoadedRecord, { kind: 'record' }> => e.kind === 'record');
}

/** Writes a transaction marker, as WriteTxnMarkers would; returns its offset. */
export function appendMarker(log: MemoryPartitionLog, partition: number, producerId: bigint, commit: boolean): number {
  log.appendLoaded(partition, { kind: 'control', producerId, commit });
  return log.endOffset(partition) - 1;
}

export function params(over: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    requireKnownMemberId: false,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 10_000,
    sessionTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: meta('m') }],
    reason: null,
    ...over,
  };
}

export function txn(over: Partial<TxnOffsetCommitParams> = {}): TxnOffsetCommitParams {
  return {
    transactionalId: 'tx',
    groupId: 'g',
    producerId: 7n,
    producerEpoch: 0,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    offsets: [{ topic: 't', partition: 0, offset: 42n, leaderEpoch: 3, metadata: 'm' }],
    ...over,
  };
}

/** Starts a join and tracks its answer. */
export function join(c: GroupCoordinator, p: JoinGroupParams) {
  const box: { result: JoinGroupResult | null } = { result: null };
  void c.joinGroup(p).then((r) => (box.result = r));
  return box;
}

/** One member joined and synced: a Stable group of generation 1. */
export async function stableOne(c: GroupCoordinator, time: ManualScheduler, over: Partial<JoinGroupParams> = {}) {
  const j = join(c, params(over));
  time.advance(3000);
  await flush();
  const r = j.result!;
  expect(r.errorCode).toBe(ErrorCode.NONE);
  const s = await c.syncGroup({ groupId: over.groupId ?? 'g', generationId: r.generationId, memberId: r.memberId, groupInstanceId: over.groupInstanceId ?? null, protocolType: null, protocolName: null, assignments: [{ memberId: r.memberId, assignment: meta('a1') }] });
  expect(s.errorCode).toBe(ErrorCode.NONE);
  return r;
}
