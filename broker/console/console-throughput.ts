// The per-topic traffic counters of this node's metrics (BytesInPerSec, BytesOutPerSec and
// MessagesInPerSec as cumulative counts), read from the same registry /metrics exposes. The page
// samples them every few seconds and draws the rates; nothing is kept here between calls.
import type { NodeMetrics } from '../metrics/node-metrics.ts';

const COUNTERS = {
  bytesIn: 'kafka_server_brokertopicmetrics_bytesin_total',
  bytesOut: 'kafka_server_brokertopicmetrics_bytesout_total',
  messagesIn: 'kafka_server_brokertopicmetrics_messagesin_total',
} as const;

export interface TopicTraffic {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
}

export interface Throughput {
  at: number;
  /** False when metrics.enabled=false: there is nothing to sample. */
  enabled: boolean;
  total: TopicTraffic;
  topics: Record<string, TopicTraffic>;
}

interface Family {
  get(): { values: { labels: Record<string, string | number>; value: number }[] } | Promise<{ values: { labels: Record<string, string | number>; value: number }[] }>;
}

export async function throughput(metrics: NodeMetrics | undefined, now: number): Promise<Throughput> {
  const total: TopicTraffic = { bytesIn: 0, bytesOut: 0, messagesIn: 0 };
  const topics: Record<string, TopicTraffic> = {};
  if (!metrics) return { at: now, enabled: false, total, topics };
  for (const [field, name] of Object.entries(COUNTERS) as [keyof TopicTraffic, string][]) {
    const family = metrics.registry.getSingleMetric(name) as Family | undefined;
    if (!family) continue;
    for (const s of (await family.get()).values) {
      const topic = s.labels.topic;
      if (topic === undefined) total[field] = s.value;
      else (topics[String(topic)] ??= { bytesIn: 0, bytesOut: 0, messagesIn: 0 })[field] = s.value;
    }
  }
  return { at: now, enabled: true, total, topics };
}
