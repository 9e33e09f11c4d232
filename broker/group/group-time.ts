// The clock and timers the group coordinator runs on. Injected so that the state machine can be
// driven by a manual clock in tests: `ManualGroupTime.advance` fires due timers in deadline order
// (ties in scheduling order), each at its own deadline, exactly as wall time would.

export interface TimerHandle {
  cancel(): void;
}

export interface GroupTime {
  now(): number;
  /** Runs `fn` once after `delayMs`; cancelling a fired or cancelled timer does nothing. */
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

export const systemGroupTime: GroupTime = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    // A coordinator's timers never keep the process alive on their own.
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

interface ManualTimer {
  deadline: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class ManualGroupTime implements GroupTime {
  private current: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const t: ManualTimer = { deadline: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.deadline <= end && (!next || t.deadline < next.deadline || (t.deadline === next.deadline && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.current = Math.max(this.current, next.deadline);
      next.cancelled = true;
      next.fn();
    }
    this.current = end;
  }
}
