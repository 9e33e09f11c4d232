// The containment seam: every piece of work that starts outside a request's own promise chain
// (timers, periodic tasks, socket and server events, completed appends, metadata listeners) is
// started through a Scheduler. A failure there (a throw, or a rejected promise the work returned)
// is caught, logged once at `error` with the unit's context, and handed to that unit's own
// `onFailure` (answer a group's waiting members, fail a partition's operation, close a
// connection), so one unit's bug never becomes an uncaught exception that ends the process.
// A FatalError is different: it names a state the node cannot serve in (a log directory that
// cannot be written, a metadata log that cannot be read) and goes to the `fatal` hook, which
// stops the node cleanly.
//
// It lives at the bottom layer because storage, the controller and the broker all start such
// work. Two implementations: SystemScheduler (wall clock, Node timers, unref'd so they never keep
// a process alive) and ManualScheduler (a virtual clock for deterministic tests and simulations,
// which contains failures the same way and records them). Both accept a fault injector, so a
// test can make the work of any unit fail exactly where production code would.
import pino, { type Logger } from 'pino';

export interface TimerHandle {
  cancel(): void;
}

/** The unit a piece of work belongs to: what fails, and only that, when the work throws. */
export interface Scope {
  /** Kind of unit, e.g. 'group', 'partition', 'connection', 'log-task', 'fetch-wait'. */
  readonly unit: string;
  /** Fields logged with a failure: group, topic, partition, client, task, ... */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Fails just this unit, after the failure is logged. A throw here is logged and dropped. */
  readonly onFailure?: (err: unknown) => void;
}

/** Makes the work of matching scopes fail: returns the error to throw, or undefined to run it. */
export type FaultInjector = (scope: Scope) => unknown;

/** A state the node cannot serve in; stops it cleanly instead of failing one unit. */
export class FatalError extends Error {
  readonly code = 'FATAL';
}

export interface ContainedFailure {
  scope: Scope;
  err: unknown;
}

export interface Scheduler {
  now(): number;
  /** Runs `fn` once after `delayMs`. Cancelling a fired or cancelled timer does nothing. */
  schedule(delayMs: number, scope: Scope, fn: () => unknown): TimerHandle;
  /**
   * Runs `fn` every `intervalMs`; a tick is skipped while the previous run's promise is pending,
   * so a slow task never overlaps itself.
   */
  every(intervalMs: number, scope: Scope, fn: () => unknown): TimerHandle;
  /** Runs `fn` now, contained: for callbacks that arrive from outside (events, listeners). */
  run(scope: Scope, fn: () => unknown): void;
  /** `fn` as a contained listener, e.g. `socket.on('data', s.wrap(scope, onData))`. */
  wrap<A extends unknown[]>(scope: Scope, fn: (...args: A) => unknown): (...args: A) => void;
  /** Follows a promise started outside any request: a rejection is contained like a throw. */
  watch(scope: Scope, work: Promise<unknown>): void;
}

export interface SchedulerOptions {
  logger: Logger;
  /** Called with a FatalError (or an error thrown by a unit's onFailure that is fatal). */
  fatal?: (err: FatalError, scope: Scope) => void;
  faults?: FaultInjector;
  /** Called after every contained failure (tests and metrics count them). */
  onContained?: (failure: ContainedFailure) => void;
}

/** Shared containment logic of both schedulers. */
abstract class ContainingScheduler implements Scheduler {
  protected readonly options: SchedulerOptions;

  constructor(options: SchedulerOptions) {
    this.options = options;
  }

  abstract now(): number;
  abstract schedule(delayMs: number, scope: Scope, fn: () => unknown): TimerHandle;
  protected abstract repeat(intervalMs: number, tick: () => void): TimerHandle;

  every(intervalMs: number, scope: Scope, fn: () => unknown): TimerHandle {
    let running = false;
    return this.repeat(intervalMs, () => {
      if (running) return;
      running = true;
      const done = (): void => {
        running = false;
      };
      const result = this.invoke(scope, fn);
      if (result instanceof Promise) result.then(done, done);
      else done();
    });
  }

  run(scope: Scope, fn: () => unknown): void {
    this.invoke(scope, fn);
  }

  wrap<A extends unknown[]>(scope: Scope, fn: (...args: A) => unknown): (...args: A) => void {
    return (...args: A) => {
      this.invoke(scope, () => fn(...args));
    };
  }

  watch(scope: Scope, work: Promise<unknown>): void {
    work.catch((err: unknown) => this.fail(scope, err));
  }

  /**
   * Runs `fn` contained. Returns a promise (that never rejects) when `fn` returned one, so
   * `every` can tell when an asynchronous run has finished.
   */
  protected invoke(scope: Scope, fn: () => unknown): Promise<void> | undefined {
    try {
      const injected = this.options.faults?.(scope);
      if (injected !== undefined) throw injected;
      const r = fn();
      if (r instanceof Promise) return r.then(noop, (err: unknown) => this.fail(scope, err));
    } catch (err) {
      this.fail(scope, err);
    }
    return undefined;
  }

  protected fail(scope: Scope, err: unknown): void {
    const { logger, fatal, onContained } = this.options;
    if (err instanceof FatalError) {
      logger.fatal({ err, unit: scope.unit, ...scope.context }, err.message);
      if (fatal) fatal(err, scope);
      return;
    }
    logger.error({ err, unit: scope.unit, ...scope.context }, `unexpected failure in a ${scope.unit}: ${errorMessage(err)}; only this ${scope.unit} is affected`);
    onContained?.({ scope, err });
    if (!scope.onFailure) return;
    try {
      scope.onFailure(err);
    } catch (err2) {
      if (err2 instanceof FatalError) return this.fail({ unit: scope.unit, context: scope.context }, err2);
      logger.error({ err: err2, unit: scope.unit, ...scope.context }, `could not fail the ${scope.unit} cleanly`);
    }
  }
}

function noop(): void {}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Wall-clock scheduler for running nodes. */
export class SystemScheduler extends ContainingScheduler {
  now(): number {
    return Date.now();
  }

  schedule(delayMs: number, scope: Scope, fn: () => unknown): TimerHandle {
    const t = setTimeout(() => this.invoke(scope, fn), clampDelay(delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  }

  protected repeat(intervalMs: number, tick: () => void): TimerHandle {
    const t = setInterval(tick, clampDelay(intervalMs));
    t.unref();
    return { cancel: () => clearInterval(t) };
  }
}

// Node fires a timer past 2^31-1 ms at once; Kafka's "never" settings (Long.MAX_VALUE) must not.
const MAX_DELAY_MS = 2 ** 31 - 1;
function clampDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_DELAY_MS);
}

interface ManualTimer {
  deadline: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
  /** Set for `every`: re-armed after each firing. */
  interval?: number;
}

/**
 * A virtual clock: `advance` fires due timers in deadline order (ties in scheduling order),
 * each at its own deadline, exactly as wall time would, and contains failures as the system
 * scheduler does; `failures` keeps every contained failure for the test to assert on.
 */
export class ManualScheduler extends ContainingScheduler {
  private current: number;
  private seq = 0;
  private timers: ManualTimer[] = [];
  readonly failures: ContainedFailure[];

  constructor(options: Partial<SchedulerOptions> & { startMs?: number } = {}) {
    const logger = options.logger ?? silentLogger();
    const recorded: ContainedFailure[] = [];
    super({
      ...options,
      logger,
      onContained: (f) => {
        recorded.push(f);
        options.onContained?.(f);
      },
    });
    this.failures = recorded;
    this.current = options.startMs ?? 1_700_000_000_000;
  }

  now(): number {
    return this.current;
  }

  schedule(delayMs: number, scope: Scope, fn: () => unknown): TimerHandle {
    return this.add(delayMs, () => void this.invoke(scope, fn));
  }

  protected repeat(intervalMs: number, tick: () => void): TimerHandle {
    return this.add(intervalMs, tick, Math.max(1, intervalMs));
  }

  private add(delayMs: number, fire: () => void, interval?: number): TimerHandle {
    const t: ManualTimer = { deadline: this.current + Math.max(0, delayMs), seq: this.seq++, fire, cancelled: false, interval };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Deadline of the next timer, or undefined when none is pending. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const t of this.timers) if (!t.cancelled && (next === undefined || t.deadline < next)) next = t.deadline;
    return next;
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
      if (next.interval !== undefined) {
        next.deadline += next.interval;
        next.seq = this.seq++;
      } else {
        next.cancelled = true;
      }
      next.fire();
    }
    this.current = end;
  }
}

function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
