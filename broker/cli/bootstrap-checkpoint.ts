// The bootstrap checkpoint Kafka's format writes for a dynamic quorum (KIP-853):
// `<metadata.log.dir>/__cluster_metadata-0/00000000000000000000-0000000000.checkpoint`, the
// snapshot at offset 0, epoch 0 that holds the quorum's initial voter set before any log exists.
// File format (as Kafka 3.9's RecordsSnapshotWriter lays it out, record batches v2, epoch 0):
//   offsets 0-2  one control batch: SnapshotHeaderRecord, KRaftVersionRecord (kraft.version 1),
//                VotersRecord (each voter's id, directory id, controller endpoint, kraft.version 0-1)
//   offset 3     a control batch: SnapshotFooterRecord
// Kafka 3.9 keeps the bootstrap metadata (metadata.version) out of it, in bootstrap.checkpoint.
// Written aside and renamed, so a crash never leaves half a checkpoint under the final name.
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeKRaftVersionRecord } from '../../protocol/generated/message/k-raft-version-record.ts';
import { encodeSnapshotFooterRecord } from '../../protocol/generated/message/snapshot-footer-record.ts';
import { encodeSnapshotHeaderRecord } from '../../protocol/generated/message/snapshot-header-record.ts';
import { encodeVotersRecord } from '../../protocol/generated/message/voters-record.ts';
import { ControlRecordType, encodeControlRecordKey } from '../../protocol/records/control-record.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { Writer } from '../../protocol/writer.ts';

export const METADATA_PARTITION_DIR = '__cluster_metadata-0';
export const BOOTSTRAP_CHECKPOINT_FILE = '00000000000000000000-0000000000.checkpoint';

export interface BootstrapVoter {
  nodeId: number;
  directoryId: string;
  host: string;
  port: number;
}

function encoded(encode: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  encode(w);
  return w.toBuffer();
}

/** The checkpoint's bytes: the initial voters, each with one endpoint on `listenerName`. */
export function bootstrapCheckpoint(voters: readonly BootstrapVoter[], listenerName: string, nowMs: number): Buffer {
  const now = BigInt(nowMs);
  const control = (type: number, value: Buffer, offsetDelta: number) => ({ offsetDelta, timestampDelta: 0, key: encodeControlRecordKey(type), value });
  const header = encodeRecordBatch({
    baseOffset: 0n,
    partitionLeaderEpoch: 0,
    isControl: true,
    baseTimestamp: now,
    records: [
      control(ControlRecordType.SnapshotHeader, encoded((w) => encodeSnapshotHeaderRecord(w, 0, { version: 0, lastContainedLogTimestamp: now })), 0),
      control(ControlRecordType.KRaftVersion, encoded((w) => encodeKRaftVersionRecord(w, 0, { version: 0, kRaftVersion: 1 })), 1),
      control(
        ControlRecordType.KRaftVoters,
        encoded((w) =>
          encodeVotersRecord(w, 0, {
            version: 0,
            voters: voters.map((v) => ({
              voterId: v.nodeId,
              voterDirectoryId: v.directoryId,
              endpoints: [{ name: listenerName, host: v.host, port: v.port }],
              kRaftVersionFeature: { minSupportedVersion: 0, maxSupportedVersion: 1 },
            })),
          }),
        ),
        2,
      ),
    ],
  });
  const footer = encodeRecordBatch({
    baseOffset: 3n,
    partitionLeaderEpoch: 0,
    isControl: true,
    baseTimestamp: now,
    records: [control(ControlRecordType.SnapshotFooter, encoded((w) => encodeSnapshotFooterRecord(w, 0, { version: 0 })), 0)],
  });
  return Buffer.concat([header, footer]);
}

/** Writes the bootstrap checkpoint into a metadata log directory (fsynced, then renamed into place). */
export async function writeBootstrapCheckpoint(
  metadataLogDir: string,
  voters: readonly BootstrapVoter[],
  listenerName: string,
  nowMs: number = Date.now(),
): Promise<string> {
  const dir = join(metadataLogDir, METADATA_PARTITION_DIR);
  await mkdir(dir, { recursive: true });
  const path = join(dir, BOOTSTRAP_CHECKPOINT_FILE);
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(bootstrapCheckpoint(voters, listenerName, nowMs));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  return path;
}
