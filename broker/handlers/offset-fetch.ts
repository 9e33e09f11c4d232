// OffsetFetch (key 9), v0-v9, served by the classic group coordinator. v0-v7 ask for one group,
// v8+ for several; a null topic list (v2+) means every partition the group has offsets for.
// Group errors are top-level from v2 (per group from v8) and per partition before. require_stable
// (v7+) answers UNSTABLE_OFFSET_COMMIT for a partition whose commit is still being written. The
// v9 member id and epoch belong to KIP-848 groups; classic groups ignore them, as Kafka does.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { OffsetFetchResponseGroup } from '../../protocol/generated/message/offset-fetch-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnGroup, describableOffsets } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import type { FetchedOffset, GroupCoordinator } from '../group/group-coordinator.ts';
import { defineHandler } from './api-handler.ts';

type Topics = { name: string; partitionIndexes: number[] }[] | null;

function byTopic(offsets: readonly FetchedOffset[]) {
  const topics = new Map<string, { name: string; partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; metadata: string | null; errorCode: number }[] }>();
  for (const o of offsets) {
    let t = topics.get(o.topic);
    if (!t) topics.set(o.topic, (t = { name: o.topic, partitions: [] }));
    t.partitions.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: o.errorCode });
  }
  return [...topics.values()];
}

function fetchGroup(c: GroupCoordinator, groupId: string, topics: Topics, requireStable: boolean) {
  const wanted = topics === null ? null : topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
  return c.fetchOffsets(groupId, wanted, requireStable);
}

export function offsetFetchHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.OffsetFetch,
    async handle(req, rc) {
      const v = rc.apiVersion;
      const coordinator = await readyGroupCoordinator(ctx);
      const requireStable = v >= 7 && (req.requireStable ?? false);
      if (v >= 8) {
        const groups: OffsetFetchResponseGroup[] = (req.groups ?? []).map((g) => {
          if (!allowedOnGroup(ctx, rc, AclOperation.DESCRIBE, g.groupId)) return { groupId: g.groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
          const r = fetchGroup(coordinator, g.groupId, g.topics, requireStable);
          return { groupId: g.groupId, errorCode: r.errorCode, topics: r.errorCode === ErrorCode.NONE ? byTopic(describableOffsets(ctx, rc, r.offsets, g.topics != null)) : [] };
        });
        return { throttleTimeMs: 0, groups };
      }
      const topics: Topics = v >= 2 ? (req.topics ?? null) : (req.topics ?? []);
      if (!allowedOnGroup(ctx, rc, AclOperation.DESCRIBE, req.groupId ?? '')) return groupErrorResponse(v, topics, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      const r = fetchGroup(coordinator, req.groupId ?? '', topics, requireStable);
      if (r.errorCode !== ErrorCode.NONE) return groupErrorResponse(v, topics, r.errorCode);
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics: byTopic(describableOffsets(ctx, rc, r.offsets, topics !== null)) };
    },
    errorResponse: (req, err, rc) => {
      if (rc.apiVersion >= 8) return { throttleTimeMs: 0, groups: (req.groups ?? []).map((g) => ({ groupId: g.groupId, errorCode: err.errorCode, topics: [] })) };
      return groupErrorResponse(rc.apiVersion, req.topics ?? null, err.errorCode);
    },
  });
}

/** Before v2 there is no top-level error: every requested partition carries it. */
function groupErrorResponse(version: number, topics: Topics, errorCode: number) {
  if (version >= 2) return { throttleTimeMs: 0, errorCode, topics: [] };
  return {
    throttleTimeMs: 0,
    errorCode,
    topics: (topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode })),
    })),
  };
}
