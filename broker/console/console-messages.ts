// The console's message browser and test producer. Browsing reads one partition from an offset,
// or from the first offset whose timestamp is at or after a given time (ListOffsets by
// timestamp, as a consumer's offsetsForTimes), with Fetch requests that do not wait (maxWaitMs 0),
// until N records or the end of the log. Keys, values and header values go to the page as base64,
// so it can show them as text, JSON or hex without guessing here. Control batches (transaction
// markers) are skipped, as a consumer skips them. Producing builds one uncompressed record batch
// and sends it with acks=-1 through the Produce handler. Both need this node to lead the
// partition; Kafka's NOT_LEADER_OR_FOLLOWER is shown otherwise, naming the leader.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { MAGIC_V2, absoluteRecords, decodeRecordBatch, encodeRecordBatch, iterateBatches } from '../../protocol/records/record-batch.ts';
import { checkKafka, type ConsoleAdmin, ConsoleError } from './console-admin.ts';
import { mayDescribe } from './console-visibility.ts';
import { listOffsets } from './console-topics.ts';

export const MAX_RECORDS = 500;
const FETCH_BYTES = 1024 * 1024;
const MAX_FETCHES = 20;

export interface BrowsedRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}

export interface BrowseRequest {
  topic: string;
  partition: number;
  /** Start here, or at the first record at or after `timestamp` when given. */
  offset?: number;
  timestamp?: number;
  limit: number;
}

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));

function leaderOf(admin: ConsoleAdmin, topic: string, partition: number): number {
  const t = admin.context.metadata.image.topicsByName.get(topic);
  const p = t?.partitions.find((x) => x.partition === partition);
  if (!p) throw new ConsoleError(404, `${topic}-${partition} does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
  return p.leader;
}

export async function browse(admin: ConsoleAdmin, principal: string, q: BrowseRequest) {
  if (!mayDescribe(admin.context, principal, { type: 'topic', name: q.topic })) throw new ConsoleError(404, `topic ${q.topic} does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
  const leader = leaderOf(admin, q.topic, q.partition);
  const limit = Math.max(1, Math.min(MAX_RECORDS, q.limit));
  const bounds = await Promise.all([-2n, -1n].map((ts) => listOffsets(admin, principal, q.topic, [q.partition], ts)));
  const earliest = bounds[0]!.get(q.partition);
  const latest = bounds[1]!.get(q.partition);
  if (!earliest || !latest) throw new ConsoleError(409, `node ${admin.context.nodeId} does not lead ${q.topic}-${q.partition}: its leader is ${leader}; browse it on that node's console`, 'NOT_LEADER_OR_FOLLOWER');
  let start: number;
  if (q.timestamp !== undefined) {
    const at = (await listOffsets(admin, principal, q.topic, [q.partition], BigInt(q.timestamp))).get(q.partition);
    // No record at or after the time: nothing to show, start at the end.
    start = at && at.offset >= 0 ? at.offset : latest.offset;
  } else {
    start = Math.max(earliest.offset, Math.min(q.offset ?? earliest.offset, latest.offset));
  }
  const records: BrowsedRecord[] = [];
  let position = start;
  for (let i = 0; i < MAX_FETCHES && records.length < limit && position < latest.offset; i++) {
    const r = await admin.call(
      ApiKey.Fetch,
      {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: FETCH_BYTES,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: q.topic, partitions: [{ partition: q.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(position), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: FETCH_BYTES }] }],
        forgottenTopicsData: [],
        rackId: '',
      },
      principal,
    );
    checkKafka(r.errorCode ?? ErrorCode.NONE, null, 'fetch');
    const p = r.responses[0]?.partitions[0];
    if (!p) break;
    checkKafka(p.errorCode, null, `fetch ${q.topic}-${q.partition}`);
    const buf = p.records ?? Buffer.alloc(0);
    let advanced = false;
    for (const entry of iterateBatches(buf)) {
      if (entry.magic < MAGIC_V2) continue;
      const batch = decodeRecordBatch(buf, entry.position);
      const next = Number(batch.header.baseOffset) + batch.header.lastOffsetDelta + 1;
      if (next > position) {
        position = next;
        advanced = true;
      }
      if (batch.header.isControl) continue;
      for (const rec of absoluteRecords(batch)) {
        if (rec.offset < BigInt(start) || records.length >= limit) continue;
        records.push({
          offset: Number(rec.offset),
          timestamp: Number(rec.timestamp),
          key: b64(rec.key),
          value: b64(rec.value),
          headers: rec.headers.map((h) => ({ key: h.key, value: b64(h.value) })),
        });
      }
    }
    if (!advanced) break;
  }
  return { topic: q.topic, partition: q.partition, start, earliest: earliest.offset, latest: latest.offset, records };
}

export interface ProduceInput {
  topic: string;
  partition: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}

export async function produce(admin: ConsoleAdmin, principal: string, m: ProduceInput): Promise<{ offset: number }> {
  leaderOf(admin, m.topic, m.partition);
  const utf8 = (s: string | null) => (s === null ? null : Buffer.from(s, 'utf8'));
  const batch = encodeRecordBatch({
    baseTimestamp: BigInt(admin.context.now()),
    records: [{ timestampDelta: 0, offsetDelta: 0, key: utf8(m.key), value: utf8(m.value), headers: m.headers.map((h) => ({ key: h.key, value: utf8(h.value) })) }],
  });
  const r = await admin.call(ApiKey.Produce, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: m.topic, partitionData: [{ index: m.partition, records: batch }] }] }, principal);
  const p = r.responses[0]?.partitionResponses[0];
  if (!p) throw new ConsoleError(500, 'Produce answered nothing');
  checkKafka(p.errorCode, p.errorMessage, `produce to ${m.topic}-${m.partition}`);
  return { offset: Number(p.baseOffset) };
}
