// The simulated network of the replication simulation: brokers, the controller and the producer
// are nodes; each request and each answer is a message with its own random delay (so messages
// overtake one another), lost at the current loss rate, and dropped when the link between its
// ends is cut (checked when sent and when it arrives) or when the life that sent it is over. A
// lost message is never answered: the sender's own timeout notices, as on a real network. It
// follows controller/raft/sim/sim-network.ts, with links cut one by one instead of sides, so a
// leader can lose its followers and keep its producer.
import type { ManualScheduler } from '../../../protocol/scheduler.ts';
import type { NodeScheduler } from '../../../controller/raft/sim/node-scheduler.ts';
import type { Prng } from '../../../controller/raft/sim/prng.ts';

export class RequestTimeoutError extends Error {}

const SCOPE = { unit: 'sim-network' };

export class SimNetwork {
  /** Cut links, as "a-b" with a < b. */
  private readonly cut = new Set<string>();
  /** The life each node answers with now; a message to a node without one is dropped. */
  private readonly lives = new Map<number, NodeScheduler>();
  lossRate = 0;
  messages = 0;

  constructor(
    private readonly clock: ManualScheduler,
    private readonly prng: Prng,
    private readonly delay: { minMs: number; maxMs: number },
    private readonly trace: (line: string) => void,
  ) {}

  attach(node: number, life: NodeScheduler | undefined): void {
    if (life) this.lives.set(node, life);
    else this.lives.delete(node);
  }

  private static key(a: number, b: number): string {
    return a < b ? `${a}-${b}` : `${b}-${a}`;
  }

  cutLink(a: number, b: number): void {
    this.cut.add(SimNetwork.key(a, b));
  }

  heal(): void {
    this.cut.clear();
  }

  get whole(): boolean {
    return this.cut.size === 0;
  }

  connected(a: number, b: number): boolean {
    return !this.cut.has(SimNetwork.key(a, b));
  }

  private nextDelay(): number {
    // Fractional delays keep arrival times distinct, so each arrival is an event of its own.
    return this.delay.minMs + this.prng.next() * (this.delay.maxMs - this.delay.minMs);
  }

  /** A one-way message (the controller pushing metadata): `deliver` runs on arrival. */
  send(from: number, sender: NodeScheduler, to: number, label: string, deliver: () => void): void {
    this.messages++;
    if (!this.connected(from, to) || this.prng.chance(this.lossRate)) return;
    this.clock.schedule(this.nextDelay(), SCOPE, () => {
      const dest = this.lives.get(to);
      if (!dest || !dest.alive || !sender.alive || !this.connected(from, to)) return;
      this.trace(`${from}->${to} ${label}`);
      deliver();
    });
  }

  /**
   * Sends a request from a life of `from` to whatever life `to` has when it arrives; `serve`
   * runs there and its answer travels back. Rejects with RequestTimeoutError after `timeoutMs`
   * without an answer (the timer belongs to the sender's life).
   */
  request<T>(from: number, sender: NodeScheduler, to: number, label: string, timeoutMs: number, serve: (life: NodeScheduler) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = sender.schedule(timeoutMs, SCOPE, () => {
        if (settled) return;
        settled = true;
        reject(new RequestTimeoutError(`${label} ${from}->${to} timed out`));
      });
      this.messages++;
      if (!this.connected(from, to) || this.prng.chance(this.lossRate)) return;
      this.clock.schedule(this.nextDelay(), SCOPE, () => {
        const dest = this.lives.get(to);
        if (!dest || !dest.alive || !sender.alive || !this.connected(from, to)) return;
        this.trace(`${from}->${to} ${label}`);
        serve(dest).then(
          (answer) => {
            if (!dest.alive || !this.connected(from, to) || this.prng.chance(this.lossRate)) return;
            this.clock.schedule(this.nextDelay(), SCOPE, () => {
              if (!sender.alive || !this.connected(from, to) || settled) return;
              settled = true;
              timer.cancel();
              resolve(answer);
            });
          },
          () => undefined,
        );
      });
    });
  }
}
