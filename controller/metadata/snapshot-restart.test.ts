// A controller on the file-backed metadata log commits many config changes, snapshots them as
// its policy says, drops the log below its older snapshot, and a restart loads the newest
// snapshot and replays only the log after it. SNAPSHOT_RECORDS sets how many records (20,000 by
// default; the figure in the report used 100,000).
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigResourceType } from './image.ts';
import { QuorumController } from '../quorum-controller.ts';
import { FileReplicatedLog } from '../raft/file-replicated-log.ts';
import { QuorumStateStore } from '../raft/quorum-state.ts';
import { RaftClient } from '../raft/raft-client.ts';
import { parseSnapshotFileName } from '../raft/snapshot-format.ts';

const RECORDS = Number(process.env.SNAPSHOT_RECORDS ?? 20_000);
const PER_BATCH = 500;
const logger = pino({ level: process.env.SNAPSHOT_LOG ?? 'silent' });

async function controllerIn(dir: string): Promise<QuorumController> {
  const log = await FileReplicatedLog.open(dir, logger, { segmentBytes: 256 * 1024, fileDeleteDelayMs: 0 });
  const raft = new RaftClient({ nodeId: 1, voters: [1], log, stateStore: new QuorumStateStore(join(dir, '__cluster_metadata-0')), logger });
  return new QuorumController({
    raft,
    logger,
    deleteTopicEnable: true,
    topicDefaults: { numPartitions: 1, defaultReplicationFactor: 1, validateConfigs: () => [] },
    snapshotPolicy: { maxBytesBetweenSnapshots: 256 * 1024, maxIntervalMs: 0 },
  });
}

describe('metadata snapshots across a restart', () => {
  it(`snapshots ${RECORDS} committed config records, trims the log and restarts from the newest snapshot`, { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-snaprestart-'));
    const partition = join(dir, '__cluster_metadata-0');
    const qc = await controllerIn(dir);
    await qc.start();
    const reg = await qc.registerBroker({ brokerId: 1, incarnationId: 'AAAAAAAAAAAAAAAAAAAAAQ', endpoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 }], rack: null, logDirs: [], features: [] });
    await qc.brokerHeartbeat({ brokerId: 1, brokerEpoch: reg.brokerEpoch, currentMetadataOffset: qc.raft.hw, wantFence: false, wantShutDown: false });
    await qc.createTopics([{ name: 'configured', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }], false);
    expect(qc.image.topicsByName.get('configured')?.partitions.length).toBe(3);
    const writeStarted = Date.now();
    for (let done = 0; done < RECORDS; done += PER_BATCH) {
      const changes = Array.from({ length: PER_BATCH }, (_, i) => ({
        resourceType: ConfigResourceType.Topic,
        resourceName: 'configured',
        name: `custom.key.${(done + i) % 50}`,
        value: `value-${done + i}`,
      }));
      await qc.alterConfigs(changes);
    }
    const writeMs = Date.now() - writeStarted;
    const before = qc.image;
    // Let the last snapshot the policy started finish.
    for (let i = 0; i < 100 && qc.raft.snapshots.created < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    await qc.close();

    const files = readdirSync(partition);
    const snapshots = files.map(parseSnapshotFileName).filter((id) => id !== undefined);
    expect(snapshots.length).toBe(2);
    const newest = snapshots.sort((a, b) => (a.endOffset < b.endOffset ? -1 : 1)).at(-1)!;
    const snapshotBytes = statSync(join(partition, files.find((f) => parseSnapshotFileName(f)?.endOffset === newest.endOffset)!)).size;
    const segments = files.filter((f) => f.endsWith('.log')).map((f) => BigInt(f.slice(0, 20)));
    // Segments wholly below the older snapshot are gone.
    expect(segments[0]!).toBeGreaterThan(0n);
    const logBytes = files.filter((f) => f.endsWith('.log')).reduce((n, f) => n + statSync(join(partition, f)).size, 0);

    const restarted = await controllerIn(dir);
    const loadStarted = Date.now();
    await restarted.start();
    const loadMs = Date.now() - loadStarted;
    expect(restarted.raft.log.startOffset()).toBeGreaterThan(0n);
    expect(restarted.image.configs).toEqual(before.configs);
    expect(restarted.image.topicsByName.get('configured')?.partitions.length).toBe(3);
    expect(restarted.image.brokers.get(1)?.id).toBe(1);
    expect(restarted.image.offset).toBeGreaterThanOrEqual(before.offset);
    // The restarted controller keeps working on top of the loaded image.
    await restarted.alterConfigs([{ resourceType: ConfigResourceType.Topic, resourceName: 'configured', name: 'after.restart', value: 'yes' }]);
    expect(restarted.image.configs.get(`${ConfigResourceType.Topic}:configured`)?.get('after.restart')).toBe('yes');
    await restarted.close();
    console.log(
      `metadata snapshot figure: ${RECORDS} config records written in ${writeMs} ms; newest snapshot ${newest.endOffset}-${newest.epoch} of ${snapshotBytes} bytes; log left ${logBytes} bytes from offset ${segments[0]}; restart (snapshot load + log replay + election) ${loadMs} ms`,
    );
  });

  it('a damaged newest snapshot is skipped with a warning: the older one and the log after it rebuild the image', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-snapdamaged-'));
    const partition = join(dir, '__cluster_metadata-0');
    const qc = await controllerIn(dir);
    await qc.start();
    for (let done = 0; done < 40_000; done += PER_BATCH) {
      await qc.alterConfigs(Array.from({ length: PER_BATCH }, (_, i) => ({ resourceType: ConfigResourceType.Topic, resourceName: 't', name: `k${(done + i) % 40}`, value: `v${done + i}` })));
    }
    for (let i = 0; i < 100 && qc.raft.snapshots.created < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    const before = qc.image;
    await qc.close();
    const names = readdirSync(partition).filter((f) => parseSnapshotFileName(f) !== undefined).sort();
    expect(names.length).toBe(2);
    const newest = join(partition, names[1]!);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    writeFileSync(newest, bytes);
    const again = await controllerIn(dir);
    await again.start();
    expect(again.raft.log.snapshots.list().map((id) => id.endOffset)).toEqual([parseSnapshotFileName(names[0]!)!.endOffset]);
    expect(again.image.configs).toEqual(before.configs);
    expect(again.image.offset).toBe(before.offset);
    await again.close();
  });
});
