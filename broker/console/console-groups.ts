// The console's consumer groups: ListGroups for the list, DescribeGroups (members and their
// decoded consumer assignments), OffsetFetch (committed offsets) and ListOffsets (log end offsets)
// for a group's detail, with lag = log end offset - committed offset per partition, as
// kafka-consumer-groups --describe shows it. Resetting offsets follows kafka-consumer-groups
// --reset-offsets: a plan (dry run) per partition, applied with OffsetCommit only when the group
// has no active members (state Empty or Dead), to the earliest or latest offset, the first
// offset at a timestamp (the end where none is), or a given offset clamped to the log's range.
// The group APIs are answered by the group's coordinator: on another node, Kafka's
// NOT_COORDINATOR is shown.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { decodeAssignment } from '../cli/group-member.ts';
import { checkKafka, type ConsoleAdmin, ConsoleError } from './console-admin.ts';
import { listOffsets } from './console-topics.ts';
import { mayDescribe } from './console-visibility.ts';

export interface GroupRow {
  groupId: string;
  state: string;
  protocolType: string;
  type: string;
}

export interface OffsetRow {
  topic: string;
  partition: number;
  committed: number | null;
  end: number | null;
  lag: number | null;
  member: string | null;
}

export async function listGroups(admin: ConsoleAdmin, principal: string): Promise<GroupRow[]> {
  const r = await admin.call(ApiKey.ListGroups, { statesFilter: [], typesFilter: [] }, principal);
  checkKafka(r.errorCode, null, 'list groups');
  return r.groups
    .filter((g) => mayDescribe(admin.context, principal, { type: 'group', name: g.groupId }))
    .map((g) => ({ groupId: g.groupId, state: g.groupState ?? '', protocolType: g.protocolType, type: g.groupType ?? 'classic' }))
    .sort((a, b) => a.groupId.localeCompare(b.groupId));
}

async function describe(admin: ConsoleAdmin, principal: string, groupId: string) {
  const r = await admin.call(ApiKey.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false }, principal);
  const g = r.groups[0];
  if (!g) throw new ConsoleError(500, 'DescribeGroups answered nothing');
  checkKafka(g.errorCode, null, `describe group ${groupId}`);
  return g;
}

async function committedOffsets(admin: ConsoleAdmin, principal: string, groupId: string): Promise<Map<string, Map<number, number>>> {
  const r = await admin.call(ApiKey.OffsetFetch, { groupId, topics: null, requireStable: true }, principal);
  checkKafka(r.errorCode ?? ErrorCode.NONE, null, `committed offsets of ${groupId}`);
  const out = new Map<string, Map<number, number>>();
  for (const t of r.topics ?? []) {
    for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE || p.committedOffset < 0n) continue;
      const m = out.get(t.name) ?? new Map<number, number>();
      out.set(t.name, m);
      m.set(p.partitionIndex, Number(p.committedOffset));
    }
  }
  return out;
}

async function endOffsets(admin: ConsoleAdmin, principal: string, topic: string, partitions: number[], timestamp = -1n): Promise<Map<number, number | null>> {
  const r = await listOffsets(admin, principal, topic, partitions, timestamp);
  return new Map(partitions.map((p) => [p, r.get(p)?.offset ?? null]));
}

export async function groupDetail(admin: ConsoleAdmin, principal: string, groupId: string) {
  if (!mayDescribe(admin.context, principal, { type: 'group', name: groupId })) throw new ConsoleError(404, `group ${groupId} does not exist`, 'GROUP_ID_NOT_FOUND');
  const g = await describe(admin, principal, groupId);
  const owner = new Map<string, string>();
  const members = g.members.map((m) => {
    let assignment: Record<string, number[]> = {};
    if (g.protocolType === 'consumer') {
      try {
        assignment = Object.fromEntries(decodeAssignment(m.memberAssignment));
      } catch {
        // An assignment that is not the consumer protocol's shows as none, as Kafka's tool does.
      }
    }
    for (const [topic, parts] of Object.entries(assignment)) for (const p of parts) owner.set(`${topic}\0${p}`, m.memberId);
    return { memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null, clientId: m.clientId, host: m.clientHost, assignment };
  });
  const committed = await committedOffsets(admin, principal, groupId);
  const topics = new Map<string, Set<number>>();
  for (const [t, parts] of committed) topics.set(t, new Set(parts.keys()));
  for (const key of owner.keys()) {
    const [t, p] = key.split('\0') as [string, string];
    const s = topics.get(t) ?? new Set<number>();
    topics.set(t, s);
    s.add(Number(p));
  }
  const offsets: OffsetRow[] = [];
  for (const [topic, parts] of [...topics].sort((a, b) => a[0].localeCompare(b[0]))) {
    const sorted = [...parts].sort((a, b) => a - b);
    const ends = await endOffsets(admin, principal, topic, sorted);
    for (const p of sorted) {
      const c = committed.get(topic)?.get(p) ?? null;
      const end = ends.get(p) ?? null;
      offsets.push({ topic, partition: p, committed: c, end, lag: c !== null && end !== null ? Math.max(0, end - c) : null, member: owner.get(`${topic}\0${p}`) ?? null });
    }
  }
  const totalLag = offsets.reduce((s, o) => s + (o.lag ?? 0), 0);
  return { groupId, state: g.groupState, protocolType: g.protocolType, protocol: g.protocolData, members, offsets, totalLag, sampledAt: admin.context.now() };
}

export type ResetTarget = { to: 'earliest' } | { to: 'latest' } | { to: 'timestamp'; timestamp: number } | { to: 'offset'; offset: number };

export interface ResetRequest {
  groupId: string;
  /** One topic, or every topic the group has committed offsets for. */
  topic?: string;
  target: ResetTarget;
  dryRun: boolean;
}

export interface ResetRow {
  topic: string;
  partition: number;
  current: number | null;
  next: number;
}

/** Kafka's tool resets offsets only of groups without active members. */
const RESETTABLE = new Set(['Empty', 'Dead']);

export async function resetOffsets(admin: ConsoleAdmin, principal: string, q: ResetRequest): Promise<{ applied: boolean; plan: ResetRow[] }> {
  if (!mayDescribe(admin.context, principal, { type: 'group', name: q.groupId })) throw new ConsoleError(404, `group ${q.groupId} does not exist`, 'GROUP_ID_NOT_FOUND');
  const g = await describe(admin, principal, q.groupId);
  if (!RESETTABLE.has(g.groupState)) {
    throw new ConsoleError(409, `Assignments can only be reset if the group '${q.groupId}' is inactive, but the current state is ${g.groupState}.`, 'GROUP_NOT_EMPTY');
  }
  const committed = await committedOffsets(admin, principal, q.groupId);
  const image = admin.context.metadata.image;
  const topics = q.topic !== undefined ? [q.topic] : [...committed.keys()].sort();
  const plan: ResetRow[] = [];
  for (const topic of topics) {
    const t = image.topicsByName.get(topic);
    if (!t) throw new ConsoleError(404, `topic ${topic} does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
    const parts = t.partitions.map((p) => p.partition);
    const [earliest, latest] = await Promise.all([endOffsets(admin, principal, topic, parts, -2n), endOffsets(admin, principal, topic, parts, -1n)]);
    const atTime = q.target.to === 'timestamp' ? await endOffsets(admin, principal, topic, parts, BigInt(q.target.timestamp)) : undefined;
    for (const p of parts) {
      const lo = earliest.get(p);
      const hi = latest.get(p);
      if (lo == null || hi == null) throw new ConsoleError(409, `node ${admin.context.nodeId} does not lead ${topic}-${p}; reset from its leader's console`, 'NOT_LEADER_OR_FOLLOWER');
      let next: number;
      switch (q.target.to) {
        case 'earliest':
          next = lo;
          break;
        case 'latest':
          next = hi;
          break;
        case 'timestamp': {
          const at = atTime!.get(p);
          next = at == null || at < 0 ? hi : at;
          break;
        }
        case 'offset':
          next = Math.min(hi, Math.max(lo, q.target.offset));
          break;
      }
      plan.push({ topic, partition: p, current: committed.get(topic)?.get(p) ?? null, next });
    }
  }
  if (q.dryRun || plan.length === 0) return { applied: false, plan };
  const byTopic = new Map<string, ResetRow[]>();
  for (const row of plan) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row]);
  const r = await admin.call(
    ApiKey.OffsetCommit,
    {
      groupId: q.groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [...byTopic].map(([name, rows]) => ({ name, partitions: rows.map((x) => ({ partitionIndex: x.partition, committedOffset: BigInt(x.next), committedLeaderEpoch: -1, committedMetadata: '' })) })),
    },
    principal,
  );
  for (const t of r.topics) for (const p of t.partitions) checkKafka(p.errorCode, null, `commit ${t.name}-${p.partitionIndex}`);
  return { applied: true, plan };
}
