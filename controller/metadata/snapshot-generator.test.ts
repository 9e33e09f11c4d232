import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import type { RaftClient } from '../raft/raft-client.ts';
import type { SnapshotId } from '../raft/snapshot-format.ts';
import { MetadataDelta } from './delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from './image.ts';
import { imageFromRecords } from './image-records.ts';
import { record } from './record-serde.ts';
import { SnapshotGenerator } from './snapshot-generator.ts';

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function fakeRaft() {
  const taken: { id: SnapshotId; records: Buffer[] }[] = [];
  const raft = { createSnapshot: async (id: SnapshotId, records: Buffer[]) => (taken.push({ id, records }), true) } as unknown as RaftClient;
  return { raft, taken };
}

function imageAt(offset: bigint): MetadataImage {
  const d = new MetadataDelta(EMPTY_IMAGE);
  d.replay(record(MetadataRecordType.FeatureLevelRecord, { name: 'metadata.version', featureLevel: 21 }), offset, 2);
  return d.apply();
}

describe('snapshot generator', () => {
  it('snapshots once enough record bytes were committed, at the image offset + 1 and its epoch', async () => {
    const clock = new ManualScheduler({ startMs: 0 });
    const { raft, taken } = fakeRaft();
    const gen = new SnapshotGenerator(raft, clock, pino({ level: 'silent' }), { maxBytesBetweenSnapshots: 1000, maxIntervalMs: 0 });
    gen.onCommit(imageAt(10n), 600, 0);
    await settle();
    expect(taken).toEqual([]);
    gen.onCommit(imageAt(20n), 400, 0);
    await settle();
    expect(taken.map((t) => t.id)).toEqual([{ endOffset: 21n, epoch: 2 }]);
    expect(imageFromRecords(taken[0]!.records, 20n, 2).features.get('metadata.version')).toBe(21);
    // The count starts again after a snapshot, and the time trigger is off (0).
    clock.advance(10 * 3600_000);
    gen.onCommit(imageAt(30n), 999, 0);
    await settle();
    expect(taken.length).toBe(1);
  });

  it('snapshots when the interval has passed and something new was committed', async () => {
    const clock = new ManualScheduler({ startMs: 0 });
    const { raft, taken } = fakeRaft();
    const gen = new SnapshotGenerator(raft, clock, pino({ level: 'silent' }), { maxBytesBetweenSnapshots: 1 << 30, maxIntervalMs: 60_000 });
    gen.onCommit(imageAt(5n), 10, 0);
    clock.advance(59_999);
    gen.onCommit(imageAt(6n), 10, 0);
    await settle();
    expect(taken).toEqual([]);
    clock.advance(1);
    gen.onCommit(imageAt(7n), 0, 0);
    await settle();
    expect(taken.map((t) => t.id.endOffset)).toEqual([8n]);
    // A loaded snapshot restarts the clock.
    clock.advance(30_000);
    gen.onSnapshotLoaded();
    clock.advance(40_000);
    gen.onCommit(imageAt(9n), 10, 0);
    await settle();
    expect(taken.length).toBe(1);
  });
});
