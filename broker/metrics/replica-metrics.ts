// Replica manager, purgatory and log metrics (Kafka's kafka.server:type=ReplicaManager,
// kafka.server:type=DelayedOperationPurgatory, kafka.log:type=Log). Gauges are computed when
// scraped from the partitions the replica manager hosts, so nothing is kept twice; only the ISR
// shrink and expand counts are counted as they happen (from the partition change notifications
// of partitions this broker leads).
import { type Counter, Counter as PromCounter, Gauge, type Registry } from 'prom-client';
import type { DelayedFetchPurgatory } from '../fetch/delayed-fetch.ts';
import type { Partition } from '../replica/partition.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import type { PartitionSeen } from './topic-metrics.ts';

export class ReplicaMetrics {
  private readonly isrShrinks: Counter;
  private readonly isrExpands: Counter;

  constructor(registry: Registry, replicaManager: ReplicaManager, fetchPurgatory: DelayedFetchPurgatory | undefined) {
    const registers = [registry];
    const partitions = () => replicaManager.allPartitions();
    const count = (name: string, help: string, test: (p: Partition) => boolean) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          let n = 0;
          for (const p of partitions()) if (test(p)) n++;
          this.set(n);
        },
      });
    count('kafka_server_replicamanager_partitioncount', 'Partitions hosted by this broker (PartitionCount).', () => true);
    count('kafka_server_replicamanager_leadercount', 'Partitions this broker leads (LeaderCount).', (p) => p.isLeader);
    count('kafka_server_replicamanager_underreplicatedpartitions', 'Led partitions whose ISR is smaller than their replica set (UnderReplicatedPartitions).', (p) => p.isLeader && p.isr.length < p.replicas.length);
    count('kafka_server_replicamanager_underminisrpartitioncount', 'Led partitions whose ISR is below min.insync.replicas (UnderMinIsrPartitionCount).', (p) => p.isLeader && p.isr.length < p.config.minInsyncReplicas);
    count('kafka_server_replicamanager_atminisrpartitioncount', 'Led partitions whose ISR is exactly min.insync.replicas (AtMinIsrPartitionCount).', (p) => p.isLeader && p.isr.length === p.config.minInsyncReplicas);
    count('kafka_server_replicamanager_offlinereplicacount', 'Hosted partitions whose log directory is offline (OfflineReplicaCount).', (p) => p.log.isOffline);
    this.isrShrinks = new PromCounter({ name: 'kafka_server_replicamanager_isrshrinks_total', help: 'ISR shrinks of partitions this broker leads (IsrShrinksPerSec).', registers });
    this.isrExpands = new PromCounter({ name: 'kafka_server_replicamanager_isrexpands_total', help: 'ISR expansions of partitions this broker leads (IsrExpandsPerSec).', registers });

    new Gauge({
      name: 'kafka_server_delayedoperationpurgatory_purgatorysize',
      help: 'Requests waiting in a purgatory: acks=all produces and fetches waiting for data (PurgatorySize).',
      labelNames: ['delayedOperation'],
      registers,
      collect() {
        this.set({ delayedOperation: 'Produce' }, replicaManager.delayedProduce.size);
        this.set({ delayedOperation: 'Fetch' }, fetchPurgatory?.waiting ?? 0);
      },
    });

    const perPartition = (name: string, help: string, value: (p: Partition) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition'],
        registers,
        collect() {
          // Partitions moved away or deleted since the last scrape must not linger.
          this.reset();
          for (const p of partitions()) if (!p.log.isClosed) this.set({ topic: p.topic, partition: String(p.partition) }, value(p));
        },
      });
    perPartition('kafka_log_log_size', 'Bytes of a partition log on disk (Log Size).', (p) => p.log.size);
    perPartition('kafka_log_log_numlogsegments', 'Segments of a partition log (NumLogSegments).', (p) => p.log.logSegments().length);
    perPartition('kafka_log_log_logstartoffset', 'First offset of a partition log (LogStartOffset).', (p) => p.log.logStartOffset);
    perPartition('kafka_log_log_logendoffset', 'Offset after the last record of a partition log (LogEndOffset).', (p) => p.log.logEndOffset);
  }

  /** From TopicMetrics' partition notifications: counts ISR changes of a partition led here. */
  leaderPartitionChanged(p: Partition, prev: PartitionSeen | undefined): void {
    if (!prev || prev.isr === p.isr) return;
    if (p.isr.length < prev.isr.length) this.isrShrinks.inc();
    else if (p.isr.length > prev.isr.length) this.isrExpands.inc();
  }
}
