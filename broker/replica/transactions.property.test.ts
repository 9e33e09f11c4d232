// Model-based test of the partition side of transactions: producer state, the last stable offset
// and the aborted-transaction index against a plain reference model. Random runs of plain,
// idempotent and transactional appends from a few producers (alone, or in bursts started before
// the previous one is written), COMMIT/ABORT markers (some from a
// fenced coordinator epoch), high watermark moves, segment rolls, truncations at batch boundaries
// and restarts (clean: producer snapshot at the log end; unclean: no new snapshot, replay from an
// older one). After every step: the LSO, the aborted transactions of random fetch ranges and what
// a read_committed consumer (Kafka's client algorithm over Log.read + the aborted list) delivers
// equal the model's. Seeds are printed by fast-check on failure; SAMSA_TXN_MODEL_RUNS sets the runs.
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { CONTROL_MASK, readBatchHeader, TRANSACTIONAL_MASK } from '../../protocol/records/batch-header.ts';
import { encodeRecordBatch, iterateBatches } from '../../protocol/records/record-batch.ts';
import { Log } from '../../storage/log.ts';
import { defaultLogConfig, type LogConfig } from '../../storage/log-config.ts';
import { ProducerStateManager } from '../../storage/producer-state.ts';
import { collectAbortedTransactions, readEndTxnMarker } from '../../storage/transaction-state.ts';
import { silentLogger, tempDir } from '../../storage/test-support.ts';
import { validateProducedRecords } from './append-validator.ts';
import { Partition } from './partition.ts';

const RUNS = Number(process.env.SAMSA_TXN_MODEL_RUNS ?? 25);
const PRODUCERS = [1n, 2n, 3n];
const config: LogConfig = { ...defaultLogConfig, segmentBytes: 700, minInsyncReplicas: 1 };

type Cmd =
  | { kind: 'plain'; count: number }
  | { kind: 'idempotent'; pid: bigint; count: number }
  | { kind: 'txn'; pid: bigint; count: number }
  | { kind: 'marker'; pid: bigint; commit: boolean; coordinatorEpoch: number }
  | { kind: 'hw'; frac: number }
  | { kind: 'roll' }
  | { kind: 'truncate'; frac: number }
  | { kind: 'restart'; clean: boolean }
  | { kind: 'check'; a: number; b: number; c: number }
  /** Data appends sent together, each started before the previous one is written. */
  | { kind: 'burst'; appends: DataCmd[] };

type DataCmd = Extract<Cmd, { kind: 'plain' | 'idempotent' | 'txn' }>;

const pidArb = fc.constantFrom(...PRODUCERS);
const fracArb = fc.double({ min: 0, max: 1, noNaN: true });
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('plain' as const), count: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('idempotent' as const), pid: pidArb, count: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('txn' as const), pid: pidArb, count: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('marker' as const), pid: pidArb, commit: fc.boolean(), coordinatorEpoch: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('hw' as const), frac: fracArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('roll' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), frac: fracArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), clean: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('check' as const), a: fracArb, b: fracArb, c: fracArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      appends: fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('plain' as const), count: fc.integer({ min: 1, max: 2 }) }),
          fc.record({ kind: fc.constant('idempotent' as const), pid: pidArb, count: fc.integer({ min: 1, max: 2 }) }),
          fc.record({ kind: fc.constant('txn' as const), pid: pidArb, count: fc.integer({ min: 1, max: 2 }) }),
        ),
        { minLength: 2, maxLength: 4 },
      ),
    }),
  },
);

// ---- the reference model -------------------------------------------------------------------

type Entry =
  | { kind: 'data'; pid: bigint; txn: boolean; first: number; last: number; firstSeq: number }
  | { kind: 'marker'; pid: bigint; commit: boolean; coordinatorEpoch: number; offset: number };

interface Txn {
  pid: bigint;
  first: number;
  last: number;
  aborted: boolean;
  lastStableOffset: number;
}

interface Derived {
  ongoing: Map<bigint, number>;
  completed: Txn[];
  coordinatorEpoch: Map<bigint, number>;
  nextSeq: Map<bigint, number>;
}

/** Everything that follows from the log alone, replayed from the start. */
function derive(entries: readonly Entry[]): Derived {
  const d: Derived = { ongoing: new Map(), completed: [], coordinatorEpoch: new Map(), nextSeq: new Map() };
  for (const e of entries) {
    if (e.kind === 'data') {
      if (e.pid < 0n) continue;
      d.nextSeq.set(e.pid, e.firstSeq + (e.last - e.first) + 1);
      if (e.txn && !d.ongoing.has(e.pid)) d.ongoing.set(e.pid, e.first);
      continue;
    }
    d.coordinatorEpoch.set(e.pid, e.coordinatorEpoch);
    const first = d.ongoing.get(e.pid);
    d.ongoing.delete(e.pid);
    if (first === undefined) continue;
    let lso = e.offset + 1;
    for (const [pid, f] of d.ongoing) if (pid !== e.pid && f < lso) lso = f;
    d.completed.push({ pid: e.pid, first, last: e.offset, aborted: !e.commit, lastStableOffset: lso });
  }
  return d;
}

function startOf(e: Entry): number {
  return e.kind === 'data' ? e.first : e.offset;
}

class Model {
  entries: Entry[] = [];
  leo = 0;
  hw = 0;
  /** The follower's last fetch offset, which bounds the high watermark. */
  follower = 0;
  /** Markers (offsets) of completed transactions not yet below the high watermark. */
  unreplicated = new Set<number>();
  snapshots: number[] = [];

  derived(): Derived {
    return derive(this.entries);
  }

  lso(): number {
    const d = this.derived();
    let min = this.hw;
    for (const f of d.ongoing.values()) min = Math.min(min, f);
    for (const t of d.completed) if (this.unreplicated.has(t.last)) min = Math.min(min, t.first);
    return min;
  }

  moveHw(): void {
    const next = Math.min(this.leo, this.follower);
    if (next > this.hw) this.hw = next;
    for (const o of [...this.unreplicated]) if (o < this.hw) this.unreplicated.delete(o);
  }

  /** Producer state rebuilt from the newest snapshot at or below the log end plus the log after it. */
  reload(): void {
    this.snapshots = this.snapshots.filter((s) => s <= this.leo);
    const from = this.snapshots.at(-1) ?? 0;
    this.unreplicated = new Set(this.derived().completed.filter((t) => t.last >= from && t.last >= this.hw).map((t) => t.last));
  }

  aborted(start: number, upper: number): Txn[] {
    return this.derived().completed.filter((t) => t.aborted && t.last >= start && t.first < upper);
  }

  /** Offsets of the data records a read_committed consumer starting at `start` receives. */
  committedFrom(start: number): number[] {
    const lso = this.lso();
    const d = this.derived();
    const out: number[] = [];
    for (const e of this.entries) {
      if (e.kind !== 'data') continue;
      const abortedTxn = e.txn && d.completed.some((t) => t.pid === e.pid && t.aborted && t.first <= e.first && e.last < t.last);
      if (abortedTxn) continue;
      for (let o = e.first; o <= e.last; o++) if (o >= start && o < lso) out.push(o);
    }
    return out;
  }
}

// ---- the system under test -----------------------------------------------------------------

interface System {
  dir: string;
  log: Log;
  p: Partition;
}

async function openSystem(dir: string, highWatermark: number): Promise<System> {
  const log = await Log.open({ dir, topic: 't', partition: 0, config, logger: silentLogger(), highWatermark });
  const p = new Partition({ topic: 't', partition: 0, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', log, producerState: new ProducerStateManager(dir, silentLogger()), nodeId: 1, logger: silentLogger(), onAppend: () => undefined });
  await p.loadProducerState();
  p.update(1, 0, 0, [1, 2], [1, 2]);
  return { dir, log, p };
}

function dataBatch(pid: bigint, txn: boolean, firstSeq: number, count: number): Buffer {
  return encodeRecordBatch({
    baseTimestamp: 1_700_000_000_000n,
    producerId: pid,
    producerEpoch: pid < 0n ? -1 : 0,
    baseSequence: pid < 0n ? -1 : firstSeq,
    isTransactional: txn,
    records: Array.from({ length: count }, (_, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value: Buffer.from(`v${i}`) })),
  });
}

async function expectKafkaError(p: Promise<unknown> | (() => Promise<unknown>), code: number): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).errorCode).toBe(code);
    return;
  }
  throw new Error(`expected error ${code}`);
}

/** Kafka's consumer under read_committed: fetches up to the LSO and drops aborted batches with the aborted list. */
async function consumeCommitted(log: Log, start: number): Promise<number[]> {
  const out: number[] = [];
  let offset = start;
  for (let guard = 0; guard < 10_000; guard++) {
    const lso = log.lastStableOffset;
    if (offset >= lso) break;
    const res = await log.read(offset, 200, { maxOffset: lso, minOneMessage: true });
    if (res.records.length === 0) break;
    let end = offset;
    for (const e of iterateBatches(res.records)) {
      const h = readBatchHeader(res.records, e.position);
      end = Math.max(end, Number(h.baseOffset) + h.lastOffsetDelta + 1);
    }
    const aborted = collectAbortedTransactions(log.logSegments(), offset, end).sort((x, y) => x.firstOffset - y.firstOffset);
    const abortedProducers = new Set<bigint>();
    for (const e of iterateBatches(res.records)) {
      const h = readBatchHeader(res.records, e.position);
      const base = Number(h.baseOffset);
      const last = base + h.lastOffsetDelta;
      if (h.producerId >= 0n) {
        while (aborted.length > 0 && aborted[0]!.firstOffset <= last) abortedProducers.add(aborted.shift()!.producerId);
        if ((h.attributes & CONTROL_MASK) !== 0) {
          const marker = readEndTxnMarker(res.records, e.position);
          if (marker !== null && !marker.commit) abortedProducers.delete(h.producerId);
          continue;
        }
        if ((h.attributes & TRANSACTIONAL_MASK) !== 0 && abortedProducers.has(h.producerId)) continue;
      }
      for (let o = base; o <= last; o++) if (o >= offset) out.push(o);
    }
    offset = end;
  }
  return out;
}

/**
 * Starts one data append (synchronously up to the log append, as the produce path does) and
 * applies it to the model; returns the check of its outcome, to await later.
 */
function startData(p: Partition, m: Model, cmd: DataCmd): () => Promise<void> {
  const pid = cmd.kind === 'plain' ? -1n : cmd.pid;
  const txn = cmd.kind === 'txn';
  const d = m.derived();
  const seq = pid < 0n ? -1 : (d.nextSeq.get(pid) ?? 0);
  const v = validateProducedRecords(dataBatch(pid, txn, seq, cmd.count), { apiVersion: 9, topicPartition: 't-0', config, now: Date.now() });
  if (cmd.kind === 'idempotent' && d.ongoing.has(pid)) {
    let refused: unknown = null;
    try {
      p.appendAsLeader(v, 1).catch(() => undefined);
    } catch (err) {
      refused = err;
    }
    return async () => {
      expect(refused).toBeInstanceOf(KafkaError);
      expect((refused as KafkaError).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    };
  }
  const done = p.appendAsLeader(v, 1);
  const first = m.leo;
  m.entries.push({ kind: 'data', pid, txn, first, last: first + cmd.count - 1, firstSeq: seq });
  m.leo += cmd.count;
  return async () => {
    expect((await done).baseOffset).toBe(first);
  };
}

async function step(sys: System, m: Model, cmd: Cmd): Promise<System> {
  const p = sys.p;
  switch (cmd.kind) {
    case 'burst': {
      const checks = cmd.appends.map((a) => startData(p, m, a));
      for (const c of checks) await c();
      m.moveHw();
      return sys;
    }
    case 'plain':
    case 'idempotent':
    case 'txn': {
      const pid = cmd.kind === 'plain' ? -1n : cmd.pid;
      const txn = cmd.kind === 'txn';
      const d = m.derived();
      const seq = pid < 0n ? -1 : (d.nextSeq.get(pid) ?? 0);
      const v = validateProducedRecords(dataBatch(pid, txn, seq, cmd.count), { apiVersion: 9, topicPartition: 't-0', config, now: Date.now() });
      if (cmd.kind === 'idempotent' && d.ongoing.has(pid)) {
        await expectKafkaError(() => p.appendAsLeader(v, 1), ErrorCode.INVALID_TXN_STATE);
        return sys;
      }
      const r = await p.appendAsLeader(v, 1);
      expect(r.baseOffset).toBe(m.leo);
      m.entries.push({ kind: 'data', pid, txn, first: m.leo, last: m.leo + cmd.count - 1, firstSeq: seq });
      m.leo += cmd.count;
      m.moveHw();
      return sys;
    }
    case 'marker': {
      const current = m.derived().coordinatorEpoch.get(cmd.pid);
      const marker = { producerId: cmd.pid, producerEpoch: 0, commit: cmd.commit, coordinatorEpoch: cmd.coordinatorEpoch };
      if (current !== undefined && current > cmd.coordinatorEpoch) {
        await expectKafkaError(() => p.appendTxnMarkerAsLeader(marker, Date.now()), ErrorCode.TRANSACTION_COORDINATOR_FENCED);
        return sys;
      }
      const hadTxn = m.derived().ongoing.has(cmd.pid);
      const offset = await p.appendTxnMarkerAsLeader(marker, Date.now());
      expect(offset).toBe(m.leo);
      m.entries.push({ kind: 'marker', pid: cmd.pid, commit: cmd.commit, coordinatorEpoch: cmd.coordinatorEpoch, offset });
      if (hadTxn) m.unreplicated.add(offset);
      m.leo += 1;
      m.moveHw();
      return sys;
    }
    case 'hw': {
      // A follower fetches from a batch boundary (its log end) at or above the high watermark.
      const bounds = [...m.entries.map(startOf), m.leo].filter((o) => o >= m.hw);
      const to = bounds[Math.min(bounds.length - 1, Math.floor(cmd.frac * bounds.length))]!;
      p.updateFollowerFetchState(2, to, m.leo, 7n);
      m.follower = to;
      m.moveHw();
      return sys;
    }
    case 'roll':
      await sys.log.roll();
      return sys;
    case 'truncate': {
      // Batch boundaries at or above the high watermark (followers never truncate below it).
      const bounds = [...m.entries.map(startOf), m.leo].filter((o) => o >= m.hw);
      const to = bounds[Math.min(bounds.length - 1, Math.floor(cmd.frac * bounds.length))]!;
      await p.truncateTo(to);
      if (to < m.leo) {
        m.entries = m.entries.filter((e) => startOf(e) < to);
        m.leo = to;
        m.reload();
      }
      return sys;
    }
    case 'restart': {
      if (cmd.clean) await p.snapshotProducerState();
      await sys.log.close();
      if (cmd.clean) {
        m.snapshots = [...m.snapshots.filter((s) => s !== m.leo), m.leo].sort((a, b) => a - b).slice(-2);
      }
      const next = await openSystem(sys.dir, m.hw);
      m.follower = 0;
      m.reload();
      return next;
    }
    case 'check': {
      const start = Math.floor(cmd.a * (m.leo + 1));
      const upper = start + Math.floor(cmd.b * (m.leo - start + 1));
      const got = collectAbortedTransactions(sys.log.logSegments(), start, upper).map((t) => ({ pid: t.producerId, first: t.firstOffset, last: t.lastOffset, lastStableOffset: t.lastStableOffset }));
      const want = m.aborted(start, upper).map((t) => ({ pid: t.pid, first: t.first, last: t.last, lastStableOffset: t.lastStableOffset }));
      expect(got).toEqual(want);
      const from = Math.floor(cmd.c * (m.lso() + 1));
      expect(await consumeCommitted(sys.log, from)).toEqual(m.committedFrom(from));
      return sys;
    }
  }
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('transactions on a partition against a reference model', () => {
  it(
    'LSO, aborted-transaction index and read_committed reads match the model after every step',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(cmdArb, { minLength: 10, maxLength: 60, size: 'max' }), async (cmds) => {
          const dir = tempDir('samsa-txn-model-');
          dirs.push(dir);
          const m = new Model();
          let sys = await openSystem(dir, 0);
          try {
            for (const cmd of cmds) {
              sys = await step(sys, m, cmd);
              expect(sys.log.logEndOffset).toBe(m.leo);
              expect(sys.log.highWatermark).toBe(m.hw);
              expect(sys.log.lastStableOffset).toBe(m.lso());
            }
            // A last full check over the whole log.
            await step(sys, m, { kind: 'check', a: 0, b: 1, c: 0 });
          } finally {
            await sys.log.close().catch(() => undefined);
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        {
          numRuns: RUNS,
          examples: [
            // A transaction committed above the high watermark holds the LSO at its first offset until the marker is replicated.
            [[{ kind: 'txn', pid: 1n, count: 2 }, { kind: 'hw', frac: 1 }, { kind: 'marker', pid: 1n, commit: false, coordinatorEpoch: 0 }, { kind: 'check', a: 0, b: 1, c: 0 }, { kind: 'hw', frac: 1 }]],
          ],
        },
      );
    },
    240_000,
  );
});
