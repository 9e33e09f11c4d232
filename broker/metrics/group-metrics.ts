// Group coordinator metrics: groups by state and committed offsets (Kafka's
// kafka.coordinator.group:type=GroupMetadataManager and kafka.server:type=group-coordinator-metrics),
// rebalances and offset commits, and consumer lag as kafka-exporter names it
// (kafka_consumergroup_lag{consumergroup,topic,partition}). Gauges are computed when scraped
// from the groups this node coordinates. Lag is the partition's high watermark less the group's
// committed offset, for partitions this broker leads (the only ones whose high watermark it
// knows first-hand); scrape every broker to see all of them. Rebalances and offset commits are
// counted from the coordinator's answers: a JoinGroup answered to a generation's leader ends one
// rebalance, and each partition an OffsetCommit answers without error is one commit.
import { type Counter, Counter as PromCounter, Gauge, type Registry } from 'prom-client';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { JoinGroupResponse } from '../../protocol/generated/message/join-group-response.ts';
import type { OffsetCommitResponse } from '../../protocol/generated/message/offset-commit-response.ts';
import type { GroupState } from '../group/classic-group.ts';
import type { GroupCoordinator } from '../group/group-coordinator.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import type { RequestTimings } from '../request-observer.ts';

const STATES: readonly [GroupState, string][] = [
  ['Stable', 'numgroupsstable'],
  ['PreparingRebalance', 'numgroupspreparingrebalance'],
  ['CompletingRebalance', 'numgroupscompletingrebalance'],
  ['Empty', 'numgroupsempty'],
  ['Dead', 'numgroupsdead'],
];

export class GroupMetrics {
  private readonly rebalances: Counter;
  private readonly commits: Counter;

  constructor(registry: Registry, coordinator: GroupCoordinator, replicaManager: ReplicaManager) {
    const registers = [registry];
    const groups = () => coordinator.groups.values();
    new Gauge({
      name: 'kafka_coordinator_group_groupmetadatamanager_numgroups',
      help: 'Groups this node coordinates (NumGroups).',
      registers,
      collect() {
        this.set(coordinator.groups.size);
      },
    });
    for (const [state, name] of STATES) {
      new Gauge({
        name: `kafka_coordinator_group_groupmetadatamanager_${name}`,
        help: `Groups in state ${state} (NumGroups${state}).`,
        registers,
        collect() {
          let n = 0;
          for (const g of groups()) if (g.state === state) n++;
          this.set(n);
        },
      });
    }
    new Gauge({
      name: 'kafka_coordinator_group_groupmetadatamanager_numoffsets',
      help: 'Committed offsets held by the groups this node coordinates (NumOffsets).',
      registers,
      collect() {
        let n = 0;
        for (const g of groups()) n += g.offsets.size;
        this.set(n);
      },
    });
    new Gauge({
      name: 'kafka_server_group_coordinator_metrics_group_count',
      help: 'Groups this node coordinates, by rebalance protocol (group-count).',
      labelNames: ['protocol'],
      registers,
      collect() {
        this.set({ protocol: 'classic' }, coordinator.groups.size);
      },
    });
    this.rebalances = new PromCounter({ name: 'kafka_server_group_coordinator_metrics_group_completed_rebalance_count', help: 'Rebalances completed (group-completed-rebalance-count).', registers });
    this.commits = new PromCounter({ name: 'kafka_server_group_coordinator_metrics_offset_commit_count', help: 'Partition offsets committed (offset-commit-count).', registers });

    new Gauge({
      name: 'kafka_consumergroup_members',
      help: 'Members of a group (kafka-exporter).',
      labelNames: ['consumergroup'],
      registers,
      collect() {
        this.reset();
        for (const g of groups()) this.set({ consumergroup: g.groupId }, g.size);
      },
    });
    new Gauge({
      name: 'kafka_consumergroup_current_offset',
      help: 'Committed offset of a group on a partition (kafka-exporter).',
      labelNames: ['consumergroup', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const g of groups()) for (const o of g.offsets.values()) this.set({ consumergroup: g.groupId, topic: o.topic, partition: String(o.partition) }, Number(o.value.offset));
      },
    });
    const lagSum = new Gauge({
      name: 'kafka_consumergroup_lag_sum',
      help: 'Lag of a group summed over the partitions of a topic led by this broker (kafka-exporter).',
      labelNames: ['consumergroup', 'topic'],
      registers,
    });
    new Gauge({
      name: 'kafka_consumergroup_lag',
      help: 'High watermark less the committed offset of a group, on partitions led by this broker (kafka-exporter).',
      labelNames: ['consumergroup', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        lagSum.reset();
        for (const g of groups()) {
          const sums = new Map<string, number>();
          for (const o of g.offsets.values()) {
            const p = replicaManager.getPartition(o.topic, o.partition);
            if (!p || !p.isLeader) continue;
            const lag = Math.max(0, p.log.highWatermark - Number(o.value.offset));
            this.set({ consumergroup: g.groupId, topic: o.topic, partition: String(o.partition) }, lag);
            sums.set(o.topic, (sums.get(o.topic) ?? 0) + lag);
          }
          for (const [topic, sum] of sums) lagSum.set({ consumergroup: g.groupId, topic }, sum);
        }
      },
    });
  }

  requestCompleted(t: RequestTimings): void {
    if (t.response === null) return;
    if (t.apiKey === ApiKey.JoinGroup) {
      const r = t.response as JoinGroupResponse;
      if (r.errorCode === 0 && r.memberId !== '' && r.memberId === r.leader) this.rebalances.inc();
    } else if (t.apiKey === ApiKey.OffsetCommit) {
      let n = 0;
      for (const topic of (t.response as OffsetCommitResponse).topics) for (const p of topic.partitions) if (p.errorCode === 0) n++;
      if (n > 0) this.commits.inc(n);
    }
  }
}
