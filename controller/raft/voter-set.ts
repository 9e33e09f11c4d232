// The voter set of the metadata quorum and its history along the log (KIP-853). A quorum formatted
// with --standalone or --initial-controllers (kraft.version 1) takes its voters from the log: the
// bootstrap checkpoint's VotersRecord, then each VotersRecord appended later (control records of
// the log or of a snapshot). A static quorum (controller.quorum.voters, kraft.version 0) has one
// fixed set. As in Kafka, a new set takes effect as soon as it is appended, committed or not, so
// the history keeps every set by the offset of its record: truncating the log drops the sets
// past the cut and the previous one applies again.
// Invariants: entries are in increasing offsets; offset -1 is a set that no log record carries
// (static configuration or the bootstrap checkpoint); at most one entry lies past the high
// watermark at any time (the leader starts one change only when the previous one is committed).
import { decodeKRaftVersionRecord, encodeKRaftVersionRecord } from '../../protocol/generated/message/k-raft-version-record.ts';
import { decodeVotersRecord, encodeVotersRecord } from '../../protocol/generated/message/voters-record.ts';
import { ControlRecordType, encodeControlRecordKey, parseControlRecordKey } from '../../protocol/records/control-record.ts';
import { readBatchHeader } from '../../protocol/records/batch-header.ts';
import { decodeRecordBatch, isControlBatch, iterateBatches } from '../../protocol/records/record-batch.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';

/** Kafka's zero Uuid: a replica with no directory id (a static voter, an old peer). */
export const NO_DIRECTORY_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

export interface VoterEndpoint {
  name: string;
  host: string;
  port: number;
}

/** One voter: Kafka's ReplicaKey (id, directory id) with its endpoints and supported kraft.version range. */
export interface VoterNode {
  id: number;
  directoryId: string;
  endpoints: readonly VoterEndpoint[];
  minKraftVersion: number;
  maxKraftVersion: number;
}

export type VoterSet = readonly VoterNode[];

/** The voter node of a static voter (no directory id, kraft.version 0 only). */
export function staticVoter(id: number, endpoint?: VoterEndpoint): VoterNode {
  return { id, directoryId: NO_DIRECTORY_ID, endpoints: endpoint ? [endpoint] : [], minKraftVersion: 0, maxKraftVersion: 0 };
}

/** Whether replica (id, directoryId) is `v`; a zero directory id on either side matches by id alone. */
export function sameReplica(v: VoterNode, id: number, directoryId: string | undefined): boolean {
  if (v.id !== id) return false;
  if (!directoryId || directoryId === NO_DIRECTORY_ID || v.directoryId === NO_DIRECTORY_ID) return true;
  return v.directoryId === directoryId;
}

export function findVoter(set: VoterSet, id: number, directoryId?: string): VoterNode | undefined {
  return set.find((v) => sameReplica(v, id, directoryId));
}

/** The set with `voter` added (sorted by id). */
export function withVoter(set: VoterSet, voter: VoterNode): VoterSet {
  return [...set.filter((v) => v.id !== voter.id), voter].sort((a, b) => a.id - b.id);
}

export function withoutVoter(set: VoterSet, id: number): VoterSet {
  return set.filter((v) => v.id !== id);
}

interface Entry<T> {
  offset: bigint;
  value: T;
}

/** What the control records of the log and snapshots say: the kraft.version and the voter sets by offset. */
export class VoterSetHistory {
  private sets: Entry<VoterSet>[] = [];
  private versions: Entry<number>[] = [];

  /** `staticVoters`: the set of a quorum configured with controller.quorum.voters (kraft.version 0). */
  constructor(private readonly staticVoters: VoterSet = []) {}

  /** The voter set in force after everything appended so far. */
  latest(): VoterSet {
    return this.sets.at(-1)?.value ?? this.staticVoters;
  }

  /** Offset of the record of the latest set (-1: static or bootstrap; undefined: no dynamic set known). */
  latestOffset(): bigint | undefined {
    return this.sets.at(-1)?.offset;
  }

  /** The set in force at `offset` (the newest whose record is at or below it). */
  at(offset: bigint): VoterSet {
    for (let i = this.sets.length - 1; i >= 0; i--) if (this.sets[i]!.offset <= offset) return this.sets[i]!.value;
    return this.staticVoters;
  }

  /** kraft.version in force after everything appended: 1 once any KRaftVersionRecord or VotersRecord says so. */
  get kraftVersion(): number {
    return this.versions.at(-1)?.value ?? (this.sets.length > 0 ? 1 : 0);
  }

  /** True when a dynamic set (from a VotersRecord) exists: the static configuration is then ignored. */
  get isDynamic(): boolean {
    return this.sets.length > 0;
  }

  /**
   * The set the latest record replaced (undefined when fewer than two are known). A leader appends
   * a set only once the one before it is committed, so this one is committed wherever the latest
   * exists, whatever high watermark the replica knows (a restart forgets it).
   */
  previous(): VoterSet | undefined {
    return this.sets.at(-2)?.value;
  }

  /** True when the latest set's record is at or past `highWatermark` (a change is in flight). */
  hasUncommitted(highWatermark: bigint): boolean {
    const last = this.sets.at(-1);
    return last !== undefined && last.offset >= highWatermark;
  }

  /** The sets by offset, e.g. "-1:[1] 45:[1,2]" (for traces). */
  describe(): string {
    return this.sets.map((e) => `${e.offset}:[${e.value.map((v) => v.id).join(',')}]`).join(' ') || `static:[${this.staticVoters.map((v) => v.id).join(',')}]`;
  }

  addSet(offset: bigint, set: VoterSet): void {
    const last = this.sets.at(-1);
    if (last && offset <= last.offset) throw new Error(`voter set at ${offset} is not after the one at ${last.offset}`);
    this.sets.push({ offset, value: [...set].sort((a, b) => a.id - b.id) });
  }

  addVersion(offset: bigint, version: number): void {
    const last = this.versions.at(-1);
    if (last && offset <= last.offset) throw new Error(`kraft.version at ${offset} is not after the one at ${last.offset}`);
    this.versions.push({ offset, value: version });
  }

  /** The log was cut at `offset`: records at or past it are gone, and the sets they carried with them. */
  truncateFrom(offset: bigint): void {
    this.sets = this.sets.filter((e) => e.offset < offset);
    this.versions = this.versions.filter((e) => e.offset < offset);
  }

  /** Forgets everything (the log is replaced by a snapshot, whose records come next). */
  clear(): void {
    this.sets = [];
    this.versions = [];
  }

  /** Drops sets older than the one in force at `offset` (the log below it is gone). */
  compactBelow(offset: bigint): void {
    const keepFrom = (entries: Entry<unknown>[]): number => {
      let i = 0;
      while (i + 1 < entries.length && entries[i + 1]!.offset <= offset) i++;
      return i;
    };
    this.sets = this.sets.slice(keepFrom(this.sets));
    this.versions = this.versions.slice(keepFrom(this.versions));
  }

  /** Reads the KRaftVersion and Voters control records of `batches`; `baseOffset` replaces the batches' own (a leader's unassigned append). */
  applyBatches(batches: Buffer, baseOffset?: bigint): void {
    for (const r of controlRecordsIn(batches, baseOffset)) {
      if (r.type === ControlRecordType.KRaftVoters) this.addSet(r.offset, decodeVoters(r.value));
      else if (r.type === ControlRecordType.KRaftVersion) this.addVersion(r.offset, decodeKRaftVersionRecord(new Reader(r.value), 0).kRaftVersion);
    }
  }

  /** Reads a snapshot's control records: their state applies from the record before the snapshot's end. */
  applySnapshot(bytes: Buffer, endOffset: bigint): void {
    const at = endOffset - 1n;
    for (const r of controlRecordsIn(bytes)) {
      if (r.type === ControlRecordType.KRaftVoters) this.addOrReplaceSet(at, decodeVoters(r.value));
      else if (r.type === ControlRecordType.KRaftVersion) this.addOrReplaceVersion(at, decodeKRaftVersionRecord(new Reader(r.value), 0).kRaftVersion);
    }
  }

  private addOrReplaceSet(offset: bigint, set: VoterSet): void {
    this.sets = this.sets.filter((e) => e.offset < offset);
    this.addSet(offset, set);
  }

  private addOrReplaceVersion(offset: bigint, version: number): void {
    this.versions = this.versions.filter((e) => e.offset < offset);
    this.addVersion(offset, version);
  }
}

interface ControlRecord {
  offset: bigint;
  type: number;
  value: Buffer;
}

/** The control records of `batches` (data batches are skipped by their header alone). */
export function controlRecordsIn(batches: Buffer, baseOffset?: bigint): ControlRecord[] {
  const out: ControlRecord[] = [];
  let next = baseOffset;
  for (const e of iterateBatches(batches)) {
    const h = readBatchHeader(batches, e.position);
    const base = next ?? h.baseOffset;
    if (next !== undefined) next += BigInt(h.lastOffsetDelta) + 1n;
    if (!isControlBatch(h.attributes)) continue;
    const batch = decodeRecordBatch(batches, e.position);
    for (const r of batch.records) {
      if (!r.key || !r.value) continue;
      out.push({ offset: base + BigInt(r.offsetDelta), type: parseControlRecordKey(r.key).type, value: Buffer.from(r.value) });
    }
  }
  return out;
}

export function decodeVoters(value: Buffer): VoterSet {
  const rec = decodeVotersRecord(new Reader(value), 0);
  return rec.voters.map((v) => ({
    id: v.voterId,
    directoryId: v.voterDirectoryId,
    endpoints: v.endpoints.map((e) => ({ name: e.name, host: e.host, port: e.port })),
    minKraftVersion: v.kRaftVersionFeature.minSupportedVersion,
    maxKraftVersion: v.kRaftVersionFeature.maxSupportedVersion,
  }));
}

export function encodeVoters(set: VoterSet): Buffer {
  const w = new Writer(64);
  encodeVotersRecord(w, 0, {
    version: 0,
    voters: set.map((v) => ({
      voterId: v.id,
      voterDirectoryId: v.directoryId,
      endpoints: v.endpoints.map((e) => ({ ...e })),
      kRaftVersionFeature: { minSupportedVersion: v.minKraftVersion, maxSupportedVersion: v.maxKraftVersion },
    })),
  });
  return w.toBuffer();
}

export function encodeKRaftVersion(version: number): Buffer {
  const w = new Writer(8);
  encodeKRaftVersionRecord(w, 0, { version: 0, kRaftVersion: version });
  return w.toBuffer();
}

/** Control records (key, value) stating kraft.version 1 and `set`, for a batch or a snapshot header. */
export function votersControlRecords(set: VoterSet): { key: Buffer; value: Buffer }[] {
  return [
    { key: encodeControlRecordKey(ControlRecordType.KRaftVersion), value: encodeKRaftVersion(1) },
    { key: encodeControlRecordKey(ControlRecordType.KRaftVoters), value: encodeVoters(set) },
  ];
}
