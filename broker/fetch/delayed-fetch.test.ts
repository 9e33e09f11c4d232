import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { type DelayedFetchOutcome, DelayedFetchPurgatory, followerWaker, followerWakeKey } from './delayed-fetch.ts';

/** A manual clock: time moves only when the test says so. */
function fakeTimer() {
  const timer = new ManualScheduler({ startMs: 0 });
  return { timer, pending: () => timer.pending, advance: (ms: number) => timer.advance(ms) };
}

function track(p: Promise<DelayedFetchOutcome>) {
  const state: { outcome?: DelayedFetchOutcome } = {};
  void p.then((o) => (state.outcome = o));
  return state;
}

const flush = () => new Promise((r) => setImmediate(r));

describe('DelayedFetchPurgatory', () => {
  it('completes at once when ready before watching', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ scheduler: t.timer });
    expect(await p.wait(['a-0'], 500, () => true)).toBe('ready');
    expect(p.waiting).toBe(0);
    expect(t.pending()).toBe(0);
  });

  it('wake answers the fetches watching a key at once, ready or not, and leaves the others waiting', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ scheduler: t.timer });
    const follower2 = track(p.wait(['a-0', followerWakeKey(2)], 500, () => false));
    const follower3 = track(p.wait(['a-0', followerWakeKey(3)], 500, () => false));
    p.notify(followerWakeKey(2));
    await flush();
    expect(follower2.outcome).toBeUndefined();
    p.wake(followerWakeKey(2));
    await flush();
    expect(follower2.outcome).toBe('ready');
    expect(follower3.outcome).toBeUndefined();
    expect(p.waiting).toBe(1);
    expect(t.pending()).toBe(1);
    t.advance(500);
    await flush();
    expect(follower3.outcome).toBe('expired');
    expect(p.watchedKeys).toBe(0);
  });

  it("wakes a partition's followers' waiting fetches once per leader epoch this broker gains, never as follower", async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ scheduler: t.timer });
    const onChange = followerWaker(p, 1);
    const partition = { isLeader: false, leaderEpoch: 4, replicas: [1, 2, 3] };
    const wait = (replica: number) => track(p.wait(['t-0', followerWakeKey(replica)], 500, () => false));
    const first = [wait(2), wait(3), wait(4)];
    onChange(partition);
    await flush();
    expect(first.map((s) => s.outcome)).toEqual([undefined, undefined, undefined]);
    partition.isLeader = true;
    onChange(partition);
    await flush();
    // Replica 4 is not one of the partition's: its fetch waits on.
    expect(first.map((s) => s.outcome)).toEqual(['ready', 'ready', undefined]);
    // Appends in the same epoch wake nobody; a later epoch does.
    const second = wait(2);
    onChange(partition);
    await flush();
    expect(second.outcome).toBeUndefined();
    partition.leaderEpoch = 5;
    onChange(partition);
    await flush();
    expect(second.outcome).toBe('ready');
  });

  it('is woken by a notify on a watched key once ready, and not by other keys', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ scheduler: t.timer });
    let bytes = 0;
    let checks = 0;
    const s = track(
      p.wait(['a-0', 'a-1'], 500, () => {
        checks++;
        return bytes >= 10;
      }),
    );
    expect(p.waiting).toBe(1);
    bytes = 20;
    p.notify('b-0');
    await flush();
    expect(s.outcome).toBeUndefined();
    expect(checks).toBe(1);
    p.notify('a-1');
    await flush();
    expect(s.outcome).toBe('ready');
    expect(p.waiting).toBe(0);
    expect(p.watchedKeys).toBe(0);
    expect(t.pending()).toBe(0);
  });

  it('stays waiting while not enough bytes arrived, then expires after maxWaitMs', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ scheduler: t.timer });
    const s = track(p.wait(['a-0'], 500, () => false));
    p.notify('a-0');
    t.advance(499);
    await flush();
    expect(s.outcome).toBeUndefined();
    t.advance(1);
    await flush();
    expect(s.outcome).toBe('expired');
    expect(p.watchedKeys).toBe(0);
    // A later notify finds nothing to do.
    p.notify('a-0');
    expect(p.waiting).toBe(0);
  });

  it('bounds the number of waiting fetches', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ scheduler: t.timer, maxWaiting: 2 });
    const a = track(p.wait(['a-0'], 500, () => false));
    const b = track(p.wait(['a-0'], 500, () => false));
    expect(await p.wait(['a-0'], 500, () => false)).toBe('refused');
    expect(p.waiting).toBe(2);
    t.advance(500);
    await flush();
    expect([a.outcome, b.outcome]).toEqual(['expired', 'expired']);
    expect(p.waiting).toBe(0);
  });

  it('wakes each ready fetch once, even when watched under several notified keys', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ scheduler: t.timer });
    let resolved = 0;
    void p.wait(['a-0', 'a-1'], 500, () => true === (resolved >= 0)).then(() => resolved++);
    // ready() was true at once: completes without watching.
    await flush();
    expect(resolved).toBe(1);
    let ready = false;
    void p.wait(['a-0', 'a-1'], 500, () => ready).then(() => resolved++);
    ready = true;
    p.notify('a-0');
    p.notify('a-1');
    await flush();
    expect(resolved).toBe(2);
    expect(p.waiting).toBe(0);
  });

  it('shutdown completes every waiting fetch and refuses new waits', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ scheduler: t.timer });
    const a = track(p.wait(['a-0'], 500, () => false));
    p.shutdown();
    await flush();
    expect(a.outcome).toBe('shutdown');
    expect(t.pending()).toBe(0);
    expect(await p.wait(['a-0'], 500, () => false)).toBe('shutdown');
  });

  it('a ready check that throws completes the fetch instead of hanging it', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ scheduler: t.timer });
    let fail = false;
    const s = track(
      p.wait(['a-0'], 500, () => {
        if (fail) throw new Error('partition went away');
        return false;
      }),
    );
    fail = true;
    p.notify('a-0');
    await flush();
    expect(s.outcome).toBe('ready');
  });

  it('answers a fetch whose expiry failed inside the seam, and keeps serving the others', async () => {
    const timer = new ManualScheduler({ startMs: 0, faults: (scope) => (scope.unit === 'fetch-wait' && (scope.context?.partitions as string[]).includes('bad-0') ? new Error('injected') : undefined) });
    const p = new DelayedFetchPurgatory({ scheduler: timer });
    const bad = track(p.wait(['bad-0'], 100, () => false));
    const good = track(p.wait(['good-0'], 100, () => false));
    timer.advance(100);
    await flush();
    expect(bad.outcome).toBe('expired');
    expect(good.outcome).toBe('expired');
    expect(timer.failures).toHaveLength(1);
    expect(p.waiting).toBe(0);
    expect(p.watchedKeys).toBe(0);
  });
});
