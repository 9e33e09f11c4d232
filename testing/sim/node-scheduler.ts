// The scheduler one life of a simulated node sees: the shared virtual clock, with every timer
// of that life cancelled and every later callback dropped once the node crashes, as a process
// exit would. Nothing of a dead life runs again.
import type { ManualScheduler, Scheduler, Scope, TimerHandle } from '../../protocol/scheduler.ts';

export class NodeScheduler implements Scheduler {
  private readonly handles = new Set<TimerHandle>();
  private dead = false;

  constructor(private readonly clock: ManualScheduler) {}

  get alive(): boolean {
    return !this.dead;
  }

  now(): number {
    return this.clock.now();
  }

  schedule(delayMs: number, scope: Scope, fn: () => unknown): TimerHandle {
    if (this.dead) return { cancel() {} };
    const h = this.clock.schedule(delayMs, scope, () => {
      this.handles.delete(h);
      if (!this.dead) return fn();
    });
    this.handles.add(h);
    return {
      cancel: () => {
        h.cancel();
        this.handles.delete(h);
      },
    };
  }

  every(intervalMs: number, scope: Scope, fn: () => unknown): TimerHandle {
    if (this.dead) return { cancel() {} };
    const h = this.clock.every(intervalMs, scope, () => (this.dead ? undefined : fn()));
    this.handles.add(h);
    return h;
  }

  run(scope: Scope, fn: () => unknown): void {
    if (!this.dead) this.clock.run(scope, fn);
  }

  wrap<A extends unknown[]>(scope: Scope, fn: (...args: A) => unknown): (...args: A) => void {
    return (...args: A) => this.run(scope, () => fn(...args));
  }

  watch(scope: Scope, work: Promise<unknown>): void {
    if (!this.dead) this.clock.watch(scope, work);
  }

  /** The process is gone: nothing it scheduled runs. */
  kill(): void {
    this.dead = true;
    for (const h of this.handles) h.cancel();
    this.handles.clear();
  }
}
