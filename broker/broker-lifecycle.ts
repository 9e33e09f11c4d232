// A broker's life as the controller sees it (Kafka's BrokerLifecycleManager): register with the
// active controller (a new incarnation id per process; the broker epoch comes back), heartbeat
// every broker.heartbeat.interval.ms with how far this broker has replayed the metadata log, and
// be unfenced once caught up. A broker whose registration the controller no longer knows
// (STALE_BROKER_EPOCH, e.g. after it was fenced and a new controller took over) registers again.
// Stopping is a controlled shutdown: heartbeats asking to shut down until the controller has
// moved this broker's leaderships away (or a bounded wait ends).
// Heartbeats run through the containment seam: a failing one is logged and the next one runs.
// Start-up waits (bounded by initial.broker.registration.timeout.ms, which in Kafka bounds the
// registration alone) until the broker is registered and unfenced, logging while it waits: the
// broker serves no client before (Kafka's BrokerServer enables its client listeners only then).
import type { Logger } from 'pino';
import type { RegisterBrokerInput } from '../controller/cluster-control.ts';
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import type { Scheduler, TimerHandle } from '../protocol/scheduler.ts';
import type { ControllerChannel } from './controller-channel.ts';

export interface BrokerLifecycleOptions {
  nodeId: number;
  channel: ControllerChannel;
  scheduler: Scheduler;
  logger: Logger;
  heartbeatIntervalMs: number;
  registration: () => RegisterBrokerInput;
  /** The offset of the last metadata record this broker has published to its handlers. */
  publishedOffset: () => bigint;
  /** initial.broker.registration.timeout.ms: how long start() may wait to be registered and unfenced. */
  startTimeoutMs?: number;
  /** How often start() logs that it is still waiting (5 s by default). */
  waitLogIntervalMs?: number;
}

export class BrokerLifecycle {
  private readonly opts: BrokerLifecycleOptions;
  private epoch = -1n;
  private fenced = true;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private registering: Promise<void> | null = null;

  constructor(opts: BrokerLifecycleOptions) {
    this.opts = opts;
  }

  get brokerEpoch(): bigint {
    return this.epoch;
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  /**
   * Registers, then heartbeats until unfenced; resolves once this broker may serve. Rejects when
   * that takes longer than startTimeoutMs, or when stopped meanwhile.
   */
  async start(): Promise<void> {
    const log = this.opts.logger;
    const began = Date.now();
    const deadline = began + (this.opts.startTimeoutMs ?? Infinity);
    const every = this.opts.waitLogIntervalMs ?? 5000;
    let nextLog = began + Math.min(every, 1000);
    const waiting = (what: string): void => {
      const now = Date.now();
      if (now >= deadline) {
        this.stop();
        throw new Error(`broker ${this.opts.nodeId} was not ${what} within initial.broker.registration.timeout.ms (${this.opts.startTimeoutMs} ms)`);
      }
      if (now < nextLog) return;
      nextLog = now + every;
      log.info({ brokerId: this.opts.nodeId, waitedMs: now - began, publishedOffset: String(this.opts.publishedOffset()) }, `waiting to be ${what} by the controller before serving clients`);
    };
    await this.register(() => waiting('registered'));
    const scope = { unit: 'broker-lifecycle', context: { brokerId: this.opts.nodeId } };
    this.timer = this.opts.scheduler.every(this.opts.heartbeatIntervalMs, scope, () => this.heartbeat());
    while (this.fenced && !this.stopped) {
      await this.heartbeat();
      if (!this.fenced) break;
      waiting('unfenced');
      await new Promise((r) => setTimeout(r, Math.min(100, this.opts.heartbeatIntervalMs)));
    }
    if (this.stopped) throw new Error(`broker ${this.opts.nodeId} stopped while starting`);
    if (Date.now() - began >= Math.min(every, 1000)) log.info({ brokerId: this.opts.nodeId, waitedMs: Date.now() - began }, 'registered and unfenced: serving clients');
  }

  /** `waiting` runs before each retry (start-up's bound and log line); it may throw to give up. */
  private register(waiting?: () => void): Promise<void> {
    this.registering ??= (async () => {
      const log = this.opts.logger;
      while (!this.stopped) {
        try {
          const r = await this.opts.channel.registerBroker(this.opts.registration());
          if (r.errorCode === ErrorCode.NONE) {
            this.epoch = r.brokerEpoch;
            this.fenced = true;
            log.info({ brokerId: this.opts.nodeId, brokerEpoch: String(r.brokerEpoch) }, 'registered with the controller');
            return;
          }
          log.warn({ errorCode: r.errorCode }, 'broker registration refused; retrying');
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          log.info({ err: err.message }, 'broker registration not answered yet; retrying');
        }
        waiting?.();
        await new Promise((r) => setTimeout(r, 200));
      }
    })().finally(() => {
      this.registering = null;
    });
    return this.registering;
  }

  private async heartbeat(wantShutDown = false): Promise<boolean> {
    if (this.registering) return false;
    const log = this.opts.logger;
    let r;
    try {
      r = await this.opts.channel.brokerHeartbeat(
        { brokerId: this.opts.nodeId, brokerEpoch: this.epoch, currentMetadataOffset: this.opts.publishedOffset(), wantFence: false, wantShutDown },
        this.opts.heartbeatIntervalMs * 2,
      );
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      log.debug({ err: err.message }, 'heartbeat not answered');
      return false;
    }
    if (r.errorCode === ErrorCode.STALE_BROKER_EPOCH && !wantShutDown) {
      log.warn({ brokerEpoch: String(this.epoch) }, 'the controller no longer knows this registration; registering again');
      await this.register();
      return false;
    }
    if (r.errorCode !== ErrorCode.NONE) {
      log.warn({ errorCode: r.errorCode }, 'heartbeat refused');
      return false;
    }
    if (r.isFenced !== this.fenced) log.info({ brokerId: this.opts.nodeId, fenced: r.isFenced }, r.isFenced ? 'broker is fenced' : 'broker is unfenced');
    this.fenced = r.isFenced;
    return r.shouldShutDown;
  }

  /** Controlled shutdown: asks the controller to move this broker's partitions, within `timeoutMs`. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.timer?.cancel();
    const deadline = Date.now() + timeoutMs;
    try {
      while (!this.stopped && this.epoch >= 0n && Date.now() < deadline) {
        if (await this.heartbeat(true)) {
          this.opts.logger.info('controlled shutdown done: the controller moved this broker\'s partitions');
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      this.stopped = true;
    }
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
