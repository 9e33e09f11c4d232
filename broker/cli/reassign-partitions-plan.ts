// The pure part of `samsa reassign-partitions` (Kafka's ReassignPartitionsCommand): the JSON
// files it reads and writes, the placement --generate proposes (Kafka's rack-unaware
// assignReplicasToBrokers), the throttled replicas --execute sets, and the lines --verify and
// --list print. Everything here is Kafka's format and wording, so operators' scripts keep working.
import { CliError } from './command-io.ts';

export interface PartitionAssignment {
  topic: string;
  partition: number;
  replicas: number[];
}

/** "topic-partition", as Kafka's TopicPartition prints. */
export const tpName = (p: { topic: string; partition: number }): string => `${p.topic}-${p.partition}`;

export function compareTopicPartitions(a: { topic: string; partition: number }, b: { topic: string; partition: number }): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`Unable to parse the ${what} JSON: ${(e as Error).message}`);
  }
}

/** The topics of a --topics-to-move-json-file: {"topics":[{"topic":"foo"}],"version":1}. */
export function parseTopicsToMove(text: string): string[] {
  const data = parseJson(text, 'topics-to-move') as { topics?: unknown };
  if (!Array.isArray(data?.topics)) throw new CliError('Missing mandatory field "topics" in the topics-to-move JSON');
  const topics: string[] = [];
  for (const t of data.topics) {
    const name = (t as { topic?: unknown })?.topic;
    if (typeof name !== 'string') throw new CliError(`Invalid topic in the topics-to-move JSON: ${JSON.stringify(t)}`);
    topics.push(name);
  }
  const dups = topics.filter((t, i) => topics.indexOf(t) !== i);
  if (dups.length > 0) throw new CliError(`List of topics to reassign contains duplicate entries: ${[...new Set(dups)].join(',')}`);
  return topics;
}

/** --broker-list "1,2,3". */
export function parseBrokerList(text: string | undefined): number[] {
  if (text === undefined) throw new CliError('Missing required argument "[broker-list]"');
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const out: number[] = [];
  for (const s of ids) {
    if (!/^-?\d+$/.test(s)) throw new CliError(`Invalid broker id in the broker list: ${s}`);
    out.push(Number(s));
  }
  const dups = out.filter((b, i) => out.indexOf(b) !== i);
  if (dups.length > 0) throw new CliError(`Duplicate broker IDs in broker list: ${[...new Set(dups)].join(',')}`);
  if (out.length === 0) throw new CliError('The broker list is empty');
  return out;
}

/** A --reassignment-json-file: {"version":1,"partitions":[{"topic","partition","replicas","log_dirs"?}]}. */
export function parseReassignmentJson(text: string): PartitionAssignment[] {
  const data = parseJson(text, 'partition reassignment') as { partitions?: unknown };
  if (!Array.isArray(data?.partitions)) throw new CliError('Missing mandatory field "partitions" in the partition reassignment JSON');
  const out: PartitionAssignment[] = [];
  for (const item of data.partitions) {
    const { topic, partition, replicas, log_dirs: logDirs } = (item ?? {}) as { topic?: unknown; partition?: unknown; replicas?: unknown; log_dirs?: unknown };
    if (typeof topic !== 'string' || typeof partition !== 'number' || !Number.isInteger(partition) || !Array.isArray(replicas) || !replicas.every((r) => Number.isInteger(r))) {
      throw new CliError(`Invalid partition in the partition reassignment JSON: ${JSON.stringify(item)}`);
    }
    if (logDirs !== undefined && (!Array.isArray(logDirs) || logDirs.length !== replicas.length)) {
      throw new CliError(`Size of replicas list ${JSON.stringify(replicas)} is different from size of log dirs list ${JSON.stringify(logDirs)} for partition ${topic}-${partition}`);
    }
    if (Array.isArray(logDirs) && logDirs.some((d) => d !== 'any')) throw new CliError('Moving replicas between log directories is not supported: use "any" in log_dirs');
    out.push({ topic, partition, replicas: replicas as number[] });
  }
  if (out.length === 0) throw new CliError('Partition reassignment list cannot be empty');
  const names = out.map(tpName);
  const dupParts = names.filter((n, i) => names.indexOf(n) !== i);
  if (dupParts.length > 0) throw new CliError(`Partition reassignment contains duplicate topic partitions: ${[...new Set(dupParts)].join(',')}`);
  const dupReplicas = out.filter((p) => new Set(p.replicas).size !== p.replicas.length);
  if (dupReplicas.length > 0) throw new CliError(`Partition replica lists may not contain duplicate entries: ${dupReplicas.map((p) => `${tpName(p)} contains ${p.replicas.join(',')}`).join('. ')}`);
  return out;
}

/** Kafka's formatAsReassignmentJson: sorted by topic and partition, log_dirs all "any". */
export function formatReassignmentJson(parts: readonly PartitionAssignment[]): string {
  const partitions = [...parts].sort(compareTopicPartitions).map((p) => ({ topic: p.topic, partition: p.partition, replicas: p.replicas, log_dirs: p.replicas.map(() => 'any') }));
  return JSON.stringify({ version: 1, partitions });
}

/**
 * Kafka's rack-unaware assignReplicasToBrokers: the first replica of partition p on broker
 * (p + start) % n, the others shifted by a per-round amount so followers spread as well.
 */
export function assignReplicasToBrokers(partitions: number, replicationFactor: number, brokers: readonly number[], random: () => number = Math.random): number[][] {
  const ids = [...brokers].sort((a, b) => a - b);
  const n = ids.length;
  if (replicationFactor > n) throw new CliError(`Replication factor: ${replicationFactor} larger than available brokers: ${n}.`);
  const start = Math.floor(random() * n);
  let shift = Math.floor(random() * n);
  const out: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    if (p > 0 && p % n === 0) shift++;
    const first = (p + start) % n;
    const replicas = [ids[first]!];
    for (let j = 0; j < replicationFactor - 1; j++) replicas.push(ids[(first + 1 + ((shift + j) % (n - 1))) % n]!);
    out.push(replicas);
  }
  return out;
}

/** --generate: a new placement of every partition of `current`'s topics over `brokers`. */
export function proposeAssignment(current: readonly PartitionAssignment[], brokers: readonly number[], random?: () => number): PartitionAssignment[] {
  const byTopic = new Map<string, PartitionAssignment[]>();
  for (const p of current) {
    const list = byTopic.get(p.topic) ?? [];
    list.push(p);
    byTopic.set(p.topic, list);
  }
  const out: PartitionAssignment[] = [];
  for (const [topic, parts] of byTopic) {
    const rf = parts[0]!.replicas.length;
    const lists = assignReplicasToBrokers(parts.length, rf, brokers, random);
    for (const p of parts) out.push({ topic, partition: p.partition, replicas: lists[p.partition]! });
  }
  return out.sort(compareTopicPartitions);
}

/**
 * The throttled replicas of a reassignment, per topic (Kafka's calculateProposedMoveMap): the
 * leader side throttles every current replica of a moving partition (any of them may be the
 * source), the follower side the replicas being added.
 */
export function throttledReplicas(proposed: readonly PartitionAssignment[], current: ReadonlyMap<string, readonly number[]>): Map<string, { leader: string[]; follower: string[] }> {
  const out = new Map<string, { leader: string[]; follower: string[] }>();
  for (const p of [...proposed].sort(compareTopicPartitions)) {
    const cur = current.get(tpName(p)) ?? [];
    const adding = p.replicas.filter((r) => !cur.includes(r));
    if (adding.length === 0 && cur.every((r) => p.replicas.includes(r))) continue;
    let t = out.get(p.topic);
    if (!t) out.set(p.topic, (t = { leader: [], follower: [] }));
    for (const r of cur) t.leader.push(`${p.partition}:${r}`);
    for (const r of adding) t.follower.push(`${p.partition}:${r}`);
  }
  return out;
}

export interface PartitionReassignmentState {
  currentReplicas: readonly number[];
  targetReplicas: readonly number[];
  done: boolean;
}

/** The lines --verify prints (Kafka's partitionReassignmentStatesToString). */
export function reassignmentStatesToString(states: ReadonlyMap<string, PartitionReassignmentState & { topic: string; partition: number }>): string {
  const lines = ['Status of partition reassignment:'];
  for (const s of [...states.values()].sort(compareTopicPartitions)) {
    const name = tpName(s);
    if (!s.done) lines.push(`Reassignment of partition ${name} is still in progress.`);
    else if (s.currentReplicas.length === s.targetReplicas.length && s.currentReplicas.every((r, i) => r === s.targetReplicas[i])) lines.push(`Reassignment of partition ${name} is completed.`);
    else lines.push(`There is no active reassignment of partition ${name}, but replica set is ${s.currentReplicas.join(',')} rather than ${s.targetReplicas.join(',')}.`);
  }
  return lines.join('\n');
}

export interface OngoingReassignmentView {
  topic: string;
  partition: number;
  replicas: readonly number[];
  addingReplicas: readonly number[];
  removingReplicas: readonly number[];
}

/** What --list prints (Kafka's curReassignmentsToString). */
export function currentReassignmentsToString(list: readonly OngoingReassignmentView[]): string {
  if (list.length === 0) return 'No partition reassignments found.';
  const lines = [...list].sort(compareTopicPartitions).map((r) => `${tpName(r)}: replicas: ${r.replicas.join(',')}.${r.addingReplicas.length === 0 ? '' : ` adding: ${r.addingReplicas.join(',')}.`}${r.removingReplicas.length === 0 ? '' : ` removing: ${r.removingReplicas.join(',')}.`}`);
  return `Current partition reassignments:\n${lines.join('\n')}`;
}
