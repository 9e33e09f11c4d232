// Snapshots of a Raft replica (KIP-630): taking one of the committed state its listener hands
// over, keeping a bounded number and moving the log start offset up to the oldest one kept,
// loading the newest at start-up, and FetchSnapshot on both sides: a leader answers a fetch below
// its log start (or in an epoch older than its oldest snapshot) with its latest snapshot's id and
// serves that snapshot in chunks; a follower or observer fetches it chunk by chunk, validates it,
// stores it, replaces its log with an empty one starting at the snapshot's end, hands the
// snapshot to its listeners and fetches on from there.
// Invariants: a snapshot covers committed offsets only (end offset <= high watermark); the log
// start offset is never above the oldest snapshot kept; a follower's fetch of a snapshot belongs
// to one role generation and is dropped when the role changes.
import type { FetchSnapshotRequest } from '../../protocol/generated/message/fetch-snapshot-request.ts';
import type { FetchSnapshotResponse } from '../../protocol/generated/message/fetch-snapshot-response.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { RECORD_BATCH_OVERHEAD, readBatchHeader } from '../../protocol/records/batch-header.ts';
import type { LeaderAndEpoch } from './raft-messages.ts';
import type { RaftClient } from './raft-client.ts';
import type { RaftHandlers } from './raft-handlers.ts';
import { METADATA_PARTITION, METADATA_TOPIC, metadataPartition } from './raft-transport.ts';
import { decodeSnapshot, encodeSnapshot, type SnapshotId, snapshotFileName } from './snapshot-format.ts';

/** How many snapshots a replica keeps by default: the newest and the one before it. */
export const DEFAULT_SNAPSHOTS_RETAINED = 2;

/** Kafka's defaults of metadata.max.retention.bytes (100 MiB) and metadata.max.retention.ms (7 days). */
export const DEFAULT_METADATA_RETENTION = { maxBytes: 100 * 1024 * 1024, maxMs: 7 * 24 * 3600 * 1000 };

interface SnapshotFetch {
  gen: number;
  id: SnapshotId;
  chunks: Buffer[];
  position: number;
}

const idText = (id: SnapshotId): string => `${id.endOffset}-${id.epoch}`;

export class RaftSnapshots {
  private fetch: SnapshotFetch | undefined;
  private writing: Promise<unknown> | undefined;
  /** Snapshots written and fetched in this replica's life (for tests and the simulation). */
  created = 0;
  installed = 0;

  constructor(
    private readonly c: RaftClient,
    private readonly h: RaftHandlers,
    private readonly retained: number,
    private readonly retention: { maxBytes: number; maxMs: number } = DEFAULT_METADATA_RETENTION,
  ) {}

  // ---- start-up ----

  /** Loads the newest snapshot into the listeners (runs in `serial`, before the role starts). */
  async loadOnStart(): Promise<void> {
    const c = this.c;
    const log = c.log;
    const latest = log.snapshots.latest();
    // The bootstrap checkpoint (end offset 0) holds no state.
    if (!latest || latest.endOffset === 0n) return;
    if (latest.endOffset > log.endOffset() || latest.epoch > log.lastEpoch()) {
      // A fetched snapshot whose log replacement a crash cut short: the snapshot wins.
      c.logger.warn({ snapshotId: idText(latest), logEndOffset: String(log.endOffset()), lastEpoch: log.lastEpoch() }, 'log ends before the latest snapshot: restarting it at the snapshot');
      await log.truncateFullyAndStartAt(latest);
      for (const s of [...log.snapshots.list()]) if (s.endOffset < latest.endOffset) await log.snapshots.delete(s);
    }
    const started = Date.now();
    const bytes = await log.snapshots.read(latest);
    const decoded = decodeSnapshot(bytes);
    c.delivery.loadSnapshot({ id: latest, ...decoded });
    await c.advanceHighWatermark(latest.endOffset);
    c.logger.info({ snapshotId: idText(latest), bytes: bytes.length, records: decoded.records.length, ms: Date.now() - started, logStartOffset: String(log.startOffset()) }, 'loaded metadata snapshot');
  }

  // ---- taking snapshots ----

  /**
   * Writes a snapshot of the committed state up to `id.endOffset` (exclusive) from `records`,
   * then drops snapshots beyond the retained count and moves the log start offset up to the
   * oldest kept. Returns false when a snapshot at or past that offset exists or one is being
   * written. `id.epoch` must be the epoch of the record at `id.endOffset - 1`.
   */
  async create(id: SnapshotId, records: readonly Buffer[], lastContainedLogTimestamp: number): Promise<boolean> {
    const c = this.c;
    if (id.endOffset > c.hw || id.endOffset > c.delivery.deliveredEnd) throw new Error(`snapshot ${idText(id)} is past the committed offset ${c.hw}`);
    const latest = c.log.snapshots.latest();
    if (this.writing || c.isClosing || c.isClosed || (latest && id.endOffset <= latest.endOffset) || id.endOffset < c.log.startOffset()) return false;
    const write = (async () => {
      const started = Date.now();
      const history = c.controlLog.history;
      const bytes = encodeSnapshot(id, records, lastContainedLogTimestamp, history.isDynamic ? history.at(id.endOffset - 1n) : undefined);
      await c.log.snapshots.write(id, bytes);
      this.created++;
      c.logger.info({ snapshotId: idText(id), file: snapshotFileName(id), bytes: bytes.length, records: records.length, ms: Date.now() - started }, 'wrote metadata snapshot');
      await c.serial(() => this.clean());
    })();
    this.writing = write;
    try {
      await write;
    } finally {
      this.writing = undefined;
    }
    return true;
  }

  /** Resolves once no snapshot is being written (the replica waits for it before closing). */
  async idle(): Promise<void> {
    await this.writing?.catch(() => undefined);
  }

  /**
   * Deletes the oldest snapshot (never the newest) while more than `retained` are kept, the log
   * is larger than metadata.max.retention.bytes, or that snapshot is older than
   * metadata.max.retention.ms (its last contained record's time), moving the log start offset to
   * the oldest kept each time, as Kafka's KafkaMetadataLog cleans. Runs in `serial`.
   */
  private async clean(): Promise<void> {
    const c = this.c;
    const snaps = c.log.snapshots;
    if (c.isClosed) return;
    for (;;) {
      const list = snaps.list();
      if (list.length < 2) break;
      const oldest = list[0]!;
      const why = list.length > this.retained ? 'count' : await this.beyondRetention(oldest);
      if (!why) break;
      await snaps.delete(oldest);
      c.logger.info({ snapshotId: idText(oldest), why, logBytes: c.log.sizeInBytes() }, 'deleted an old metadata snapshot');
      await this.advanceStart();
    }
    await this.advanceStart();
  }

  /** Which retention limit `oldest` is beyond, if any. */
  private async beyondRetention(oldest: SnapshotId): Promise<string | undefined> {
    const { maxBytes, maxMs } = this.retention;
    if (maxBytes >= 0 && this.c.log.sizeInBytes() > maxBytes) return 'metadata.max.retention.bytes';
    if (maxMs >= 0) {
      const head = await this.c.log.snapshots.readChunk(oldest, 0, RECORD_BATCH_OVERHEAD);
      // The header batch's base timestamp is the snapshot's last contained log timestamp.
      if (head.length >= RECORD_BATCH_OVERHEAD && this.c.now() - Number(readBatchHeader(head).baseTimestamp) > maxMs) return 'metadata.max.retention.ms';
    }
    return undefined;
  }

  /** Moves the log start offset up to the oldest snapshot kept (committed and in the log). */
  private async advanceStart(): Promise<void> {
    const c = this.c;
    const earliest = c.log.snapshots.earliest();
    if (!earliest || earliest.endOffset <= c.log.startOffset() || earliest.endOffset > c.hw || earliest.endOffset > c.log.endOffset()) return;
    await c.log.advanceStart(earliest);
    c.logger.info({ logStartOffset: String(c.log.startOffset()), snapshotId: idText(earliest) }, 'metadata log start offset advanced to the oldest snapshot kept');
  }

  // ---- leader side ----

  /**
   * The snapshot a fetch at (offset, lastFetchedEpoch) must load first, as Kafka decides it:
   * the latest, when the fetch is below the log start, at the start in another epoch than the
   * oldest snapshot's, or in an epoch older than the oldest snapshot's.
   */
  snapshotForFetch(offset: bigint, lastFetchedEpoch: number): SnapshotId | undefined {
    const log = this.c.log;
    const earliest = log.snapshots.earliest();
    const start = log.startOffset();
    if (!earliest || (start === 0n && offset === 0n)) return undefined;
    if (offset < start || (offset === start && lastFetchedEpoch !== earliest.epoch) || lastFetchedEpoch < earliest.epoch) {
      return log.snapshots.latest();
    }
    return undefined;
  }

  handleFetchSnapshot(req: FetchSnapshotRequest): Promise<FetchSnapshotResponse> {
    const c = this.c;
    return c.serial(async () => {
      const at: LeaderAndEpoch = { leaderId: c.currentLeader, epoch: c.currentEpoch };
      const p = metadataPartition(req.topics);
      const none = { endOffset: -1n, epoch: -1 };
      if (c.isClosed) return fetchSnapshotResponse(ErrorCode.BROKER_NOT_AVAILABLE, ErrorCode.NONE, at, none);
      if (c.clusterId !== null && req.clusterId && req.clusterId !== c.clusterId) return fetchSnapshotResponse(ErrorCode.INCONSISTENT_CLUSTER_ID, ErrorCode.NONE, at, none);
      if (!p || p.partition !== METADATA_PARTITION || req.topics[0]?.name !== METADATA_TOPIC) return fetchSnapshotResponse(ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, at, none);
      const id = { endOffset: p.snapshotId.endOffset, epoch: p.snapshotId.epoch };
      const s = c.epochState;
      const error =
        p.currentLeaderEpoch < s.epoch ? ErrorCode.FENCED_LEADER_EPOCH : p.currentLeaderEpoch > s.epoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : s.role !== 'leader' ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE;
      if (error !== ErrorCode.NONE || s.role !== 'leader') return fetchSnapshotResponse(ErrorCode.NONE, error, at, id);
      const size = c.log.snapshots.size(id);
      if (size < 0) return fetchSnapshotResponse(ErrorCode.NONE, ErrorCode.SNAPSHOT_NOT_FOUND, at, id);
      if (p.position < 0n || p.position >= BigInt(size)) return fetchSnapshotResponse(ErrorCode.NONE, ErrorCode.POSITION_OUT_OF_RANGE, at, id);
      if (req.replicaId >= 0) s.leader.touchReplica(req.replicaId, c.now());
      const maxBytes = Math.max(1, Math.min(req.maxBytes, c.config.fetchSnapshotMaxBytes));
      const chunk = await c.log.snapshots.readChunk(id, Number(p.position), maxBytes);
      return fetchSnapshotResponse(ErrorCode.NONE, ErrorCode.NONE, at, id, { size: BigInt(size), position: p.position, bytes: chunk });
    });
  }

  // ---- follower and observer side ----

  /** The leader answered a fetch with a snapshot id: fetch that snapshot before anything else. */
  beginFetch(id: SnapshotId, gen: number): void {
    if (this.fetch && this.fetch.gen === gen && this.fetch.id.endOffset === id.endOffset && this.fetch.id.epoch === id.epoch) return;
    this.c.logger.info({ snapshotId: idText(id), logEndOffset: String(this.c.log.endOffset()) }, 'behind the leader\'s log start: fetching its snapshot');
    this.fetch = { gen, id, chunks: [], position: 0 };
  }

  /** True while the role of generation `gen` is fetching a snapshot. */
  fetching(gen: number): boolean {
    if (this.fetch && this.fetch.gen !== gen) this.fetch = undefined;
    return this.fetch !== undefined;
  }

  sendFetchSnapshot(gen: number): void {
    const c = this.c;
    const f = this.fetch;
    const s = c.epochState;
    if (!f || f.gen !== gen || s.role !== 'follower' || c.isClosed) return;
    const target = s.leaderId;
    const req: FetchSnapshotRequest = {
      clusterId: c.clusterId,
      replicaId: c.nodeId,
      maxBytes: c.config.fetchSnapshotMaxBytes,
      topics: [{ name: METADATA_TOPIC, partitions: [{ partition: METADATA_PARTITION, currentLeaderEpoch: s.epoch, snapshotId: { ...f.id }, position: BigInt(f.position), replicaDirectoryId: c.directoryId }] }],
    };
    c.request(target, 'fetchSnapshot', req).then(
      (resp) => this.h.onAnswer(gen, () => this.onFetchSnapshotResponse(target, gen, resp)),
      () => this.h.onAnswer(gen, () => this.retry(gen)),
    );
  }

  private retry(gen: number): void {
    this.c.addTimer(this.c.config.retryBackoffMs, gen, () => this.c.sendFetch());
  }

  /** Gives up on the snapshot being fetched; the next Fetch learns what to do instead. */
  private abandon(gen: number, why: string): void {
    this.c.logger.info({ snapshotId: this.fetch ? idText(this.fetch.id) : undefined, why }, 'snapshot fetch abandoned');
    this.fetch = undefined;
    this.retry(gen);
  }

  private async onFetchSnapshotResponse(target: number, gen: number, resp: FetchSnapshotResponse): Promise<void> {
    const c = this.c;
    const p = metadataPartition(resp.topics);
    if (!p || resp.errorCode !== ErrorCode.NONE) return this.retry(gen);
    if (p.currentLeader && (await this.h.maybeTransition(p.currentLeader.leaderEpoch, p.currentLeader.leaderId))) return;
    const s = c.epochState;
    const f = this.fetch;
    if (s.role !== 'follower' || s.leaderId !== target || !f || f.gen !== gen) return;
    if (p.errorCode === ErrorCode.SNAPSHOT_NOT_FOUND || p.errorCode === ErrorCode.POSITION_OUT_OF_RANGE) return this.abandon(gen, `leader answered error ${p.errorCode}`);
    if (p.errorCode !== ErrorCode.NONE) return this.retry(gen);
    if (p.snapshotId.endOffset !== f.id.endOffset || p.snapshotId.epoch !== f.id.epoch || p.position !== BigInt(f.position)) return this.abandon(gen, 'answer for another snapshot or position');
    c.resetFetchTimer();
    f.chunks.push(Buffer.from(p.unalignedRecords));
    f.position += p.unalignedRecords.length;
    const size = Number(p.size);
    if (f.position > size || (p.unalignedRecords.length === 0 && f.position < size)) return this.abandon(gen, 'chunk sizes do not add up');
    if (f.position < size) return this.sendFetchSnapshot(gen);
    this.fetch = undefined;
    await this.install(f.id, Buffer.concat(f.chunks));
    if (gen === c.generation) c.sendFetch();
  }

  /** A fetched snapshot replaces the log and the listeners' state. Runs in `serial`. */
  private async install(id: SnapshotId, bytes: Buffer): Promise<void> {
    const c = this.c;
    const log = c.log;
    let decoded;
    try {
      decoded = decodeSnapshot(bytes);
    } catch (err) {
      c.logger.warn({ err, snapshotId: idText(id) }, 'fetched snapshot is damaged: fetching again');
      return;
    }
    // Committed entries are never cut: a snapshot below the high watermark would mean a broken invariant.
    if (id.endOffset < c.hw) throw new Error(`fetched snapshot ${idText(id)} ends below the high watermark ${c.hw}`);
    await log.snapshots.write(id, bytes);
    await log.truncateFullyAndStartAt(id);
    for (const s of [...log.snapshots.list()]) if (s.endOffset < id.endOffset) await log.snapshots.delete(s);
    this.installed++;
    if (id.endOffset > c.delivery.deliveredEnd) c.delivery.loadSnapshot({ id, ...decoded });
    await c.advanceHighWatermark(id.endOffset);
    c.logger.info({ snapshotId: idText(id), bytes: bytes.length, records: decoded.records.length }, 'installed the leader\'s snapshot; fetching on from its end');
  }
}

function fetchSnapshotResponse(
  topLevelError: number,
  errorCode: number,
  at: LeaderAndEpoch,
  id: SnapshotId,
  data: { size: bigint; position: bigint; bytes: Buffer } = { size: -1n, position: -1n, bytes: Buffer.alloc(0) },
): FetchSnapshotResponse {
  return {
    throttleTimeMs: 0,
    errorCode: topLevelError,
    topics: [
      {
        name: METADATA_TOPIC,
        partitions: [
          {
            index: METADATA_PARTITION,
            errorCode,
            snapshotId: { endOffset: id.endOffset, epoch: id.epoch },
            currentLeader: { leaderId: at.leaderId, leaderEpoch: at.epoch },
            size: data.size,
            position: data.position,
            unalignedRecords: data.bytes,
          },
        ],
      },
    ],
  };
}
