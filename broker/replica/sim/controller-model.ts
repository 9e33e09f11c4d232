// The controller of the replication simulation: the real partition logic of controller/ (broker
// registration, heartbeats with fencing and controlled shutdown, session expiry, AlterPartition,
// leader movement in partition-leadership.ts) over a MetadataImage, with the metadata log reduced
// to an ordered, reliable list of committed records (the quorum itself is simulated in
// controller/raft/sim). Each commit applies its records to the image at once, as the active
// controller does when they are committed; brokers learn of them through `onCommit`.
import { BrokerSessions } from '../../../controller/broker-sessions.ts';
import { alterPartition } from '../../../controller/alter-partition.ts';
import { brokerHeartbeat, fenceBroker, registerBroker, type HeartbeatInput, type HeartbeatOutcome, type RegisterBrokerInput } from '../../../controller/cluster-control.ts';
import type { ControllerResult } from '../../../controller/controller-result.ts';
import { MetadataDelta } from '../../../controller/metadata/delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from '../../../controller/metadata/image.ts';
import type { MetadataRecord } from '../../../controller/metadata/record-serde.ts';
import type { AlterPartitionRequest } from '../../../protocol/generated/message/alter-partition-request.ts';
import type { AlterPartitionResponse } from '../../../protocol/generated/message/alter-partition-response.ts';
import type { Scheduler } from '../../../protocol/scheduler.ts';

export const CONTROLLER_ID = 0;

export class ControllerModel {
  image: MetadataImage = EMPTY_IMAGE;
  private readonly sessions: BrokerSessions;
  /** Every committed record with its offset (the metadata log). */
  readonly log: { offset: bigint; record: MetadataRecord }[] = [];
  private readonly listeners: ((image: MetadataImage) => void)[] = [];

  constructor(
    private readonly clock: Scheduler,
    readonly sessionTimeoutMs: number,
    private readonly note: (line: string) => void,
  ) {
    this.sessions = new BrokerSessions(sessionTimeoutMs);
  }

  onCommit(listener: (image: MetadataImage) => void): void {
    this.listeners.push(listener);
  }

  /** Appends and applies `records` (the controller's event queue runs one at a time). */
  commit(records: readonly MetadataRecord[], why: string): void {
    if (records.length === 0) return;
    const delta = new MetadataDelta(this.image);
    let offset = this.image.offset;
    for (const r of records) {
      offset++;
      delta.replay(r, offset, 1);
      this.log.push({ offset, record: r });
    }
    this.image = delta.apply();
    this.note(`COMMIT ${why} -> offset ${offset}: ${describe(records)}`);
    for (const l of this.listeners) l(this.image);
  }

  private run<T>(decide: (image: MetadataImage) => ControllerResult<T>, why: string): T {
    const r = decide(this.image);
    this.commit(r.records, why);
    return r.response;
  }

  registerBroker(input: RegisterBrokerInput): { errorCode: number; brokerEpoch: bigint } {
    this.sessions.touch(input.brokerId, this.clock.now());
    return this.run((image) => registerBroker(image, input, image.offset + 1n), `register ${input.brokerId}`);
  }

  brokerHeartbeat(input: HeartbeatInput): HeartbeatOutcome {
    const b = this.image.brokers.get(input.brokerId);
    if (b && b.epoch === input.brokerEpoch) this.sessions.touch(input.brokerId, this.clock.now());
    return this.run((image) => brokerHeartbeat(image, input, image.offset), `heartbeat ${input.brokerId}${input.wantShutDown ? ' (shutdown)' : ''}`);
  }

  alterPartition(req: AlterPartitionRequest): AlterPartitionResponse {
    return this.run((image) => alterPartition(image, req, 3), `alter-partition from ${req.brokerId}`);
  }

  /** The session check the active controller runs periodically. */
  fenceExpired(): void {
    const unfenced = [...this.image.brokers.values()].filter((b) => !b.fenced).map((b) => b.id);
    for (const id of this.sessions.expired(unfenced, this.clock.now())) {
      this.commit(fenceBroker(this.image, id), `session of ${id} expired`);
      this.sessions.forget(id);
    }
  }
}

function describe(records: readonly MetadataRecord[]): string {
  return records
    .map((r) => {
      const d = r.data as Record<string, unknown>;
      const fields = ['brokerId', 'id', 'partitionId', 'leader', 'isr', 'fenced']
        .filter((k) => d[k] !== undefined && d[k] !== null && !(k === 'leader' && d[k] === -2))
        .map((k) => `${k}=${JSON.stringify(d[k], (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
      return `${r.type}(${fields.join(' ')})`;
    })
    .join(', ');
}
