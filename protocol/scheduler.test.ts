import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FatalError, ManualScheduler, type Scope, SystemScheduler } from './scheduler.ts';

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('ManualScheduler', () => {
  it('fires timers in deadline order, ties in scheduling order, each at its deadline', () => {
    const s = new ManualScheduler({ startMs: 0 });
    const seen: string[] = [];
    const scope: Scope = { unit: 'test' };
    s.schedule(20, scope, () => seen.push(`b@${s.now()}`));
    s.schedule(10, scope, () => seen.push(`a@${s.now()}`));
    s.schedule(20, scope, () => seen.push(`c@${s.now()}`));
    const cancelled = s.schedule(15, scope, () => seen.push('never'));
    cancelled.cancel();
    s.advance(25);
    expect(seen).toEqual(['a@10', 'b@20', 'c@20']);
    expect(s.now()).toBe(25);
  });

  it('repeats `every` and skips ticks while an asynchronous run is pending', async () => {
    const s = new ManualScheduler({ startMs: 0 });
    let runs = 0;
    let release!: () => void;
    const h = s.every(10, { unit: 'test' }, () => {
      runs++;
      return new Promise<void>((r) => (release = r));
    });
    s.advance(35);
    expect(runs).toBe(1);
    release();
    await Promise.resolve();
    await Promise.resolve();
    s.advance(10);
    expect(runs).toBe(2);
    h.cancel();
    s.advance(100);
    expect(runs).toBe(2);
  });

  it('contains a throw and a rejection to the unit: logged with context, onFailure called, later timers still fire', async () => {
    const { logger, lines } = recordingLogger();
    const s = new ManualScheduler({ logger, startMs: 0 });
    const failed: unknown[] = [];
    const scope: Scope = { unit: 'group', context: { group: 'g1' }, onFailure: (e) => failed.push(e) };
    let later = false;
    s.schedule(1, scope, () => {
      throw new Error('boom');
    });
    s.schedule(2, scope, () => Promise.reject(new Error('async boom')));
    s.schedule(3, { unit: 'other' }, () => void (later = true));
    s.advance(5);
    await new Promise((r) => setImmediate(r));
    expect(later).toBe(true);
    expect(failed.map((e) => (e as Error).message)).toEqual(['boom', 'async boom']);
    expect(s.failures).toHaveLength(2);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ unit: 'group', group: 'g1' });
  });

  it('a throwing onFailure is logged and goes no further', () => {
    const { logger, lines } = recordingLogger();
    const s = new ManualScheduler({ logger });
    s.run({ unit: 'partition', onFailure: () => { throw new Error('worse'); } }, () => { throw new Error('bad'); });
    expect(lines.filter((l) => l.level === 50)).toHaveLength(2);
  });

  it('injects faults into matching scopes only', () => {
    const s = new ManualScheduler({ faults: (scope) => (scope.unit === 'connection' ? new Error('injected') : undefined) });
    let ran = 0;
    s.run({ unit: 'connection' }, () => ran++);
    s.run({ unit: 'group' }, () => ran++);
    expect(ran).toBe(1);
    expect(s.failures.map((f) => f.scope.unit)).toEqual(['connection']);
  });

  it('hands a FatalError to the fatal hook instead of the unit', () => {
    const fatal: string[] = [];
    const failed: unknown[] = [];
    const s = new ManualScheduler({ fatal: (err) => fatal.push(err.message) });
    s.run({ unit: 'log-dir', onFailure: (e) => failed.push(e) }, () => {
      throw new FatalError('log directory /x cannot be written');
    });
    expect(fatal).toEqual(['log directory /x cannot be written']);
    expect(failed).toEqual([]);
  });
});

describe('SystemScheduler', () => {
  it('contains a throwing timer and a wrapped listener without an uncaught exception', async () => {
    const { logger, lines } = recordingLogger();
    const s = new SystemScheduler({ logger });
    const failed: string[] = [];
    s.schedule(1, { unit: 'test', onFailure: () => failed.push('timer') }, () => {
      throw new Error('timer boom');
    });
    const listener = s.wrap({ unit: 'test', onFailure: () => failed.push('listener') }, (x: number) => {
      if (x > 0) throw new Error('listener boom');
    });
    listener(1);
    s.watch({ unit: 'test', onFailure: () => failed.push('watch') }, Promise.reject(new Error('watched')));
    await new Promise((r) => setTimeout(r, 20));
    expect(failed.sort()).toEqual(['listener', 'timer', 'watch']);
    expect(lines.filter((l) => l.level === 50)).toHaveLength(3);
  });

  it('clamps delays beyond what Node timers hold instead of firing at once', async () => {
    const s = new SystemScheduler({ logger: pino({ level: 'silent' }) });
    let fired = false;
    const h = s.schedule(Number.MAX_SAFE_INTEGER, { unit: 'test' }, () => void (fired = true));
    await new Promise((r) => setTimeout(r, 10));
    h.cancel();
    expect(fired).toBe(false);
  });
});
