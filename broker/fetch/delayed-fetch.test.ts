import { describe, expect, it } from 'vitest';
import { type DelayedFetchOutcome, DelayedFetchPurgatory, type Timer } from './delayed-fetch.ts';

/** A manual timer: time moves only when the test says so. */
function fakeTimer() {
  let now = 0;
  let nextId = 1;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timer: Timer = {
    setTimeout(fn, ms) {
      const id = nextId++;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(h) {
      pending.delete(h as number);
    },
  };
  return {
    timer,
    pending: () => pending.size,
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now) {
          pending.delete(id);
          t.fn();
        }
      }
    },
  };
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
    const p = new DelayedFetchPurgatory({ timer: t.timer });
    expect(await p.wait(['a-0'], 500, () => true)).toBe('ready');
    expect(p.waiting).toBe(0);
    expect(t.pending()).toBe(0);
  });

  it('is woken by a notify on a watched key once ready, and not by other keys', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ timer: t.timer });
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
    const p = new DelayedFetchPurgatory({ timer: t.timer });
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
    const p = new DelayedFetchPurgatory({ timer: t.timer, maxWaiting: 2 });
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
    const p = new DelayedFetchPurgatory({ timer: t.timer });
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
    const p = new DelayedFetchPurgatory({ timer: t.timer });
    const a = track(p.wait(['a-0'], 500, () => false));
    p.shutdown();
    await flush();
    expect(a.outcome).toBe('shutdown');
    expect(t.pending()).toBe(0);
    expect(await p.wait(['a-0'], 500, () => false)).toBe('shutdown');
  });

  it('a ready check that throws completes the fetch instead of hanging it', async () => {
    const t = fakeTimer();
    const p = new DelayedFetchPurgatory({ timer: t.timer });
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
});
