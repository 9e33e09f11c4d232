// The simulated network of the replication simulation (testing/sim/message-net.ts carries the
// messages): brokers, the controller and the producer are nodes, and links are cut one by one
// (not sides, as in the Raft simulation), so a leader can lose its followers and keep its
// producer. A request that gets no answer times out on the sender's clock, as over TCP.
import type { ManualScheduler } from '../../../protocol/scheduler.ts';
import { MessageNet } from '../../../testing/sim/message-net.ts';
import type { NodeScheduler } from '../../../testing/sim/node-scheduler.ts';
import type { Prng } from '../../../testing/sim/prng.ts';

export class RequestTimeoutError extends Error {}

const SCOPE = { unit: 'sim-network' };

export class SimNetwork extends MessageNet {
  /** Cut links, as "a-b" with a < b. */
  private readonly cut = new Set<string>();
  /** The life each node answers with now; a message to a node without one is dropped. */
  private readonly lives = new Map<number, NodeScheduler>();

  constructor(clock: ManualScheduler, prng: Prng, delay: { minMs: number; maxMs: number }, trace: (line: string) => void) {
    super(clock, prng, delay, trace);
  }

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

  /** A one-way message (the controller pushing metadata): `deliver` runs on arrival. */
  send(from: number, sender: NodeScheduler, to: number, label: string, deliver: () => void): void {
    this.push(from, sender, to, () => this.lives.get(to), label, deliver);
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
      const reach = () => {
        const life = this.lives.get(to);
        return life && { life, serve: () => serve(life) };
      };
      this.roundTrip(from, sender, to, reach, label, (answer) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        resolve(answer);
      });
    });
  }
}
