// Small runtime pieces shared by the generated codecs: tagged-field sections and the
// "is this the default" test that decides whether a tagged field is written at all.
import { DecodeError } from './decode-error.ts';
import type { Reader, UnknownTaggedField } from './reader.ts';
import { Writer } from './writer.ts';

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/** Reads one raw tagged field's size and body; the caller decodes known tags from the returned reader bounds. */
export function readTaggedFieldBody(r: Reader): { start: number; end: number } {
  const size = r.readUVarint();
  if (size > r.remaining) {
    throw new DecodeError('INVALID_LENGTH', `tagged field size ${size} exceeds the ${r.remaining} bytes left`, r.pos);
  }
  const start = r.pos;
  r.pos += size;
  return { start, end: start + size };
}

/** A section with no known tags: keep every entry as unknown. */
export function readUnknownTaggedFields(r: Reader): UnknownTaggedField[] | undefined {
  const n = r.readUVarint();
  if (n === 0) return undefined;
  if (n > r.remaining) throw new DecodeError('INVALID_LENGTH', `tagged field count ${n} exceeds the ${r.remaining} bytes left`, r.pos);
  const out: UnknownTaggedField[] = [];
  let last = -1;
  for (let i = 0; i < n; i++) {
    const tag = r.readUVarint();
    if (tag <= last) throw new DecodeError('INVALID_LENGTH', `tagged fields out of order (${tag} after ${last})`, r.pos);
    last = tag;
    const { start, end } = readTaggedFieldBody(r);
    out.push({ tag, data: r.buf.subarray(start, end) });
  }
  return out;
}

export function writeUnknownTaggedFields(w: Writer, unknown: UnknownTaggedField[] | undefined): void {
  if (unknown === undefined || unknown.length === 0) {
    w.writeUVarint(0);
    return;
  }
  writeTaggedSection(w, unknown);
}

/** Writes known (already encoded) and unknown tagged fields in ascending tag order. */
export function writeTaggedSection(w: Writer, entries: UnknownTaggedField[]): void {
  entries.sort((a, b) => a.tag - b.tag);
  w.writeUVarint(entries.length);
  for (const e of entries) {
    w.writeUVarint(e.tag);
    w.writeUVarint(e.data.length);
    w.writeRaw(e.data);
  }
}

/** Encodes one tagged field's value on its own, to learn its size. */
export function encodeTagged(encode: (w: Writer) => void): Buffer {
  const w = new Writer(32);
  encode(w);
  return w.toBuffer();
}

/** Structural equality with a default value (bigint, Buffer, arrays, plain objects). */
export function isDefaultValue(value: unknown, def: unknown): boolean {
  if (value === def) return true;
  if (value === undefined) return true;
  if (value === null || def === null || typeof value !== 'object' || typeof def !== 'object') return false;
  if (Buffer.isBuffer(value)) return Buffer.isBuffer(def) && value.equals(def);
  if (Array.isArray(value)) {
    return Array.isArray(def) && value.length === def.length && value.every((x, i) => isDefaultValue(x, def[i]));
  }
  const v = value as { [k: string]: unknown };
  const d = def as { [k: string]: unknown };
  for (const k of Object.keys(v)) {
    if (k === '_unknownTaggedFields') {
      if ((v[k] as unknown[] | undefined)?.length) return false;
      continue;
    }
    if (!isDefaultValue(v[k], d[k])) return false;
  }
  return true;
}

export function nullError(field: string, version: number): Error {
  return new TypeError(`${field} is null but is not nullable in version ${version}`);
}

export function unsupportedVersion(message: string, version: number): DecodeError {
  return new DecodeError('UNSUPPORTED_VERSION', `${message} has no version ${version}`);
}
