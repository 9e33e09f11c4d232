// Typed failure for any malformed input met while decoding bytes from the wire or the disk.
// Decoders throw only this (never RangeError or TypeError), so a connection can tell a bad
// frame from a broker fault and answer or close as Kafka does.

export type DecodeErrorCode =
  | 'TRUNCATED' // fewer bytes than a field or length prefix says
  | 'INVALID_LENGTH' // negative (other than null) or larger than what remains
  | 'INVALID_VARINT' // more than 5 (or 10) bytes, or overflows its width
  | 'INVALID_UTF8'
  | 'INVALID_NULL' // null where the version does not allow it
  | 'UNSUPPORTED_VERSION'
  | 'CORRUPT_RECORD' // bad CRC, bad batch fields
  | 'UNSUPPORTED_COMPRESSION'
  | 'DECOMPRESSION_LIMIT' // a batch inflates past the configured bound
  | 'TRAILING_BYTES';

export class DecodeError extends Error {
  readonly code: DecodeErrorCode;
  readonly offset: number;
  constructor(code: DecodeErrorCode, message: string, offset = -1) {
    super(message);
    this.name = 'DecodeError';
    this.code = code;
    this.offset = offset;
  }
}
