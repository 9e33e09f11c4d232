// The records the checks send, and the comparison of what came back. Records carry an explicit
// partition (so no client's partitioner is under test), a key, a value and headers that are the
// same for every record of one partition in one batch of sends (kcat can only set headers per run).
// Offsets in a partition must come back strictly increasing and the records in send order.
import { expect } from 'vitest';

export interface SentRecord {
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
  /** Explicit CreateTime, for clients that can set it. */
  timestamp?: number;
}

export interface ReadRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp?: number;
}

/**
 * `count` records spread round-robin over `partitions`, named by `tag` so topics never mix;
 * `padding` adds that many compressible characters to each value.
 */
export function makeRecords(tag: string, count: number, partitions: number, padding = 0): SentRecord[] {
  const out: SentRecord[] = [];
  for (let i = 0; i < count; i++) {
    const partition = i % partitions;
    out.push({ partition, key: `${tag}-key-${i}`, value: `${tag}-value-${i}-${'x'.repeat(i % 7)}${'abcd'.repeat(padding / 4)}`, headers: { 'x-tag': tag, 'x-partition': String(partition) } });
  }
  return out;
}

export function byPartition<T extends { partition: number }>(records: readonly T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of records) {
    let list = m.get(r.partition);
    if (!list) m.set(r.partition, (list = []));
    list.push(r);
  }
  return m;
}

export interface CompareOptions {
  /** The client cannot send or read headers. */
  headers?: boolean;
}

/**
 * Asserts that `read` holds exactly `sent`, in send order per partition, with strictly increasing
 * offsets. `read` may be in any order across partitions.
 */
export function expectSameRecords(sent: readonly SentRecord[], read: readonly ReadRecord[], options: CompareOptions = {}): void {
  const withHeaders = options.headers ?? true;
  const got = byPartition(read);
  const want = byPartition(sent);
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [p, list] of want) {
    const records = [...(got.get(p) ?? [])].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < records.length; i++) expect(records[i]!.offset, `partition ${p} offsets`).toBeGreaterThan(records[i - 1]!.offset);
    const shape = (r: SentRecord | ReadRecord) => (withHeaders ? { key: r.key, value: r.value, headers: r.headers } : { key: r.key, value: r.value });
    expect(records.map(shape), `partition ${p}`).toEqual(list.map(shape));
  }
}
