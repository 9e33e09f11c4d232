import { describe, expect, it } from 'vitest';
import { CommitLatency } from './commit-latency.ts';

describe('CommitLatency', () => {
  it('averages and maximises the commits of the last 30 s, NaN when there were none', () => {
    const c = new CommitLatency();
    expect(c.stats(0).avg).toBeNaN();
    c.record(1_000, 4);
    c.record(2_000, 10);
    c.record(20_000, 1);
    expect(c.stats(20_000)).toEqual({ avg: 5, max: 10 });
    // Samples older than 30 s fall out of the window, one by one.
    expect(c.stats(31_500)).toEqual({ avg: 5.5, max: 10 });
    expect(c.stats(32_500)).toEqual({ avg: 1, max: 1 });
    expect(c.stats(60_000).max).toBeNaN();
  });
});
