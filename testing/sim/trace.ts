// The trace of one simulation run: every line stamped with the virtual time, echoed when
// verbose, and the last ones kept for a failure report (a ring trimmed in bulk, not per line).
import type { ManualScheduler } from '../../protocol/scheduler.ts';

export class SimTrace {
  private lines: string[] = [];

  constructor(
    private readonly clock: ManualScheduler,
    /** Lines kept for a failure report. */
    readonly keep: number,
    private readonly verbose = false,
  ) {}

  /** Records a line; a pino JSON line loses its level field. */
  note(line: string): void {
    const l = `${this.clock.now().toFixed(1)} ${line.replace(/^{"level":\d+,/, '{')}`;
    if (this.verbose) console.log(l);
    this.lines.push(l);
    if (this.lines.length > this.keep * 2) this.lines.splice(0, this.lines.length - this.keep);
  }

  last(): string[] {
    return this.lines.slice(-this.keep);
  }
}
