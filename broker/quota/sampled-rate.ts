// A rate over time samples, with the semantics of Kafka's Rate on a SampledStat (Sum): the
// window is `samples` samples of `windowMs` each; a value goes into the current sample, a new
// sample starts when the current one is `windowMs` old (the oldest is reused in turn); samples
// older than samples x windowMs are reset before a measure. The rate is the sum of the samples
// over the time they span, counted as at least samples - 1 full windows (so a first burst is not
// divided by a few milliseconds), per second.
// Throttle time (QuotaUtils.throttleTime): a rate `observed` over a quota `bound` throttles for
// (observed - bound) / bound x window, the window being the one the rate was measured over;
// ClientQuotaManager caps it at samples x windowMs.

export interface RateConfig {
  /** quota.window.num */
  samples: number;
  /** quota.window.size.seconds x 1000 */
  windowMs: number;
}

interface Sample {
  value: number;
  lastWindowMs: number;
}

export class SampledRate {
  private readonly samples: Sample[] = [];
  private current = 0;

  constructor(private readonly config: RateConfig) {}

  record(value: number, nowMs: number): void {
    let s = this.currentSample(nowMs);
    if (nowMs - s.lastWindowMs >= this.config.windowMs) s = this.advance(nowMs);
    s.value += value;
  }

  /** Units per second as of `nowMs`. */
  measure(nowMs: number): number {
    this.purgeObsolete(nowMs);
    let sum = 0;
    for (const s of this.samples) sum += s.value;
    return sum / (this.windowSize(nowMs) / 1000);
  }

  /** The span, in ms, the rate is measured over (Rate.windowSize). */
  windowSize(nowMs: number): number {
    this.purgeObsolete(nowMs);
    let elapsed = nowMs - this.oldest(nowMs).lastWindowMs;
    const fullWindows = Math.floor(elapsed / this.config.windowMs);
    const minFullWindows = this.config.samples - 1;
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * this.config.windowMs;
    return Math.max(elapsed, 1);
  }

  private currentSample(nowMs: number): Sample {
    if (this.samples.length === 0) this.samples.push({ value: 0, lastWindowMs: nowMs });
    return this.samples[this.current]!;
  }

  private advance(nowMs: number): Sample {
    this.current = (this.current + 1) % this.config.samples;
    if (this.current >= this.samples.length) {
      const s = { value: 0, lastWindowMs: nowMs };
      this.samples.push(s);
      return s;
    }
    const s = this.samples[this.current]!;
    s.value = 0;
    s.lastWindowMs = nowMs;
    return s;
  }

  private purgeObsolete(nowMs: number): void {
    const expireAge = this.config.samples * this.config.windowMs;
    for (const s of this.samples) {
      if (nowMs - s.lastWindowMs >= expireAge) {
        s.value = 0;
        s.lastWindowMs = nowMs;
      }
    }
  }

  private oldest(nowMs: number): Sample {
    if (this.samples.length === 0) this.samples.push({ value: 0, lastWindowMs: nowMs });
    let oldest = this.samples[0]!;
    for (const s of this.samples) if (s.lastWindowMs < oldest.lastWindowMs) oldest = s;
    return oldest;
  }
}

/**
 * A rate with an upper bound (Kafka's Sensor with a Quota): records a value and returns the
 * throttle time in ms it earns, 0 while the rate stays within the bound.
 */
export class QuotaSensor {
  readonly rate: SampledRate;

  constructor(
    private readonly config: RateConfig,
    public bound: number,
  ) {
    this.rate = new SampledRate(config);
  }

  /** Kafka's cap on one throttle: the whole sampled window. */
  get maxThrottleMs(): number {
    return this.config.samples * this.config.windowMs;
  }

  recordAndGetThrottleMs(value: number, nowMs: number): number {
    this.rate.record(value, nowMs);
    return this.throttleMs(nowMs);
  }

  /** Takes back a recorded value (a throttled fetch sends nothing, as Kafka's unrecordQuotaSensor). */
  unrecord(value: number, nowMs: number): void {
    this.rate.record(-value, nowMs);
  }

  throttleMs(nowMs: number): number {
    const observed = this.rate.measure(nowMs);
    if (observed <= this.bound) return 0;
    const ms = Math.round(((observed - this.bound) / this.bound) * this.rate.windowSize(nowMs));
    return Math.min(ms, this.maxThrottleMs);
  }
}
