// Per-topic traffic (Kafka's kafka.server:type=BrokerTopicMetrics), each counter both per topic
// (label `topic`) and for all topics (no label), as Kafka reports both.
// Bytes and messages in are measured on the log: after every append this broker makes as a
// partition's leader (the replica manager's append listener), the log end offset and the active
// segment's size have moved by exactly the records and bytes written, so produced batches are
// counted as stored (after any conversion), coordinators' writes to internal topics included,
// and replication into a follower excluded (only appends within one leader epoch of this
// broker count). The work per notification is O(1) (a segment list walk only after a roll).
// Bytes out, and the produce and fetch request counts and failures per topic, come from the
// answers the network layer reports; fetches on controller listeners (the metadata log) are not
// counted. Followers' fetches count as bytes out too: the answer does not say who fetched.
import type { Registry } from 'prom-client';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import type { ProduceResponse } from '../../protocol/generated/message/produce-response.ts';
import type { LogSegment } from '../../storage/segment.ts';
import type { Partition } from '../replica/partition.ts';
import type { RequestTimings } from '../request-observer.ts';
import { CollectedFamily } from './collected-family.ts';

/** A count per topic, exposed per topic and for all topics (the series without a label). */
class TopicCounter {
  private all = 0;
  private readonly byTopic = new Map<string, number>();

  constructor(registry: Registry, name: string, help: string) {
    new CollectedFamily(registry, name, help, 'counter', (out) => {
      out.push({ labels: {}, value: this.all });
      for (const [topic, n] of this.byTopic) out.push({ labels: { topic }, value: n });
    });
  }

  inc(topic: string, n: number): void {
    this.byTopic.set(topic, (this.byTopic.get(topic) ?? 0) + n);
    this.all += n;
  }
}

/** What the last notification saw of a partition. */
interface Seen {
  leaderEpoch: number;
  isLeader: boolean;
  logEndOffset: number;
  segment: LogSegment;
  segmentSize: number;
  isr: readonly number[];
}

export interface PartitionChangeListener {
  /** `prev` is what was seen before, when this broker led the partition in the same epoch then and now. */
  (p: Partition, prev: Seen | undefined): void;
}

export class TopicMetrics {
  private readonly bytesIn: TopicCounter;
  private readonly messagesIn: TopicCounter;
  private readonly bytesOut: TopicCounter;
  private readonly produceRequests: TopicCounter;
  private readonly fetchRequests: TopicCounter;
  private readonly failedProduce: TopicCounter;
  private readonly failedFetch: TopicCounter;
  private readonly seen = new WeakMap<Partition, Seen>();

  constructor(
    registry: Registry,
    private readonly image: () => MetadataImage,
    private readonly controllerListeners: ReadonlySet<string>,
    private readonly onLeaderChange?: PartitionChangeListener,
  ) {
    const m = (name: string, help: string) => new TopicCounter(registry, name, help);
    this.bytesIn = m('kafka_server_brokertopicmetrics_bytesin_total', 'Bytes appended as leader (BytesInPerSec).');
    this.messagesIn = m('kafka_server_brokertopicmetrics_messagesin_total', 'Records appended as leader (MessagesInPerSec).');
    this.bytesOut = m('kafka_server_brokertopicmetrics_bytesout_total', 'Record bytes returned by Fetch (BytesOutPerSec).');
    this.produceRequests = m('kafka_server_brokertopicmetrics_totalproducerequests_total', 'Partitions in Produce requests (TotalProduceRequestsPerSec).');
    this.fetchRequests = m('kafka_server_brokertopicmetrics_totalfetchrequests_total', 'Partitions in Fetch requests (TotalFetchRequestsPerSec).');
    this.failedProduce = m('kafka_server_brokertopicmetrics_failedproducerequests_total', 'Partitions of Produce requests answered with an error (FailedProduceRequestsPerSec).');
    this.failedFetch = m('kafka_server_brokertopicmetrics_failedfetchrequests_total', 'Partitions of Fetch requests answered with an error (FailedFetchRequestsPerSec).');
  }

  /** The replica manager's append listener: appends, high watermark, ISR and leadership changes. */
  partitionChanged(p: Partition): void {
    const log = p.log;
    const segment = log.activeSegment;
    const s = this.seen.get(p);
    const sameLeadership = s !== undefined && s.isLeader && p.isLeader && s.leaderEpoch === p.leaderEpoch;
    if (sameLeadership) {
      const records = log.logEndOffset - s.logEndOffset;
      if (records > 0) {
        this.messagesIn.inc(p.topic, records);
        const bytes = segment === s.segment ? segment.size - s.segmentSize : bytesAcrossRolls(log.logSegments(), s);
        if (bytes > 0) this.bytesIn.inc(p.topic, bytes);
      }
    }
    this.onLeaderChange?.(p, sameLeadership ? s : undefined);
    if (s) {
      s.leaderEpoch = p.leaderEpoch;
      s.isLeader = p.isLeader;
      s.logEndOffset = log.logEndOffset;
      s.segment = segment;
      s.segmentSize = segment.size;
      s.isr = p.isr;
    } else {
      this.seen.set(p, { leaderEpoch: p.leaderEpoch, isLeader: p.isLeader, logEndOffset: log.logEndOffset, segment, segmentSize: segment.size, isr: p.isr });
    }
  }

  requestCompleted(t: RequestTimings): void {
    if (t.response === null) return;
    if (t.apiKey === ApiKey.Produce) this.produced(t.response as ProduceResponse);
    else if (t.apiKey === ApiKey.Fetch && !this.controllerListeners.has(t.listenerName)) this.fetched(t.response as FetchResponse);
  }

  private produced(r: ProduceResponse): void {
    for (const t of r.responses) {
      let failed = 0;
      for (const p of t.partitionResponses) if (p.errorCode !== 0) failed++;
      this.produceRequests.inc(t.name, t.partitionResponses.length);
      if (failed > 0) this.failedProduce.inc(t.name, failed);
    }
  }

  private fetched(r: FetchResponse): void {
    let image: MetadataImage | undefined;
    for (const t of r.responses) {
      let topic = t.topic;
      if (!topic && t.topicId) topic = (image ??= this.image()).topicsById.get(t.topicId)?.name ?? '';
      if (!topic) continue;
      let failed = 0;
      let bytes = 0;
      for (const p of t.partitions) {
        if (p.errorCode !== 0) failed++;
        if (p.records) bytes += p.records.length;
      }
      this.fetchRequests.inc(topic, t.partitions.length);
      if (failed > 0) this.failedFetch.inc(topic, failed);
      if (bytes > 0) this.bytesOut.inc(topic, bytes);
    }
  }
}

/** Bytes written since `s` was seen when segments rolled meanwhile: the rest of its segment and every later one. */
function bytesAcrossRolls(segments: readonly LogSegment[], s: Seen): number {
  let bytes = 0;
  for (const seg of segments) {
    if (seg === s.segment) bytes += seg.size - s.segmentSize;
    else if (seg.baseOffset > s.segment.baseOffset) bytes += seg.size;
  }
  return bytes;
}

export type { Seen as PartitionSeen };
