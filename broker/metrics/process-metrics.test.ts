import { describe, expect, it } from 'vitest';
import { processRegistry } from './process-metrics.ts';

/** The value of a sample line `name{labels} value` in an exposition, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('process metrics', () => {
  it("serves prom-client's default process metrics and GC durations from V8's GC profiler", async () => {
    const registry = processRegistry();
    expect(processRegistry()).toBe(registry);
    const before = sample(await registry.metrics(), 'nodejs_gc_duration_seconds_count{kind="minor"}') ?? 0;
    // Enough short-lived garbage for several scavenges.
    let keep: unknown[] = [];
    for (let i = 0; i < 2_000_000; i++) {
      keep.push({ i, b: [i] });
      if (keep.length > 10_000) keep = [];
    }
    const text = await registry.metrics();
    const after = sample(text, 'nodejs_gc_duration_seconds_count{kind="minor"}');
    expect(after).toBeGreaterThan(before);
    expect(sample(text, 'nodejs_gc_duration_seconds_sum{kind="minor"}')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"}');
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_space_size_used_bytes', 'nodejs_active_handles_total', 'nodejs_version_info']) {
      expect(text, name).toMatch(new RegExp(`^${name}[ {]`, 'm'));
    }
    // One series of GC durations, not prom-client's own collector beside ours.
    expect(text.match(/^# TYPE nodejs_gc_duration_seconds /gm)).toHaveLength(1);
  });
});
