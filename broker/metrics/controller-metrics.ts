// Controller and KRaft metrics (Kafka's kafka.controller:type=KafkaController and
// kafka.server:type=raft-metrics), and how far a broker has applied the metadata log
// (kafka.server:type=broker-metadata-metrics). All gauges, computed when scraped from the
// controller's image and the Raft client's state. The cluster-wide counts are reported by
// controllers only, from the image each one has replayed, as Kafka's controllers report them.
import { Gauge, type Registry } from 'prom-client';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import type { QuorumController } from '../../controller/quorum-controller.ts';
import type { MetadataPublisher } from '../metadata/metadata-publisher.ts';

export interface ControllerMetricsOptions {
  controller: QuorumController;
  publisher: MetadataPublisher;
  isController: boolean;
  isBroker: boolean;
}

const RAFT_STATES = ['leader', 'candidate', 'voted', 'follower', 'unattached', 'resigned', 'observer'];

export function registerControllerMetrics(registry: Registry, opts: ControllerMetricsOptions): void {
  const registers = [registry];
  const { controller } = opts;
  const raft = controller.raft;
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(value());
      },
    });
  if (opts.isController) {
    const image = (): MetadataImage => controller.image;
    const partitions = function* () {
      for (const t of image().topicsByName.values()) yield* t.partitions;
    };
    const countPartitions = (test: (p: { leader: number; replicas: readonly number[] }) => boolean): number => {
      let n = 0;
      for (const p of partitions()) if (test(p)) n++;
      return n;
    };
    const brokers = (fenced: boolean): number => {
      let n = 0;
      for (const b of image().brokers.values()) if (b.fenced === fenced) n++;
      return n;
    };
    gauge('kafka_controller_kafkacontroller_activecontrollercount', '1 on the active controller, else 0 (ActiveControllerCount).', () => (controller.isActive ? 1 : 0));
    gauge('kafka_controller_kafkacontroller_activebrokercount', 'Registered brokers that are not fenced (ActiveBrokerCount).', () => brokers(false));
    gauge('kafka_controller_kafkacontroller_fencedbrokercount', 'Registered brokers that are fenced (FencedBrokerCount).', () => brokers(true));
    gauge('kafka_controller_kafkacontroller_globaltopiccount', 'Topics in the cluster (GlobalTopicCount).', () => image().topicsByName.size);
    gauge('kafka_controller_kafkacontroller_globalpartitioncount', 'Partitions in the cluster (GlobalPartitionCount).', () => countPartitions(() => true));
    gauge('kafka_controller_kafkacontroller_offlinepartitionscount', 'Partitions without a leader (OfflinePartitionsCount).', () => countPartitions((p) => p.leader < 0));
    gauge('kafka_controller_kafkacontroller_preferredreplicaimbalancecount', 'Partitions not led by their preferred replica (PreferredReplicaImbalanceCount).', () =>
      countPartitions((p) => p.leader >= 0 && p.replicas[0] !== p.leader),
    );
    gauge('kafka_controller_kafkacontroller_lastappliedrecordoffset', 'Offset of the last metadata record the controller replayed (LastAppliedRecordOffset).', () => Number(image().offset));
  }
  gauge('kafka_server_raftmetrics_current_leader', 'Id of the metadata quorum leader, -1 when unknown (current-leader).', () => raft.currentLeader);
  gauge('kafka_server_raftmetrics_current_epoch', 'Current metadata quorum epoch (current-epoch).', () => raft.currentEpoch);
  // Raft appends only on the quorum leader: elsewhere (and with no commit in the last 30 s) NaN, as Kafka reports.
  gauge('kafka_server_raftmetrics_commit_latency_avg', 'Average milliseconds from a metadata batch appended on the leader to its commit, last 30 s (commit-latency-avg).', () => raft.commitLatency.stats(raft.now()).avg);
  gauge('kafka_server_raftmetrics_commit_latency_max', 'Largest milliseconds from a metadata batch appended on the leader to its commit, last 30 s (commit-latency-max).', () => raft.commitLatency.stats(raft.now()).max);
  gauge('kafka_server_raftmetrics_high_watermark', 'Metadata log high watermark, -1 when unknown (high-watermark).', () => (raft.hw > 0n ? Number(raft.hw) : -1));
  gauge('kafka_server_raftmetrics_log_end_offset', 'Metadata log end offset (log-end-offset).', () => Number(raft.logEndOffset()));
  new Gauge({
    name: 'kafka_server_raftmetrics_current_state',
    help: 'The node\'s role in the metadata quorum: 1 for the current one (current-state).',
    labelNames: ['current_state'],
    registers,
    collect() {
      const role = raft.isVoter ? raft.role : 'observer';
      for (const s of RAFT_STATES) this.set({ current_state: s }, s === role ? 1 : 0);
    },
  });
  if (opts.isBroker) {
    gauge('kafka_server_broker_metadata_metrics_last_applied_record_offset', 'Offset of the last metadata record the broker published to its handlers (last-applied-record-offset).', () =>
      Number(opts.publisher.image.offset),
    );
  }
}
