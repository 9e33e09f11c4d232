// What must hold after every event of a simulation run, whatever the faults:
// - at most one leader per epoch over the whole run;
// - each node's epoch never goes back, across its restarts too (it is persisted);
// - each node life's high watermark never goes back and never passes its log end;
// - committed data never changes: every delivery of an offset, by any node in any life, carries
//   the value first seen there, each life delivers in increasing offsets, and each node's log
//   below its high watermark is byte for byte the same batches (epochs included) as every other's;
// - an acknowledged append is committed at the offset it was acknowledged with;
// - a loaded snapshot holds exactly the committed values below its end offset, and delivery
//   continues after it.
// A violation throws an InvariantError naming it.
import type { MemoryReplicatedLog } from '../replicated-log.ts';
import type { RaftClient } from '../raft-client.ts';
import { readBatchHeader } from '../../../protocol/records/batch-header.ts';
import { iterateBatches } from '../../../protocol/records/record-batch.ts';

export class InvariantError extends Error {
  readonly code = 'INVARIANT';
}

/** What the checker keeps of one life of one node. */
export interface LifeRecord {
  nodeId: number;
  lastHw: bigint;
  lastDelivered: bigint;
  delivered: number;
  /** Log prefix already compared with the canonical batches. */
  checkedTo: bigint;
}

export class InvariantChecker {
  private readonly leaders = new Map<number, number>();
  private readonly epochs = new Map<number, number>();
  /** Every committed data record ever delivered: offset -> value. */
  readonly committed = new Map<bigint, string>();
  /** Every committed batch ever compared: base offset -> bytes. */
  private readonly batches = new Map<bigint, Buffer>();
  readonly acked = new Map<bigint, string>();

  newLife(nodeId: number): LifeRecord {
    return { nodeId, lastHw: 0n, lastDelivered: -1n, delivered: 0, checkedTo: 0n };
  }

  onDelivered(life: LifeRecord, offset: bigint, value: string): void {
    if (offset <= life.lastDelivered) fail(`node ${life.nodeId} delivered offset ${offset} after ${life.lastDelivered}`);
    life.lastDelivered = offset;
    life.delivered++;
    const seen = this.committed.get(offset);
    if (seen === undefined) this.committed.set(offset, value);
    else if (seen !== value) fail(`node ${life.nodeId} delivered ${value} at offset ${offset}, where ${seen} was committed`);
  }

  /** A life loaded a snapshot whose state is every committed value below `endOffset`. */
  onSnapshotLoaded(life: LifeRecord, endOffset: bigint, state: ReadonlyMap<bigint, string>): void {
    if (endOffset - 1n < life.lastDelivered) fail(`node ${life.nodeId} loaded a snapshot ending at ${endOffset} after delivering ${life.lastDelivered}`);
    for (const [offset, value] of state) {
      if (offset >= endOffset) fail(`node ${life.nodeId} snapshot ending at ${endOffset} holds offset ${offset}`);
      const seen = this.committed.get(offset);
      if (seen === undefined) this.committed.set(offset, value);
      else if (seen !== value) fail(`node ${life.nodeId} snapshot holds ${value} at ${offset}, where ${seen} was committed`);
    }
    for (const offset of this.committed.keys()) {
      if (offset < endOffset && !state.has(offset)) fail(`node ${life.nodeId} snapshot ending at ${endOffset} lacks committed offset ${offset}`);
    }
    life.lastDelivered = endOffset - 1n;
    life.delivered = state.size;
  }

  onAcked(offset: bigint, value: string): void {
    const seen = this.committed.get(offset);
    if (seen !== value) fail(`append of ${value} acknowledged at ${offset}, but ${seen ?? 'nothing'} is committed there`);
    this.acked.set(offset, value);
  }

  checkNode(life: LifeRecord, client: RaftClient, log: MemoryReplicatedLog): void {
    const id = life.nodeId;
    const epoch = client.currentEpoch;
    const last = this.epochs.get(id) ?? 0;
    if (epoch < last) fail(`node ${id} went back from epoch ${last} to ${epoch}`);
    this.epochs.set(id, epoch);
    if (client.isLeader) {
      const other = this.leaders.get(epoch);
      if (other !== undefined && other !== id) fail(`two leaders in epoch ${epoch}: ${other} and ${id}`);
      this.leaders.set(epoch, id);
    }
    const hw = client.hw;
    if (hw < life.lastHw) fail(`node ${id} high watermark went back from ${life.lastHw} to ${hw}`);
    if (hw > log.endOffset()) fail(`node ${id} high watermark ${hw} is past its log end ${log.endOffset()}`);
    life.lastHw = hw;
  }

  /** Compares the node's committed log prefix not yet compared with the canonical batches. */
  async checkLog(life: LifeRecord, client: RaftClient, log: MemoryReplicatedLog): Promise<void> {
    const hw = client.hw;
    // Below the log start only snapshots remain; they are checked when loaded.
    if (life.checkedTo < log.startOffset()) life.checkedTo = log.startOffset() < hw ? log.startOffset() : hw;
    if (hw <= life.checkedTo) return;
    const buf = await log.read(life.checkedTo, Number.MAX_SAFE_INTEGER);
    for (const e of iterateBatches(buf)) {
      const h = readBatchHeader(buf, e.position);
      const lastOffset = h.baseOffset + BigInt(h.lastOffsetDelta);
      if (lastOffset >= hw) break;
      if (h.baseOffset !== life.checkedTo) fail(`node ${life.nodeId} log has a batch at ${h.baseOffset} where ${life.checkedTo} was expected`);
      const bytes = buf.subarray(e.position, e.position + e.size);
      const canonical = this.batches.get(h.baseOffset);
      if (canonical === undefined) this.batches.set(h.baseOffset, Buffer.from(bytes));
      else if (!canonical.equals(bytes)) fail(`node ${life.nodeId} committed batch at ${h.baseOffset} differs from the one committed before (epoch ${h.partitionLeaderEpoch})`);
      life.checkedTo = lastOffset + 1n;
    }
  }

  get leaderCount(): number {
    return this.leaders.size;
  }
}

function fail(message: string): never {
  throw new InvariantError(message);
}
