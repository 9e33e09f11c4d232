// Loads Kafka's JSON message schemas (JSON with line comments) into typed specs.
// The schema folder is data read at generation time; nothing here is committed from it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseVersions, type Versions } from './versions.ts';

export interface FieldSpec {
  name: string;
  type: string;
  versions: Versions;
  nullableVersions: Versions;
  taggedVersions: Versions;
  tag: number | null;
  default: string | number | boolean | null | undefined;
  ignorable: boolean;
  /** A field-level override of the message's flexible versions (only RequestHeader.ClientId). */
  flexibleVersions: Versions | null;
  fields: FieldSpec[] | null;
  about: string;
}

export interface StructSpec {
  name: string;
  versions: Versions;
  fields: FieldSpec[];
}

export interface MessageSpec {
  /** Path of the schema relative to the schema folder, e.g. "message/ProduceRequest.json". */
  source: string;
  name: string;
  type: 'request' | 'response' | 'header' | 'data' | 'metadata';
  apiKey: number | null;
  validVersions: Versions;
  flexibleVersions: Versions;
  latestVersionUnstable: boolean;
  listeners: string[];
  fields: FieldSpec[];
  commonStructs: StructSpec[];
}

/** Strips whole-line and trailing `//` comments outside strings. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

function parseField(raw: Record<string, unknown>, where: string): FieldSpec {
  const name = String(raw.name);
  const versions = parseVersions(raw.versions as string | undefined);
  const tagRaw = raw.tag;
  return {
    name,
    type: String(raw.type),
    versions,
    nullableVersions: parseVersions(raw.nullableVersions as string | undefined),
    taggedVersions: parseVersions(raw.taggedVersions as string | undefined),
    tag: tagRaw === undefined ? null : Number(tagRaw),
    default: raw.default as FieldSpec['default'],
    ignorable: raw.ignorable === true,
    flexibleVersions: raw.flexibleVersions === undefined ? null : parseVersions(raw.flexibleVersions as string),
    fields: Array.isArray(raw.fields) ? (raw.fields as Record<string, unknown>[]).map((f) => parseField(f, `${where}.${name}`)) : null,
    about: typeof raw.about === 'string' ? raw.about : '',
  };
}

export function parseMessage(text: string, source: string): MessageSpec {
  const raw = JSON.parse(stripComments(text)) as Record<string, unknown>;
  const name = String(raw.name);
  return {
    source,
    name,
    type: raw.type as MessageSpec['type'],
    apiKey: typeof raw.apiKey === 'number' ? raw.apiKey : null,
    validVersions: parseVersions(raw.validVersions as string),
    flexibleVersions: parseVersions(raw.flexibleVersions as string),
    latestVersionUnstable: raw.latestVersionUnstable === true,
    listeners: Array.isArray(raw.listeners) ? (raw.listeners as string[]) : [],
    fields: ((raw.fields as Record<string, unknown>[]) ?? []).map((f) => parseField(f, name)),
    commonStructs: ((raw.commonStructs as Record<string, unknown>[]) ?? []).map((s) => ({
      name: String(s.name),
      versions: parseVersions(s.versions as string),
      fields: ((s.fields as Record<string, unknown>[]) ?? []).map((f) => parseField(f, `${name}.${String(s.name)}`)),
    })),
  };
}

/** Every schema under `dir` (recursively), sorted by path for a stable output. */
export function loadSchemas(dir: string): MessageSpec[] {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (entry.endsWith('.json')) files.push(p);
    }
  };
  walk(dir);
  return files.map((p) => parseMessage(readFileSync(p, 'utf8'), relative(dir, p)));
}
