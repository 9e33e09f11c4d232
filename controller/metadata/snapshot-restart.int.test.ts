// A real broker process (broker+controller, one voter) takes IncrementalAlterConfigs changes on
// a few topics in batches, snapshots its metadata as metadata.log.max.record.bytes.between.snapshots
// says (small here), drops metadata log segments below its older snapshot, and after a restart
// loads the newest snapshot and serves the same configs. SNAPSHOT_RECORDS sets the number of
// metadata records (10,000 by default; the figure in the report used 100,000).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrokerProcess } from '../../conformance/harness/broker-process.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { parseSnapshotFileName } from '../raft/snapshot-format.ts';

const RECORDS = Number(process.env.SNAPSHOT_RECORDS ?? 10_000);
const TOPICS = Array.from({ length: 20 }, (_, i) => `configured-${i}`);
const KEYS = ['retention.ms', 'retention.bytes', 'segment.ms', 'max.message.bytes', 'flush.messages'];
const TOPIC_RESOURCE = 2;

function logLine(logs: string, msg: string): Record<string, unknown> | undefined {
  const line = logs.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).at(-1);
  return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
}

describe('metadata snapshots of a broker process', () => {
  it(`restarts from its newest snapshot after ${RECORDS} metadata records`, { timeout: 600_000 }, async () => {
    const broker = await BrokerProcess.start({
      overrides: { 'metadata.log.max.record.bytes.between.snapshots': '65536', 'metadata.log.segment.bytes': '262144' },
    });
    const client = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'snapshot-test' });
    try {
      await client.connect();
      const created = await client.createTopics(TOPICS.map((name) => ({ name, numPartitions: 1, replicationFactor: 1 })));
      expect(created.topics.every((t) => t.errorCode === 0)).toBe(true);
      const perRequest = TOPICS.length * KEYS.length;
      const started = Date.now();
      let n = 0;
      for (let written = 0; written < RECORDS; written += perRequest) {
        n++;
        const resp = await client.incrementalAlterConfigs(
          TOPICS.map((resourceName) => ({ resourceType: TOPIC_RESOURCE, resourceName, configs: KEYS.map((name) => ({ name, configOperation: 0, value: String(100_000 + n) })) })),
        );
        expect(resp.responses.every((r) => r.errorCode === 0)).toBe(true);
      }
      const writeMs = Date.now() - started;
      await client.close();

      await broker.stop('SIGTERM');
      const dir = join(broker.dataDir, '__cluster_metadata-0');
      const files = readdirSync(dir);
      const snapshots = files.filter((f) => parseSnapshotFileName(f) !== undefined).sort();
      expect(snapshots.length).toBe(2);
      expect(files.filter((f) => f.endsWith('.log')).every((f) => f !== '00000000000000000000.log')).toBe(true);
      const newestBytes = statSync(join(dir, snapshots.at(-1)!)).size;

      await broker.launch();
      const loaded = logLine(broker.logs, 'loaded metadata snapshot');
      expect(loaded).toBeDefined();
      const again = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'snapshot-check' });
      try {
        await again.connect();
        const described = await again.describeConfigs([{ resourceType: TOPIC_RESOURCE, resourceName: TOPICS.at(-1)!, configurationKeys: ['retention.ms'] }]);
        expect(described.results[0]!.configs[0]!.value).toBe(String(100_000 + n));
      } finally {
        await again.close();
      }
      const brokerStarted = logLine(broker.logs, 'broker started');
      console.log(
        `broker snapshot figure: ${n * perRequest} config records in ${n} IncrementalAlterConfigs requests, ${writeMs} ms; newest snapshot ${snapshots.at(-1)} of ${newestBytes} bytes (${String(loaded!.records)} records), loaded in ${String(loaded!.ms)} ms; broker started in ${String(brokerStarted?.ms)} ms`,
      );
    } finally {
      await client.close().catch(() => undefined);
      await broker.destroy();
    }
  });
});
