// The replica fetcher manager (Kafka's ReplicaFetcherManager): which partitions this broker
// fetches as follower, and from whom. One fetcher per source broker; a partition is in at most
// one fetcher, that of its current leader, in the leader epoch the image gives. The replica
// manager drives it from each metadata image: follower of a partition with a leader elsewhere
// → fetched from that leader; leader, no leader, or no longer hosted → not fetched. A fetcher
// left without partitions stops.
import type { Partition } from './partition.ts';
import { type FetcherDeps, ReplicaFetcher } from './replica-fetcher.ts';

export class ReplicaFetcherManager {
  private readonly deps: FetcherDeps;
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private stopped = false;

  constructor(deps: FetcherDeps) {
    this.deps = deps;
  }

  /** Source brokers with a running fetcher (tests and metrics). */
  get sourceBrokers(): number[] {
    return [...this.fetchers.keys()];
  }

  /** The broker `partition` is fetched from, or -1. */
  sourceOf(partition: Partition): number {
    for (const [id, f] of this.fetchers) if (f.has(partition)) return id;
    return -1;
  }

  /** Follows `partition` from `leaderId` in `leaderEpoch`, leaving the fetcher of a former leader first. */
  async follow(partition: Partition, leaderId: number, leaderEpoch: number): Promise<void> {
    if (this.stopped) return;
    for (const [id, f] of this.fetchers) if (id !== leaderId && f.has(partition)) await this.removeFrom(id, f, partition);
    let f = this.fetchers.get(leaderId);
    if (!f) {
      f = new ReplicaFetcher(leaderId, { ...this.deps, logger: this.deps.logger.child({ sourceBroker: leaderId }) });
      this.fetchers.set(leaderId, f);
    }
    f.add(partition, leaderEpoch);
  }

  /** Stops fetching `partition`; resolves once no fetched data is being applied to it. */
  async unfollow(partition: Partition): Promise<void> {
    for (const [id, f] of [...this.fetchers]) if (f.has(partition)) await this.removeFrom(id, f, partition);
  }

  private async removeFrom(id: number, f: ReplicaFetcher, partition: Partition): Promise<void> {
    await f.remove(partition);
    if (f.size === 0 && this.fetchers.get(id) === f) {
      this.fetchers.delete(id);
      // Its round in flight, if any, finds no partition to apply an answer to.
      void f.stop();
    }
  }

  /** Stops every fetcher; resolves once their rounds in flight are over (close the connections to cut them short). */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.fetchers.values()];
    this.fetchers.clear();
    await Promise.all(all.map((f) => f.stop()));
  }
}
