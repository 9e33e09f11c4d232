// Replication throttles (Kafka's ReplicationQuotaManager, KIP-73): a byte rate for the replicas an
// operator marks, one quota for this broker as leader (bytes it sends to followers) and one as
// follower (bytes it fetches).
// - Rates: the dynamic broker configs `leader.replication.throttled.rate` and
//   `follower.replication.throttled.rate` (bytes/s; this broker's own value over the cluster
//   default; unlimited when neither is set).
// - Throttled replicas: the topic configs `leader.replication.throttled.replicas` and
//   `follower.replication.throttled.replicas`, "partition:broker,..." lists (a partition is
//   throttled here when listed with this broker's id) or "*" (every partition of the topic).
// - The leader leaves a throttled partition out of (empty in) an out-of-sync follower's fetch
//   answer while the leader quota is exceeded; the follower leaves a throttled partition out of
//   its fetch requests while the follower quota is exceeded and it is not in the ISR. Both record
//   the bytes of throttled partitions they move.
// - The rate is measured as Kafka's Rate over samples of `windowMs` (11 one-second samples): the
//   bytes in the samples kept, over the time they span. Difference from Kafka: the span is not
//   padded to the full sample count while the first samples fill, so a throttle holds from its
//   first second instead of letting a burst through at start.
// Settings are read from the image given with each call, recomputed only when its configs changed.
import { ConfigResourceType, configKey, type MetadataImage } from '../../controller/metadata/image.ts';

export const LEADER_RATE = 'leader.replication.throttled.rate';
export const FOLLOWER_RATE = 'follower.replication.throttled.rate';
export const LEADER_REPLICAS = 'leader.replication.throttled.replicas';
export const FOLLOWER_REPLICAS = 'follower.replication.throttled.replicas';

/** Every partition of a topic ("*"). */
export const ALL_PARTITIONS = 'all';
export type ThrottledPartitions = ReadonlySet<number> | typeof ALL_PARTITIONS;

/** The partitions a "partition:broker,..." (or "*") value throttles on broker `brokerId`. */
export function parseThrottledReplicas(value: string | undefined, brokerId: number): ThrottledPartitions {
  const v = (value ?? '').trim();
  if (v === '*') return ALL_PARTITIONS;
  const out = new Set<number>();
  if (v === '') return out;
  for (const entry of v.split(',')) {
    const [p, b] = entry.trim().split(':');
    if (p === undefined || b === undefined) continue;
    if (Number(b) === brokerId && /^\d+$/.test(p)) out.add(Number(p));
  }
  return out;
}

interface Sample {
  start: number;
  bytes: number;
}

/** One byte-rate quota over a sliding set of time samples. */
export class RateQuota {
  private readonly now: () => number;
  private readonly samples: Sample[] = [];
  private readonly numSamples: number;
  private readonly windowMs: number;
  /** Bytes per second; Infinity when unlimited. */
  bytesPerSecond = Infinity;

  constructor(now: () => number, numSamples = 11, windowMs = 1000) {
    this.now = now;
    this.numSamples = numSamples;
    this.windowMs = windowMs;
  }

  private purge(now: number): void {
    const oldest = now - this.numSamples * this.windowMs;
    while (this.samples.length > 0 && this.samples[0]!.start + this.windowMs <= oldest) this.samples.shift();
  }

  record(bytes: number): void {
    if (bytes <= 0) return;
    const now = this.now();
    this.purge(now);
    const last = this.samples[this.samples.length - 1];
    if (last && now < last.start + this.windowMs) last.bytes += bytes;
    else this.samples.push({ start: now, bytes });
  }

  /** Bytes per second over the samples kept. */
  rate(): number {
    const now = this.now();
    this.purge(now);
    if (this.samples.length === 0) return 0;
    let total = 0;
    for (const s of this.samples) total += s.bytes;
    const elapsed = Math.max(now - this.samples[0]!.start, this.windowMs);
    return (total * 1000) / elapsed;
  }

  isExceeded(): boolean {
    return this.bytesPerSecond !== Infinity && this.rate() > this.bytesPerSecond;
  }
}

/** The part of a partition the quotas look at. */
export interface ThrottleTarget {
  topic: string;
  partition: number;
  isr: readonly number[];
}

function rateOf(image: MetadataImage, nodeId: number, name: string): number {
  const own = image.configs.get(configKey(ConfigResourceType.Broker, String(nodeId)))?.get(name);
  const v = own ?? image.configs.get(configKey(ConfigResourceType.Broker, ''))?.get(name);
  if (v === undefined) return Infinity;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 && n < Number.MAX_SAFE_INTEGER ? n : Infinity;
}

/** The leader and follower replication quotas of one broker. */
export class ReplicationQuotas {
  private readonly nodeId: number;
  readonly leader: RateQuota;
  readonly follower: RateQuota;
  private configs: MetadataImage['configs'] | undefined;
  private leaderThrottled = new Map<string, ThrottledPartitions>();
  private followerThrottled = new Map<string, ThrottledPartitions>();

  constructor(nodeId: number, now: () => number) {
    this.nodeId = nodeId;
    this.leader = new RateQuota(now);
    this.follower = new RateQuota(now);
  }

  /** Takes the rates and throttled replicas of `image` (cheap when its configs did not change). */
  refresh(image: MetadataImage): void {
    if (image.configs === this.configs) return;
    this.configs = image.configs;
    this.leader.bytesPerSecond = rateOf(image, this.nodeId, LEADER_RATE);
    this.follower.bytesPerSecond = rateOf(image, this.nodeId, FOLLOWER_RATE);
    const leader = new Map<string, ThrottledPartitions>();
    const follower = new Map<string, ThrottledPartitions>();
    const prefix = `${ConfigResourceType.Topic}:`;
    for (const [key, values] of image.configs) {
      if (!key.startsWith(prefix)) continue;
      const topic = key.slice(prefix.length);
      const l = parseThrottledReplicas(values.get(LEADER_REPLICAS), this.nodeId);
      const f = parseThrottledReplicas(values.get(FOLLOWER_REPLICAS), this.nodeId);
      if (l === ALL_PARTITIONS || l.size > 0) leader.set(topic, l);
      if (f === ALL_PARTITIONS || f.size > 0) follower.set(topic, f);
    }
    this.leaderThrottled = leader;
    this.followerThrottled = follower;
  }

  private static listed(map: ReadonlyMap<string, ThrottledPartitions>, t: ThrottleTarget): boolean {
    const s = map.get(t.topic);
    return s !== undefined && (s === ALL_PARTITIONS || s.has(t.partition));
  }

  isLeaderThrottled(t: ThrottleTarget): boolean {
    return ReplicationQuotas.listed(this.leaderThrottled, t);
  }

  isFollowerThrottled(t: ThrottleTarget): boolean {
    return ReplicationQuotas.listed(this.followerThrottled, t);
  }

  /** Leader: answer `replicaId` nothing for `t` now (Kafka's shouldLeaderThrottle). */
  leaderShouldThrottle(image: MetadataImage, t: ThrottleTarget, replicaId: number): boolean {
    this.refresh(image);
    return !t.isr.includes(replicaId) && this.isLeaderThrottled(t) && this.leader.isExceeded();
  }

  /** Leader: `bytes` of `t` went to a follower. */
  recordLeader(t: ThrottleTarget, bytes: number): void {
    if (bytes > 0 && this.isLeaderThrottled(t)) this.leader.record(bytes);
  }

  /** Follower: leave `t` out of the next fetch (Kafka's shouldFollowerThrottle). */
  followerShouldThrottle(image: MetadataImage, t: ThrottleTarget): boolean {
    this.refresh(image);
    return !t.isr.includes(this.nodeId) && this.isFollowerThrottled(t) && this.follower.isExceeded();
  }

  /** Follower: `bytes` of `t` were fetched. */
  recordFollower(t: ThrottleTarget, bytes: number): void {
    if (bytes > 0 && this.isFollowerThrottled(t)) this.follower.record(bytes);
  }
}
