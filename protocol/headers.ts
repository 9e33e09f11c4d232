// Request and response headers around a message body, shared by the broker's connections and the
// internal client. A frame on the wire is [size int32][header][body]; the header version follows
// from the API key and version (requestHeaderVersion / responseHeaderVersion), and ApiVersions
// always answers with response header v0 so a client of any age can read the error in it.
// Invariants: one Writer per frame; the size prefix is reserved at the start of the writer and
// patched once the body is written, so the frame is never copied and large byte fields (record
// batches) stay the caller's buffers, emitted as separate chunks for a vectored write.
// The header's ClientId is a classic nullable string even in the flexible header v2: the
// generated header codec encodes it so.

import { SIZE_PREFIX_LENGTH } from './framing.ts';
import { API_SPECS, requestHeaderVersion, responseHeaderVersion } from './generated/api-table.ts';
import type { ApiKey, ApiMessages } from './generated/api-table.ts';
import { decodeRequestHeader as readRequestHeader, encodeRequestHeader } from './generated/message/request-header.ts';
import type { RequestHeader } from './generated/message/request-header.ts';
import { decodeResponseHeader as readResponseHeader, encodeResponseHeader } from './generated/message/response-header.ts';
import type { ResponseHeader } from './generated/message/response-header.ts';
import { DecodeError } from './decode-error.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const MAX_FRAME_BODY = 0x7fffffff;

/** Patches the reserved size prefix of a finished frame and returns its chunks. */
function finishFrame(w: Writer): Buffer[] {
  const size = w.length - SIZE_PREFIX_LENGTH;
  if (size > MAX_FRAME_BODY) throw new RangeError(`frame of ${size} bytes does not fit an int32 size`);
  const chunks = w.chunksOut();
  // The prefix was reserved first, so it opens the first chunk whatever was flushed after it.
  chunks[0]!.writeInt32BE(size, 0);
  return chunks;
}

/**
 * Encodes a whole request frame: size prefix, request header of the version the API and version
 * call for, and the body. Returns chunks for a vectored write; large byte fields are not copied.
 */
export function encodeRequestFrame<K extends ApiKey>(
  apiKey: K,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: ApiMessages[K]['request'],
): Buffer[] {
  const w = new Writer(256);
  w.reserveInt32();
  const header: RequestHeader = { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId };
  encodeRequestHeader(w, requestHeaderVersion(apiKey, version), header);
  API_SPECS[apiKey].encodeRequest(w, version, body);
  return finishFrame(w);
}

export interface DecodedRequestHeader {
  header: RequestHeader;
  headerVersion: number;
  /** Positioned at the first byte of the body, bounded by the frame. */
  reader: Reader;
}

/**
 * Decodes the header of a request frame (without its size prefix). The header version is derived
 * from the API key and version read from the frame, as Kafka does, so a request of an unknown
 * version still yields its header (needed to answer ApiVersions with UNSUPPORTED_VERSION).
 * Throws DecodeError on a malformed header.
 */
export function decodeRequestHeader(frame: Buffer): DecodedRequestHeader {
  if (frame.length < 4) {
    throw new DecodeError('TRUNCATED', `request of ${frame.length} bytes has no room for a header`, 0);
  }
  const headerVersion = requestHeaderVersion(frame.readInt16BE(0), frame.readInt16BE(2));
  const reader = new Reader(frame);
  const header = readRequestHeader(reader, headerVersion);
  return { header, headerVersion, reader };
}

/**
 * Encodes a whole response frame: size prefix, response header of the right version and the body
 * written by `encodeBody` into the same writer (so a handler can stream large fields into it).
 */
export function encodeResponseFrame(
  apiKey: number,
  version: number,
  correlationId: number,
  encodeBody: (w: Writer) => void,
): Buffer[] {
  const w = new Writer(256);
  w.reserveInt32();
  const header: ResponseHeader = { correlationId };
  encodeResponseHeader(w, responseHeaderVersion(apiKey, version), header);
  encodeBody(w);
  return finishFrame(w);
}

/** encodeResponseFrame with the body encoded from a decoded response message. */
export function encodeResponseMessageFrame<K extends ApiKey>(
  apiKey: K,
  version: number,
  correlationId: number,
  body: ApiMessages[K]['response'],
): Buffer[] {
  const spec = API_SPECS[apiKey];
  return encodeResponseFrame(apiKey, version, correlationId, (w) => spec.encodeResponse(w, version, body));
}

/** The correlation id that opens every response header version: enough to find the request. */
export function peekResponseCorrelationId(frame: Buffer): number {
  if (frame.length < 4) {
    throw new DecodeError('TRUNCATED', `response of ${frame.length} bytes has no room for a correlation id`, 0);
  }
  return frame.readInt32BE(0);
}

export interface DecodedResponseHeader {
  header: ResponseHeader;
  headerVersion: number;
  /** Positioned at the first byte of the body, bounded by the frame. */
  reader: Reader;
}

/**
 * Decodes the header of a response frame (without its size prefix) to the request it answers:
 * the header version depends on that request's API key and version, which the frame does not say.
 */
export function decodeResponseHeader(frame: Buffer, apiKey: number, version: number): DecodedResponseHeader {
  const headerVersion = responseHeaderVersion(apiKey, version);
  const reader = new Reader(frame);
  const header = readResponseHeader(reader, headerVersion);
  return { header, headerVersion, reader };
}
