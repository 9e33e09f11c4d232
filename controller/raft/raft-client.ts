// KRaft replica of `__cluster_metadata`. This module runs the quorum when this node is its only
// voter: on start it replays its log, takes the next epoch (persisted in quorum-state before
// anything is written in it), appends a LeaderChangeMessage, and from then on commits each
// appended batch once it is durable on disk, which for one voter is a majority.
// Committed data records are delivered in offset order to listeners; nothing uncommitted is.
import type { Logger } from 'pino';
import { encodeLeaderChangeMessage } from '../../protocol/generated/message/leader-change-message.ts';
import { ControlRecordType, encodeControlRecordKey } from '../../protocol/records/control-record.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateBatches } from '../../protocol/records/record-batch.ts';
import { Writer } from '../../protocol/writer.ts';
import type { QuorumStateStore } from './quorum-state.ts';
import type { ReplicatedLog } from './replicated-log.ts';

export interface CommittedRecord {
  offset: bigint;
  value: Buffer;
}

export interface CommittedBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  epoch: number;
  /** Data records only; control records (leader changes) are not passed on. */
  records: CommittedRecord[];
}

export interface RaftListener {
  handleCommit(batch: CommittedBatch): void;
  handleLeaderChange?(leaderId: number, epoch: number): void;
}

export interface RaftClientOptions {
  nodeId: number;
  voters: readonly number[];
  log: ReplicatedLog;
  stateStore: QuorumStateStore;
  logger: Logger;
  now?: () => number;
}

export class NotLeaderError extends Error {
  readonly code = 'NOT_LEADER';
  constructor(readonly leaderId: number, readonly epoch: number) {
    super(`this node is not the metadata quorum leader (leader ${leaderId}, epoch ${epoch})`);
  }
}

const READ_CHUNK = 1 << 20;

export class RaftClient {
  private readonly opts: RaftClientOptions;
  private readonly listeners: RaftListener[] = [];
  private epoch = 0;
  private leaderId = -1;
  private highWatermark = 0n;
  private appendChain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(opts: RaftClientOptions) {
    this.opts = opts;
  }

  get nodeId(): number {
    return this.opts.nodeId;
  }

  get voters(): readonly number[] {
    return this.opts.voters;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  get currentLeader(): number {
    return this.leaderId;
  }

  get isLeader(): boolean {
    return this.leaderId === this.opts.nodeId;
  }

  get hw(): bigint {
    return this.highWatermark;
  }

  /** Offset the next appended record will get. */
  logEndOffset(): bigint {
    return this.opts.log.endOffset();
  }

  register(listener: RaftListener): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    const { voters, nodeId, log, stateStore, logger } = this.opts;
    if (voters.length !== 1 || voters[0] !== nodeId) {
      throw new Error(`controller.quorum.voters ${voters.join(',')}: only a single-voter quorum of this node (${nodeId}) is served`);
    }
    const state = await stateStore.read();
    // Never reuse an epoch: the log may hold batches of epochs the state file has not seen.
    const epoch = Math.max(state.epoch, log.lastEpoch()) + 1;
    await stateStore.write({ epoch, leaderId: nodeId, votedId: nodeId });
    this.epoch = epoch;
    this.leaderId = nodeId;
    const lcm = new Writer(32);
    encodeLeaderChangeMessage(lcm, 0, { version: 0, leaderId: nodeId, voters: [{ voterId: nodeId }], grantingVoters: [{ voterId: nodeId }] });
    const control = encodeRecordBatch({
      isControl: true,
      baseTimestamp: BigInt(this.now()),
      records: [{ offsetDelta: 0, timestampDelta: 0, key: encodeControlRecordKey(ControlRecordType.LeaderChange), value: lcm.toBuffer() }],
    });
    const info = await log.appendAsLeader(control, epoch);
    await log.flush();
    logger.info({ epoch, leaderId: nodeId, offset: String(info.baseOffset) }, 'became metadata quorum leader');
    for (const l of this.listeners) l.handleLeaderChange?.(nodeId, epoch);
    // Everything up to and including the leader change is now committed: deliver it.
    await this.deliverUpTo(info.lastOffset + 1n);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Reads committed batches from the log between the current high watermark and `end`. */
  private async deliverUpTo(end: bigint): Promise<void> {
    let offset = this.highWatermark;
    while (offset < end) {
      const chunk = await this.opts.log.read(offset, READ_CHUNK);
      if (chunk.length === 0) break;
      let advanced = false;
      for (const e of iterateBatches(chunk)) {
        const batch = decodeRecordBatch(chunk, e.position);
        const h = batch.header;
        const last = h.baseOffset + BigInt(h.lastOffsetDelta);
        if (last < offset) continue;
        if (h.baseOffset >= end) break;
        if (!h.isControl) {
          const records: CommittedRecord[] = [];
          for (const r of batch.records) {
            const o = h.baseOffset + BigInt(r.offsetDelta);
            if (o >= offset && r.value) records.push({ offset: o, value: Buffer.from(r.value) });
          }
          const committed = { baseOffset: h.baseOffset, lastOffset: last, epoch: h.partitionLeaderEpoch, records };
          for (const l of this.listeners) l.handleCommit(committed);
        }
        offset = last + 1n;
        advanced = true;
      }
      if (!advanced) break;
    }
    this.highWatermark = end;
  }

  /**
   * Appends metadata record values as one batch in the current epoch; resolves with the offset
   * of the last one once committed (and delivered to listeners). Appends are applied in order.
   */
  append(values: readonly Buffer[]): Promise<bigint> {
    if (!this.isLeader || this.closed) return Promise.reject(new NotLeaderError(this.leaderId, this.epoch));
    const run = async (): Promise<bigint> => {
      const now = BigInt(this.now());
      const batch = encodeRecordBatch({
        baseTimestamp: now,
        records: values.map((value, i) => ({ offsetDelta: i, timestampDelta: 0, key: null, value })),
      });
      const info = await this.opts.log.appendAsLeader(batch, this.epoch);
      await this.opts.log.flush();
      await this.deliverUpTo(info.lastOffset + 1n);
      return info.lastOffset;
    };
    const p = this.appendChain.then(run, run);
    this.appendChain = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.appendChain;
  }
}
