// Fetch (key 1), v0-v17. Per partition: leadership and current leader epoch, diverging-epoch
// check (lastFetchedEpoch, v12+), then whole batches from the log starting at fetchOffset, up to
// partitionMaxBytes and, across partitions, the request's maxBytes (capped by fetch.max.bytes).
// From v3 the first batch of the first non-empty partition is returned even when larger (KIP-74);
// v0-v2 have hard limits, and an oversized first batch gives no records.
// Consumers (replicaId < 0) read below the high watermark (read_uncommitted) or the last stable
// offset (read_committed); followers (replicaId >= 0, one of the replicas) read to the log end.
// When fewer than minBytes are readable and maxWaitMs > 0, the fetch waits in the purgatory until
// appends to its partitions bring enough bytes or the wait ends, then reads again.
// Sessions (v7+) follow KIP-227 (broker/fetch/fetch-session-cache.ts). v13+ names topics by id.
// v0-v3 answer with magic 0 (v0-v1) or magic 1 (v2-v3) message sets, down-converted from the log
// unless message.downconversion.enable is false (then UNSUPPORTED_VERSION for that partition).
// Records otherwise go out as the file bytes Log.read returned, never decoded.
// A follower's read records its position on the leader (broker/replica/follower-fetch.ts: its
// fetch offset is its log end offset), which moves the high watermark and the ISR.
// read_committed answers carry the aborted transactions overlapping the returned batches (from
// the segments' transaction indexes) so clients drop those producers' aborted data; control
// batches go out as stored (clients skip them).
// Consumers that name their rack (v11+) may read from followers, below the follower's high
// watermark, and a leader with a replica.selector.class points them at the replica to read from
// (preferredReadReplica, no records), as KIP-392 has it (broker/fetch/replica-selector.ts).
import { topicConfigs, type MetadataImage } from '../../controller/metadata/image.ts';
import { DecodeError } from '../../protocol/decode-error.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchableTopicResponse, FetchResponse, NodeEndpoint, PartitionData } from '../../protocol/generated/message/fetch-response.ts';
import { recordBatchesToMessageSet } from '../../protocol/records/convert.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import type { Log } from '../../storage/log.ts';
import { collectAbortedTransactions } from '../../storage/transaction-state.ts';
import { iterateBatches } from '../../protocol/records/record-batch.ts';
import { LAST_OFFSET_DELTA_OFFSET } from '../../protocol/records/batch-header.ts';
import { AclOperation } from '../auth/acl.ts';
import { allowedOnCluster, allowedOnTopic } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { DelayedFetchPurgatory, followerWaker, followerWakeKey } from '../fetch/delayed-fetch.ts';
import {
  completeFetchContext,
  type FetchContext,
  type FetchPartitionAnswer,
  type FetchPartitionRequest,
  FetchSessionCache,
  type ForgottenPartition,
  newFetchContext,
} from '../fetch/fetch-session-cache.ts';
import { hostedPartition, partitionErrorCode } from '../fetch/partition-access.ts';
import { preferredReadReplica, replicaSelectorFor } from '../fetch/replica-selector.ts';
import { recordFollowerFetch } from '../replica/follower-fetch.ts';
import { partitionKey } from '../replica/replica-manager.ts';
import { defineHandler, inPurgatory, type RequestContext } from './api-handler.ts';
import { brokersOnListener } from './metadata.ts';

const INT32_MAX = 2147483647;
const READ_COMMITTED = 1;
const EMPTY = Buffer.alloc(0);

interface ReadParams {
  image: MetadataImage;
  isFollower: boolean;
  replicaId: number;
  /** The follower's broker epoch (ReplicaState, v15+), or -1. */
  replicaEpoch: bigint;
  readCommitted: boolean;
  maxBytes: number;
  /** KIP-74 (v3+): the first non-empty partition returns its first batch whatever its size. */
  minOneMessage: boolean;
  /** Followers and pre-v11 consumers read from leaders only; v11+ consumers from any replica (KIP-392). */
  leaderOnly: boolean;
  /** The consumer's rack (v11+ rackId), '' when not given. */
  clientRack: string;
}

type Answer = FetchPartitionAnswer & { data: PartitionData };

function errorData(partitionIndex: number, errorCode: number): PartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
}

function answerOf(data: PartitionData): Answer {
  return {
    data,
    errorCode: data.errorCode,
    highWatermark: data.highWatermark,
    logStartOffset: data.logStartOffset ?? -1n,
    lastStableOffset: data.lastStableOffset ?? -1n,
    recordsSize: data.records?.length ?? 0,
    preferredReadReplica: data.preferredReadReplica ?? -1,
    diverging: data.divergingEpoch !== undefined && data.divergingEpoch.epoch >= 0,
  };
}

/** The offset a reader of this kind may read below. */
function readBound(log: Log, isFollower: boolean, readCommitted: boolean): number {
  if (isFollower) return log.logEndOffset;
  return readCommitted ? log.lastStableOffset : log.highWatermark;
}

/** The aborted transactions overlapping [fetchOffset, end of the returned batches), as Fetch sends them. */
function abortedIn(log: Log, fetchOffset: number, records: Buffer): { producerId: bigint; firstOffset: bigint }[] {
  let end = fetchOffset;
  for (const e of iterateBatches(records, { allowPartial: true })) end = Math.max(end, Number(records.readBigInt64BE(e.position)) + records.readInt32BE(e.position + LAST_OFFSET_DELTA_OFFSET) + 1);
  return collectAbortedTransactions(log.logSegments(), fetchOffset, end).map((t) => ({ producerId: t.producerId, firstOffset: BigInt(t.firstOffset) }));
}

/** Bytes of whole batches from the one holding `from` to the one holding `to` (exclusive), no reads of data. */
export function bytesBetween(log: Log, from: number, to: number): number {
  if (from >= to) return 0;
  const start = log.locate(from);
  if (start === null) return 0;
  const end = to < log.logEndOffset ? log.locate(to) : null;
  let total = 0;
  let counting = false;
  for (const seg of log.logSegments()) {
    if (seg === start.segment) counting = true;
    if (!counting) continue;
    const a = seg === start.segment ? start.batch.position : 0;
    const b = end !== null && seg === end.segment ? end.batch.position : seg.size;
    total += Math.max(0, b - a);
    if (end !== null && seg === end.segment) break;
  }
  return total;
}

export interface FetchHandlerOptions {
  sessions?: FetchSessionCache;
  purgatory?: DelayedFetchPurgatory;
}

export function fetchHandler(ctx: BrokerContext, opts: FetchHandlerOptions = {}) {
  const sessions =
    opts.sessions ??
    ctx.fetchSessions ??
    new FetchSessionCache({ maxEntries: ctx.config.get('max.incremental.fetch.session.cache.slots'), evictionMs: ctx.config.get('min.incremental.fetch.session.eviction.ms'), now: () => ctx.now() });
  let purgatory = opts.purgatory ?? ctx.fetchPurgatory;
  if (purgatory === undefined) {
    const own = new DelayedFetchPurgatory();
    ctx.replicaManager.onAppend((p) => own.notify(partitionKey(p.topic, p.partition)));
    purgatory = own;
  }
  const delayed = purgatory;
  // Becoming leader wakes the waiting fetches of the partition's followers (delayed-fetch.ts).
  ctx.replicaManager.onAppend(followerWaker(delayed, ctx.nodeId));
  const selector = replicaSelectorFor(ctx.config.get('replica.selector.class'));

  function downConversionEnabled(image: MetadataImage, topic: string): boolean {
    const v = topicConfigs(image, topic).get('message.downconversion.enable');
    return v === undefined ? ctx.config.get('log.message.downconversion.enable') : v === 'true';
  }

  async function readPartition(req: FetchPartitionRequest, limitBytes: number, minOneMessage: boolean, p: ReadParams, rc: RequestContext): Promise<PartitionData> {
    if (req.topic === null) return errorData(req.partition, ErrorCode.UNKNOWN_TOPIC_ID);
    if (!(p.isFollower ? allowedOnCluster(ctx, rc, AclOperation.CLUSTER_ACTION) : allowedOnTopic(ctx, rc, AclOperation.READ, req.topic))) return errorData(req.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    try {
      const partition = hostedPartition(ctx.replicaManager, p.image, req.topic, req.partition, req.currentLeaderEpoch, p.leaderOnly);
      if (p.isFollower && !partition.replicas.includes(p.replicaId)) {
        return errorData(req.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      }
      const log = partition.log;
      const fetchOffset = Number(req.fetchOffset);
      const base: PartitionData = {
        partitionIndex: req.partition,
        errorCode: ErrorCode.NONE,
        highWatermark: BigInt(log.highWatermark),
        lastStableOffset: BigInt(log.lastStableOffset),
        logStartOffset: BigInt(log.logStartOffset),
        abortedTransactions: p.readCommitted ? [] : null,
        preferredReadReplica: -1,
        records: EMPTY,
      };
      // A redirected consumer gets offsets but no records, before any other check (as Kafka reads).
      if (selector !== null && !p.isFollower && !p.leaderOnly) {
        const preferred = preferredReadReplica(selector, partition, p.image, p.clientRack, fetchOffset, ctx.now());
        if (preferred >= 0) return { ...base, preferredReadReplica: preferred };
      }
      if (req.lastFetchedEpoch >= 0) {
        const e = log.leaderEpochCache.endOffsetForEpoch(req.lastFetchedEpoch, log.logEndOffset);
        if (e.endOffset < 0 || e.epoch < 0 || e.endOffset < log.logStartOffset) {
          return errorData(req.partition, ErrorCode.OFFSET_OUT_OF_RANGE);
        }
        if (e.epoch < req.lastFetchedEpoch || e.endOffset < fetchOffset) {
          return { ...base, divergingEpoch: { epoch: e.epoch, endOffset: BigInt(e.endOffset) } };
        }
      }
      const maxBytes = Math.max(0, Math.min(req.maxBytes, limitBytes));
      // Offsets in the answer are those from before the read, as Kafka's are.
      const leaderEndOffset = log.logEndOffset;
      // A throttled out-of-sync follower gets nothing while the leader's replication quota is spent.
      const throttled = p.isFollower && ctx.replicaManager.replicationQuotas.leaderShouldThrottle(p.image, partition, p.replicaId);
      // The follower's position is known before the read (a fetch offset in the log can be read):
      // recording it first lets the high watermark, and the acks=all answers waiting on it, move
      // without waiting for the file read.
      const inRange = fetchOffset >= log.logStartOffset && fetchOffset <= leaderEndOffset;
      if (p.isFollower && inRange) recordFollowerFetch(partition, { replicaId: p.replicaId, replicaEpoch: p.replicaEpoch, fetchOffset, leaderEndOffset });
      const res = throttled ? { records: EMPTY } : await log.read(fetchOffset, maxBytes, { maxOffset: readBound(log, p.isFollower, p.readCommitted), minOneMessage });
      if (p.isFollower) ctx.replicaManager.replicationQuotas.recordLeader(partition, res.records.length);
      if (p.readCommitted && res.records.length > 0) return { ...base, records: res.records, abortedTransactions: abortedIn(log, fetchOffset, res.records) };
      return { ...base, records: res.records };
    } catch (err) {
      return errorData(req.partition, partitionErrorCode(err, rc.logger, `${req.topic}-${req.partition}`));
    }
  }

  /** Kafka's readFromLocalLog: partitions in order, sharing the request's byte budget. */
  async function readAll(reqs: readonly FetchPartitionRequest[], p: ReadParams, rc: RequestContext): Promise<{ req: FetchPartitionRequest; answer: Answer }[]> {
    let limit = p.maxBytes;
    let minOne = p.minOneMessage;
    const out: { req: FetchPartitionRequest; answer: Answer }[] = [];
    for (const req of reqs) {
      const data = await readPartition(req, limit, minOne, p, rc);
      const size = data.records?.length ?? 0;
      if (size > 0) minOne = false;
      limit = Math.max(0, limit - size);
      out.push({ req, answer: answerOf(data) });
    }
    return out;
  }

  /** Kafka's DelayedFetch.tryComplete: enough bytes readable now, or something changed that must be answered. */
  function readyToAnswer(reqs: readonly FetchPartitionRequest[], p: ReadParams, minBytes: number): boolean {
    let accumulated = 0;
    const image = ctx.metadata.image;
    for (const req of reqs) {
      if (req.topic === null) continue;
      const partition = ctx.replicaManager.getPartition(req.topic, req.partition);
      if (!partition || (p.leaderOnly && !partition.isLeader) || !image.topicsByName.has(req.topic)) return true;
      if (req.currentLeaderEpoch >= 0 && req.currentLeaderEpoch !== partition.leaderEpoch) return true;
      const log = partition.log;
      if (log.isOffline || log.isClosed) return true;
      const offset = Number(req.fetchOffset);
      if (offset < log.logStartOffset || offset > log.logEndOffset) return true;
      const end = readBound(log, p.isFollower, p.readCommitted);
      const throttled = p.isFollower && ctx.replicaManager.replicationQuotas.leaderShouldThrottle(image, partition, p.replicaId);
      if (offset < end && !throttled) accumulated += Math.min(bytesBetween(log, offset, end), Math.max(0, req.maxBytes));
      if (accumulated >= minBytes) return true;
    }
    return accumulated >= minBytes;
  }

  function downConvert(results: { req: FetchPartitionRequest; answer: Answer }[], version: number, image: MetadataImage, rc: RequestContext): void {
    const magic = version <= 1 ? 0 : 1;
    for (const r of results) {
      const data = r.answer.data;
      const records = data.records;
      if (!records || records.length === 0 || r.req.topic === null) continue;
      if (!downConversionEnabled(image, r.req.topic)) {
        let allOld = true;
        for (let pos = 0; pos + 17 <= records.length; pos += 12 + records.readInt32BE(pos + 8)) {
          if (records.readInt8(pos + 16) > magic) allOld = false;
        }
        if (!allOld) {
          r.answer.data = { ...errorData(data.partitionIndex, ErrorCode.UNSUPPORTED_VERSION) };
          continue;
        }
      }
      try {
        data.records = recordBatchesToMessageSet(records, { magic });
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        rc.logger.error({ err, partition: `${r.req.topic}-${r.req.partition}` }, 'down-conversion failed');
        r.answer.data = errorData(data.partitionIndex, ErrorCode.CORRUPT_MESSAGE);
      }
    }
  }

  function buildResponse(
    version: number,
    errorCode: number,
    sessionId: number,
    parts: { req: FetchPartitionRequest; answer: Answer }[],
    image: MetadataImage,
    rc: RequestContext,
  ): FetchResponse {
    const responses: FetchableTopicResponse[] = [];
    const endpoints = new Map<number, NodeEndpoint>();
    let prev: FetchableTopicResponse | undefined;
    let prevKey: string | undefined;
    for (const { req, answer } of parts) {
      const data = answer.data;
      if (version >= 16 && (data.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || data.errorCode === ErrorCode.FENCED_LEADER_EPOCH) && req.topic !== null) {
        const pi = image.topicsByName.get(req.topic)?.partitions[req.partition];
        if (pi) {
          data.currentLeader = { leaderId: pi.leader, leaderEpoch: pi.leaderEpoch };
          const node = brokersOnListener(image, rc.listenerName).find((b) => b.nodeId === pi.leader);
          if (node) endpoints.set(node.nodeId, { nodeId: node.nodeId, host: node.host, port: node.port, rack: node.rack });
        }
      }
      const key = version >= 13 ? req.topicId : (req.topic ?? '');
      if (prev === undefined || prevKey !== key) {
        prev = { topic: req.topic ?? '', topicId: req.topicId, partitions: [] };
        prevKey = key;
        responses.push(prev);
      }
      prev.partitions.push(data);
    }
    return { throttleTimeMs: 0, errorCode, sessionId, responses, nodeEndpoints: [...endpoints.values()] };
  }

  function resolve(req: FetchRequest, version: number, image: MetadataImage): { fetchData: FetchPartitionRequest[]; toForget: ForgottenPartition[] } {
    const usesTopicIds = version >= 13;
    const fetchData: FetchPartitionRequest[] = [];
    for (const t of req.topics) {
      const topicId = usesTopicIds ? (t.topicId ?? ZERO_UUID) : (image.topicsByName.get(t.topic ?? '')?.id ?? ZERO_UUID);
      const name = usesTopicIds ? (image.topicsById.get(topicId)?.name ?? null) : (t.topic ?? '');
      for (const p of t.partitions) {
        fetchData.push({
          topic: name,
          topicId,
          partition: p.partition,
          fetchOffset: p.fetchOffset,
          maxBytes: p.partitionMaxBytes,
          currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
          lastFetchedEpoch: p.lastFetchedEpoch ?? -1,
          logStartOffset: p.logStartOffset ?? -1n,
        });
      }
    }
    const toForget: ForgottenPartition[] = [];
    for (const t of req.forgottenTopicsData ?? []) {
      const topicId = usesTopicIds ? (t.topicId ?? ZERO_UUID) : ZERO_UUID;
      const name = usesTopicIds ? (image.topicsById.get(topicId)?.name ?? null) : (t.topic ?? '');
      for (const partition of t.partitions) toForget.push({ topic: name, topicId, partition });
    }
    return { fetchData, toForget };
  }

  return defineHandler({
    apiKey: ApiKey.Fetch,
    async handle(req, rc) {
      const version = rc.apiVersion;
      const replicaId = version >= 15 ? (req.replicaState?.replicaId ?? -1) : (req.replicaId ?? -1);
      const isFollower = replicaId >= 0;
      let image = ctx.metadata.image;
      const { fetchData, toForget } = resolve(req, version, image);
      const fetchContext: FetchContext =
        version >= 7
          ? newFetchContext(sessions, { sessionId: req.sessionId ?? 0, epoch: req.sessionEpoch ?? -1 }, version >= 13, isFollower, fetchData, toForget, (id) => image.topicsById.get(id)?.name ?? null)
          : { kind: 'sessionless', partitions: fetchData };
      if (fetchContext.kind === 'error') {
        rc.logger.debug({ sessionId: req.sessionId, sessionEpoch: req.sessionEpoch, errorCode: fetchContext.errorCode }, 'fetch session error');
        return buildResponse(version, fetchContext.errorCode, 0, [], image, rc);
      }
      const maxBytes = version >= 3 ? Math.min(req.maxBytes ?? INT32_MAX, ctx.config.get('fetch.max.bytes')) : INT32_MAX;
      const minBytes = Math.min(req.minBytes, maxBytes);
      const params: ReadParams = {
        image,
        isFollower,
        replicaId,
        replicaEpoch: version >= 15 ? (req.replicaState?.replicaEpoch ?? -1n) : -1n,
        readCommitted: !isFollower && version >= 4 && req.isolationLevel === READ_COMMITTED,
        maxBytes,
        minOneMessage: version >= 3,
        leaderOnly: isFollower || version < 11,
        clientRack: version >= 11 ? (req.rackId ?? '') : '',
      };
      const reqs = fetchContext.partitions;
      let results = await readAll(reqs, params, rc);
      let readable = 0;
      let mustAnswer = false;
      for (const r of results) {
        readable += r.answer.recordsSize;
        if (r.answer.errorCode !== ErrorCode.NONE || r.answer.diverging || r.answer.preferredReadReplica >= 0) mustAnswer = true;
      }
      if (!(req.maxWaitMs <= 0 || reqs.length === 0 || readable >= minBytes || mustAnswer)) {
        const keys = reqs.filter((r) => r.topic !== null).map((r) => partitionKey(r.topic!, r.partition));
        if (isFollower) keys.push(followerWakeKey(replicaId));
        await inPurgatory(rc, delayed.wait(keys, req.maxWaitMs, () => readyToAnswer(reqs, params, minBytes)));
        image = ctx.metadata.image;
        results = await readAll(reqs, { ...params, image }, rc);
      }
      if (version <= 3) downConvert(results, version, image, rc);
      const done = completeFetchContext(sessions, fetchContext, results);
      return buildResponse(version, done.errorCode, done.sessionId, done.partitions, image, rc);
    },
    errorResponse(req, err, rc) {
      // Kafka answers every requested partition with the error (topic ids kept for v13+).
      const version = rc.apiVersion;
      const responses: FetchableTopicResponse[] = req.topics.map((t) => ({
        topic: t.topic ?? '',
        topicId: t.topicId ?? ZERO_UUID,
        partitions: t.partitions.map((p) => errorData(p.partition, err.errorCode)),
      }));
      return { throttleTimeMs: 0, errorCode: version >= 7 ? err.errorCode : 0, sessionId: 0, responses, nodeEndpoints: [] };
    },
  });
}
