// Partition reassignment on the active controller (KIP-455, as Kafka's ReplicationControlManager,
// PartitionReassignmentReplicas, PartitionReassignmentRevert and PartitionChangeBuilder do it).
// Pure decisions against one image, returning the PartitionChangeRecords to commit:
// - start: target replicas T over current replicas C give removing = C \ T, adding = T \ C and
//   replicas = T followed by removing (the union, so the new replicas fetch while the old ones
//   still count); the ISR is unchanged. A reassignment whose adding replicas are all in the ISR
//   already (a pure removal, a reordering) completes in the same record.
// - progress: the leader adds the new replicas to the ISR as they catch up (AlterPartition);
//   once the ISR holds every target replica the reassignment completes: replicas = T, the
//   removing replicas leave the ISR, adding/removing are cleared, and a leader that is no longer
//   a replica hands over to the first live target replica in the ISR.
// - cancel (null replicas): back to the replicas before it started (replicas without the adding
//   ones), adding replicas leave the ISR; NO_REASSIGNMENT_IN_PROGRESS when none is going on.
// - a new target during a reassignment starts over from the replicas before it (KIP-455): the
//   adding replicas it leaves out go (and leave the ISR); the same target asked again (a retry)
//   changes nothing.
// Errors per partition, as Kafka: UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT (empty
// list, a broker twice, an unregistered broker), NO_REASSIGNMENT_IN_PROGRESS.
import { ErrorCode } from '../protocol/errors.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import { ZERO_UUID } from '../protocol/uuid.ts';
import type { ControllerResult } from './controller-result.ts';
import type { MetadataImage, PartitionImage, TopicImage } from './metadata/image.ts';
import { type MetadataRecord, record } from './metadata/record-serde.ts';
import { NO_LEADER } from './partition-leadership.ts';

export interface ReassignmentRequest {
  name: string;
  partitions: { partitionIndex: number; replicas: number[] | null }[];
}

export interface ReassignmentPartitionResult {
  partitionIndex: number;
  errorCode: number;
  errorMessage: string | null;
}

export interface ReassignmentTopicResult {
  name: string;
  partitions: ReassignmentPartitionResult[];
}

export interface OngoingReassignment {
  partitionIndex: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

export function isReassigning(p: PartitionImage): boolean {
  return p.addingReplicas.length > 0 || p.removingReplicas.length > 0;
}

function live(image: MetadataImage, id: number): boolean {
  const b = image.brokers.get(id);
  return b !== undefined && !b.fenced && !b.inControlledShutdown;
}

/** A reassignment whose every target replica is in the ISR. */
function completable(p: PartitionImage): boolean {
  if (!isReassigning(p)) return false;
  return p.replicas.every((r) => p.removingReplicas.includes(r) || p.isr.includes(r));
}

/** Kafka's PartitionReassignmentReplicas: the union replica list and who comes and goes. */
export function reassignmentReplicas(current: readonly number[], target: readonly number[]): { replicas: number[]; adding: number[]; removing: number[] } {
  const removing = current.filter((r) => !target.includes(r));
  const adding = target.filter((r) => !current.includes(r));
  return { replicas: [...target, ...removing], adding, removing };
}

interface PartitionTarget {
  replicas: readonly number[];
  isr: readonly number[];
  adding: readonly number[];
  removing: readonly number[];
}

/**
 * The record that takes `p` to `next`, completing the reassignment when the ISR holds every
 * target replica, and electing a leader when the current one is no longer eligible. Undefined
 * when nothing changes.
 */
function changeRecord(image: MetadataImage, topic: TopicImage, p: PartitionImage, next: PartitionTarget): MetadataRecord | undefined {
  let { replicas, isr, adding, removing } = next;
  if (adding.length > 0 || removing.length > 0) {
    const target = replicas.filter((r) => !removing.includes(r));
    if (target.every((r) => isr.includes(r))) {
      // Complete: the removing replicas leave (the ISR keeps at least one member, as Kafka's).
      replicas = target;
      const shrunk = isr.filter((r) => target.includes(r));
      isr = shrunk.length > 0 ? shrunk : isr;
      adding = [];
      removing = [];
    }
  }
  let leader = -2;
  const leaderOk = p.leader !== NO_LEADER && replicas.includes(p.leader) && isr.includes(p.leader) && live(image, p.leader);
  if (!leaderOk) {
    const elected = replicas.find((r) => isr.includes(r) && live(image, r)) ?? NO_LEADER;
    if (elected !== p.leader) leader = elected;
  }
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const replicasChanged = !same(replicas, p.replicas);
  const isrChanged = !same(isr, p.isr);
  const addingChanged = !same(adding, p.addingReplicas);
  const removingChanged = !same(removing, p.removingReplicas);
  if (!replicasChanged && !isrChanged && !addingChanged && !removingChanged && leader === -2) return undefined;
  const directories = replicasChanged ? replicas.map((r) => p.directories[p.replicas.indexOf(r)] ?? ZERO_UUID) : null;
  return record(MetadataRecordType.PartitionChangeRecord, {
    partitionId: p.partition,
    topicId: topic.id,
    leader,
    isr: isrChanged ? [...isr] : null,
    replicas: replicasChanged ? [...replicas] : null,
    removingReplicas: removingChanged ? [...removing] : null,
    addingReplicas: addingChanged ? [...adding] : null,
    leaderRecoveryState: -1,
    directories,
  });
}

function assignmentProblem(image: MetadataImage, replicas: readonly number[]): string | undefined {
  if (replicas.length === 0) return 'The manual partition assignment includes an empty replica list.';
  const dup = replicas.find((b, i) => replicas.indexOf(b) !== i);
  if (dup !== undefined) return `The manual partition assignment includes the broker ${dup} more than once.`;
  for (const b of replicas) {
    if (b < 0) return `The manual partition assignment includes an invalid broker id ${b}.`;
    if (!image.brokers.has(b)) return `The manual partition assignment includes broker ${b}, but no such broker is registered.`;
  }
  return undefined;
}

/** One partition's reassignment (or its cancellation, for null replicas). */
export function reassignPartition(image: MetadataImage, topic: TopicImage, p: PartitionImage, replicas: readonly number[] | null): { record?: MetadataRecord; errorCode: number; errorMessage: string | null } {
  if (replicas === null) {
    if (!isReassigning(p)) return { errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: 'No partition reassignment is in progress for this topic-partition.' };
    // Kafka's PartitionReassignmentRevert: the adding replicas go, the removing ones stay.
    const original = p.replicas.filter((r) => !p.addingReplicas.includes(r));
    let isr = p.isr.filter((r) => original.includes(r));
    // With no original replica in sync, the ISR falls back to the original replicas (unclean, as Kafka).
    if (isr.length === 0) isr = original;
    const rec = changeRecord(image, topic, p, { replicas: original, isr, adding: [], removing: [] });
    return { record: rec, errorCode: ErrorCode.NONE, errorMessage: null };
  }
  const problem = assignmentProblem(image, replicas);
  if (problem) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: problem };
  // A new target during a reassignment starts from the replicas before it (KIP-455): adding
  // replicas left out of the new target go, and the same target asked twice changes nothing.
  const original = p.replicas.filter((r) => !p.addingReplicas.includes(r));
  const r = reassignmentReplicas(original, replicas);
  const kept = p.isr.filter((id) => r.replicas.includes(id));
  const rec = changeRecord(image, topic, p, { replicas: r.replicas, isr: kept.length > 0 ? kept : p.isr, adding: r.adding, removing: r.removing });
  return { record: rec, errorCode: ErrorCode.NONE, errorMessage: null };
}

/** An AlterPartitionReassignments request, decided against one image. */
export function alterPartitionReassignments(image: MetadataImage, topics: readonly ReassignmentRequest[]): ControllerResult<ReassignmentTopicResult[]> {
  const records: MetadataRecord[] = [];
  const response: ReassignmentTopicResult[] = [];
  for (const t of topics) {
    const topic = image.topicsByName.get(t.name);
    const partitions: ReassignmentPartitionResult[] = [];
    response.push({ name: t.name, partitions });
    for (const rp of t.partitions) {
      const p = topic?.partitions[rp.partitionIndex];
      if (!topic || !p) {
        partitions.push({ partitionIndex: rp.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: topic ? `Unable to find partition ${t.name}:${rp.partitionIndex}.` : `Unable to find a topic named ${t.name}.` });
        continue;
      }
      // Two changes of one partition in one request apply in turn, the second seeing the first.
      const current = records.length > 0 ? latest(topic, p, records) : p;
      const out = reassignPartition(image, topic, current, rp.replicas);
      if (out.record) records.push(out.record);
      partitions.push({ partitionIndex: rp.partitionIndex, errorCode: out.errorCode, errorMessage: out.errorMessage });
    }
  }
  return { records, response };
}

/** `p` as the records decided so far in this request leave it. */
function latest(topic: TopicImage, p: PartitionImage, records: readonly MetadataRecord[]): PartitionImage {
  let cur = p;
  for (const r of records) {
    if (r.type !== MetadataRecordType.PartitionChangeRecord || r.data.topicId !== topic.id || r.data.partitionId !== p.partition) continue;
    const d = r.data;
    cur = {
      ...cur,
      replicas: d.replicas ?? cur.replicas,
      isr: d.isr ?? cur.isr,
      addingReplicas: d.addingReplicas ?? cur.addingReplicas,
      removingReplicas: d.removingReplicas ?? cur.removingReplicas,
      directories: d.directories ?? cur.directories,
      leader: d.leader !== -2 && d.leader !== undefined ? d.leader : cur.leader,
    };
  }
  return cur;
}

/**
 * The reassignments that can complete now (every target replica in the ISR): run after each
 * committed change, as Kafka completes them when the ISR grows.
 */
export function completeReassignments(image: MetadataImage, topicIds?: Iterable<string>): ControllerResult<number> {
  const records: MetadataRecord[] = [];
  const topics = topicIds ? [...topicIds].map((id) => image.topicsById.get(id)).filter((t) => t !== undefined) : [...image.topicsById.values()];
  for (const topic of topics) {
    for (const p of topic.partitions) {
      if (!completable(p)) continue;
      const rec = changeRecord(image, topic, p, { replicas: p.replicas, isr: p.isr, adding: p.addingReplicas, removing: p.removingReplicas });
      if (rec) records.push(rec);
    }
  }
  return { records, response: records.length };
}

/** True when some partition of these topics could complete its reassignment now. */
export function hasCompletableReassignment(image: MetadataImage, topicIds: Iterable<string>): boolean {
  for (const id of topicIds) {
    const topic = image.topicsById.get(id);
    if (!topic) continue;
    if (topic.partitions.some(completable)) return true;
  }
  return false;
}

/** ListPartitionReassignments: every ongoing one (null topics), or those of the partitions named. */
export function listPartitionReassignments(image: MetadataImage, topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null): { name: string; partitions: OngoingReassignment[] }[] {
  const ongoing = (p: PartitionImage): OngoingReassignment => ({ partitionIndex: p.partition, replicas: [...p.replicas], addingReplicas: [...p.addingReplicas], removingReplicas: [...p.removingReplicas] });
  const out: { name: string; partitions: OngoingReassignment[] }[] = [];
  if (topics === null) {
    for (const topic of image.topicsByName.values()) {
      const partitions = topic.partitions.filter(isReassigning).map(ongoing);
      if (partitions.length > 0) out.push({ name: topic.name, partitions });
    }
    return out;
  }
  for (const t of topics) {
    const topic = image.topicsByName.get(t.name);
    if (!topic) continue;
    const partitions: OngoingReassignment[] = [];
    for (const id of t.partitionIndexes) {
      const p = topic.partitions[id];
      if (p && isReassigning(p)) partitions.push(ongoing(p));
    }
    if (partitions.length > 0) out.push({ name: topic.name, partitions });
  }
  return out;
}
