// Checks the console API's query parameters and JSON bodies, turning them into the typed inputs
// of the topic, message and group modules. Anything malformed is an InputError (HTTP 400) that
// names the field; Kafka's own checks (topic names, config values, partition counts) are left to
// the handlers, so their errors read as Kafka's.
import type { ResetRequest, ResetTarget } from './console-groups.ts';
import type { BrowseRequest, ProduceInput } from './console-messages.ts';
import type { NewTopicInput } from './console-topics.ts';

export class InputError extends Error {
  readonly code = 'CONSOLE_INPUT';
}

export type Body = Record<string, unknown>;

export function object(v: unknown): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError('the body must be a JSON object');
  return v as Body;
}

export function string(b: Body, key: string): string {
  const v = b[key];
  if (typeof v !== 'string' || v === '') throw new InputError(`${key} must be a non-empty string`);
  return v;
}

function optionalText(b: Body, key: string): string | null {
  const v = b[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new InputError(`${key} must be a string or null`);
  return v;
}

export function integer(b: Body, key: string, min: number, fallback?: number): number {
  const v = b[key] ?? fallback;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw new InputError(`${key} must be an integer of at least ${min}`);
  return n;
}

export function param(url: URL, key: string): string {
  const v = url.searchParams.get(key);
  if (v === null || v === '') throw new InputError(`query parameter ${key} is required`);
  return v;
}

function intParam(url: URL, key: string, min: number): number | undefined {
  const v = url.searchParams.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new InputError(`query parameter ${key} must be an integer of at least ${min}`);
  return n;
}

function stringMap(v: unknown, key: string, allowNull: boolean): Record<string, string | null> {
  if (v === undefined) return {};
  const o = object(v);
  for (const [k, x] of Object.entries(o)) {
    if (typeof x !== 'string' && !(allowNull && x === null)) throw new InputError(`${key}.${k} must be a string${allowNull ? ' or null' : ''}`);
  }
  return o as Record<string, string | null>;
}

export function newTopic(v: unknown): NewTopicInput {
  const b = object(v);
  return {
    name: string(b, 'name'),
    // -1 asks for the broker's num.partitions and default.replication.factor, as in Kafka.
    partitions: integer(b, 'partitions', -1, -1),
    replicationFactor: integer(b, 'replicationFactor', -1, -1),
    configs: stringMap(b.configs, 'configs', false) as Record<string, string>,
  };
}

/** `{ name, set: { k: v }, delete: [k] }` or `{ name, changes: { k: v | null } }`. */
export function configChanges(b: Body): Record<string, string | null> {
  const changes = stringMap(b.changes, 'changes', true);
  const sets = stringMap(b.set, 'set', false);
  const dels = b.delete === undefined ? [] : b.delete;
  if (!Array.isArray(dels) || dels.some((d) => typeof d !== 'string')) throw new InputError('delete must be an array of config names');
  const out: Record<string, string | null> = { ...changes, ...sets };
  for (const d of dels as string[]) out[d] = null;
  if (Object.keys(out).length === 0) throw new InputError('no config to change');
  return out;
}

export function browseQuery(url: URL): BrowseRequest {
  const offset = intParam(url, 'offset', 0);
  const timestamp = intParam(url, 'timestamp', 0);
  if (offset !== undefined && timestamp !== undefined) throw new InputError('give offset or timestamp, not both');
  return { topic: param(url, 'topic'), partition: intParam(url, 'partition', 0) ?? 0, offset, timestamp, limit: intParam(url, 'limit', 1) ?? 50 };
}

export function produceInput(v: unknown): ProduceInput {
  const b = object(v);
  const headers = b.headers === undefined ? [] : b.headers;
  if (!Array.isArray(headers)) throw new InputError('headers must be an array of { key, value }');
  return {
    topic: string(b, 'topic'),
    partition: integer(b, 'partition', 0, 0),
    key: optionalText(b, 'key'),
    value: optionalText(b, 'value'),
    headers: headers.map((h, i) => {
      const o = object(h);
      if (typeof o.key !== 'string' || o.key === '') throw new InputError(`headers[${i}].key must be a non-empty string`);
      return { key: o.key, value: optionalText(o, 'value') };
    }),
  };
}

export function resetRequest(v: unknown): ResetRequest {
  const b = object(v);
  const to = string(b, 'to');
  let target: ResetTarget;
  if (to === 'earliest' || to === 'latest') target = { to };
  else if (to === 'timestamp') target = { to, timestamp: integer(b, 'timestamp', 0) };
  else if (to === 'offset') target = { to, offset: integer(b, 'offset', 0) };
  else throw new InputError('to must be earliest, latest, timestamp or offset');
  const topic = optionalText(b, 'topic');
  if (b.dryRun !== undefined && typeof b.dryRun !== 'boolean') throw new InputError('dryRun must be true or false');
  return { groupId: string(b, 'groupId'), topic: topic === null || topic === '' ? undefined : topic, target, dryRun: b.dryRun !== false };
}
