// Builders of the request and response data a replica sends for `__cluster_metadata-0`, so the
// role logic reads as Raft and not as nested topic/partition arrays. Field meanings are
// Kafka's (KIP-595); versions are the transport's business.
import type { BeginQuorumEpochRequest } from '../../protocol/generated/message/begin-quorum-epoch-request.ts';
import type { BeginQuorumEpochResponse } from '../../protocol/generated/message/begin-quorum-epoch-response.ts';
import type { DescribeQuorumResponse, ReplicaState } from '../../protocol/generated/message/describe-quorum-response.ts';
import type { EndQuorumEpochRequest } from '../../protocol/generated/message/end-quorum-epoch-request.ts';
import type { EndQuorumEpochResponse } from '../../protocol/generated/message/end-quorum-epoch-response.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import type { VoteRequest } from '../../protocol/generated/message/vote-request.ts';
import type { VoteResponse } from '../../protocol/generated/message/vote-response.ts';
import { METADATA_PARTITION, METADATA_TOPIC, METADATA_TOPIC_UUID } from './raft-transport.ts';
import type { VoterEndpoint } from './voter-set.ts';

export interface LeaderAndEpoch {
  leaderId: number;
  epoch: number;
}

/** Directory ids of the replica keys (v1+): the candidate's own and the voter's it asks. */
export interface VoteKeys {
  candidateDirectoryId?: string;
  voterDirectoryId?: string;
}

export function voteRequest(clusterId: string | null, voterId: number, candidateId: number, candidateEpoch: number, lastOffsetEpoch: number, lastOffset: bigint, keys: VoteKeys = {}): VoteRequest {
  return {
    clusterId,
    voterId,
    topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, candidateEpoch, candidateId, ...keys, lastOffsetEpoch, lastOffset }] }],
  };
}

export function voteResponse(errorCode: number, partitionError: number, at: LeaderAndEpoch, voteGranted: boolean): VoteResponse {
  return {
    errorCode,
    topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: partitionError, leaderId: at.leaderId, leaderEpoch: at.epoch, voteGranted }] }],
  };
}

export function beginQuorumEpochRequest(clusterId: string | null, voterId: number, leaderId: number, leaderEpoch: number, voterDirectoryId?: string, leaderEndpoints: VoterEndpoint[] = []): BeginQuorumEpochRequest {
  return { clusterId, voterId, topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, voterDirectoryId, leaderId, leaderEpoch }] }], leaderEndpoints };
}

export function beginQuorumEpochResponse(errorCode: number, partitionError: number, at: LeaderAndEpoch): BeginQuorumEpochResponse {
  return { errorCode, topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: partitionError, leaderId: at.leaderId, leaderEpoch: at.epoch }] }] };
}

/**
 * The successors go out in both fields: v0 carries preferredSuccessors (ids), v1 preferredCandidates
 * (replica keys with directory ids, `directoryIdOf`) and the leader's endpoints.
 */
export function endQuorumEpochRequest(
  clusterId: string | null,
  leaderId: number,
  leaderEpoch: number,
  preferredSuccessors: number[],
  directoryIdOf: (id: number) => string | undefined = () => undefined,
  leaderEndpoints: VoterEndpoint[] = [],
): EndQuorumEpochRequest {
  const preferredCandidates = preferredSuccessors.map((candidateId) => ({ candidateId, candidateDirectoryId: directoryIdOf(candidateId) ?? 'AAAAAAAAAAAAAAAAAAAAAA' }));
  return {
    clusterId,
    topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, leaderId, leaderEpoch, preferredSuccessors, preferredCandidates }] }],
    leaderEndpoints,
  };
}

export function endQuorumEpochResponse(errorCode: number, partitionError: number, at: LeaderAndEpoch): EndQuorumEpochResponse {
  return { errorCode, topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: partitionError, leaderId: at.leaderId, leaderEpoch: at.epoch }] }] };
}

export interface FetchPosition {
  replicaId: number;
  /** Sent from Fetch v17 (KIP-853's replica key). */
  replicaDirectoryId?: string;
  currentLeaderEpoch: number;
  fetchOffset: bigint;
  lastFetchedEpoch: number;
  maxWaitMs: number;
  maxBytes: number;
}

export function fetchRequest(clusterId: string | null, f: FetchPosition): FetchRequest {
  return {
    clusterId,
    replicaId: f.replicaId,
    replicaState: { replicaId: f.replicaId, replicaEpoch: -1n },
    maxWaitMs: f.maxWaitMs,
    minBytes: 0,
    maxBytes: f.maxBytes,
    topics: [
      {
        topic: METADATA_TOPIC,
        topicId: METADATA_TOPIC_UUID,
        partitions: [
          {
            partition: METADATA_PARTITION,
            currentLeaderEpoch: f.currentLeaderEpoch,
            fetchOffset: f.fetchOffset,
            lastFetchedEpoch: f.lastFetchedEpoch,
            logStartOffset: 0n,
            replicaDirectoryId: f.replicaDirectoryId,
            partitionMaxBytes: f.maxBytes,
          },
        ],
      },
    ],
  };
}

export interface FetchAnswer {
  errorCode: number;
  highWatermark: bigint;
  leader: LeaderAndEpoch;
  records?: Buffer;
  logStartOffset?: bigint;
  divergingEpoch?: { epoch: number; endOffset: bigint };
  /** The snapshot to fetch first (the fetch is below the leader's log start). */
  snapshotId?: { endOffset: bigint; epoch: number };
  /** Where the leader listens (Fetch v16+), so an observer that found it through a bootstrap server can reach it. */
  leaderEndpoint?: VoterEndpoint;
}

export function fetchResponse(topLevelError: number, a: FetchAnswer): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: topLevelError,
    sessionId: 0,
    nodeEndpoints: a.leaderEndpoint && a.leader.leaderId >= 0 ? [{ nodeId: a.leader.leaderId, host: a.leaderEndpoint.host, port: a.leaderEndpoint.port, rack: null }] : [],
    responses: [
      {
        topic: METADATA_TOPIC,
        topicId: METADATA_TOPIC_UUID,
        partitions: [
          {
            partitionIndex: METADATA_PARTITION,
            errorCode: a.errorCode,
            highWatermark: a.highWatermark,
            lastStableOffset: a.highWatermark,
            logStartOffset: a.logStartOffset ?? 0n,
            divergingEpoch: a.divergingEpoch ?? { epoch: -1, endOffset: -1n },
            currentLeader: { leaderId: a.leader.leaderId, leaderEpoch: a.leader.epoch },
            snapshotId: a.snapshotId ?? { endOffset: -1n, epoch: -1 },
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: a.records ?? Buffer.alloc(0),
          },
        ],
      },
    ],
  };
}

export function describeQuorumResponse(
  errorCode: number,
  at: LeaderAndEpoch,
  highWatermark: bigint,
  replicas: { currentVoters: ReplicaState[]; observers: ReplicaState[] },
  nodes: { nodeId: number; listeners: VoterEndpoint[] }[] = [],
): DescribeQuorumResponse {
  return {
    errorCode: 0,
    nodes: nodes.map((n) => ({ nodeId: n.nodeId, listeners: n.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port })) })),
    topics: [
      {
        topicName: METADATA_TOPIC,
        partitions: [{ partitionIndex: METADATA_PARTITION, errorCode, leaderId: at.leaderId, leaderEpoch: at.epoch, highWatermark, ...replicas }],
      },
    ],
  };
}
