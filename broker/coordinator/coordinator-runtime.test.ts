import { describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import pino from 'pino';
import { CoordinatorRuntime, type CoordinatorShard, type ShardContext } from './coordinator-runtime.ts';
import { CoordinatorWriteError, type LoadedRecord, MemoryPartitionLog } from './partition-log.ts';
import { SnapshotRegistry, TimelineMap } from './timeline.ts';

// A key-value shard: records are (key, value|null); state is a TimelineMap.
interface KvRecord {
  key: string;
  value: string | null;
}

class KvShard implements CoordinatorShard<KvRecord> {
  readonly kv: TimelineMap<string, string>;
  loadedCalls = 0;
  unloadedCalls = 0;
  constructor(readonly ctx: ShardContext<KvRecord, KvShard>) {
    this.kv = new TimelineMap(ctx.registry);
  }
  replay(r: KvRecord): void {
    if (r.value === null) this.kv.delete(r.key);
    else this.kv.set(r.key, r.value);
  }
  onLoaded(): void {
    this.loadedCalls++;
  }
  onUnloaded(): void {
    this.unloadedCalls++;
  }
}

const serde = {
  serialize: (r: KvRecord) => ({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) }),
  deserialize: (e: LoadedRecord) =>
    e.kind === 'record' ? { key: e.key.toString(), value: e.value === null ? null : e.value.toString() } : null,
};

function setup() {
  const scheduler = new ManualScheduler();
  const log = new MemoryPartitionLog();
  const shards: KvShard[] = [];
  const runtime = new CoordinatorRuntime<KvRecord, KvShard>({
    name: 'kv',
    log,
    serde,
    newShard: (ctx) => {
      const s = new KvShard(ctx);
      shards.push(s);
      return s;
    },
    scheduler,
    logger: pino({ level: 'silent' }),
  });
  return { scheduler, log, runtime, shards };
}

const put = (key: string, value: string | null) => (s: KvShard) => ({ records: [{ key, value }], response: s.kv.get(key) ?? null });
const flush = () => new Promise((r) => setImmediate(r));

function codeOf(p: Promise<unknown>): Promise<number> {
  return p.then(
    () => ErrorCode.NONE,
    (err: unknown) => (err instanceof KafkaError ? err.errorCode : -999),
  );
}

describe('CoordinatorRuntime', () => {
  it('answers NOT_COORDINATOR for partitions it does not lead and COORDINATOR_LOAD_IN_PROGRESS while loading', async () => {
    const { runtime, log } = setup();
    expect(await codeOf(runtime.write(0, 'put', put('a', '1')))).toBe(ErrorCode.NOT_COORDINATOR);
    log.appendLoaded(0, { kind: 'record', producerId: -1n, transactional: false, key: Buffer.from('a'), value: Buffer.from('1') });
    let release!: () => void;
    log.beforeChunk = () => new Promise<void>((r) => (release = r));
    const loaded = runtime.elect(0, 5);
    expect(() => runtime.read(0, (s) => s.kv.get('a'))).toThrow(expect.objectContaining({ errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS }));
    await flush();
    release();
    await loaded;
    expect(runtime.read(0, (s) => s.kv.get('a'))).toBe('1');
  });

  it('loads by replaying the log, tombstones included, and calls onLoaded once', async () => {
    const { runtime, log, shards } = setup();
    for (const [k, v] of [['a', '1'], ['b', '2'], ['a', null], ['c', '3'], ['b', '4']] as const) {
      log.appendLoaded(3, { kind: 'record', producerId: -1n, transactional: false, key: Buffer.from(k), value: v === null ? null : Buffer.from(v) });
    }
    await runtime.elect(3, 1);
    expect([...runtime.read(3, (s) => s.kv.entries())].sort()).toEqual([['b', '4'], ['c', '3']]);
    expect(shards[0]!.loadedCalls).toBe(1);
  });

  it('applies a write through replay, appends its records and answers once they are committed', async () => {
    const { runtime, log } = setup();
    await runtime.elect(0, 1);
    log.holdCommits = true;
    let answered = false;
    const w = runtime.write(0, 'put', put('a', '1')).then((r) => ((answered = true), r));
    // Applied at once: a following op sees it.
    expect(runtime.read(0, (s) => s.kv.get('a'))).toBe('1');
    await flush();
    expect(log.endOffset(0)).toBe(1);
    expect(answered).toBe(false);
    log.releaseCommits();
    expect(await w).toBeNull();
    // A write without records waits for the writes before it.
    const w2 = runtime.write(0, 'put', put('b', '2'));
    const w3 = runtime.write(0, 'noop', () => ({ records: [], response: 'done' }));
    let w3done = false;
    void w3.then(() => (w3done = true));
    await flush();
    expect(w3done).toBe(false);
    log.releaseCommits();
    await w2;
    expect(await w3).toBe('done');
  });

  it('rolls a failed append back, and fails the writes chained after it, but not later ones', async () => {
    const { runtime, log } = setup();
    await runtime.elect(0, 1);
    await runtime.write(0, 'put', put('a', '1'));
    log.failAppendsWith = ErrorCode.NOT_ENOUGH_REPLICAS;
    const w1 = codeOf(runtime.write(0, 'put', put('a', '2')));
    const w2 = codeOf(runtime.write(0, 'put', put('b', '3')));
    expect(runtime.read(0, (s) => s.kv.get('a'))).toBe('2');
    expect(await w1).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(await w2).toBe(ErrorCode.NOT_COORDINATOR);
    expect(runtime.read(0, (s) => [s.kv.get('a'), s.kv.get('b')])).toEqual(['1', undefined]);
    log.failAppendsWith = null;
    expect(await codeOf(runtime.write(0, 'put', put('b', '4')))).toBe(ErrorCode.NONE);
    expect(runtime.read(0, (s) => s.kv.get('b'))).toBe('4');
    expect(log.endOffset(0)).toBe(2);
  });

  it('an op that throws fails its request only and leaves no change behind', async () => {
    const { runtime } = setup();
    await runtime.elect(0, 1);
    const bad = runtime.write(0, 'bad', (s) => {
      s.kv.set('x', 'half');
      throw new Error('boom');
    });
    await expect(bad).rejects.toThrow('boom');
    expect(runtime.read(0, (s) => s.kv.has('x'))).toBe(false);
    expect(await codeOf(runtime.write(0, 'put', put('y', '1')))).toBe(ErrorCode.NONE);
  });

  it('a write whose commit fails is answered with the mapped error', async () => {
    const { runtime, log } = setup();
    await runtime.elect(0, 1);
    log.failCommitsWith = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    expect(await codeOf(runtime.write(0, 'put', put('a', '1')))).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('unloading mid-write answers the write NOT_COORDINATOR and cancels the shard timers', async () => {
    const { runtime, log, scheduler, shards } = setup();
    await runtime.elect(0, 1);
    let fired = 0;
    shards[0]!.ctx.timers.schedule('t', 1000, () => fired++);
    shards[0]!.ctx.timers.every('e', 100, () => fired++);
    log.holdCommits = true;
    const w = codeOf(runtime.write(0, 'put', put('a', '1')));
    await flush();
    runtime.resign(0, 1);
    expect(await w).toBe(ErrorCode.NOT_COORDINATOR);
    log.releaseCommits();
    scheduler.advance(5000);
    expect(fired).toBe(0);
    expect(scheduler.pending).toBe(0);
    expect(shards[0]!.unloadedCalls).toBe(1);
    expect(await codeOf(runtime.write(0, 'put', put('a', '1')))).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('shard timers are keyed, fire in the shard scope and their failures are contained', async () => {
    const { runtime, scheduler, shards } = setup();
    await runtime.elect(0, 1);
    await runtime.elect(1, 1);
    const [s0, s1] = shards as [KvShard, KvShard];
    const fired: string[] = [];
    s0.ctx.timers.schedule('k', 100, () => fired.push('first'));
    s0.ctx.timers.schedule('k', 200, () => fired.push('second'));
    s1.ctx.timers.schedule('k', 50, () => {
      throw new Error('timer bug');
    });
    s0.ctx.timers.schedule('w', 300, () => s0.ctx.write('timer-put', put('t', 'x')));
    scheduler.advance(1000);
    await flush();
    expect(fired).toEqual(['second']);
    expect(scheduler.failures.map((f) => [f.scope.unit, f.scope.context?.partition])).toEqual([['kv-shard', 1]]);
    expect(runtime.read(0, (s) => s.kv.get('t'))).toBe('x');
    // Partition 1 still serves.
    expect(await codeOf(runtime.write(1, 'put', put('a', '1')))).toBe(ErrorCode.NONE);
  });

  it('follows leadership: a newer epoch reloads from the log, an older one is ignored, a failed load gives the partition up', async () => {
    const { runtime, log, shards } = setup();
    await runtime.elect(0, 1);
    await runtime.write(0, 'put', put('a', '1'));
    await runtime.elect(0, 1);
    expect(shards.length).toBe(1);
    await runtime.elect(0, 2);
    expect(shards.length).toBe(2);
    expect(runtime.read(0, (s) => s.kv.get('a'))).toBe('1');
    runtime.resign(0, 1); // a stale resignation
    expect(runtime.partitions().get(0)).toEqual({ epoch: 2, loading: false });
    log.beforeChunk = () => {
      throw new Error('disk gone');
    };
    await runtime.elect(0, 3);
    expect(runtime.partitions().has(0)).toBe(false);
    expect(await codeOf(runtime.write(0, 'put', put('a', '2')))).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('a resignation while loading abandons the load', async () => {
    const { runtime, log, shards } = setup();
    log.appendLoaded(0, { kind: 'record', producerId: -1n, transactional: false, key: Buffer.from('a'), value: Buffer.from('1') });
    let release!: () => void;
    log.beforeChunk = () => new Promise<void>((r) => (release = r));
    const loaded = runtime.elect(0, 1);
    await flush();
    runtime.resign(0);
    release();
    await loaded;
    expect(shards[0]!.loadedCalls).toBe(0);
    expect(runtime.partitions().size).toBe(0);
  });

  it('records appended by others are replayed: at once when loaded, after the load unless it read them', async () => {
    const { runtime, log } = setup();
    const rec = (key: string, value: string): Extract<LoadedRecord, { kind: 'record' }> => ({ kind: 'record', offset: log.endOffset(0), producerId: -1n, transactional: false, key: Buffer.from(key), value: Buffer.from(value) });
    const first = rec('a', '1');
    log.appendLoaded(0, first);
    let release!: () => void;
    log.beforeChunk = () => new Promise<void>((r) => (release = r));
    const loaded = runtime.elect(0, 1);
    await flush();
    // Read by the load already (offset 0), and one the load will not see (offset 5).
    runtime.replayAppended(0, { ...first, value: Buffer.from('stale') });
    runtime.replayAppended(0, { ...rec('b', '2'), offset: 5 });
    release();
    await loaded;
    expect(runtime.read(0, (s) => [s.kv.get('a'), s.kv.get('b')])).toEqual(['1', '2']);
    runtime.replayAppended(0, rec('c', '3'));
    expect(runtime.read(0, (s) => s.kv.get('c'))).toBe('3');
    runtime.replayAppended(7, rec('d', '4')); // a partition not here: ignored
  });

  it('a write with a producer is appended as that producer\'s transactional batch', async () => {
    const { runtime, log } = setup();
    await runtime.elect(0, 1);
    await runtime.write(0, 'put', (s) => ({ ...put('a', '1')(s), producer: { producerId: 9n, producerEpoch: 2 } }));
    expect(log.partitions.get(0)![0]).toMatchObject({ kind: 'record', producerId: 9n, transactional: true });
  });

  it('a failed write tells the log\'s own error beside the answer', async () => {
    const { runtime, log } = setup();
    await runtime.elect(0, 1);
    log.failAppendsWith = ErrorCode.MESSAGE_TOO_LARGE;
    const err = await runtime.write(0, 'put', put('a', '1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoordinatorWriteError);
    expect(err).toMatchObject({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, appendErrorCode: ErrorCode.MESSAGE_TOO_LARGE });
  });
});

describe('TimelineMap committed reads', () => {
  it('reads the committed value of a key while later writes wait, and forgets them once committed or undone', () => {
    const registry = new SnapshotRegistry();
    const m = new TimelineMap<string, number>(registry);
    m.set('a', 1); // outside a write: committed (a load)
    registry.begin(1);
    m.set('a', 2);
    m.set('b', 1);
    registry.end();
    registry.begin(2);
    m.set('a', 3);
    m.delete('b');
    registry.end();
    expect([m.get('a'), m.getCommitted('a'), m.hasUncommitted('a')]).toEqual([3, 1, true]);
    expect([m.get('b'), m.getCommitted('b')]).toEqual([undefined, undefined]);
    expect(m.committedEntries()).toEqual([['a', 1]]);
    registry.commitUpTo(1);
    expect([m.getCommitted('a'), m.getCommitted('b')]).toEqual([2, 1]);
    expect(m.committedEntries().sort()).toEqual([['a', 2], ['b', 1]]);
    registry.revertTo(2);
    expect([m.get('a'), m.get('b'), m.hasUncommitted('a'), m.hasUncommitted('b')]).toEqual([2, 1, false, false]);
    registry.begin(3);
    m.clear();
    registry.end();
    expect([m.size, m.getCommitted('a'), m.getCommitted('b')]).toEqual([0, 2, 1]);
    registry.commitUpTo(3);
    expect([m.getCommitted('a'), m.committedEntries()]).toEqual([undefined, []]);
  });
});
