import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTROL_MASK, DELETE_HORIZON_MASK } from '../protocol/records/batch-header.ts';
import { encodeEndTxnMarkerBatch } from '../protocol/records/control-record.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches } from '../protocol/records/record-batch.ts';
import { LogCleaner } from './cleaner.ts';
import { defaultLogConfig, type LogConfig } from './log-config.ts';
import { Log } from './log.ts';
import { ProducerStateManager } from './producer-state.ts';
import { ManualClock, silentLogger, tempDir } from './test-support.ts';
import { collectAbortedTransactions, readEndTxnMarker, replayBatches } from './transaction-state.ts';

const config: LogConfig = { ...defaultLogConfig, cleanupPolicy: ['compact'], segmentBytes: 100_000, deleteRetentionMs: 1000 };
const dirs: string[] = [];
const logs: Log[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Harness {
  log: Log;
  ps: ProducerStateManager;
  clock: ManualClock;
  seq: Map<bigint, number>;
}

async function open(): Promise<Harness> {
  const dir = tempDir('samsa-clean-txn-');
  dirs.push(dir);
  const clock = new ManualClock();
  const log = await Log.open({ dir, topic: 't', partition: 0, config, logger: silentLogger(), clock });
  logs.push(log);
  return { log, ps: new ProducerStateManager(dir, silentLogger()), clock, seq: new Map() };
}

/** Appends as a leader would and keeps producer state and the transaction index in step. */
async function append(h: Harness, buf: Buffer): Promise<void> {
  await h.log.append(buf, { assignOffsets: true });
  replayBatches(buf, 0, h.ps, h.log.logSegments());
  h.log.updateHighWatermark(h.log.logEndOffset);
  h.ps.onHighWatermarkUpdated(h.log.highWatermark);
  h.log.updateFirstUnstableOffset(h.ps.firstUnstableOffset());
  h.clock.advance(1);
}

async function data(h: Harness, kv: [string, string][], pid = -1n, txn = false): Promise<void> {
  const seq = h.seq.get(pid) ?? 0;
  if (pid >= 0n) h.seq.set(pid, seq + kv.length);
  await append(
    h,
    encodeRecordBatch({
      baseTimestamp: BigInt(h.clock.now()),
      producerId: pid,
      producerEpoch: pid >= 0n ? 0 : -1,
      baseSequence: pid >= 0n ? seq : -1,
      isTransactional: txn,
      records: kv.map(([k, v], i) => ({ offsetDelta: i, timestampDelta: 0, key: Buffer.from(k), value: Buffer.from(v) })),
    }),
  );
}

async function marker(h: Harness, pid: bigint, commit: boolean): Promise<void> {
  await append(h, encodeEndTxnMarkerBatch({ producerId: pid, producerEpoch: 0, commit, coordinatorEpoch: 0, timestamp: BigInt(h.clock.now()) }));
}

/** Data records (key=value) and markers ("COMMIT 2" / "ABORT 1", "+h" when it has a delete horizon) in log order. */
async function contents(log: Log): Promise<string[]> {
  const out: string[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 20, { minOneMessage: true });
    for (const e of iterateBatches(records)) {
      const b = decodeRecordBatch(records, e.position);
      offset = Number(b.header.baseOffset) + b.header.lastOffsetDelta + 1;
      if ((b.header.attributes & CONTROL_MASK) !== 0) {
        const m = readEndTxnMarker(records, e.position)!;
        out.push(`${m.commit ? 'COMMIT' : 'ABORT'} ${b.header.producerId}${(b.header.attributes & DELETE_HORIZON_MASK) !== 0 ? ' +h' : ''}`);
        continue;
      }
      for (const r of b.records) out.push(`${r.key!.toString()}=${r.value!.toString()}`);
    }
  }
  return out;
}

describe('compaction of transactional data', () => {
  it('removes aborted data, keeps its marker and index entry while data remains, then drops the marker after delete.retention.ms', async () => {
    const h = await open();
    await data(h, [['k1', 'p1']]); // 0
    await data(h, [['k1', 'a1'], ['k2', 'a2']], 1n, true); // 1-2, aborted
    await data(h, [['k3', 'c1']], 2n, true); // 3
    await marker(h, 1n, false); // 4
    await marker(h, 2n, true); // 5
    await data(h, [['k4', 'd1']], 1n, true); // 6
    await marker(h, 1n, true); // 7: producer 1's last batch
    await data(h, [['k5', 'x']]); // 8
    await h.log.roll();
    await data(h, [['k6', 'active']]);
    const cleaner = new LogCleaner({ logger: silentLogger(), now: () => h.clock.now() });

    let r = await cleaner.clean(h.log, undefined, true);
    expect(r.cleaned).toBe(true);
    // The aborted values are gone and did not shadow k1=p1; the abort marker stays while its data was met.
    expect(await contents(h.log)).toEqual(['k1=p1', 'k3=c1', 'ABORT 1', 'COMMIT 2', 'k4=d1', 'COMMIT 1', 'k5=x', 'k6=active']);
    expect(collectAbortedTransactions(h.log.logSegments(), 0, h.log.logEndOffset)).toEqual([{ producerId: 1n, firstOffset: 1, lastOffset: 4, lastStableOffset: 3 }]);

    // Second pass: no aborted data is left, so the abort marker gets a delete horizon and its index entry goes.
    r = await cleaner.clean(h.log, r.endOffset, true);
    expect(await contents(h.log)).toEqual(['k1=p1', 'k3=c1', 'ABORT 1 +h', 'COMMIT 2', 'k4=d1', 'COMMIT 1', 'k5=x', 'k6=active']);
    expect(collectAbortedTransactions(h.log.logSegments(), 0, h.log.logEndOffset)).toEqual([]);
    expect(cleaner.tombstonesExpired(h.log)).toBe(false);

    // After delete.retention.ms the marker goes; commit markers with their data still there stay.
    h.clock.advance(config.deleteRetentionMs);
    expect(cleaner.tombstonesExpired(h.log)).toBe(true);
    await cleaner.clean(h.log, r.endOffset, true);
    expect(await contents(h.log)).toEqual(['k1=p1', 'k3=c1', 'COMMIT 2', 'k4=d1', 'COMMIT 1', 'k5=x', 'k6=active']);
  });

  it('drops a commit marker whose transaction\'s records were all compacted away, after the horizon', async () => {
    const h = await open();
    await data(h, [['k', 'old']], 3n, true); // 0
    await marker(h, 3n, true); // 1
    await data(h, [['k', 'new']], 4n, true); // 2
    await marker(h, 4n, true); // 3: producer 4's last batch
    await data(h, [['z', 'end']], 3n); // 4: producer 3's last batch
    await h.log.roll();
    await data(h, [['tail', 't']]);
    const cleaner = new LogCleaner({ logger: silentLogger(), now: () => h.clock.now() });
    let r = await cleaner.clean(h.log, undefined, true);
    // k=old is shadowed by k=new; its commit marker still met its (now removed) batch in this pass.
    expect(await contents(h.log)).toEqual(['COMMIT 3', 'k=new', 'COMMIT 4', 'z=end', 'tail=t']);
    r = await cleaner.clean(h.log, r.endOffset, true);
    expect(await contents(h.log)).toEqual(['COMMIT 3 +h', 'k=new', 'COMMIT 4', 'z=end', 'tail=t']);
    h.clock.advance(config.deleteRetentionMs);
    await cleaner.clean(h.log, r.endOffset, true);
    expect(await contents(h.log)).toEqual(['k=new', 'COMMIT 4', 'z=end', 'tail=t']);
  });
});
