// fast-check arbitraries that build random, valid messages of any schema at any version:
// the oracle of the codec property tests. Only fields present in that version are generated.
import fc from 'fast-check';
import { camel, collectStructs, type StructInfo } from './emit-message.ts';
import type { FieldSpec, MessageSpec } from './schema.ts';
import { intersect, isEmpty } from './versions.ts';

type Value = unknown;

function inVersion(range: { min: number; max: number }, v: number): boolean {
  return !isEmpty(range) && range.min <= v && v <= range.max;
}

const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const uuid = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'));
const bytes = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));

function primitive(t: string): fc.Arbitrary<Value> {
  switch (t) {
    case 'int8':
      return int(-128, 127);
    case 'int16':
      return int(-32768, 32767);
    case 'uint16':
      return int(0, 65535);
    case 'int32':
      return fc.integer();
    case 'int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64':
      return fc.double({ noNaN: true });
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ maxLength: 12, unit: 'grapheme' });
    case 'uuid':
      return uuid;
    case 'bytes':
    case 'records':
      return bytes;
    default:
      throw new Error(`not a primitive: ${t}`);
  }
}

export function messageArbitrary(msg: MessageSpec, version: number): fc.Arbitrary<Value> {
  const structs = collectStructs(msg);
  const memo = new Map<string, fc.Arbitrary<Value>>();
  const structArb = (info: StructInfo, depth: number): fc.Arbitrary<Value> => {
    const key = `${info.spec.name}/${depth}`;
    let a = memo.get(key);
    if (!a) {
      a = record(info.spec.fields, depth);
      memo.set(key, a);
    }
    return a;
  };
  const fieldArb = (f: FieldSpec, depth: number): fc.Arbitrary<Value> => {
    const elem = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
    const info = structs.get(elem);
    const one = info ? structArb(info, depth + 1) : primitive(elem);
    let arb: fc.Arbitrary<Value> = f.type.startsWith('[]') ? fc.array(one, { maxLength: depth > 2 ? 1 : 3 }) : one;
    if (inVersion(intersect(f.nullableVersions, f.versions), version)) arb = fc.option(arb, { nil: null, freq: 4 });
    return arb;
  };
  const record = (fields: FieldSpec[], depth: number): fc.Arbitrary<Value> => {
    const model: { [k: string]: fc.Arbitrary<Value> } = {};
    for (const f of fields) if (inVersion(f.versions, version)) model[camel(f.name)] = fieldArb(f, depth);
    return fc.record(model);
  };
  return record(msg.fields, 0);
}

/** True when every field of `expected` (recursively) equals the same field of `actual`. */
export function containsFields(actual: unknown, expected: unknown): boolean {
  if (expected === actual) return true;
  if (typeof expected === 'number' && typeof actual === 'number') return Object.is(expected, actual) || expected === actual;
  if (expected === null || actual === null || typeof expected !== 'object' || typeof actual !== 'object') return false;
  if (Buffer.isBuffer(expected) || expected instanceof Uint8Array) {
    return Buffer.isBuffer(actual) && Buffer.from(expected as Uint8Array).equals(actual);
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => containsFields(actual[i], e));
  }
  const a = actual as { [k: string]: unknown };
  return Object.entries(expected as { [k: string]: unknown }).every(([k, v]) => containsFields(a[k], v));
}
