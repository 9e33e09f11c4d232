// Emits one TypeScript module per schema: interfaces for the message and its structs, and
// decode/encode functions that branch on the version the way Kafka's own generator does.
// Field names become camelCase; int64 becomes bigint; bytes and records stay Buffer views.
import type { FieldSpec, MessageSpec, StructSpec } from './schema.ts';
import { contains, intersect, isEmpty, versionCondition, type Versions } from './versions.ts';

const PRIMITIVES = new Set(['int8', 'int16', 'uint16', 'int32', 'int64', 'float64', 'bool', 'string', 'bytes', 'records', 'uuid']);
const RESERVED = new Set(['Reader', 'Writer', 'DecodeError', 'Buffer', 'UnknownTaggedField', 'Error', 'Array', 'Object']);

export function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

export interface StructInfo {
  spec: StructSpec;
  /** Hull of the versions in which the struct can appear. */
  within: Versions;
}

function elemType(f: FieldSpec): string {
  return f.type.startsWith('[]') ? f.type.slice(2) : f.type;
}

function isArray(f: FieldSpec): boolean {
  return f.type.startsWith('[]');
}

function hull(a: Versions | undefined, b: Versions): Versions {
  if (a === undefined || isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  return { min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}

/** Collects every struct (inline or common) with the version hull it appears in. */
export function collectStructs(msg: MessageSpec): Map<string, StructInfo> {
  const structs = new Map<string, StructInfo>();
  const common = new Map(msg.commonStructs.map((s) => [s.name, s]));
  const visit = (fields: FieldSpec[], within: Versions): void => {
    for (const f of fields) {
      const t = elemType(f);
      if (PRIMITIVES.has(t)) continue;
      const range = intersect(f.versions, within);
      let info = structs.get(t);
      const spec: StructSpec | undefined = f.fields ? { name: t, versions: f.versions, fields: f.fields } : info?.spec ?? common.get(t);
      if (!spec) throw new Error(`${msg.name}: unknown type ${f.type} of field ${f.name}`);
      if (RESERVED.has(t)) throw new Error(`${msg.name}: struct name ${t} collides with a runtime name`);
      if (!info) {
        info = { spec, within: range };
        structs.set(t, info);
      } else {
        if (f.fields && info.spec !== spec && info.spec.fields !== f.fields) {
          throw new Error(`${msg.name}: struct ${t} defined twice`);
        }
        info.within = hull(info.within, range);
      }
      visit(spec.fields, range);
    }
  };
  visit(msg.fields, msg.validVersions);
  // Common structs can reference each other; revisit until the hulls settle.
  for (let i = 0; i < 4; i++) for (const s of structs.values()) visit(s.spec.fields, s.within);
  return structs;
}

class Code {
  lines: string[] = [];
  private depth = 0;
  line(s = ''): void {
    this.lines.push(s === '' ? '' : '  '.repeat(this.depth) + s);
  }
  open(s: string): void {
    this.line(s);
    this.depth++;
  }
  close(s = '}'): void {
    this.depth--;
    this.line(s);
  }
  dedent(): void {
    this.depth--;
  }
  /** `} else {` style line between two blocks. */
  mid(s: string): void {
    this.depth--;
    this.line(s);
    this.depth++;
  }
  toString(): string {
    return this.lines.join('\n');
  }
}

export class MessageEmitter {
  private readonly msg: MessageSpec;
  private readonly structs: Map<string, StructInfo>;
  private readonly flexExpr: string;

  constructor(msg: MessageSpec) {
    this.msg = msg;
    this.structs = collectStructs(msg);
    const flex = intersect(msg.flexibleVersions, msg.validVersions);
    this.flexExpr = isEmpty(flex) ? 'false' : versionCondition(flex, msg.validVersions) ?? 'true';
  }

  private nullable(f: FieldSpec): Versions {
    return intersect(f.nullableVersions, f.versions);
  }

  private tsElemType(t: string): string {
    switch (t) {
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'float64':
        return 'number';
      case 'int64':
        return 'bigint';
      case 'bool':
        return 'boolean';
      case 'string':
      case 'uuid':
        return 'string';
      case 'bytes':
      case 'records':
        return 'Buffer';
      default:
        return t;
    }
  }

  private tsType(f: FieldSpec): string {
    const e = this.tsElemType(elemType(f));
    const base = isArray(f) ? `${e.includes(' ') ? `(${e})` : e}[]` : e;
    return isEmpty(this.nullable(f)) ? base : `${base} | null`;
  }

  /** Default value expression (fresh each evaluation for objects). */
  defaultExpr(f: FieldSpec): string {
    const t = elemType(f);
    const d = f.default;
    const nullable = !isEmpty(this.nullable(f));
    if (d === 'null' || d === null) {
      if (!nullable) throw new Error(`${this.msg.name}.${f.name}: null default on a non-nullable field`);
      return 'null';
    }
    if (isArray(f)) return '[]';
    switch (t) {
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'float64': {
        if (d === undefined || d === '') return '0';
        const n = typeof d === 'number' ? d : String(d).startsWith('0x') ? parseInt(String(d), 16) : Number(d);
        if (!Number.isFinite(n)) throw new Error(`${this.msg.name}.${f.name}: bad default ${String(d)}`);
        return String(n);
      }
      case 'int64': {
        if (d === undefined || d === '') return '0n';
        const s = String(d);
        return `${s.startsWith('0x') ? BigInt(s).toString() : BigInt(s).toString()}n`;
      }
      case 'bool':
        return String(d === true || d === 'true');
      case 'string':
        return JSON.stringify(d === undefined ? '' : String(d));
      case 'uuid':
        return "'AAAAAAAAAAAAAAAAAAAAAA'";
      case 'bytes':
      case 'records':
        return 'EMPTY_BUFFER';
      default:
        return `default${t}()`;
    }
  }

  private readPrimitive(t: string, nullableCond: string | null, flex: string): string {
    const pick = (plain: string, nullable: string): string => {
      if (nullableCond === 'false' || nullableCond === undefined) return plain;
      if (nullableCond === null) return nullable;
      return `(${nullableCond} ? ${nullable} : ${plain})`;
    };
    const f = (compact: string, classic: string): string => (flex === 'true' ? compact : flex === 'false' ? classic : `(${flex} ? ${compact} : ${classic})`);
    switch (t) {
      case 'int8':
        return 'r.readInt8()';
      case 'int16':
        return 'r.readInt16()';
      case 'uint16':
        return 'r.readUInt16()';
      case 'int32':
        return 'r.readInt32()';
      case 'int64':
        return 'r.readInt64()';
      case 'float64':
        return 'r.readFloat64()';
      case 'bool':
        return 'r.readBool()';
      case 'uuid':
        return 'r.readUuid()';
      case 'string':
        return pick(f('r.readCompactString()', 'r.readString()'), f('r.readCompactNullableString()', 'r.readNullableString()'));
      case 'bytes':
      case 'records':
        return pick(f('r.readCompactBytes()', 'r.readBytes()'), f('r.readCompactNullableBytes()', 'r.readNullableBytes()'));
      default:
        throw new Error(`not a primitive: ${t}`);
    }
  }

  private writePrimitive(t: string, value: string, nullableCond: string | null, flex: string, field: string): string {
    const f = (compact: string, classic: string): string => (flex === 'true' ? compact : flex === 'false' ? classic : `(${flex} ? ${compact} : ${classic})`);
    const nn = value;
    switch (t) {
      case 'int8':
        return `w.writeInt8(${value})`;
      case 'int16':
        return `w.writeInt16(${value})`;
      case 'uint16':
        return `w.writeUInt16(${value})`;
      case 'int32':
        return `w.writeInt32(${value})`;
      case 'int64':
        return `w.writeInt64(${value})`;
      case 'float64':
        return `w.writeFloat64(${value})`;
      case 'bool':
        return `w.writeBool(${value})`;
      case 'uuid':
        return `w.writeUuid(${value})`;
      case 'string':
        if (nullableCond === 'false') return f(`w.writeCompactString(${nn})`, `w.writeString(${nn})`);
        return f(`w.writeCompactNullableString(${value})`, `w.writeNullableString(${value})`);
      case 'bytes':
      case 'records':
        if (nullableCond === 'false') return f(`w.writeCompactBytes(${nn})`, `w.writeBytes(${nn})`);
        return f(`w.writeCompactNullableBytes(${value})`, `w.writeNullableBytes(${value})`);
      default:
        throw new Error(`not a primitive: ${t}`);
    }
  }

  /** Whether field `f` is encoded compactly: a constant where the range decides it, else `flex`. */
  private flexFor(f: FieldSpec, within: Versions): string {
    const fv = intersect(f.flexibleVersions ?? this.msg.flexibleVersions, within);
    if (isEmpty(fv)) return 'false';
    const cond = versionCondition(fv, within);
    if (cond === null) return 'true';
    if (f.flexibleVersions) return cond;
    return 'flex';
  }

  /** Statements that decode field `f` into `target`. */
  private emitRead(c: Code, f: FieldSpec, within: Versions, target: string, reader = 'r'): void {
    const t = elemType(f);
    const inRange = intersect(f.versions, within);
    const nullCond = versionCondition(this.nullable(f), inRange);
    const flex = this.flexFor(f, within);
    const r = (s: string): string => (reader === 'r' ? s : s.replace(/\br\./g, `${reader}.`));
    const elemRead = (): string => (PRIMITIVES.has(t) ? r(this.readPrimitive(t, 'false', flex)) : `read${t}(${reader}, v)`);
    if (isArray(f)) {
      const len = flex === 'true' ? `${reader}.readCompactArrayLength()` : flex === 'false' ? `${reader}.readArrayLength()` : `(${flex} ? ${reader}.readCompactArrayLength() : ${reader}.readArrayLength())`;
      c.open('{');
      c.line(`const n = ${len};`);
      c.open('if (n < 0) {');
      if (nullCond === 'false') c.line(`throw new DecodeError('INVALID_NULL', '${this.msg.name}: null ${f.name} is not allowed in version ' + v, ${reader}.pos);`);
      else if (nullCond === null) c.line(`${target} = null;`);
      else c.line(`if (!(${nullCond})) throw new DecodeError('INVALID_NULL', '${this.msg.name}: null ${f.name} is not allowed in version ' + v, ${reader}.pos);`), c.line(`${target} = null;`);
      c.mid('} else {');
      c.line(`const a: ${this.tsElemType(t)}[] = new Array(n);`);
      c.line(`for (let i = 0; i < n; i++) a[i] = ${elemRead()};`);
      c.line(`${target} = a;`);
      c.close();
      c.close();
      return;
    }
    if (PRIMITIVES.has(t)) {
      c.line(`${target} = ${r(this.readPrimitive(t, nullCond, flex))};`);
      return;
    }
    // A single struct; nullable ones carry an int8 presence marker.
    if (nullCond === 'false') {
      c.line(`${target} = read${t}(${reader}, v);`);
    } else {
      const test = nullCond === null ? `${reader}.readInt8() < 0` : `(${nullCond}) && ${reader}.readInt8() < 0`;
      c.line(`${target} = ${test} ? null : read${t}(${reader}, v);`);
    }
  }

  /** Statements that encode `value` (an expression already defaulted) of field `f`. */
  private emitWrite(c: Code, f: FieldSpec, within: Versions, value: string): void {
    const t = elemType(f);
    const inRange = intersect(f.versions, within);
    const nullCond = versionCondition(this.nullable(f), inRange);
    const flex = this.flexFor(f, within);
    const name = `${this.msg.name}.${f.name}`;
    if (isArray(f)) {
      c.open('{');
      c.line(`const a = ${value};`);
      c.open('if (a === null || a === undefined) {');
      if (nullCond === 'false') c.line(`throw nullError('${name}', v);`);
      else {
        if (nullCond !== null) c.line(`if (!(${nullCond})) throw nullError('${name}', v);`);
        c.line(flex === 'true' ? 'w.writeUVarint(0);' : flex === 'false' ? 'w.writeInt32(-1);' : `if (${flex}) w.writeUVarint(0); else w.writeInt32(-1);`);
      }
      c.mid('} else {');
      c.line(flex === 'true' ? 'w.writeUVarint(a.length + 1);' : flex === 'false' ? 'w.writeInt32(a.length);' : `if (${flex}) w.writeUVarint(a.length + 1); else w.writeInt32(a.length);`);
      const elemWrite = PRIMITIVES.has(t) ? this.writePrimitive(t, 'e', 'false', flex, name) : `write${t}(w, v, e)`;
      c.line(`for (const e of a) ${elemWrite};`);
      c.close();
      c.close();
      return;
    }
    if (PRIMITIVES.has(t)) {
      c.line(`${this.writePrimitive(t, value, nullCond, flex, name)};`);
      return;
    }
    if (nullCond === 'false') {
      c.line(`write${t}(w, v, ${value} ?? default${t}());`);
    } else {
      c.open('{');
      c.line(`const s = ${value};`);
      if (nullCond !== null) c.line(`if (!(${nullCond})) write${t}(w, v, s ?? default${t}());`);
      c.line(`${nullCond !== null ? 'else ' : ''}if (s === null) w.writeInt8(-1);`);
      c.line(`else { w.writeInt8(1); write${t}(w, v, s); }`);
      c.close();
    }
  }

  private emitInterface(c: Code, name: string, fields: FieldSpec[], within: Versions, doc: string): void {
    c.line(`/** ${doc} */`);
    c.open(`export interface ${name} {`);
    for (const f of fields) {
      const inRange = intersect(f.versions, within);
      if (isEmpty(inRange)) continue;
      const tagged = !isEmpty(intersect(f.taggedVersions, inRange));
      const optional = tagged || !contains(inRange, within) || inRange.min !== within.min || inRange.max !== within.max;
      const range = f.versions.max >= 0x7fff ? `${f.versions.min}+` : `${f.versions.min}-${f.versions.max}`;
      const about = f.about.replace(/\*\//g, '* /').replace(/\s+/g, ' ').trim();
      c.line(`/** ${about ? `${about} ` : ''}(versions ${range}${tagged ? `, tag ${f.tag}` : ''}) */`);
      c.line(`${camel(f.name)}${optional ? '?' : ''}: ${this.tsType(f)};`);
    }
    c.line('/** Tagged fields this codec does not know, kept for a faithful round trip. */');
    c.line('_unknownTaggedFields?: UnknownTaggedField[];');
    c.close();
    c.line();
  }

  private emitDefault(c: Code, name: string, fields: FieldSpec[], within: Versions, exported: boolean): void {
    c.open(`${exported ? 'export ' : ''}function default${name}(): ${name} {`);
    c.open('return {');
    for (const f of fields) {
      if (isEmpty(intersect(f.versions, within))) continue;
      c.line(`${camel(f.name)}: ${this.defaultExpr(f)},`);
    }
    c.close('};');
    c.close();
    c.line();
  }

  private emitDecoder(c: Code, name: string, fields: FieldSpec[], within: Versions, signature: string): void {
    const flexRange = intersect(this.msg.flexibleVersions, within);
    const canBeFlexible = !isEmpty(flexRange);
    c.open(`${signature} {`);
    c.line(`const m = default${name}();`);
    if (this.flexExpr !== 'false' && fields.some((f) => !f.flexibleVersions)) c.line(`const flex = ${this.flexExpr};`);
    const tagged: FieldSpec[] = [];
    for (const f of fields) {
      const inRange = intersect(f.versions, within);
      if (isEmpty(inRange)) continue;
      if (!isEmpty(intersect(f.taggedVersions, inRange))) {
        tagged.push(f);
        continue;
      }
      const cond = versionCondition(inRange, within);
      if (cond === null) this.emitRead(c, f, within, `m.${camel(f.name)}`);
      else {
        c.open(`if (${cond}) {`);
        this.emitRead(c, f, inRange, `m.${camel(f.name)}`);
        c.close();
      }
    }
    if (canBeFlexible) {
      const flexCond = versionCondition(flexRange, within);
      c.open(flexCond === null ? '{' : `if (${flexCond}) {`);
      if (tagged.length === 0) {
        c.line('const unknown = readUnknownTaggedFields(r);');
        c.line('if (unknown) m._unknownTaggedFields = unknown;');
      } else {
        c.line('const count = r.readUVarint();');
        c.open('for (let i = 0; i < count; i++) {');
        c.line('const tag = r.readUVarint();');
        c.line('const body = readTaggedFieldBody(r);');
        c.line('const t = new Reader(r.buf, body.start, body.end);');
        c.open('switch (tag) {');
        for (const f of tagged) {
          const tv = intersect(f.taggedVersions, intersect(f.versions, within));
          const cond = versionCondition(tv, within);
          c.open(`case ${f.tag}:`);
          c.open(cond === null ? '{' : `if (${cond}) {`);
          this.emitRead(c, f, tv, `m.${camel(f.name)}`, 't');
          c.line('continue;');
          c.close();
          c.line('break;');
          c.dedent();
        }
        c.close();
        c.line("(m._unknownTaggedFields ??= []).push({ tag, data: r.buf.subarray(body.start, body.end) });");
        c.close();
      }
      c.close();
    }
    c.line('return m;');
    c.close();
    c.line();
  }

  private emitEncoder(c: Code, name: string, fields: FieldSpec[], within: Versions, signature: string): void {
    const flexRange = intersect(this.msg.flexibleVersions, within);
    const canBeFlexible = !isEmpty(flexRange);
    c.open(`${signature} {`);
    if (this.flexExpr !== 'false' && fields.some((f) => !f.flexibleVersions && !isEmpty(intersect(f.versions, within)))) c.line(`const flex = ${this.flexExpr};`);
    const tagged: FieldSpec[] = [];
    for (const f of fields) {
      const inRange = intersect(f.versions, within);
      if (isEmpty(inRange)) continue;
      if (!isEmpty(intersect(f.taggedVersions, inRange))) {
        tagged.push(f);
        continue;
      }
      const key = camel(f.name);
      const nullable = !isEmpty(this.nullable(f));
      const d = this.defaultExpr(f);
      const value = nullable ? `(m.${key} === undefined ? ${d} : m.${key})` : `(m.${key} ?? ${d})`;
      const cond = versionCondition(inRange, within);
      if (cond === null) this.emitWrite(c, f, within, value);
      else {
        c.open(`if (${cond}) {`);
        this.emitWrite(c, f, inRange, value);
        c.close();
      }
    }
    if (canBeFlexible) {
      const flexCond = versionCondition(flexRange, within);
      c.open(flexCond === null ? '{' : `if (${flexCond}) {`);
      if (tagged.length === 0) {
        c.line('writeUnknownTaggedFields(w, m._unknownTaggedFields);');
      } else {
        c.line('const entries: UnknownTaggedField[] = m._unknownTaggedFields ? [...m._unknownTaggedFields] : [];');
        for (const f of tagged) {
          const key = camel(f.name);
          const tv = intersect(f.taggedVersions, intersect(f.versions, within));
          const cond = versionCondition(tv, within);
          const d = this.defaultExpr(f);
          const test = `m.${key} !== undefined && !isDefaultValue(m.${key}, ${d})`;
          c.open(`if (${cond === null ? '' : `(${cond}) && `}${test}) {`);
          c.line(`const value = m.${key};`);
          c.line(`entries.push({ tag: ${f.tag}, data: encodeTagged((w) => {`);
          const inner = new Code();
          this.emitWrite(inner, f, tv, 'value');
          for (const l of inner.lines) c.line(`  ${l}`);
          c.line('}) });');
          c.close();
        }
        c.line('writeTaggedSection(w, entries);');
      }
      c.close();
    }
    c.close();
    c.line();
  }

  emit(): string {
    const msg = this.msg;
    const c = new Code();
    const within = msg.validVersions;
    c.line(`// Generated by protocol/generator from Kafka's ${msg.source}. Do not edit: run \`npm run generate\`.`);
    c.line(`// ${msg.name}: versions ${within.min}-${within.max}${msg.latestVersionUnstable ? ' (latest unstable)' : ''}, flexible ${isEmpty(msg.flexibleVersions) ? 'none' : `${msg.flexibleVersions.min}+`}.`);
    c.line('/* eslint-disable */');
    const body = new Code();
    this.emitInterface(body, msg.name, msg.fields, within, `${msg.name} (${msg.type}${msg.apiKey !== null ? `, api key ${msg.apiKey}` : ''}).`);
    for (const [name, s] of this.structs) this.emitInterface(body, name, s.spec.fields, s.within, `${name}, part of ${msg.name}.`);
    body.line(`export const ${msg.name}Versions = { min: ${within.min}, max: ${within.max}, flexibleMin: ${isEmpty(msg.flexibleVersions) ? -1 : msg.flexibleVersions.min} } as const;`);
    body.line();
    this.emitDefault(body, msg.name, msg.fields, within, true);
    for (const [name, s] of this.structs) this.emitDefault(body, name, s.spec.fields, s.within, false);
    body.open(`export function decode${msg.name}(r: Reader, v: number): ${msg.name} {`);
    body.line(`if (v < ${within.min} || v > ${within.max}) throw unsupportedVersion('${msg.name}', v);`);
    body.line(`return read${msg.name}(r, v);`);
    body.close();
    body.line();
    body.open(`export function encode${msg.name}(w: Writer, v: number, m: ${msg.name}): void {`);
    body.line(`if (v < ${within.min} || v > ${within.max}) throw unsupportedVersion('${msg.name}', v);`);
    body.line(`write${msg.name}(w, v, m);`);
    body.close();
    body.line();
    this.emitDecoder(body, msg.name, msg.fields, within, `function read${msg.name}(r: Reader, v: number): ${msg.name}`);
    this.emitEncoder(body, msg.name, msg.fields, within, `function write${msg.name}(w: Writer, v: number, m: ${msg.name}): void`);
    for (const [name, s] of this.structs) {
      this.emitDecoder(body, name, s.spec.fields, s.within, `function read${name}(r: Reader, v: number): ${name}`);
      this.emitEncoder(body, name, s.spec.fields, s.within, `function write${name}(w: Writer, v: number, m: ${name}): void`);
    }
    const text = body.toString();
    const runtime = ['EMPTY_BUFFER', 'encodeTagged', 'isDefaultValue', 'nullError', 'readTaggedFieldBody', 'readUnknownTaggedFields', 'unsupportedVersion', 'writeTaggedSection', 'writeUnknownTaggedFields'].filter((n) =>
      new RegExp(`\\b${n}\\b`).test(text),
    );
    c.line(`import { ${runtime.join(', ')} } from '../../codec-runtime.ts';`);
    if (/\bDecodeError\b/.test(text)) c.line("import { DecodeError } from '../../decode-error.ts';");
    c.line(/new Reader\(/.test(text) ? "import { Reader, type UnknownTaggedField } from '../../reader.ts';" : "import type { Reader, UnknownTaggedField } from '../../reader.ts';");
    c.line("import type { Writer } from '../../writer.ts';");
    c.line();
    return `${c.toString()}\n${text.trimEnd()}\n`;
  }
}
