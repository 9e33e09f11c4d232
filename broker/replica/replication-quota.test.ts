import { describe, expect, it } from 'vitest';
import { MetadataDelta } from '../../controller/metadata/delta.ts';
import { ConfigResourceType, EMPTY_IMAGE, type MetadataImage } from '../../controller/metadata/image.ts';
import { record } from '../../controller/metadata/record-serde.ts';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { ALL_PARTITIONS, parseThrottledReplicas, RateQuota, ReplicationQuotas } from './replication-quota.ts';

function withConfigs(image: MetadataImage, configs: { type: number; name: string; key: string; value: string | null }[]): MetadataImage {
  const d = new MetadataDelta(image);
  for (const [i, c] of configs.entries()) d.replay(record(MetadataRecordType.ConfigRecord, { resourceType: c.type, resourceName: c.name, name: c.key, value: c.value }), BigInt(i), 1);
  return d.apply();
}

class FakeClock {
  t = 1_000_000;
  now = () => this.t;
}

/**
 * Simulates a sender moving `chunk` bytes every `stepMs` while the quota allows it, for
 * `durationMs`; returns the bytes moved.
 */
function drive(q: RateQuota, clock: FakeClock, chunk: number, stepMs: number, durationMs: number): number {
  let moved = 0;
  for (let elapsed = 0; elapsed < durationMs; elapsed += stepMs) {
    if (!q.isExceeded()) {
      q.record(chunk);
      moved += chunk;
    }
    clock.t += stepMs;
  }
  return moved;
}

describe('parseThrottledReplicas', () => {
  it("takes this broker's partitions of a partition:broker list, and * for all", () => {
    expect([...(parseThrottledReplicas('0:1,1:2,2:1', 1) as Set<number>)]).toEqual([0, 2]);
    expect([...(parseThrottledReplicas(' 0:3 , 4:3', 3) as Set<number>)]).toEqual([0, 4]);
    expect(parseThrottledReplicas('*', 7)).toBe(ALL_PARTITIONS);
    expect((parseThrottledReplicas('', 1) as Set<number>).size).toBe(0);
    expect((parseThrottledReplicas(undefined, 1) as Set<number>).size).toBe(0);
  });
});

describe('RateQuota', () => {
  it('is never exceeded without a rate', () => {
    const clock = new FakeClock();
    const q = new RateQuota(clock.now);
    q.record(1e12);
    expect(q.isExceeded()).toBe(false);
  });

  it('measures bytes over the time its samples span, and forgets samples older than the window', () => {
    const clock = new FakeClock();
    const q = new RateQuota(clock.now, 11, 1000);
    q.record(1000);
    // Less than one window: counted over a full window.
    expect(q.rate()).toBe(1000);
    clock.t += 4000;
    q.record(1000);
    expect(q.rate()).toBe(500);
    clock.t += 20_000;
    expect(q.rate()).toBe(0);
  });

  it('holds a sender moving 64 KB chunks to within 5% of the rate over a minute', () => {
    for (const rate of [100_000, 1_000_000, 5_000_000]) {
      const clock = new FakeClock();
      const q = new RateQuota(clock.now);
      q.bytesPerSecond = rate;
      const moved = drive(q, clock, 64 * 1024, 5, 60_000);
      const measured = moved / 60;
      expect(measured).toBeGreaterThan(rate * 0.95);
      expect(measured).toBeLessThan(rate * 1.05);
    }
  });

  it('takes a new rate at once', () => {
    const clock = new FakeClock();
    const q = new RateQuota(clock.now);
    q.bytesPerSecond = 1_000_000;
    drive(q, clock, 10_000, 10, 20_000);
    q.bytesPerSecond = 200_000;
    // The samples still say 1 MB/s: nothing moves until they age out.
    expect(q.isExceeded()).toBe(true);
    const moved = drive(q, clock, 10_000, 10, 60_000);
    expect(moved / 60).toBeLessThan(200_000 * 1.05);
    expect(moved / 60).toBeGreaterThan(200_000 * 0.75);
  });
});

describe('ReplicationQuotas', () => {
  const base = withConfigs(EMPTY_IMAGE, [
    { type: ConfigResourceType.Topic, name: 't', key: 'leader.replication.throttled.replicas', value: '0:1,1:1,0:2' },
    { type: ConfigResourceType.Topic, name: 't', key: 'follower.replication.throttled.replicas', value: '0:4' },
    { type: ConfigResourceType.Topic, name: 'u', key: 'follower.replication.throttled.replicas', value: '*' },
    { type: ConfigResourceType.Broker, name: '', key: 'leader.replication.throttled.rate', value: '1000' },
    { type: ConfigResourceType.Broker, name: '1', key: 'leader.replication.throttled.rate', value: '5000' },
    { type: ConfigResourceType.Broker, name: '', key: 'follower.replication.throttled.rate', value: '2000' },
  ]);

  it("reads rates (this broker's over the cluster default) and the replicas throttled on this broker", () => {
    const clock = new FakeClock();
    const b1 = new ReplicationQuotas(1, clock.now);
    b1.refresh(base);
    expect(b1.leader.bytesPerSecond).toBe(5000);
    expect(b1.follower.bytesPerSecond).toBe(2000);
    expect(b1.isLeaderThrottled({ topic: 't', partition: 1, isr: [] })).toBe(true);
    expect(b1.isLeaderThrottled({ topic: 't', partition: 2, isr: [] })).toBe(false);
    expect(b1.isFollowerThrottled({ topic: 't', partition: 0, isr: [] })).toBe(false);
    expect(b1.isFollowerThrottled({ topic: 'u', partition: 9, isr: [] })).toBe(true);
    const b4 = new ReplicationQuotas(4, clock.now);
    b4.refresh(base);
    expect(b4.leader.bytesPerSecond).toBe(1000);
    expect(b4.isFollowerThrottled({ topic: 't', partition: 0, isr: [] })).toBe(true);
    expect(b4.isLeaderThrottled({ topic: 't', partition: 0, isr: [] })).toBe(false);
  });

  it('throttles only out-of-sync replicas of throttled partitions, once over the rate', () => {
    const clock = new FakeClock();
    const q = new ReplicationQuotas(1, clock.now);
    const t0 = { topic: 't', partition: 0, isr: [1, 2] };
    expect(q.leaderShouldThrottle(base, t0, 4)).toBe(false);
    q.recordLeader(t0, 10_000);
    expect(q.leaderShouldThrottle(base, t0, 4)).toBe(true);
    // An ISR member is never held back; nor is a partition not listed.
    expect(q.leaderShouldThrottle(base, t0, 2)).toBe(false);
    expect(q.leaderShouldThrottle(base, { topic: 't', partition: 2, isr: [1] }, 4)).toBe(false);
    // Bytes of partitions not throttled do not count.
    const fresh = new ReplicationQuotas(1, clock.now);
    fresh.recordLeader({ topic: 't', partition: 2, isr: [] }, 1e9);
    expect(fresh.leaderShouldThrottle(base, t0, 4)).toBe(false);
  });

  it('follower: leaves a throttled partition out only while not in the ISR', () => {
    const clock = new FakeClock();
    const q = new ReplicationQuotas(4, clock.now);
    const t0 = { topic: 't', partition: 0, isr: [1, 2] };
    q.refresh(base);
    q.recordFollower(t0, 100_000);
    expect(q.followerShouldThrottle(base, t0)).toBe(true);
    expect(q.followerShouldThrottle(base, { ...t0, isr: [1, 2, 4] })).toBe(false);
    // Removing the throttle (configs deleted) lifts it.
    const lifted = withConfigs(base, [{ type: ConfigResourceType.Topic, name: 't', key: 'follower.replication.throttled.replicas', value: null }]);
    expect(q.followerShouldThrottle(lifted, t0)).toBe(false);
  });
});
