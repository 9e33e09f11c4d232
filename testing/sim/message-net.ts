// What the simulated networks share: each message (a request, its answer, a one-way push) is
// carried after its own random delay, fractional so messages overtake one another and each
// arrival is an event of its own; it is lost at the current loss rate and dropped when its link
// is cut, checked when sent and again when it arrives. A lost message is never answered: the
// sender's own timeout notices, as on a real network. Subclasses say which links are cut (sides
// of a partition, or single links) and what a node is.
import type { ManualScheduler } from '../../protocol/scheduler.ts';
import type { NodeScheduler } from './node-scheduler.ts';
import type { Prng } from './prng.ts';

const SCOPE = { unit: 'sim-network' };

/** Where a request lands: the life that answers it and what it does. */
export interface Reached<T> {
  life: NodeScheduler;
  serve: () => Promise<T>;
}

export abstract class MessageNet {
  lossRate = 0;
  /** Requests and one-way messages sent (answers not counted). */
  messages = 0;

  constructor(
    protected readonly clock: ManualScheduler,
    private readonly prng: Prng,
    private readonly delay: { minMs: number; maxMs: number },
    protected readonly trace: (line: string) => void,
  ) {}

  abstract connected(a: number, b: number): boolean;

  private nextDelay(): number {
    return this.delay.minMs + this.prng.next() * (this.delay.maxMs - this.delay.minMs);
  }

  /** One leg: dropped if the link is cut or the message lost now, else `arrive` runs after a delay if the link still holds. */
  private carry(from: number, to: number, arrive: () => void): void {
    if (!this.connected(from, to) || this.prng.chance(this.lossRate)) return;
    this.clock.schedule(this.nextDelay(), SCOPE, () => {
      if (this.connected(from, to)) arrive();
    });
  }

  /** A one-way message from a life of `from`: `deliver` runs on arrival if `to` has a live life then. */
  protected push(from: number, sender: NodeScheduler, to: number, reach: () => NodeScheduler | undefined, label: string, deliver: () => void): void {
    this.messages++;
    this.carry(from, to, () => {
      const dest = reach();
      if (!dest || !dest.alive || !sender.alive) return;
      this.trace(`${from}->${to} ${label}`);
      deliver();
    });
  }

  /**
   * A request from a life of `from`, served on arrival by whatever life `to` has then; the
   * answer travels back (unless that life ended meanwhile) and `answered` runs on its arrival
   * while the sender's life lasts.
   */
  protected roundTrip<T>(from: number, sender: NodeScheduler, to: number, reach: () => Reached<T> | undefined, label: string, answered: (answer: T) => void): void {
    this.messages++;
    this.carry(from, to, () => {
      const dest = reach();
      if (!dest || !dest.life.alive || !sender.alive) return;
      this.trace(`${from}->${to} ${label}`);
      dest.serve().then(
        (answer) => {
          if (!dest.life.alive) return;
          this.carry(to, from, () => {
            if (sender.alive) answered(answer);
          });
        },
        () => undefined,
      );
    });
  }
}
