// The ReplicatedLog contract, run on both implementations.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { FileReplicatedLog } from './file-replicated-log.ts';
import { MemoryReplicatedLog, type ReplicatedLog } from './replicated-log.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const implementations: [string, () => Promise<ReplicatedLog>][] = [
  ['memory', async () => new MemoryReplicatedLog()],
  [
    'file',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'samsa-rlog-'));
      dirs.push(dir);
      return FileReplicatedLog.open(dir, pino({ level: 'silent' }));
    },
  ],
];

function batch(values: string[]): Buffer {
  return encodeRecordBatch({ baseTimestamp: 1n, records: values.map((v, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value: Buffer.from(v) })) });
}

describe.each(implementations)('%s replicated log', (_name, open) => {
  it('appends as leader and follower, looks up epochs and truncates', async () => {
    const leader = await open();
    const follower = await open();
    expect(leader.endOffsetForEpoch(3)).toEqual({ epoch: -1, endOffset: 0n });
    expect(await leader.appendAsLeader(batch(['a', 'b']), 1)).toEqual({ baseOffset: 0n, lastOffset: 1n });
    await leader.appendAsLeader(batch(['c']), 3);
    await leader.appendAsLeader(batch(['d']), 3);
    await leader.appendAsLeader(batch(['e']), 6);
    await leader.flush();
    expect(leader.endOffset()).toBe(5n);
    expect(leader.lastEpoch()).toBe(6);
    expect(leader.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 2n });
    expect(leader.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 4n });
    expect(leader.endOffsetForEpoch(7)).toEqual({ epoch: 6, endOffset: 5n });

    const copied = await leader.read(0n, 1 << 20);
    expect(await follower.appendAsFollower(copied)).toEqual({ baseOffset: 0n, lastOffset: 4n });
    await follower.flush();
    expect(follower.lastEpoch()).toBe(6);
    expect(await follower.read(0n, 1 << 20)).toEqual(copied);
    await follower.truncateTo(2n);
    expect(follower.endOffset()).toBe(2n);
    expect(follower.lastEpoch()).toBe(1);
    expect(follower.endOffsetForEpoch(3)).toEqual({ epoch: 1, endOffset: 2n });
    await follower.appendAsFollower(await leader.read(2n, 1 << 20));
    expect(follower.endOffset()).toBe(5n);
    await leader.close();
    await follower.close();
  });
});
