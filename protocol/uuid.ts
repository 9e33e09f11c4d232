// Kafka's 128-bit UUIDs (topic ids, directory ids) as strings in Kafka's own text form:
// URL-safe base64 without padding, 22 characters, as Uuid.toString() prints them.
import { randomBytes } from 'node:crypto';

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Kafka reserves Uuid(0, 1) as the metadata topic id. */
export const METADATA_TOPIC_UUID = 'AAAAAAAAAAAAAAAAAAAAAQ';

// Recently decoded ids and their text, in a small direct-mapped table: records repeat a few ids
// (a snapshot's or a CreateTopics' PartitionRecords carry the topic's id and its replicas'
// directory ids; a fetch names the same topics again and again), and comparing four 32-bit words
// costs far less than encoding the text again.
const SLOTS = 64;
const cachedWords = new Uint32Array(SLOTS * 4);
const cachedText: string[] = new Array<string>(SLOTS).fill('');

export function uuidToString(buf: Buffer, offset = 0): string {
  const a = buf.readUInt32BE(offset);
  const b = buf.readUInt32BE(offset + 4);
  const c = buf.readUInt32BE(offset + 8);
  const d = buf.readUInt32BE(offset + 12);
  const slot = ((a ^ b ^ c ^ d) >>> 0) % SLOTS;
  const w = slot * 4;
  const text = cachedText[slot]!;
  if (text !== '' && cachedWords[w] === a && cachedWords[w + 1] === b && cachedWords[w + 2] === c && cachedWords[w + 3] === d) return text;
  const fresh = buf.toString('base64url', offset, offset + 16);
  cachedWords[w] = a;
  cachedWords[w + 1] = b;
  cachedWords[w + 2] = c;
  cachedWords[w + 3] = d;
  cachedText[slot] = fresh;
  return fresh;
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
