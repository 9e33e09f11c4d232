// Where the group coordinator keeps its records: one `__consumer_offsets` partition per group
// shard. The coordinator appends as leader (resolving once the records are durable as acks=-1
// requires) and, on becoming leader, reads a partition from its start to its current end.
// `MemoryCoordinatorLog` keeps partitions in memory for tests; it can be made to fail appends.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';

export interface CoordinatorRecord {
  key: Buffer;
  /** null: a tombstone. */
  value: Buffer | null;
  /** Set when read from a transactional batch: the producer whose transaction holds the record. */
  producerId?: bigint;
  /** Set for a transaction marker read from the log (key and value are then empty): true = COMMIT. */
  marker?: boolean;
  /** The marker's offset in the partition. */
  offset?: number;
}

export interface ProducerIdAndEpoch {
  producerId: bigint;
  producerEpoch: number;
}

export interface CoordinatorLog {
  append(partition: number, records: readonly CoordinatorRecord[]): Promise<void>;
  /** Appends the records as one transactional batch of `producer` (TxnOffsetCommit). */
  appendTransactional(partition: number, records: readonly CoordinatorRecord[], producer: ProducerIdAndEpoch): Promise<void>;
  /** The partition's records in log order, in chunks, from its start to its end at the call. */
  read(partition: number): AsyncIterable<readonly CoordinatorRecord[]>;
}

export class MemoryCoordinatorLog implements CoordinatorLog {
  readonly partitions = new Map<number, CoordinatorRecord[]>();
  /** When set, appends fail with this error code (after the records are refused). */
  failWith: number | null = null;
  /** Appends not yet resolved when `holdAppends` is on; `release()` resolves them. */
  private held: (() => void)[] = [];
  holdAppends = false;

  appendTransactional(partition: number, records: readonly CoordinatorRecord[], producer: ProducerIdAndEpoch): Promise<void> {
    return this.append(partition, records.map((r) => ({ ...r, producerId: producer.producerId })));
  }

  /** Writes a transaction marker, as WriteTxnMarkers would. */
  appendMarker(partition: number, producerId: bigint, commit: boolean): void {
    const list = this.partitions.get(partition) ?? [];
    list.push({ key: Buffer.alloc(0), value: null, producerId, marker: commit, offset: list.length });
    this.partitions.set(partition, list);
  }

  append(partition: number, records: readonly CoordinatorRecord[]): Promise<void> {
    if (this.failWith !== null) return Promise.reject(new KafkaError(this.failWith as ErrorCode));
    const write = (): void => {
      const list = this.partitions.get(partition) ?? [];
      list.push(...records);
      this.partitions.set(partition, list);
    };
    if (this.holdAppends) {
      return new Promise((resolve) => this.held.push(() => (write(), resolve())));
    }
    write();
    return Promise.resolve();
  }

  release(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) h();
  }

  async *read(partition: number): AsyncIterable<readonly CoordinatorRecord[]> {
    const list = [...(this.partitions.get(partition) ?? [])];
    for (let i = 0; i < list.length; i += 2) yield list.slice(i, i + 2);
  }

  all(): CoordinatorRecord[] {
    return [...this.partitions.values()].flat();
  }
}

/** Kafka's mapping of append failures to what a coordinator answers for an offset commit. */
export function commitAppendError(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return code;
  }
}

/** The same for a group metadata write (SyncGroup, an empty group's new generation). */
export function groupAppendError(code: number): number {
  switch (code) {
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return commitAppendError(code);
  }
}
