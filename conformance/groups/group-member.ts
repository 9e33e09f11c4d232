// A consumer-group member run as a child process (kafkajs-member.ts, member.py), as the group
// scenarios see it: the events it prints, the partitions it owns, and a real kill. The ledger
// gathers the records and commits of every member of a group in the order their lines arrive.
// Invariants: a member is stopped only by its own pid; a record counts as processed again after
// its commit when some member reported a commit beyond its offset before the record came back.
import { type ChildProcess, spawn } from 'node:child_process';

/** What a member program is told, as JSON. */
export interface MemberConfig {
  bootstrap: string;
  group: string;
  topic: string;
  clientId: string;
  sessionTimeoutMs: number;
  /** partition.assignment.strategy, for the clients that take one. */
  assignor?: string;
  /** group.instance.id: a static member. */
  instanceId?: string;
}

/** One line a member program prints. Offsets of commits are the next offset to read. */
export type MemberEvent =
  | { event: 'ready' }
  | { event: 'assigned'; partitions: number[]; incremental: boolean }
  | { event: 'revoked'; partitions: number[] }
  | { event: 'record'; partition: number; offset: number; key: string }
  | { event: 'committed'; partition: number; offset: number }
  | { event: 'commit-failed'; partition: number; offset: number; message: string }
  | { event: 'error'; message: string }
  | { event: 'closed' };

export interface MemberCommand {
  command: string;
  args: readonly string[];
}

/** Every record processed and every commit reported by the members of one group. */
export class GroupLedger {
  /** key -> how many times some member processed it. */
  readonly processed = new Map<string, number>();
  /** partition -> highest offset some member reported committed. */
  readonly committed = new Map<number, number>();
  /** Records processed again after their offset was committed: `member p@offset`. */
  readonly afterCommit: string[] = [];

  onEvent(member: string, e: MemberEvent): void {
    if (e.event === 'record') {
      if ((this.committed.get(e.partition) ?? -1) > e.offset) this.afterCommit.push(`${member} ${e.partition}@${e.offset}`);
      this.processed.set(e.key, (this.processed.get(e.key) ?? 0) + 1);
    } else if (e.event === 'committed') {
      this.committed.set(e.partition, Math.max(this.committed.get(e.partition) ?? -1, e.offset));
    }
  }

  /** Keys processed more than once, for the report (allowed when never committed). */
  get duplicates(): number {
    return [...this.processed.values()].filter((n) => n > 1).length;
  }
}

export class GroupMember {
  readonly events: MemberEvent[] = [];
  /** Partitions owned now, from the assignments and revocations it reported. */
  readonly owned = new Set<number>();
  private stderr = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    ledger: GroupLedger | undefined,
  ) {
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line) as MemberEvent;
        this.events.push(e);
        if (e.event === 'assigned') {
          if (!e.incremental) this.owned.clear();
          for (const p of e.partitions) this.owned.add(p);
        } else if (e.event === 'revoked') {
          for (const p of e.partitions) this.owned.delete(p);
        }
        ledger?.onEvent(name, e);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.exited = new Promise((resolve) => child.once('exit', (code) => {
      this.exitCode = code;
      this.owned.clear();
      resolve();
    }));
  }

  static start(name: string, program: MemberCommand, ledger?: GroupLedger): GroupMember {
    const child = spawn(program.command, program.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new GroupMember(name, child, ledger);
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Events of one kind, from `from` (an index into `events`) on. */
  eventsOf<K extends MemberEvent['event']>(kind: K, from = 0): Array<Extract<MemberEvent, { event: K }>> {
    return this.events.slice(from).filter((e): e is Extract<MemberEvent, { event: K }> => e.event === kind);
  }

  /** A line describing the member, for failure messages. */
  describe(): string {
    const errors = this.eventsOf('error').map((e) => e.message);
    return `${this.name}: owns [${[...this.owned].sort().join(',')}], ${this.eventsOf('record').length} records, exit ${this.exitCode}${errors.length ? `, errors ${errors.slice(-2).join('; ')}` : ''}${this.stderr ? `\n  stderr: ${this.stderr.slice(-600)}` : ''}`;
  }

  /** SIGKILL: the member vanishes without leaving the group. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: the member closes its consumer (commits are already done) and exits. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Waits (bounded) for a condition, polling; the error says what was awaited and the members' state. */
export async function until(what: string, cond: () => boolean, timeoutMs: number, members: readonly GroupMember[] = []): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${members.map((m) => m.describe()).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
