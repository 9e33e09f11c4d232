// A three-node KRaft cluster of real processes with small metadata snapshots: one voter is
// stopped while thousands of config records are committed, so the leader snapshots and drops
// the log the stopped voter would need; when it returns it is answered with a snapshot id,
// fetches the snapshot with FetchSnapshot over the controller listener, installs it and
// serves the latest configs.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, withClient as withClusterClient } from '../../conformance/harness/cluster-checks.ts';
import { ClusterProcess } from '../../conformance/harness/cluster-process.ts';
import type { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { parseSnapshotFileName } from '../raft/snapshot-format.ts';

const TOPIC_RESOURCE = 2;
const RECORDS = 2000;
let cluster: ClusterProcess;

const withClient = <T>(bootstrap: string[], fn: (c: KafkaClient) => Promise<T>) => withClusterClient(bootstrap, fn, { clientId: 'snapshot-fetch-test', retries: 5 });

beforeAll(async () => {
  cluster = await ClusterProcess.start({
    nodes: 3,
    properties: {
      'controller.quorum.election.timeout.ms': '500',
      'controller.quorum.fetch.timeout.ms': '1000',
      'broker.heartbeat.interval.ms': '300',
      'broker.session.timeout.ms': '3000',
      'metadata.log.max.record.bytes.between.snapshots': '8192',
      'metadata.log.segment.bytes': '32768',
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('FetchSnapshot between real processes', () => {
  it('a voter that was down while the log was trimmed catches up through the leader snapshot', async () => {
    const names = ['cfg-a', 'cfg-b'];
    // Retried: under load the quorum may still be settling (NOT_CONTROLLER) right after start.
    await eventually('topics created', 30_000, async () =>
      withClient(cluster.bootstrap, async (c) => {
        const r = await c.createTopics(names.map((name) => ({ name, numPartitions: 1, replicationFactor: 1 })));
        return r.topics.every((t) => t.errorCode === ErrorCode.NONE || t.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS);
      }),
    );
    const lagging = cluster.nodes[2]!;
    await lagging.stop('SIGTERM');
    const live = cluster.nodes.filter((n) => n.running).map((n) => n.bootstrap);
    const keys = ['retention.ms', 'segment.ms', 'retention.bytes', 'max.message.bytes', 'flush.messages'];
    let round = 0;
    for (let written = 0; written < RECORDS; written += names.length * keys.length * 10) {
      await withClient(live, async (c) => {
        for (let i = 0; i < 10; i++) {
          round++;
          const value = String(200_000 + round);
          await eventually(`config round ${round}`, 30_000, async () => {
            const resp = await c.incrementalAlterConfigs(names.map((resourceName) => ({ resourceType: TOPIC_RESOURCE, resourceName, configs: keys.map((name) => ({ name, configOperation: 0, value })) })));
            return resp.responses.every((x) => x.errorCode === 0);
          });
        }
      });
    }
    // The running voters trimmed their logs below their older snapshot.
    for (const n of cluster.nodes.filter((x) => x.running)) {
      const files = readdirSync(join(n.dir, 'data', '__cluster_metadata-0'));
      expect(files.filter((f) => parseSnapshotFileName(f) !== undefined).length).toBeGreaterThanOrEqual(1);
      expect(files).not.toContain('00000000000000000000.log');
    }
    await lagging.start();
    await eventually('the returning node serves the latest configs', 30_000, async () =>
      withClient([lagging.bootstrap], async (c) => {
        const d = await c.describeConfigs([{ resourceType: TOPIC_RESOURCE, resourceName: 'cfg-b', configurationKeys: ['retention.ms'] }]);
        return d.results[0]!.configs[0]?.value === String(200_000 + round);
      }),
    );
    expect(lagging.logs).toContain('installed the leader\'s snapshot');
    const files = readdirSync(join(lagging.dir, 'data', '__cluster_metadata-0'));
    expect(files.filter((f) => parseSnapshotFileName(f) !== undefined).length).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
