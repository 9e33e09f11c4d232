import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { bootstrapCheckpoint } from '../../broker/cli/bootstrap-checkpoint.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { FileReplicatedLog } from './file-replicated-log.ts';
import { MemoryReplicatedLog, type ReplicatedLog } from './replicated-log.ts';
import { decodeSnapshot, encodeSnapshot, parseSnapshotFileName, SnapshotFormatError, snapshotFileName } from './snapshot-format.ts';
import { FileSnapshotStore, MemorySnapshotStore, type SnapshotStore } from './snapshot-store.ts';

const silent = pino({ level: 'silent' });
const values = (n: number, size = 10): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i % 251));

function capture(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: pino({ level: 'warn' }, { write: (s: string) => lines.push(s) }), lines };
}

describe('snapshot format', () => {
  it('names files as Kafka does and round-trips header, records and footer', () => {
    const id = { endOffset: 12345n, epoch: 7 };
    expect(snapshotFileName(id)).toBe('00000000000000012345-0000000007.checkpoint');
    expect(parseSnapshotFileName(snapshotFileName(id))).toEqual(id);
    expect(parseSnapshotFileName('00000000000000012345-0000000007.checkpoint.part')).toBeUndefined();
    const recs = values(5000, 100);
    const bytes = encodeSnapshot(id, recs, 1_700_000_000_000);
    const d = decodeSnapshot(bytes);
    expect(d.lastContainedLogTimestamp).toBe(1_700_000_000_000);
    expect(d.records.length).toBe(recs.length);
    expect(Buffer.concat(d.records).equals(Buffer.concat(recs))).toBe(true);
    expect(decodeSnapshot(encodeSnapshot(id, [], 0)).records).toEqual([]);
  });

  it('reads the bootstrap checkpoint the format step writes (voters in the header batch)', () => {
    const d = decodeSnapshot(bootstrapCheckpoint([{ nodeId: 1, directoryId: 'AAAAAAAAAAAAAAAAAAAAAQ', host: 'localhost', port: 9093 }], 'CONTROLLER', 1));
    expect(d.records).toEqual([]);
  });

  it.each([{ checkOnly: false }, { checkOnly: true }])('refuses truncated, damaged, footerless and headerless snapshots (%o)', (options) => {
    const bytes = encodeSnapshot({ endOffset: 10n, epoch: 1 }, values(50), 0);
    expect(decodeSnapshot(bytes, options).records).toHaveLength(options.checkOnly ? 0 : 50);
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 3), options)).toThrow(SnapshotFormatError);
    const flipped = Buffer.from(bytes);
    flipped[200] = flipped[200]! ^ 0xff;
    expect(() => decodeSnapshot(flipped, options)).toThrow(SnapshotFormatError);
    const data = encodeRecordBatch({ baseOffset: 0n, baseTimestamp: 0n, records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('x') }] });
    expect(() => decodeSnapshot(data, options)).toThrow(/header/);
    // Header and data only: the footer batch is the last one, cut it off.
    const noFooter = bytes.subarray(0, bytes.length - 80);
    expect(() => decodeSnapshot(noFooter, options)).toThrow(SnapshotFormatError);
  });
});

async function storeContract(store: SnapshotStore): Promise<void> {
  const a = { endOffset: 100n, epoch: 2 };
  const b = { endOffset: 50n, epoch: 1 };
  const bytes = encodeSnapshot(a, values(10), 0);
  await store.write(a, bytes);
  await store.write(b, encodeSnapshot(b, values(3), 0));
  expect(store.list()).toEqual([b, a]);
  expect(store.latest()).toEqual(a);
  expect(store.earliest()).toEqual(b);
  expect(store.size(a)).toBe(bytes.length);
  expect(await store.read(a)).toEqual(bytes);
  expect(Buffer.concat([await store.readChunk(a, 0, 7), await store.readChunk(a, 7, 1 << 20)])).toEqual(bytes);
  expect((await store.readChunk(a, bytes.length, 10)).length).toBe(0);
  await store.delete(b);
  expect(store.list()).toEqual([a]);
  expect(store.size(b)).toBe(-1);
}

describe('snapshot stores', () => {
  it('memory store keeps snapshots in id order', () => storeContract(new MemorySnapshotStore()));

  it('file store writes aside and renames, and reopens what it wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-snap-'));
    await storeContract(await FileSnapshotStore.open(dir, silent));
    expect(readdirSync(dir)).toEqual(['00000000000000000100-0000000002.checkpoint']);
    const again = await FileSnapshotStore.open(dir, silent);
    expect(again.list()).toEqual([{ endOffset: 100n, epoch: 2 }]);
  });

  it('skips a corrupt or truncated snapshot with a warning and removes leftovers of an interrupted write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-snap-'));
    const good = { endOffset: 10n, epoch: 1 };
    const torn = { endOffset: 20n, epoch: 1 };
    const rotten = { endOffset: 30n, epoch: 2 };
    writeFileSync(join(dir, snapshotFileName(good)), encodeSnapshot(good, values(3), 0));
    const tornBytes = encodeSnapshot(torn, values(30), 0);
    writeFileSync(join(dir, snapshotFileName(torn)), tornBytes.subarray(0, tornBytes.length - 10));
    const rottenBytes = encodeSnapshot(rotten, values(30), 0);
    rottenBytes[100] = rottenBytes[100]! ^ 1;
    writeFileSync(join(dir, snapshotFileName(rotten)), rottenBytes);
    writeFileSync(join(dir, '00000000000000000040-0000000002.checkpoint.part'), 'half');
    const { logger, lines } = capture();
    const store = await FileSnapshotStore.open(dir, logger);
    expect(store.list()).toEqual([good]);
    expect(lines.filter((l) => l.includes('damaged metadata snapshot')).length).toBe(2);
    expect(readdirSync(dir).sort()).toEqual([snapshotFileName(good)]);
  });
});

async function batchOf(log: ReplicatedLog, epoch: number, n: number): Promise<void> {
  await log.appendAsLeader(encodeRecordBatch({ baseTimestamp: 0n, records: values(n).map((value, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value })) }), epoch);
  await log.flush();
}

async function startOffsetContract(open: () => Promise<ReplicatedLog>, reopen: () => Promise<ReplicatedLog>): Promise<void> {
  const log = await open();
  for (let i = 0; i < 10; i++) await batchOf(log, i < 5 ? 1 : 3, 10);
  expect(log.endOffset()).toBe(100n);
  const id = { endOffset: 60n, epoch: 3 };
  await log.snapshots.write(id, encodeSnapshot(id, [], 0));
  await log.advanceStart(id);
  expect(log.startOffset()).toBe(60n);
  expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 100n });
  expect(log.endOffsetForEpoch(2).epoch).toBeLessThan(3);
  const read = await log.read(60n, 1 << 20);
  expect(read.readBigInt64BE(0)).toBe(60n);
  await log.close();
  const again = await reopen();
  expect(again.startOffset()).toBe(60n);
  expect(again.endOffset()).toBe(100n);
  // A fetched snapshot past the end replaces the log.
  const later = { endOffset: 500n, epoch: 4 };
  await again.truncateFullyAndStartAt(later);
  expect(again.startOffset()).toBe(500n);
  expect(again.endOffset()).toBe(500n);
  expect(again.lastEpoch()).toBe(4);
  expect(again.endOffsetForEpoch(4)).toEqual({ epoch: 4, endOffset: 500n });
  await batchOf(again, 5, 2);
  expect(again.endOffset()).toBe(502n);
  expect(again.endOffsetForEpoch(4)).toEqual({ epoch: 4, endOffset: 500n });
  await again.close();
}

describe('log start offset', () => {
  it('memory log: advances to a snapshot, drops what is below, restarts at a fetched snapshot', async () => {
    const log = new MemoryReplicatedLog();
    await startOffsetContract(async () => log, async () => log);
  });

  it('file log: deletes whole segments below the start and takes the start from the oldest snapshot on reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-snaplog-'));
    const open = () => FileReplicatedLog.open(dir, silent, { segmentBytes: 400, fileDeleteDelayMs: 0 });
    await startOffsetContract(open, open);
    const files = readdirSync(join(dir, '__cluster_metadata-0'));
    expect(files.filter((f) => f.endsWith('.log')).every((f) => BigInt(f.slice(0, 20)) >= 500n)).toBe(true);
    expect(readFileSync(join(dir, '__cluster_metadata-0', snapshotFileName({ endOffset: 60n, epoch: 3 }))).length).toBeGreaterThan(0);
  });
});
