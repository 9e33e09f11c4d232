// A follower that once led an epoch without appending anything (found by the replication
// simulation, seed 5003): its epoch cache ends with that empty epoch at the log end, the leader
// answers every fetch with a divergence at the log end, and truncating "to the log end" must drop
// that entry (as Kafka's UnifiedLog.truncateTo does), else the follower never catches up.
import { rmSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { Log } from '../../storage/log.ts';
import { defaultLogConfig } from '../../storage/log-config.ts';
import { ProducerStateManager } from '../../storage/producer-state.ts';
import { buildSimpleBatch } from '../../storage/test-batches.ts';
import { silentLogger, tempDir } from '../../storage/test-support.ts';
import { Partition } from './partition.ts';

const dirs: string[] = [];
const logs: Log[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('truncating to the log end drops an empty epoch begun there', async () => {
  const dir = tempDir('samsa-partition-empty-epoch-');
  dirs.push(dir);
  const log = await Log.open({ dir, topic: 't', partition: 0, config: defaultLogConfig, logger: silentLogger() });
  logs.push(log);
  const p = new Partition({ topic: 't', partition: 0, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', log, producerState: new ProducerStateManager(dir, silentLogger()), nodeId: 2, logger: silentLogger(), onAppend: () => undefined });
  // Follower in epoch 0: offsets 0-1.
  p.update(1, 0, 0, [1, 2, 3], [1, 2, 3]);
  await p.appendAsFollower(buildSimpleBatch(2, 10, { baseOffset: 0, partitionLeaderEpoch: 0 }));
  // Leader of epoch 1 at offset 2, then follower of epoch 2 before appending anything.
  p.update(2, 1, 1, [1, 2, 3], [2, 3]);
  expect(log.leaderEpochCache.latestEpoch()).toBe(1);
  p.update(3, 2, 2, [1, 2, 3], [3]);
  // The new leader never saw epoch 1: its epoch 0 ends at 2, our log end. The fetcher truncates there.
  await p.truncateTo(2);
  expect(log.logEndOffset).toBe(2);
  expect(log.leaderEpochCache.latestEpoch()).toBe(0);
  expect(log.leaderEpochCache.endOffsetForEpoch(0, log.logEndOffset)).toEqual({ epoch: 0, endOffset: 2 });
});
