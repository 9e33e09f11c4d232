// Random operation sequences against a plain in-memory model of the log (a list of batches).
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultLogConfig, type LogConfig } from './log-config.ts';
import { Log, MAX_TIMESTAMP } from './log.ts';
import { buildBatch } from './test-batches.ts';
import { silentLogger, tempDir } from './test-support.ts';

interface ModelBatch {
  base: number;
  last: number;
  bytes: Buffer;
  ts: number[];
}

type Op =
  | { kind: 'append'; records: { ts: number; size: number }[] }
  | { kind: 'read'; pick: number; maxBytes: number; minOne: boolean }
  | { kind: 'time'; ts: number }
  | { kind: 'maxTime' }
  | { kind: 'truncate'; pick: number }
  | { kind: 'deleteRecords'; pick: number }
  | { kind: 'roll' }
  | { kind: 'reopen'; clean: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), records: fc.array(fc.record({ ts: fc.integer({ min: 0, max: 5000 }), size: fc.integer({ min: 0, max: 120 }) }), { minLength: 1, maxLength: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), pick: fc.double({ min: 0, max: 1, noNaN: true }), maxBytes: fc.integer({ min: 1, max: 3000 }), minOne: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time' as const), ts: fc.integer({ min: 0, max: 5100 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('maxTime' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), pick: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteRecords' as const), pick: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('roll' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), clean: fc.boolean() }) },
);

function pickIndex(p: number, n: number): number {
  return Math.min(n - 1, Math.floor(p * n));
}

function parseBatches(buf: Buffer): { base: number; bytes: Buffer }[] {
  const out: { base: number; bytes: Buffer }[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = 12 + buf.readInt32BE(pos + 8);
    out.push({ base: Number(buf.readBigInt64BE(pos)), bytes: buf.subarray(pos, pos + size) });
    pos += size;
  }
  return out;
}

async function runScenario(ops: Op[], segmentBytes: number, indexIntervalBytes: number): Promise<void> {
  const dir = path.join(tempDir(), 'p-0');
  const config: LogConfig = { ...defaultLogConfig, segmentBytes, indexIntervalBytes, segmentIndexBytes: 4096 };
  const open = (extra: Partial<Parameters<typeof Log.open>[0]> = {}) => Log.open({ dir, topic: 'p', partition: 0, config, logger: silentLogger(), ...extra });
  let log = await open();
  let batches: ModelBatch[] = [];
  let lso = 0;
  let leo = 0;
  let hw = 0;
  const live = () => batches.filter((b) => b.last >= lso);
  try {
    for (const op of ops) {
      switch (op.kind) {
        case 'append': {
          const buf = buildBatch(op.records.map((r) => ({ value: Buffer.alloc(r.size, 7), timestamp: r.ts })));
          const res = await log.append(buf, { assignOffsets: true });
          expect(res.firstOffset).toBe(leo);
          batches.push({ base: leo, last: leo + op.records.length - 1, bytes: Buffer.from(buf), ts: op.records.map((r) => r.ts) });
          leo += op.records.length;
          hw = log.updateHighWatermark(leo);
          break;
        }
        case 'read': {
          const offset = lso + pickIndex(op.pick, leo - lso + 1);
          const res = await log.read(offset, op.maxBytes, { minOneMessage: op.minOne });
          const got = parseBatches(res.records);
          const start = batches.findIndex((b) => b.last >= offset);
          if (start < 0) {
            expect(got.length).toBe(0);
            break;
          }
          got.forEach((g, i) => expect(g.bytes.equals(batches[start + i]!.bytes)).toBe(true));
          const first = batches[start]!;
          if (first.bytes.length <= op.maxBytes || op.minOne) expect(got.length).toBeGreaterThan(0);
          if (got.length > 1) expect(res.records.length).toBeLessThanOrEqual(op.maxBytes);
          break;
        }
        case 'time': {
          const b = live().find((x) => Math.max(...x.ts) >= op.ts);
          const found = log.findOffsetByTimestamp(op.ts);
          if (b === undefined) expect(found).toBeNull();
          else {
            const i = b.ts.findIndex((t) => t >= op.ts);
            expect(found).toEqual({ offset: b.base + i, timestamp: b.ts[i], leaderEpoch: -1 });
          }
          break;
        }
        case 'maxTime': {
          const l = live();
          const found = log.findOffsetByTimestamp(MAX_TIMESTAMP);
          if (l.length === 0) expect(found).toBeNull();
          else {
            const max = Math.max(...l.map((x) => Math.max(...x.ts)));
            const b = l.find((x) => Math.max(...x.ts) === max)!;
            expect(found).toEqual({ offset: b.base + b.ts.indexOf(max), timestamp: max, leaderEpoch: -1 });
          }
          break;
        }
        case 'truncate': {
          const candidates = [...live().map((b) => b.base).filter((o) => o >= lso), leo];
          const target = candidates[pickIndex(op.pick, candidates.length)]!;
          await log.truncateTo(target);
          batches = batches.filter((b) => b.last < target);
          leo = target;
          hw = Math.min(hw, target);
          break;
        }
        case 'deleteRecords': {
          const candidates = [...live().map((b) => b.base).filter((o) => o >= lso && o <= hw), hw];
          const target = candidates[pickIndex(op.pick, candidates.length)]!;
          await log.deleteRecordsBefore(target);
          lso = Math.max(lso, target);
          break;
        }
        case 'roll':
          await log.roll();
          break;
        case 'reopen': {
          const recoveryPoint = log.recoveryPoint;
          if (op.clean) await log.close();
          else await log.closeHandles();
          log = await open({ hadCleanShutdown: op.clean, recoveryPoint: op.clean ? recoveryPoint : 0, logStartOffset: lso, highWatermark: hw });
          break;
        }
      }
      expect(log.logEndOffset).toBe(leo);
      expect(log.logStartOffset).toBe(lso);
      expect(log.highWatermark).toBe(hw);
    }
    // A reader from the start sees exactly the model's batches.
    const seen: Buffer[] = [];
    let offset = lso;
    for (let guard = 0; offset < leo && guard < 10_000; guard++) {
      const res = await log.read(offset, 1000, { minOneMessage: true });
      const got = parseBatches(res.records);
      expect(got.length).toBeGreaterThan(0);
      for (const g of got) seen.push(g.bytes);
      const lastBatch = got.at(-1)!.bytes;
      offset = Number(lastBatch.readBigInt64BE(0)) + lastBatch.readInt32BE(23) + 1;
    }
    const expected = live();
    expect(seen.length).toBe(expected.length);
    seen.forEach((b, i) => expect(b.equals(expected[i]!.bytes)).toBe(true));
  } finally {
    await log.close().catch(() => undefined);
  }
}

describe('Log against a model', () => {
  it('random appends, reads, lookups, truncations, deletions, rolls and reopens agree with the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1000, max: 4000 }), fc.integer({ min: 1, max: 600 }), (ops, segmentBytes, interval) =>
        runScenario(ops, segmentBytes, interval),
      ),
      { numRuns: Number(process.env.STORAGE_PROPERTY_RUNS ?? 60) },
    );
  });
});
