// metadata.max.retention.bytes / metadata.max.retention.ms: snapshots older than the newest go,
// with the log below the oldest kept one, once the log is larger or the oldest snapshot older
// than the limits (Kafka's KafkaMetadataLog cleaning); the newest snapshot always stays.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { MemoryQuorumStateStore } from './quorum-state.ts';
import { RaftClient } from './raft-client.ts';
import { MemoryReplicatedLog } from './replicated-log.ts';

const logger = pino({ level: 'silent' });

async function withSnapshots(retention: { maxBytes: number; maxMs: number }, steps: { values: number; advanceMs?: number }[]) {
  const log = new MemoryReplicatedLog();
  const clock = new ManualScheduler({ startMs: 1_000_000 });
  const client = new RaftClient({ nodeId: 1, voters: [1], log, stateStore: new MemoryQuorumStateStore(), logger, scheduler: clock, snapshotsRetained: 100, retention });
  await client.start();
  const state: Buffer[] = [];
  for (const step of steps) {
    if (step.advanceMs) clock.advance(step.advanceMs);
    let last = 0n;
    for (let i = 0; i < step.values; i++) {
      const v = Buffer.alloc(100, state.length % 256);
      state.push(v);
      last = await client.append([v]);
    }
    expect(await client.createSnapshot({ endOffset: last + 1n, epoch: client.currentEpoch }, state, client.now())).toBe(true);
  }
  return { client, log };
}

describe('metadata log retention', () => {
  it('keeps every snapshot while the log is within metadata.max.retention.bytes and none is too old', async () => {
    const { log } = await withSnapshots({ maxBytes: 1 << 20, maxMs: 3_600_000 }, [{ values: 5 }, { values: 5 }, { values: 5 }, { values: 5 }]);
    expect(log.snapshots.list()).toHaveLength(4);
    expect(log.startOffset()).toBe(log.snapshots.earliest()!.endOffset);
  });

  it('a log over metadata.max.retention.bytes loses its oldest snapshots and the log below the oldest kept', async () => {
    const { log } = await withSnapshots({ maxBytes: 1500, maxMs: -1 }, [{ values: 5 }, { values: 5 }, { values: 5 }, { values: 5 }, { values: 5 }]);
    const kept = log.snapshots.list();
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(5);
    expect(log.startOffset()).toBe(kept[0]!.endOffset);
    // Deleting stopped as soon as the log was within the limit, or only the newest was left.
    expect(log.sizeInBytes() <= 1500 || kept.length === 1).toBe(true);
  });

  it('snapshots older than metadata.max.retention.ms go, the newest stays however old', async () => {
    const hour = 3_600_000;
    const { client, log } = await withSnapshots({ maxBytes: -1, maxMs: 2 * hour }, [{ values: 3 }, { values: 3, advanceMs: hour }, { values: 3, advanceMs: hour }]);
    // Ages now: 2 h, 1 h, 0 h: none is older than 2 h yet.
    expect(log.snapshots.list()).toHaveLength(3);
    const ids = await withSnapshots({ maxBytes: -1, maxMs: 2 * hour }, [{ values: 3 }, { values: 3, advanceMs: hour }, { values: 3, advanceMs: 2 * hour }]);
    // Ages: 3 h (deleted), 2 h, 0 h.
    expect(ids.log.snapshots.list()).toHaveLength(2);
    expect(ids.log.startOffset()).toBe(ids.log.snapshots.earliest()!.endOffset);
    expect(client.isLeader).toBe(true);
    const alone = await withSnapshots({ maxBytes: 0, maxMs: 0 }, [{ values: 3 }, { values: 3, advanceMs: hour }]);
    expect(alone.log.snapshots.list()).toHaveLength(1);
  });
});
