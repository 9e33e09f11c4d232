// SCRAM users of a new cluster, as `kafka-storage format --add-scram` creates them: each
// `SCRAM-SHA-256=[name=alice,password=alice-secret]` (or with iterations=N, salt="<base64>",
// saltedpassword="<base64>") becomes a UserScramCredentialRecord in the bootstrap metadata file
// `<metadata.log.dir>/bootstrap.checkpoint`, which the first active controller appends to the new
// metadata log along with metadata.version.
// File format (Kafka's BatchFileWriter): record batches v2 from offset 0 — a control batch with
// SnapshotHeaderRecord, one batch of metadata records (FeatureLevelRecord metadata.version first),
// and a control batch with SnapshotFooterRecord.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_VERSION_3_9_IV0 } from '../../controller/cluster-control.ts';
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord, record } from '../../controller/metadata/record-serde.ts';
import { encodeSnapshotFooterRecord } from '../../protocol/generated/message/snapshot-footer-record.ts';
import { encodeSnapshotHeaderRecord } from '../../protocol/generated/message/snapshot-header-record.ts';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { ControlRecordType, encodeControlRecordKey } from '../../protocol/records/control-record.ts';
import { decodeRecordBatch, encodeRecordBatch, isControlBatch } from '../../protocol/records/record-batch.ts';
import { Writer } from '../../protocol/writer.ts';
import { credentialFromSaltedPassword, MAX_SCRAM_ITERATIONS, saltedPassword, scramMechanism } from './scram.ts';

export const BOOTSTRAP_METADATA_FILE = 'bootstrap.checkpoint';

export class AddScramError extends Error {
  readonly code = 'INVALID_ADD_SCRAM';
}

/** One --add-scram argument as a UserScramCredentialRecord, with Kafka's checks and messages. */
export function parseAddScram(arg: string): MetadataRecord {
  const m = /^([A-Z0-9-]+)=\[(.*)\]$/s.exec(arg.trim());
  if (!m) throw new AddScramError(`Invalid --add-scram argument ${arg}: expected SCRAM-SHA-256=[name=alice,password=alice-secret]`);
  const mechanism = scramMechanism(m[1]!);
  if (!mechanism) throw new AddScramError(`The add-scram mechanism ${m[1]} is not supported.`);
  const fields = new Map<string, string>();
  for (const part of m[2]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new AddScramError(`Invalid --add-scram argument ${arg}: ${part} is not key=value`);
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  const name = fields.get('name');
  if (!name) throw new AddScramError('You must supply \'name\' to add-scram');
  const iterations = fields.has('iterations') ? Number(fields.get('iterations')) : 4096;
  if (!Number.isInteger(iterations) || iterations < mechanism.minIterations) throw new AddScramError(`The 'iterations' value must be >= ${mechanism.minIterations} for add-scram`);
  if (iterations > MAX_SCRAM_ITERATIONS) throw new AddScramError(`The 'iterations' value must be <= ${MAX_SCRAM_ITERATIONS} for add-scram`);
  const salt = fields.has('salt') ? Buffer.from(fields.get('salt')!, 'base64') : randomBytes(32);
  let salted: Buffer;
  if (fields.has('saltedpassword')) {
    if (!fields.has('salt')) throw new AddScramError('You must supply \'salt\' with \'saltedpassword\' to add-scram');
    salted = Buffer.from(fields.get('saltedpassword')!, 'base64');
  } else if (fields.has('password')) {
    salted = saltedPassword(mechanism, fields.get('password')!, salt, iterations);
  } else {
    throw new AddScramError('You must supply one of \'password\' or \'saltedpassword\' to add-scram');
  }
  const c = credentialFromSaltedPassword(mechanism, salted, salt, iterations);
  return record(MetadataRecordType.UserScramCredentialRecord, { name, mechanism: mechanism.type, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations });
}

function encoded(encode: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  encode(w);
  return w.toBuffer();
}

/** The bytes of bootstrap.checkpoint holding metadata.version and `records`. */
export function bootstrapMetadataFile(records: readonly MetadataRecord[], nowMs: number): Buffer {
  const now = BigInt(nowMs);
  const all = [record(MetadataRecordType.FeatureLevelRecord, { name: 'metadata.version', featureLevel: METADATA_VERSION_3_9_IV0 }), ...records];
  const control = (type: number, value: Buffer) => ({ offsetDelta: 0, timestampDelta: 0, key: encodeControlRecordKey(type), value });
  return Buffer.concat([
    encodeRecordBatch({ baseOffset: 0n, partitionLeaderEpoch: 0, isControl: true, baseTimestamp: now, records: [control(ControlRecordType.SnapshotHeader, encoded((w) => encodeSnapshotHeaderRecord(w, 0, { version: 0, lastContainedLogTimestamp: now })))] }),
    encodeRecordBatch({ baseOffset: 1n, partitionLeaderEpoch: 0, baseTimestamp: now, records: all.map((r, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value: encodeMetadataRecord(r) })) }),
    encodeRecordBatch({ baseOffset: BigInt(1 + all.length), partitionLeaderEpoch: 0, isControl: true, baseTimestamp: now, records: [control(ControlRecordType.SnapshotFooter, encoded((w) => encodeSnapshotFooterRecord(w, 0, { version: 0 })))] }),
  ]);
}

export async function writeBootstrapMetadata(metadataLogDir: string, records: readonly MetadataRecord[], nowMs = Date.now()): Promise<string> {
  const path = join(metadataLogDir, BOOTSTRAP_METADATA_FILE);
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(bootstrapMetadataFile(records, nowMs));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  return path;
}

/**
 * The records of bootstrap.checkpoint other than feature levels (the controller writes those
 * itself), or none when the file is absent.
 */
export async function readBootstrapMetadata(metadataLogDir: string): Promise<MetadataRecord[]> {
  let buf: Buffer;
  try {
    buf = await readFile(join(metadataLogDir, BOOTSTRAP_METADATA_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: MetadataRecord[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const batch = decodeRecordBatch(buf, pos);
    pos += batch.size;
    if (isControlBatch(batch.header.attributes)) continue;
    for (const r of batch.records) {
      if (!r.value) continue;
      const rec = decodeMetadataRecord(r.value);
      if (rec.type !== MetadataRecordType.FeatureLevelRecord) out.push(rec);
    }
  }
  return out;
}
