// ReplicaManager with awaitRegistration: a restarted broker whose replayed metadata still names it
// leader takes no leadership until its image holds its new registration (found by the replication
// simulation, seed 7: leading in the old epoch after losing the log end let followers of that
// epoch keep different records at the same offsets).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MetadataDelta } from '../../controller/metadata/delta.ts';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { record } from '../../controller/metadata/record-serde.ts';
import { testCluster, TEST_TOPIC_ID } from '../../controller/test-images.ts';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { ManualScheduler } from '../../protocol/scheduler.ts';
import { Log } from '../../storage/log.ts';
import { defaultLogConfig } from '../../storage/log-config.ts';
import { ReplicaManager } from './replica-manager.ts';

const dirs: string[] = [];
const managers: ReplicaManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function manager(awaitRegistration: boolean): ReplicaManager {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-rm-registration-'));
  dirs.push(dir);
  const logger = pino({ level: 'silent' });
  const rm = new ReplicaManager({
    nodeId: 1,
    logger,
    scheduler: new ManualScheduler(),
    topicLogConfig: () => defaultLogConfig,
    awaitRegistration,
    logs: {
      getOrCreateLog: (topic, partition, config) => Log.open({ dir: path.join(dir, `${topic}-${partition}`), topic, partition, config, logger }),
      deleteLog: async () => undefined,
    },
  });
  managers.push(rm);
  return rm;
}

/** Broker 1's registration as a new incarnation with `epoch`: a delta that changes no topic. */
function reregistered(image: MetadataImage, epoch: bigint): { image: MetadataImage; delta: MetadataDelta } {
  const delta = new MetadataDelta(image);
  const reg = record(MetadataRecordType.RegisterBrokerRecord, {
    brokerId: 1,
    isMigratingZkBroker: false,
    incarnationId: 'AAAAAAAAAAAAAAAAAAAAAw',
    brokerEpoch: epoch,
    endPoints: [],
    features: [],
    rack: null,
    fenced: true,
    inControlledShutdown: false,
    logDirs: [],
  });
  delta.replay(reg, image.offset + 1n, 1);
  return { image: delta.apply(), delta };
}

function startReplication(rm: ReplicaManager, epoch: bigint, image: () => MetadataImage): Promise<void> {
  return rm.startReplication({
    alterPartition: () => new Promise(() => undefined),
    brokerEpoch: () => epoch,
    image,
    interBrokerListenerName: 'PLAINTEXT',
    replicaLagTimeMaxMs: 30_000,
    reconnectBackoffMs: 100,
    fetcher: { maxWaitMs: 500, minBytes: 1, maxBytes: 1 << 20, partitionMaxBytes: 1 << 20, backoffMs: 1000, requestTimeoutMs: 30_000 },
    connections: { send: () => new Promise(() => undefined) },
  });
}

describe('ReplicaManager awaitRegistration', () => {
  // Broker 1 leads partition 0 in the replayed image: its registration from before the crash.
  const replayed = testCluster([{ replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1 }]);

  it('without it, a replayed image makes the restarted broker leader at once', async () => {
    const rm = manager(false);
    await rm.applyImage(replayed);
    expect(rm.getPartition('t', 0)!.isLeader).toBe(true);
  });

  it('holds leadership back until the image holds the registration of this life', async () => {
    const rm = manager(true);
    await rm.applyImage(replayed);
    const p = rm.getPartition('t', 0)!;
    expect(p.isLeader).toBe(false);
    expect(p.leaderId).toBe(-1);
    // Registered as epoch 50; the image still shows the old registration (epoch 10).
    let current = replayed;
    await startReplication(rm, 50n, () => current);
    await rm.applyImage(replayed);
    expect(p.isLeader).toBe(false);
    // The registration lands in a delta that changes no topic: every partition is looked at again.
    const next = reregistered(replayed, 50n);
    current = next.image;
    expect(next.delta.changedTopics.size).toBe(0);
    await rm.applyImage(next.image, next.delta);
    expect(p.isLeader).toBe(true);
    expect(p.leaderEpoch).toBe(0);
    expect(TEST_TOPIC_ID).toBe(p.topicId);
  });

  it('takes leadership when replication starts after the image already holds the registration', async () => {
    // A broker hears its registration (and its unfencing) before startReplication gives its
    // epoch; no later image changes a topic, so the start itself must release the leadership.
    const rm = manager(true);
    await rm.applyImage(replayed);
    const next = reregistered(replayed, 50n);
    await rm.applyImage(next.image, next.delta);
    const p = rm.getPartition('t', 0)!;
    expect(p.isLeader).toBe(false);
    await startReplication(rm, 50n, () => next.image);
    expect(p.isLeader).toBe(true);
  });

  it('keeps holding when replication starts before the image holds the registration', async () => {
    const rm = manager(true);
    await rm.applyImage(replayed);
    await startReplication(rm, 50n, () => replayed);
    expect(rm.getPartition('t', 0)!.isLeader).toBe(false);
  });
});
