// The console's JSON API, built from what the node already has: the published metadata image
// (brokers, topics, partitions with leaders, replicas and ISR) and the quorum leader's
// DescribeQuorum answer (asked in process on the active controller, else through the controller
// channel as the DescribeQuorum handler does). Read-only; numbers that are 64-bit in Kafka are
// sent as JSON numbers (offsets and timestamps stay far below 2^53).
import { INTERNAL_TOPICS } from '../../controller/topic-names.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { DescribeQuorumResponse } from '../../protocol/generated/message/describe-quorum-response.ts';
import type { BrokerContext } from '../broker-context.ts';
import { SAMSA_VERSION } from './console-nodes.ts';

export interface ClusterOverview {
  clusterId: string;
  nodeId: number;
  metadataOffset: number;
  /** This node's software version and the cluster's finalized feature levels (metadata.version, ...). */
  version: string;
  features: Record<string, number>;
  quorum: { leaderId: number; epoch: number };
  brokers: { id: number; endpoints: string[]; rack: string | null; fenced: boolean; inControlledShutdown: boolean }[];
  topics: { name: string; id: string; internal: boolean; partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[] }[];
}

export function clusterOverview(ctx: BrokerContext): ClusterOverview {
  const image = ctx.metadata.image.offset >= 0n ? ctx.metadata.image : ctx.controller.image;
  const raft = ctx.controller.raft;
  return {
    clusterId: ctx.clusterId,
    nodeId: ctx.nodeId,
    metadataOffset: Number(image.offset),
    version: SAMSA_VERSION,
    features: Object.fromEntries([...image.features].sort((a, b) => a[0].localeCompare(b[0]))),
    quorum: { leaderId: raft.currentLeader, epoch: raft.currentEpoch },
    brokers: [...image.brokers.values()]
      .sort((a, b) => a.id - b.id)
      .map((b) => ({ id: b.id, endpoints: b.endpoints.map((e) => `${e.name}://${e.host}:${e.port}`), rack: b.rack, fenced: b.fenced, inControlledShutdown: b.inControlledShutdown })),
    topics: [...image.topicsByName.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) => ({
        name: t.name,
        id: t.id,
        internal: INTERNAL_TOPICS.has(t.name),
        partitions: t.partitions.map((p) => ({ partition: p.partition, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] })),
      })),
  };
}

export interface QuorumState {
  leaderId: number;
  epoch: number;
  highWatermark: number;
  voters: ReplicaView[];
  observers: ReplicaView[];
  /** Controllers' endpoints ("NAME://host:port") by voter id, from DescribeQuorum v2 or controller.quorum.voters. */
  endpoints: Record<number, string[]>;
}

interface ReplicaView {
  id: number;
  logEndOffset: number;
  lastFetchTimestamp: number;
  lastCaughtUpTimestamp: number;
}

/** The quorum as its leader describes it, or an error message when no leader answers. */
export async function quorumState(ctx: BrokerContext): Promise<QuorumState | { error: string }> {
  const req = { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] };
  const notLeader = (r: DescribeQuorumResponse) => r.topics[0]?.partitions[0]?.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER;
  const r = ctx.controller.isActive ? await ctx.controller.raft.handleDescribeQuorum(req) : await ctx.controllerChannel.forward(ApiKey.DescribeQuorum, req, notLeader);
  const p = r?.topics[0]?.partitions[0];
  if (!r || r.errorCode !== ErrorCode.NONE || !p || p.errorCode !== ErrorCode.NONE) return { error: 'the metadata quorum has no leader that answers' };
  const view = (s: DescribeQuorumResponse['topics'][number]['partitions'][number]['currentVoters'][number]): ReplicaView => ({
    id: s.replicaId,
    logEndOffset: Number(s.logEndOffset),
    lastFetchTimestamp: Number(s.lastFetchTimestamp ?? -1n),
    lastCaughtUpTimestamp: Number(s.lastCaughtUpTimestamp ?? -1n),
  });
  const endpoints: Record<number, string[]> = {};
  // Port 0 in controller.quorum.voters (an embedded node's) names no endpoint.
  for (const v of ctx.config.quorumVoters) if (v.port > 0) endpoints[v.id] = [`${ctx.config.controllerListenerNames[0] ?? 'CONTROLLER'}://${v.host}:${v.port}`];
  for (const n of r.nodes ?? []) if (n.listeners.length > 0) endpoints[n.nodeId] = n.listeners.map((l) => `${l.name}://${l.host}:${l.port}`);
  return { leaderId: p.leaderId, epoch: p.leaderEpoch, highWatermark: Number(p.highWatermark), voters: p.currentVoters.map(view), observers: p.observers.map(view), endpoints };
}
