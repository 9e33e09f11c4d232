import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeKRaftVersionRecord } from '../../protocol/generated/message/k-raft-version-record.ts';
import { decodeSnapshotHeaderRecord } from '../../protocol/generated/message/snapshot-header-record.ts';
import { decodeVotersRecord } from '../../protocol/generated/message/voters-record.ts';
import { Reader } from '../../protocol/reader.ts';
import { ControlRecordType, parseControlRecordKey } from '../../protocol/records/control-record.ts';
import { decodeRecordBatch, iterateBatches, validateBatch } from '../../protocol/records/record-batch.ts';
import { BOOTSTRAP_CHECKPOINT_FILE, METADATA_PARTITION_DIR, bootstrapCheckpoint, writeBootstrapCheckpoint } from './bootstrap-checkpoint.ts';

const VOTERS = [
  { nodeId: 1, directoryId: 'K90IZ-0DRNazJ49kCZ1EMQ', host: 'localhost', port: 8020 },
  { nodeId: 2, directoryId: 'aUARLskQTCW4qCZDtS_cwA', host: '::1', port: 8030 },
];

describe('bootstrap checkpoint', () => {
  it('holds a control batch of header, kraft.version 1 and the voters, then a footer, at offsets 0-3 of epoch 0', () => {
    const buf = bootstrapCheckpoint(VOTERS, 'CONTROLLER', 1_700_000_000_000);
    const batches = [...iterateBatches(buf, { allowPartial: false })].map((e) => {
      validateBatch(buf, e.position);
      return decodeRecordBatch(buf, e.position);
    });
    expect(batches.map((b) => [b.header.baseOffset, b.header.partitionLeaderEpoch, b.header.isControl, b.records.length])).toEqual([
      [0n, 0, true, 3],
      [3n, 0, true, 1],
    ]);
    const [first, footer] = batches;
    expect(first!.records.map((r) => parseControlRecordKey(r.key).type)).toEqual([ControlRecordType.SnapshotHeader, ControlRecordType.KRaftVersion, ControlRecordType.KRaftVoters]);
    expect(parseControlRecordKey(footer!.records[0]!.key).type).toBe(ControlRecordType.SnapshotFooter);
    expect(decodeSnapshotHeaderRecord(new Reader(first!.records[0]!.value!), 0)).toMatchObject({ version: 0, lastContainedLogTimestamp: 1_700_000_000_000n });
    expect(decodeKRaftVersionRecord(new Reader(first!.records[1]!.value!), 0)).toMatchObject({ version: 0, kRaftVersion: 1 });
    const voters = decodeVotersRecord(new Reader(first!.records[2]!.value!), 0);
    expect(voters.voters).toMatchObject([
      { voterId: 1, voterDirectoryId: 'K90IZ-0DRNazJ49kCZ1EMQ', endpoints: [{ name: 'CONTROLLER', host: 'localhost', port: 8020 }], kRaftVersionFeature: { minSupportedVersion: 0, maxSupportedVersion: 1 } },
      { voterId: 2, voterDirectoryId: 'aUARLskQTCW4qCZDtS_cwA', endpoints: [{ name: 'CONTROLLER', host: '::1', port: 8030 }] },
    ]);
  });

  describe('on disk', () => {
    let root: string;
    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'samsa-bootstrap-'));
    });
    afterEach(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('is written under __cluster_metadata-0 with Kafka\'s snapshot name, nothing left aside', async () => {
      const path = await writeBootstrapCheckpoint(root, VOTERS, 'CONTROLLER', 5);
      expect(path).toBe(join(root, METADATA_PARTITION_DIR, '00000000000000000000-0000000000.checkpoint'));
      expect(await readdir(join(root, METADATA_PARTITION_DIR))).toEqual([BOOTSTRAP_CHECKPOINT_FILE]);
      expect(await readFile(path)).toEqual(bootstrapCheckpoint(VOTERS, 'CONTROLLER', 5));
    });
  });
});
