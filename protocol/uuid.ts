// Kafka's 128-bit UUIDs (topic ids, directory ids) as strings in Kafka's own text form:
// URL-safe base64 without padding, 22 characters, as Uuid.toString() prints them.
import { randomBytes } from 'node:crypto';

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Kafka reserves Uuid(0, 1) as the metadata topic id. */
export const METADATA_TOPIC_UUID = 'AAAAAAAAAAAAAAAAAAAAAQ';

export function uuidToString(buf: Buffer, offset = 0): string {
  return buf.toString('base64url', offset, offset + 16);
}

export function uuidToBytes(s: string): Buffer {
  const b = Buffer.from(s, 'base64url');
  if (b.length !== 16 || uuidToString(b) !== s) throw new TypeError(`not a Kafka UUID: ${JSON.stringify(s)}`);
  return b;
}

/** A random UUID that is neither zero nor reserved, as Kafka's Uuid.randomUuid(); version 4 bits set. */
export function randomUuid(): string {
  for (;;) {
    const b = randomBytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const s = uuidToString(b);
    // Kafka also avoids ids starting with '-' because they confuse command-line parsers.
    if (s !== ZERO_UUID && s !== METADATA_TOPIC_UUID && !s.startsWith('-')) return s;
  }
}
