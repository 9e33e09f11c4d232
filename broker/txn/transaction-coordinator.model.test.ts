// Model-based test of the transaction coordinator: random sequences of InitProducerId (fresh or
// KIP-360 with the producer's id and epoch), AddPartitions, AddOffsets, EndTxn(commit|abort) from
// the current producer or a zombie, timeouts, markers held back and released, and coordinator
// reloads, on a virtual clock, against a reference model of Kafka's transitions and errors; now
// and then a call's write fails to append, which must leave no trace.
// After every step: the answer matches the model's, the coordinator's state matches the model's
// and equals the state rebuilt by replaying the log (no change without a record), epochs never
// go down, a fenced producer stays fenced, and every completed transaction had its markers sent
// to every one of its partitions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { decodeTxnRecord, type TxnMetadata, TxnState, txnStateName } from './transaction-log.ts';
import { settle, txnHarness } from './txn-test-support.ts';

const IDS = ['t0', 't1'];
const TOPICS = [
  { topic: 'a', partition: 0 },
  { topic: 'a', partition: 1 },
  { topic: 'b', partition: 0 },
];
const OFFSETS = { topic: '__consumer_offsets', partition: 7 };
const TIMEOUT_MS = 20_000;
const ABORT_INTERVAL_MS = 10_000;

type Creds = 'current' | 'zombie';
type Cmd =
  | { op: 'init'; id: string; recover: boolean; failWrite: boolean }
  | { op: 'add'; id: string; who: Creds; parts: number[]; failWrite: boolean }
  | { op: 'offsets'; id: string; who: Creds; failWrite: boolean }
  | { op: 'end'; id: string; who: Creds; commit: boolean; failWrite: boolean }
  | { op: 'timeout' }
  | { op: 'hold' }
  | { op: 'release' }
  | { op: 'reload' };

const id = fc.constantFrom(...IDS);
const who = fc.constantFrom<Creds>('current', 'current', 'zombie');
// Now and then the op's write fails to append (NOT_ENOUGH_REPLICAS): answered
// COORDINATOR_NOT_AVAILABLE, and the state must be as before.
const failWrite = fc.integer({ min: 0, max: 9 }).map((n) => n < 2);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('init' as const), id, recover: fc.boolean(), failWrite }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), id, who, parts: fc.subarray([0, 1, 2], { minLength: 1 }), failWrite }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('offsets' as const), id, who, failWrite }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('end' as const), id, who, commit: fc.boolean(), failWrite }) },
  { weight: 1, arbitrary: fc.constant({ op: 'timeout' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'hold' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'release' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reload' as const }) },
);

/** The reference: Kafka's transitions, one call at a time. */
interface ModelTxn {
  pid: bigint;
  epoch: number;
  lastEpoch: number;
  state: TxnState;
  parts: Set<string>;
  start: number;
}

const key = (p: { topic: string; partition: number }) => `${p.topic}-${p.partition}`;

class Model {
  txns = new Map<string, ModelTxn>();
  nextPid = 1000n;
  /** Whether markers are held (prepared transactions stay prepared). */
  hold = false;

  private finishPrepared(): void {
    if (this.hold) return;
    for (const t of this.txns.values()) {
      if (t.state === TxnState.PrepareCommit) ((t.state = TxnState.CompleteCommit), (t.parts = new Set()));
      if (t.state === TxnState.PrepareAbort) ((t.state = TxnState.CompleteAbort), (t.parts = new Set()));
    }
  }

  init(id: string, expected: { pid: bigint; epoch: number } | null): { code: number; pid?: bigint; epoch?: number } {
    let t = this.txns.get(id);
    if (!t) {
      t = { pid: this.nextPid++, epoch: -1, lastEpoch: -1, state: TxnState.Empty, parts: new Set(), start: -1 };
      this.txns.set(id, t);
    }
    if (expected && !(t.epoch === -1 || expected.pid === t.pid)) return { code: ErrorCode.PRODUCER_FENCED };
    let out: { code: number; pid?: bigint; epoch?: number };
    switch (t.state) {
      case TxnState.PrepareAbort:
      case TxnState.PrepareCommit:
        return { code: ErrorCode.CONCURRENT_TRANSACTIONS };
      case TxnState.Ongoing:
        t.epoch++;
        t.lastEpoch = -1;
        t.state = TxnState.PrepareAbort;
        out = { code: ErrorCode.CONCURRENT_TRANSACTIONS };
        break;
      default:
        if (!expected) [t.epoch, t.lastEpoch] = [t.epoch + 1, -1];
        else if (t.epoch === -1 || expected.epoch === t.epoch) [t.epoch, t.lastEpoch] = [t.epoch + 1, t.epoch];
        else if (expected.epoch !== t.lastEpoch) return { code: ErrorCode.PRODUCER_FENCED };
        t.state = TxnState.Empty;
        t.parts = new Set();
        t.start = -1;
        out = { code: ErrorCode.NONE, pid: t.pid, epoch: t.epoch };
    }
    this.finishPrepared();
    return out;
  }

  add(id: string, pid: bigint, epoch: number, parts: string[], now: number): number {
    const t = this.txns.get(id);
    if (!t || t.pid !== pid) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (t.epoch !== epoch) return ErrorCode.PRODUCER_FENCED;
    if (t.state === TxnState.PrepareAbort || t.state === TxnState.PrepareCommit) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (t.state !== TxnState.Ongoing) ((t.parts = new Set()), (t.start = now));
    t.state = TxnState.Ongoing;
    for (const p of parts) t.parts.add(p);
    return ErrorCode.NONE;
  }

  end(id: string, pid: bigint, epoch: number, commit: boolean): number {
    const t = this.txns.get(id);
    if (!t || t.pid !== pid) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (epoch !== t.epoch) return ErrorCode.PRODUCER_FENCED;
    const S = TxnState;
    switch (t.state) {
      case S.Ongoing:
        t.state = commit ? S.PrepareCommit : S.PrepareAbort;
        this.finishPrepared();
        return ErrorCode.NONE;
      case S.CompleteCommit:
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case S.CompleteAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case S.PrepareCommit:
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case S.PrepareAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
  }

  timeout(now: number): void {
    for (const t of this.txns.values()) {
      if (t.state === TxnState.Ongoing && t.start + TIMEOUT_MS < now) {
        t.epoch++;
        t.lastEpoch = -1;
        t.state = TxnState.PrepareAbort;
      }
    }
    this.finishPrepared();
  }

  snapshot(): Map<string, ModelTxn> {
    return new Map([...this.txns].map(([k, t]) => [k, { ...t, parts: new Set(t.parts) }]));
  }

  release(): void {
    this.hold = false;
    this.finishPrepared();
  }

  reload(): void {
    for (const t of this.txns.values()) t.lastEpoch = -1;
    this.finishPrepared();
  }
}

async function run(cmds: Cmd[]): Promise<void> {
  const h = txnHarness({ abortTimedOutTransactionsIntervalMs: ABORT_INTERVAL_MS });
  const { coordinator, scheduler, log, markers } = h;
  let epoch = 1;
  await coordinator.elect(0, epoch);
  const model = new Model();
  // What each id's producer holds (its last successful InitProducerId), and the one before.
  const current = new Map<string, { pid: bigint; epoch: number }>();
  const zombie = new Map<string, { pid: bigint; epoch: number }>();
  const maxEpoch = new Map<string, number>();
  const creds = (id: string, w: Creds) => (w === 'current' ? current.get(id) : zombie.get(id)) ?? { pid: 999n, epoch: 0 };

  for (const c of cmds) {
    const now = scheduler.now();
    const before = model.snapshot();
    const stateOf = (id: string) => before.get(id)?.state;
    /** Whether the model's answer came with a write; if that write is made to fail, the model goes back. */
    const failed = (wrote: boolean): boolean => {
      if (!('failWrite' in c) || !c.failWrite || !wrote) return false;
      model.txns = before;
      return true;
    };
    if ('failWrite' in c && c.failWrite) log.failAppendsWith = ErrorCode.NOT_ENOUGH_REPLICAS;
    switch (c.op) {
      case 'init': {
        const mine = current.get(c.id);
        const expected = c.recover && mine ? mine : null;
        const want = model.init(c.id, expected ? { pid: expected.pid, epoch: expected.epoch } : null);
        if (failed(want.code === ErrorCode.NONE || (want.code === ErrorCode.CONCURRENT_TRANSACTIONS && stateOf(c.id) === TxnState.Ongoing))) want.code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
        const got = await coordinator.initProducerId(c.id, TIMEOUT_MS, expected ? { producerId: expected.pid, producerEpoch: expected.epoch } : null);
        expect(got.errorCode, `init ${c.id}`).toBe(want.code);
        if (want.code === ErrorCode.NONE) {
          expect([got.producerId, got.producerEpoch]).toEqual([want.pid, want.epoch]);
          if (mine && (mine.pid !== got.producerId || mine.epoch !== got.producerEpoch)) zombie.set(c.id, mine);
          current.set(c.id, { pid: got.producerId, epoch: got.producerEpoch });
        }
        break;
      }
      case 'add':
      case 'offsets': {
        const cr = creds(c.id, c.who);
        const parts = c.op === 'add' ? c.parts.map((i) => TOPICS[i]!) : [OFFSETS];
        const subset = stateOf(c.id) === TxnState.Ongoing && parts.every((x) => before.get(c.id)!.parts.has(key(x)));
        let want = model.add(c.id, cr.pid, cr.epoch, parts.map(key), now);
        if (failed(want === ErrorCode.NONE && !subset)) want = ErrorCode.COORDINATOR_NOT_AVAILABLE;
        const got = await coordinator.addPartitions(c.id, cr.pid, cr.epoch, parts);
        expect(got, `${c.op} ${c.id} as ${c.who}`).toBe(want);
        if (c.who === 'zombie' && zombie.has(c.id)) expect(got).not.toBe(ErrorCode.NONE);
        break;
      }
      case 'end': {
        const cr = creds(c.id, c.who);
        let want = model.end(c.id, cr.pid, cr.epoch, c.commit);
        if (failed(want === ErrorCode.NONE && stateOf(c.id) === TxnState.Ongoing)) want = ErrorCode.COORDINATOR_NOT_AVAILABLE;
        const got = await coordinator.endTxn(c.id, cr.pid, cr.epoch, c.commit);
        expect(got, `end ${c.id} as ${c.who} commit=${c.commit}`).toBe(want);
        if (c.who === 'zombie' && zombie.has(c.id)) expect(got).not.toBe(ErrorCode.NONE);
        break;
      }
      case 'timeout':
        // Past every timeout, in steps of the check interval so each check runs.
        for (let i = 0; i < 3; i++) {
          scheduler.advance(ABORT_INTERVAL_MS);
          await settle();
        }
        model.timeout(scheduler.now());
        break;
      case 'hold':
        markers.hold = true;
        model.hold = true;
        break;
      case 'release':
        markers.hold = false;
        markers.release();
        model.release();
        break;
      case 'reload':
        coordinator.resign(0);
        await coordinator.elect(0, ++epoch);
        // The markers of prepared transactions are sent again by the new shard.
        markers.hold = false;
        markers.release();
        model.hold = false;
        model.reload();
        break;
    }
    log.failAppendsWith = null;
    await settle();
    // The model's fenced producers: an init that bumped the epoch past what the producer holds.
    for (const [id, t] of model.txns) {
      const cur = current.get(id);
      if (cur && cur.pid === t.pid && cur.epoch < t.epoch) {
        zombie.set(id, cur);
        current.set(id, { pid: t.pid, epoch: t.epoch });
      }
    }

    // State equals the model's.
    const actual = coordinator.runtime.read(0, (s) => new Map(s.txns.entries()));
    for (const [id, t] of model.txns) {
      if (t.epoch === -1) continue; // never written (the write failed or was refused)
      const m = actual.get(id);
      expect(m, `state of ${id}`).toBeDefined();
      expect([txnStateName(m!.state), m!.producerId, m!.producerEpoch, m!.partitions.map(key).sort()], `state of ${id}`).toEqual([
        txnStateName(t.state),
        t.pid,
        t.epoch,
        [...t.parts].sort(),
      ]);
      // Epochs never go down for a producer id.
      const k = `${id}/${t.pid}`;
      expect(t.epoch).toBeGreaterThanOrEqual(maxEpoch.get(k) ?? -1);
      maxEpoch.set(k, t.epoch);
    }

    // The state is what replaying the log gives.
    const replayed = new Map<string, TxnMetadata>();
    const prepared = new Map<string, TxnMetadata>();
    for (const e of log.partitions.get(0) ?? []) {
      if (e.kind !== 'record') continue;
      const r = decodeTxnRecord(e.key, e.value)!;
      if (r.metadata === null) {
        replayed.delete(r.transactionalId);
        continue;
      }
      replayed.set(r.transactionalId, r.metadata);
      const m = r.metadata;
      if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) prepared.set(m.transactionalId, m);
      if (m.state === TxnState.CompleteCommit || m.state === TxnState.CompleteAbort) {
        // Every completed transaction had its markers sent to each of its partitions.
        const p = prepared.get(m.transactionalId)!;
        const commit = m.state === TxnState.CompleteCommit;
        const sent = markers.sent.filter((s) => s.transactionalId === m.transactionalId && s.producerId === p.producerId && s.producerEpoch === p.producerEpoch && s.commit === commit);
        expect(sent.length, `markers of ${m.transactionalId}`).toBeGreaterThan(0);
        expect(sent.some((s) => p.partitions.every((q) => s.partitions.some((x) => key(x) === key(q))))).toBe(true);
      }
    }
    expect([...replayed.keys()].sort()).toEqual([...actual.keys()].sort());
    for (const [id, m] of actual) {
      const r = replayed.get(id)!;
      expect({ ...r, lastProducerEpoch: 0, lastProducerId: 0n }).toEqual({ ...m, lastProducerEpoch: 0, lastProducerId: 0n });
    }
  }
}

describe('transaction coordinator against a model of Kafka', () => {
  it('random sequences of calls, timeouts and reloads', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 40 }), (cmds) => run(cmds)),
      { numRuns: 150 },
    );
  }, 120_000);
});
