// Typed failures raised by the storage layer. Each carries a stable `code` named after the Kafka
// error a broker answers with (CORRUPT_MESSAGE, OFFSET_OUT_OF_RANGE, ...), so a handler maps it to
// a protocol error code without parsing messages.

export type StorageErrorCode =
  | 'CORRUPT_MESSAGE' // bytes on disk fail size, magic or CRC checks
  | 'OFFSET_OUT_OF_RANGE' // fetch offset below log start or above log end
  | 'INVALID_RECORD' // an append whose framing is not a sequence of magic-2 batches
  | 'UNEXPECTED_APPEND_OFFSET' // follower append whose offsets go backwards
  | 'RECORD_BATCH_TOO_LARGE' // a batch larger than segment.bytes
  | 'KAFKA_STORAGE_ERROR' // an I/O failure: the log is offline until restart
  | 'LOG_CLOSED'
  | 'CLEANING_ABORTED'; // the log changed (truncation, deletion) under a compaction

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}

/** A batch in a sealed part of the log is damaged; it is never served as data. */
export class CorruptRecordError extends StorageError {
  readonly file: string;
  readonly position: number;
  constructor(file: string, position: number, reason: string) {
    super('CORRUPT_MESSAGE', `corrupt record batch in ${file} at position ${position}: ${reason}`);
    this.name = 'CorruptRecordError';
    this.file = file;
    this.position = position;
  }
}

export class OffsetOutOfRangeError extends StorageError {
  constructor(offset: number, logStartOffset: number, logEndOffset: number) {
    super('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside [${logStartOffset}, ${logEndOffset}]`);
    this.name = 'OffsetOutOfRangeError';
  }
}
