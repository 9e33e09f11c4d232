import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuotaSensor, SampledRate } from './sampled-rate.ts';

const config = { samples: 11, windowMs: 1000 };

describe('SampledRate (Kafka Rate over a SampledStat)', () => {
  it('divides by at least samples - 1 windows while young, then by the time the samples span', () => {
    const r = new SampledRate(config);
    r.record(1000, 0);
    expect(r.windowSize(0)).toBe(10_000);
    expect(r.measure(0)).toBeCloseTo(100);
    for (let t = 1000; t <= 20_000; t += 1000) r.record(1000, t);
    // Eleven samples of 1000 bytes, the oldest started 10 s ago, the newest just now.
    expect(r.windowSize(20_000)).toBe(10_000);
    expect(r.measure(20_000)).toBeCloseTo(1100);
    expect(r.windowSize(20_500)).toBe(10_500);
  });

  it('forgets samples older than the whole window', () => {
    const r = new SampledRate(config);
    r.record(5000, 0);
    expect(r.measure(10_999)).toBeGreaterThan(0);
    expect(r.measure(11_000)).toBe(0);
  });
});

describe('QuotaSensor throttle time', () => {
  it('is (observed - bound) / bound x window, capped at samples x window', () => {
    const s = new QuotaSensor(config, 100);
    expect(s.recordAndGetThrottleMs(1000, 0)).toBe(0);
    // 2000 bytes over a 10 s window is 200/s: (200 - 100) / 100 x 10 s.
    expect(s.recordAndGetThrottleMs(1000, 0)).toBe(10_000);
    expect(s.recordAndGetThrottleMs(1e9, 0)).toBe(11_000);
  });

  // Kafka's Rate lets bursts through inside its window and counts a burst's window from the
  // first sample, so a sender that honours every throttle ends near the bound, not exactly on it.
  it('holds a sender that honours the throttle near the bound, whatever its pace (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 1_000_000 }), fc.integer({ min: 100, max: 100_000 }), fc.integer({ min: 5, max: 50 }), (bound, chunk, stepMs) => {
        fc.pre(chunk <= bound * 5);
        const s = new QuotaSensor(config, bound);
        let t = 0;
        let sent = 0;
        const start = 60_000;
        while (t < 120_000) {
          const throttle = s.recordAndGetThrottleMs(chunk, t);
          if (t >= start) sent += chunk;
          t += stepMs + throttle;
        }
        const rate = sent / ((t - start) / 1000);
        expect(rate).toBeLessThan(bound * 1.25 + chunk / 60);
        // A sender offering more than the bound is held near it, not far below.
        if ((chunk * 1000) / stepMs > bound * 2) expect(rate).toBeGreaterThan(bound * 0.8);
      }),
      { numRuns: 100 },
    );
  });
});
