// Transactional offset commits on a manual clock and an in-memory log: pending until the
// producer's marker, visible on COMMIT, dropped on ABORT, and the same when loading the log.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { MemoryPartitionLog } from '../coordinator/partition-log.ts';
import { GroupCoordinator } from './group-coordinator.ts';
import { appendMarker, CONFIG as BASE, setup as setupWith, txn, written } from './group-test-support.ts';

const CONFIG = { ...BASE, offsetMetadataMaxBytes: 16 };
const setup = (log = new MemoryPartitionLog()) => setupWith(CONFIG, log);

const fetched = (c: GroupCoordinator, requireStable = false) => c.fetchOffsets('g', [{ topic: 't', partition: 0 }], requireStable).offsets[0]!;

describe('TxnOffsetCommit', () => {
  it('keeps offsets pending until COMMIT, then they are the committed ones', async () => {
    const { c, log } = await setup();
    expect(await c.commitTxnOffsets(txn())).toEqual([ErrorCode.NONE]);
    expect(written(log)[0]).toMatchObject({ producerId: 7n, transactional: true });
    expect(fetched(c)).toMatchObject({ offset: -1n, errorCode: ErrorCode.NONE });
    expect(fetched(c, true)).toMatchObject({ offset: -1n, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    c.onTransactionMarker(0, 8n, true); // another producer's marker changes nothing
    expect(fetched(c)).toMatchObject({ offset: -1n });
    c.onTransactionMarker(0, 7n, true);
    expect(fetched(c, true)).toMatchObject({ offset: 42n, leaderEpoch: 3, metadata: 'm', errorCode: ErrorCode.NONE });
  });

  it('drops them on ABORT', async () => {
    const { c } = await setup();
    await c.commitTxnOffsets(txn());
    c.onTransactionMarker(0, 7n, false);
    expect(fetched(c, true)).toMatchObject({ offset: -1n, errorCode: ErrorCode.NONE });
  });

  it('checks the group as Kafka does', async () => {
    const { c } = await setup();
    expect(await c.commitTxnOffsets(txn({ groupId: '' }))).toEqual([ErrorCode.INVALID_GROUP_ID]);
    expect(await c.commitTxnOffsets(txn({ groupId: 'other', generationId: 3, memberId: 'm' }))).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    await c.commitTxnOffsets(txn());
    expect(await c.commitTxnOffsets(txn({ memberId: 'ghost' }))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await c.commitTxnOffsets(txn({ offsets: [{ topic: 't', partition: 1, offset: 1n, leaderEpoch: -1, metadata: 'x'.repeat(17) }] }))).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE]);
  });

  it('maps append failures as offset commits do', async () => {
    const log = new MemoryPartitionLog();
    const { c } = await setup(log);
    log.failAppendsWith = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    expect(await c.commitTxnOffsets(txn())).toEqual([ErrorCode.NOT_COORDINATOR]);
    expect(fetched(c, true).errorCode).toBe(ErrorCode.NONE);
  });

  it('replays transactional offsets and markers when loading', async () => {
    const log = new MemoryPartitionLog();
    const first = await setup(log);
    await first.c.commitTxnOffsets(txn());
    appendMarker(log, 0, 7n, true);
    await first.c.commitTxnOffsets(txn({ producerId: 9n, offsets: [{ topic: 't', partition: 1, offset: 5n, leaderEpoch: -1, metadata: '' }] }));
    appendMarker(log, 0, 9n, false);
    await first.c.commitTxnOffsets(txn({ offsets: [{ topic: 't', partition: 2, offset: 6n, leaderEpoch: -1, metadata: '' }] }));
    const { c } = await setup(log);
    expect(fetched(c)).toMatchObject({ offset: 42n });
    expect(c.fetchOffsets('g', [{ topic: 't', partition: 1 }], false).offsets[0]).toMatchObject({ offset: -1n });
    // Producer 7's second transaction is still open.
    expect(c.fetchOffsets('g', [{ topic: 't', partition: 2 }], true).offsets[0]).toMatchObject({ errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    c.onTransactionMarker(0, 7n, true);
    expect(c.fetchOffsets('g', [{ topic: 't', partition: 2 }], true).offsets[0]).toMatchObject({ offset: 6n });
  });

  it('applies a marker that lands while the partition loads once it is loaded', async () => {
    const log = new MemoryPartitionLog();
    const first = await setup(log);
    await first.c.commitTxnOffsets(txn());
    const time = new ManualScheduler();
    const c = new GroupCoordinator({ config: CONFIG, log, scheduler: time, logger: pino({ level: 'silent' }) });
    const loading = c.onElection(0, 1);
    c.onTransactionMarker(0, 7n, true, 5);
    await loading;
    expect(fetched(c)).toMatchObject({ offset: 42n });
  });

  it('does not apply a marker again that the load already read (a later transaction stays pending)', async () => {
    const log = new MemoryPartitionLog();
    const first = await setup(log);
    await first.c.commitTxnOffsets(txn());
    const markerOffset = appendMarker(log, 0, 7n, true);
    await first.c.commitTxnOffsets(txn({ offsets: [{ topic: 't', partition: 2, offset: 6n, leaderEpoch: -1, metadata: '' }] }));
    const c = new GroupCoordinator({ config: CONFIG, log, scheduler: new ManualScheduler(), logger: pino({ level: 'silent' }) });
    const loading = c.onElection(0, 1);
    c.onTransactionMarker(0, 7n, true, markerOffset);
    await loading;
    expect(fetched(c)).toMatchObject({ offset: 42n });
    expect(c.fetchOffsets('g', [{ topic: 't', partition: 2 }], true).offsets[0]).toMatchObject({ errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
  });
});
