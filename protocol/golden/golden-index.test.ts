import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peekRequestHeader } from '../framing.ts';
import { produceCompression, type GoldenIndex } from './capture.ts';

const DIR = dirname(fileURLToPath(import.meta.url));
const SCHEMAS = resolve(DIR, '../../../shared/kafka-protocol/message');
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as GoldenIndex;
const read = (file: string) => readFileSync(join(DIR, file));

function schemaApiName(apiKey: number): string | undefined {
  for (const file of readdirSync(SCHEMAS)) {
    if (!file.endsWith('Request.json')) continue;
    const text = readFileSync(join(SCHEMAS, file), 'utf8');
    if (Number(/"apiKey":\s*(\d+)/.exec(text)?.[1]) === apiKey) return file.slice(0, -'Request.json'.length);
  }
  return undefined;
}

describe('golden frame index', () => {
  it('lists every fixture file exactly once, and only files that exist', () => {
    const listed = index.frames.map((f) => f.file);
    expect(new Set(listed).size).toBe(listed.length);
    for (const file of listed) expect(existsSync(join(DIR, file)), file).toBe(true);
    const onDisk = readdirSync(DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(DIR, d.name)).map((f) => `${d.name}/${f}`));
    expect(onDisk.sort()).toEqual([...listed].sort());
  });

  it('matches each request frame header to its listed api key, version and correlation id', () => {
    const requests = index.frames.filter((f) => f.direction === 'request');
    expect(requests.length).toBeGreaterThan(0);
    for (const f of requests) {
      const h = peekRequestHeader(read(f.file));
      expect({ file: f.file, ...h }).toEqual({
        file: f.file,
        apiKey: f.apiKey,
        apiVersion: f.apiVersion,
        correlationId: f.correlationId,
      });
    }
  });

  it('pairs each response with a listed request of the same client and correlation id', () => {
    const responses = index.frames.filter((f) => f.direction === 'response');
    expect(responses.length).toBeGreaterThan(0);
    for (const f of responses) {
      expect(read(f.file).readInt32BE(0), f.file).toBe(f.correlationId);
      const request = index.frames.find((r) => r.direction === 'request' && r.file === f.file.replace('.response.', '.request.'));
      expect(request, f.file).toBeDefined();
      expect([request!.client, request!.correlationId, request!.apiKey, request!.apiVersion]).toEqual([
        f.client,
        f.correlationId,
        f.requestApiKey,
        f.requestApiVersion,
      ]);
    }
  });

  it("names each API as Kafka 3.9's schemas do", () => {
    const names = new Map<number, string | undefined>();
    for (const f of index.frames) {
      if (!names.has(f.apiKey)) names.set(f.apiKey, schemaApiName(f.apiKey));
      expect(f.apiName, f.file).toBe(names.get(f.apiKey));
      expect(f.file.startsWith(`${f.client}/${f.apiName}-v${f.apiVersion}-`), f.file).toBe(true);
    }
  });

  it('records the codec really found in each Produce request', () => {
    for (const f of index.frames.filter((x) => x.direction === 'request' && x.apiName === 'Produce')) {
      expect(f.compression, f.file).toEqual(produceCompression(read(f.file), f.apiVersion));
    }
  });

  it.each([
    ['kafkajs', ['none', 'gzip']],
    ['kcat', ['none', 'gzip', 'snappy', 'lz4', 'zstd']],
    ['kafka-python', ['none', 'gzip', 'snappy', 'lz4', 'zstd']],
  ])('covers the core APIs and codecs of %s', (client, codecs) => {
    const frames = index.frames.filter((f) => f.client === client);
    const apis = new Set(frames.filter((f) => f.direction === 'request').map((f) => f.apiName));
    for (const api of ['ApiVersions', 'Metadata', 'Produce', 'Fetch', 'FindCoordinator', 'JoinGroup', 'SyncGroup', 'OffsetCommit']) {
      expect(apis.has(api), `${client} ${api}`).toBe(true);
    }
    const found = new Set(frames.flatMap((f) => f.compression ?? []).map((c) => c.split(' ')[0]));
    expect([...found].sort()).toEqual([...codecs].sort());
  });
});
