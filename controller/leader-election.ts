// Leader elections an operator or the controller's own balancing asks for: pure decisions against
// one image, returning the PartitionChangeRecords that carry them out, as Kafka's
// ReplicationControlManager.electLeaders and PartitionChangeBuilder do.
// - PREFERRED: the first replica leads if it is in the ISR and its broker is live (registered,
//   unfenced, not shutting down). ELECTION_NOT_NEEDED when it already leads,
//   PREFERRED_LEADER_NOT_AVAILABLE otherwise.
// - UNCLEAN: only for a partition without a leader (else ELECTION_NOT_NEEDED). A live ISR member
//   leads if there is one; failing that the first live replica, with ISR [it] and the leader
//   RECOVERING, since it may lack acknowledged records. ELIGIBLE_LEADERS_NOT_AVAILABLE when no
//   replica is live. The topic's unclean.leader.election.enable does not apply: asking is consent.
// - All partitions (a null list): ELECTION_NOT_NEEDED results are left out, as Kafka does.
// - Balancing (auto.leader.rebalance.enable): for each broker that is the preferred replica of
//   partitions it does not lead, in a ratio above leader.imbalance.per.broker.percentage, a
//   preferred election for those of its partitions where it can lead.
import { ErrorCode, errorByCode } from '../protocol/errors.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import type { ControllerResult } from './controller-result.ts';
import type { MetadataImage, PartitionImage, TopicImage } from './metadata/image.ts';
import { type MetadataRecord, record } from './metadata/record-serde.ts';
import { NO_LEADER, RECOVERING } from './partition-leadership.ts';

/** Kafka's ElectionType codes. */
export const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

export interface ElectionRequest {
  topic: string;
  partitions: readonly number[];
}

export interface PartitionElectionResult {
  partitionId: number;
  errorCode: number;
  errorMessage: string | null;
}

export interface TopicElectionResult {
  topic: string;
  partitionResult: PartitionElectionResult[];
}

export interface ElectionOutcome {
  /** INVALID_REQUEST for an unknown election type; then every partition carries it too. */
  errorCode: number;
  results: TopicElectionResult[];
}

function live(image: MetadataImage, id: number): boolean {
  const b = image.brokers.get(id);
  return b !== undefined && !b.fenced && !b.inControlledShutdown;
}

function leaderChange(topic: TopicImage, p: PartitionImage, leader: number, isr: number[] | null, leaderRecoveryState: number): MetadataRecord {
  return record(MetadataRecordType.PartitionChangeRecord, {
    partitionId: p.partition,
    topicId: topic.id,
    leader,
    isr,
    replicas: null,
    removingReplicas: null,
    addingReplicas: null,
    leaderRecoveryState,
  });
}

/** One partition's election: the record that carries it out, or the error that stops it. */
export function electPartition(image: MetadataImage, topic: TopicImage, p: PartitionImage, electionType: number): { record?: MetadataRecord; errorCode: number } {
  if (electionType === ElectionType.PREFERRED) {
    const preferred = p.replicas[0];
    if (preferred !== undefined && p.leader === preferred) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED };
    if (preferred === undefined || !p.isr.includes(preferred) || !live(image, preferred)) return { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE };
    return { record: leaderChange(topic, p, preferred, null, -1), errorCode: ErrorCode.NONE };
  }
  if (p.leader !== NO_LEADER) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED };
  const clean = p.isr.find((r) => live(image, r));
  if (clean !== undefined) return { record: leaderChange(topic, p, clean, null, -1), errorCode: ErrorCode.NONE };
  const unclean = p.replicas.find((r) => live(image, r));
  if (unclean === undefined) return { errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE };
  return { record: leaderChange(topic, p, unclean, [unclean], RECOVERING), errorCode: ErrorCode.NONE };
}

/** Kafka answers an error without its own message with the code's default one. */
function result(partitionId: number, errorCode: number, message?: string): PartitionElectionResult {
  return { partitionId, errorCode, errorMessage: errorCode === ErrorCode.NONE ? null : (message ?? errorByCode(errorCode).message) };
}

/** An ElectLeaders request: `partitions` null means every partition of every topic. */
export function electLeaders(image: MetadataImage, electionType: number, partitions: readonly ElectionRequest[] | null): ControllerResult<ElectionOutcome> {
  if (electionType !== ElectionType.PREFERRED && electionType !== ElectionType.UNCLEAN) {
    const message = `Unknown election type ${electionType}`;
    const results = (partitions ?? []).map((t) => ({ topic: t.topic, partitionResult: t.partitions.map((id) => result(id, ErrorCode.INVALID_REQUEST, message)) }));
    return { records: [], response: { errorCode: ErrorCode.INVALID_REQUEST, results } };
  }
  const records: MetadataRecord[] = [];
  const results: TopicElectionResult[] = [];
  if (partitions === null) {
    for (const topic of image.topicsByName.values()) {
      const partitionResult: PartitionElectionResult[] = [];
      for (const p of topic.partitions) {
        const e = electPartition(image, topic, p, electionType);
        if (e.record) records.push(e.record);
        if (e.errorCode !== ErrorCode.ELECTION_NOT_NEEDED) partitionResult.push(result(p.partition, e.errorCode));
      }
      if (partitionResult.length > 0) results.push({ topic: topic.name, partitionResult });
    }
    return { records, response: { errorCode: ErrorCode.NONE, results } };
  }
  for (const t of partitions) {
    const topic = image.topicsByName.get(t.topic);
    const partitionResult: PartitionElectionResult[] = [];
    // A partition named twice is elected once and answered once.
    for (const id of new Set(t.partitions)) {
      const p = topic?.partitions[id];
      if (!topic || !p) {
        partitionResult.push(result(id, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, topic ? `No such partition as ${t.topic}-${id}` : `No such topic as ${t.topic}`));
        continue;
      }
      const e = electPartition(image, topic, p, electionType);
      if (e.record) records.push(e.record);
      partitionResult.push(result(id, e.errorCode));
    }
    const existing = results.find((r) => r.topic === t.topic);
    if (existing) existing.partitionResult.push(...partitionResult.filter((r) => !existing.partitionResult.some((x) => x.partitionId === r.partitionId)));
    else results.push({ topic: t.topic, partitionResult });
  }
  return { records, response: { errorCode: ErrorCode.NONE, results } };
}

/** auto.leader.rebalance.enable, leader.imbalance.check.interval.seconds, leader.imbalance.per.broker.percentage. */
export interface LeaderRebalanceSettings {
  enable: boolean;
  checkIntervalMs: number;
  imbalancePercentage: number;
}

/**
 * The preferred elections that balance leadership: for every preferred broker whose share of
 * partitions led by another exceeds `imbalancePercentage`, those partitions where it can lead.
 */
export function rebalanceLeaders(image: MetadataImage, imbalancePercentage: number): ControllerResult<{ elected: number }> {
  const byPreferred = new Map<number, { total: number; away: { topic: TopicImage; p: PartitionImage }[] }>();
  for (const topic of image.topicsById.values()) {
    for (const p of topic.partitions) {
      const preferred = p.replicas[0];
      if (preferred === undefined) continue;
      let entry = byPreferred.get(preferred);
      if (!entry) byPreferred.set(preferred, (entry = { total: 0, away: [] }));
      entry.total++;
      if (p.leader !== preferred) entry.away.push({ topic, p });
    }
  }
  const records: MetadataRecord[] = [];
  for (const [broker, { total, away }] of byPreferred) {
    if (away.length === 0 || away.length * 100 <= imbalancePercentage * total || !live(image, broker)) continue;
    for (const { topic, p } of away) {
      const e = electPartition(image, topic, p, ElectionType.PREFERRED);
      if (e.record) records.push(e.record);
    }
  }
  return { records, response: { elected: records.length } };
}
