// The log a coordinator runtime writes its records to: one partition of an internal topic per
// shard. A write is two steps, as a leader's append is: `append` puts the records in the local
// log (failing means they are not there, and the runtime undoes their state), `awaitCommit`
// waits until the in-sync replicas have them (the high watermark passed `endOffset`).
// `read` walks a partition from its start to the end it had when called, in chunks, for loading;
// transaction markers (control batches) come through as `control` entries so a coordinator can
// replay transactional records as Kafka does.
// `MemoryPartitionLog` is the in-memory double for tests: appends can be made to fail, commits
// held back and released, and chunks read one at a time.
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';

export interface CoordinatorRecord {
  key: Buffer;
  /** null: a tombstone. */
  value: Buffer | null;
}

/** What loading a partition yields: plain records, or the producer's marks around them. */
export type LoadedRecord =
  | ({ kind: 'record'; offset: number; producerId: bigint; transactional: boolean } & CoordinatorRecord)
  | { kind: 'control'; offset: number; producerId: bigint; commit: boolean };

/** The producer a transactional write belongs to (TxnOffsetCommit writes for the producer). */
export interface TransactionalProducer {
  producerId: bigint;
  producerEpoch: number;
}

export interface CoordinatorPartitionLog {
  /**
   * Appends as leader; resolves with the offset after the last record once they are in the local
   * log. With `producer`, the records go as one transactional batch of that producer.
   */
  append(partition: number, records: readonly CoordinatorRecord[], producer?: TransactionalProducer): Promise<number>;
  /** Resolves once `endOffset` is committed; rejects (a KafkaError) when it cannot be. */
  awaitCommit(partition: number, endOffset: number): Promise<void>;
  /** The partition's records in log order, from its start to its end at the call. */
  read(partition: number): AsyncIterable<readonly LoadedRecord[]>;
}

interface HeldCommit {
  partition: number;
  endOffset: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class MemoryPartitionLog implements CoordinatorPartitionLog {
  readonly partitions = new Map<number, LoadedRecord[]>();
  /** When set, appends fail with this error code and the records are refused. */
  failAppendsWith: number | null = null;
  /** When set, commits fail with this error code (the records stay in the log). */
  failCommitsWith: number | null = null;
  /** While on, commits wait for `releaseCommits()`. */
  holdCommits = false;
  private held: HeldCommit[] = [];
  /** Called before each chunk of a read is yielded (tests pause or fail a load there). */
  beforeChunk: ((partition: number) => Promise<void> | void) | null = null;

  private list(partition: number): LoadedRecord[] {
    let l = this.partitions.get(partition);
    if (!l) this.partitions.set(partition, (l = []));
    return l;
  }

  endOffset(partition: number): number {
    return this.list(partition).length;
  }

  append(partition: number, records: readonly CoordinatorRecord[], producer?: TransactionalProducer): Promise<number> {
    if (this.failAppendsWith !== null) return Promise.reject(new KafkaError(this.failAppendsWith as ErrorCode, 'append refused'));
    const l = this.list(partition);
    const producerId = producer?.producerId ?? -1n;
    for (const r of records) l.push({ kind: 'record', offset: l.length, producerId, transactional: producer !== undefined, key: r.key, value: r.value });
    return Promise.resolve(l.length);
  }

  /** Appends a transactional record or a marker, as a producer or WriteTxnMarkers would. */
  appendLoaded(partition: number, entry: LoadedRecord extends infer E ? (E extends LoadedRecord ? Omit<E, 'offset'> : never) : never): void {
    const l = this.list(partition);
    l.push({ ...entry, offset: l.length } as LoadedRecord);
  }

  awaitCommit(partition: number, endOffset: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const c = { partition, endOffset, resolve, reject };
      if (this.holdCommits) this.held.push(c);
      else this.settle(c);
    });
  }

  private settle(c: HeldCommit): void {
    if (this.failCommitsWith !== null) c.reject(new KafkaError(this.failCommitsWith as ErrorCode, 'commit failed'));
    else c.resolve();
  }

  /** Settles held commits (all, or those of one partition). */
  releaseCommits(partition?: number): void {
    const keep: HeldCommit[] = [];
    for (const c of this.held) {
      if (partition === undefined || c.partition === partition) this.settle(c);
      else keep.push(c);
    }
    this.held = keep;
  }

  get heldCommits(): number {
    return this.held.length;
  }

  async *read(partition: number): AsyncIterable<readonly LoadedRecord[]> {
    const l = [...this.list(partition)];
    for (let i = 0; i < l.length; i += 2) {
      if (this.beforeChunk) await this.beforeChunk(partition);
      yield l.slice(i, i + 2);
    }
  }
}

/** How a coordinator write failed: `errorCode` is what the runtime answers, `appendErrorCode` the log's own error. */
export class CoordinatorWriteError extends KafkaError {
  readonly appendErrorCode: number;

  constructor(appendErrorCode: number, message: string, cause?: unknown) {
    super(coordinatorWriteError(appendErrorCode) as ErrorCode, message, { cause });
    this.appendErrorCode = appendErrorCode;
  }
}

/** Kafka's mapping of a coordinator write's failure to what the request is answered with. */
export function coordinatorWriteError(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}
