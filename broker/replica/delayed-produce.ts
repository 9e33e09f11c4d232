// The acks=all purgatory (Kafka's DelayedProduce): an appended batch's answer waits here until
// the partition's high watermark reaches the end of the batch, then is answered NONE, or
// NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below min.insync.replicas meanwhile, or
// NOT_LEADER_OR_FOLLOWER when leadership moved and the batch did not survive it (or NONE when it
// did, once committed under the new leader; see Partition.checkEnoughReplicasReachOffset); past
// the request's timeout it is answered
// REQUEST_TIMED_OUT (the records stay in the log, as in Kafka). Waiters are checked again when
// their partition reports a change (append, high watermark, ISR, leadership). Timers run through
// the containment seam with the partition as the unit; a failure answers the waiter rather than
// leaving it hanging.
import { ErrorCode } from '../../protocol/errors.ts';
import type { Scheduler, TimerHandle } from '../../protocol/scheduler.ts';
import type { Partition } from './partition.ts';

interface Waiter {
  partition: Partition;
  requiredOffset: number;
  /** The leader epoch the batch was written in. */
  appendEpoch: number | undefined;
  resolve: (errorCode: number) => void;
  timer: TimerHandle | undefined;
  done: boolean;
}

export class DelayedProducePurgatory {
  private readonly scheduler: Scheduler;
  private readonly waiting = new Map<Partition, Set<Waiter>>();
  private closed = false;

  constructor(opts: { scheduler: Scheduler }) {
    this.scheduler = opts.scheduler;
  }

  /** Waiters not yet answered (tests and metrics). */
  get size(): number {
    let n = 0;
    for (const s of this.waiting.values()) n += s.size;
    return n;
  }

  /**
   * Resolves with the error code to answer once `partition`'s high watermark reaches
   * `requiredOffset`; `appendEpoch` is the leader epoch the batch was written in.
   */
  wait(partition: Partition, requiredOffset: number, timeoutMs: number, appendEpoch?: number): Promise<number> {
    const now = partition.checkEnoughReplicasReachOffset(requiredOffset, appendEpoch);
    if (now !== undefined) return Promise.resolve(now);
    if (this.closed) return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return new Promise<number>((resolve) => {
      const w: Waiter = { partition, requiredOffset, appendEpoch, resolve, timer: undefined, done: false };
      let set = this.waiting.get(partition);
      if (!set) this.waiting.set(partition, (set = new Set()));
      set.add(w);
      const expire = () => this.finish(w, ErrorCode.REQUEST_TIMED_OUT);
      const scope = { unit: 'partition', context: { topic: partition.topic, partition: partition.partition, task: 'acks=all wait' }, onFailure: expire };
      w.timer = this.scheduler.schedule(Math.max(0, timeoutMs), scope, expire);
    });
  }

  /** Something changed on `partition`: answers the waiters it now satisfies. */
  notify(partition: Partition): void {
    const set = this.waiting.get(partition);
    if (!set) return;
    for (const w of [...set]) {
      const code = partition.checkEnoughReplicasReachOffset(w.requiredOffset, w.appendEpoch);
      if (code !== undefined) this.finish(w, code);
    }
  }

  /** Answers every waiter (the broker stops; clients retry elsewhere) and refuses new ones. */
  shutdown(): void {
    this.closed = true;
    for (const set of [...this.waiting.values()]) for (const w of [...set]) this.finish(w, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  }

  private finish(w: Waiter, errorCode: number): void {
    if (w.done) return;
    w.done = true;
    w.timer?.cancel();
    const set = this.waiting.get(w.partition);
    set?.delete(w);
    if (set && set.size === 0) this.waiting.delete(w.partition);
    w.resolve(errorCode);
  }
}
