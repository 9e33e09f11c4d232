import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.ts';

describe('LatencyHistogram', () => {
  it('answers percentiles within one bucket (2%) above the true value', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.recordMillis(i / 10); // 0.1 .. 100 ms
    expect(h.count).toBe(1000);
    const p50 = h.percentileMillis(50);
    const p99 = h.percentileMillis(99);
    expect(p50).toBeGreaterThanOrEqual(50);
    expect(p50).toBeLessThanOrEqual(50 * 1.021);
    expect(p99).toBeGreaterThanOrEqual(99);
    expect(p99).toBeLessThanOrEqual(99 * 1.021);
    expect(h.percentileMillis(100)).toBeCloseTo(100, 5);
  });

  it('is empty until something is recorded', () => {
    expect(new LatencyHistogram().percentileMillis(50)).toBeNaN();
  });

  it('merges snapshots by adding counts', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 90; i++) a.recordMillis(1);
    for (let i = 0; i < 10; i++) b.recordMillis(200);
    const m = new LatencyHistogram();
    m.merge(a.snapshot());
    m.merge(b.snapshot());
    expect(m.count).toBe(100);
    expect(m.percentileMillis(90)).toBeLessThan(1.03);
    expect(m.percentileMillis(91)).toBeGreaterThanOrEqual(200 / 1.021);
    expect(m.maxMillis).toBeCloseTo(200, 5);
  });
});
