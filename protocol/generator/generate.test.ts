// The committed codecs must be exactly what the generator makes from Kafka's schemas.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from './generate.ts';
import { DEFAULT_OUTPUT_DIR, DEFAULT_SCHEMA_DIR } from './main.ts';
import { parseVersions, versionCondition } from './versions.ts';
import { stripComments } from './schema.ts';

const present = existsSync(DEFAULT_SCHEMA_DIR);
if (!present) console.warn(`SKIPPED: generated-code freshness check needs Kafka's schemas at ${DEFAULT_SCHEMA_DIR}`);

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe.skipIf(!present)('generated code', () => {
  it('is what the generator makes from the schemas (run `npm run generate` after changing it)', () => {
    const fresh = generate(DEFAULT_SCHEMA_DIR);
    expect(listFiles(DEFAULT_OUTPUT_DIR)).toEqual([...fresh.keys()].sort());
    for (const [rel, text] of fresh) {
      expect(readFileSync(join(DEFAULT_OUTPUT_DIR, rel), 'utf8'), rel).toBe(text);
    }
  });

  it('covers all 88 APIs, request and response', () => {
    const fresh = generate(DEFAULT_SCHEMA_DIR);
    const table = fresh.get('api-table.ts')!;
    for (let k = 0; k <= 87; k++) expect(table).toMatch(new RegExp(`^  ${k}: \\{$`, 'm'));
  });
});

describe('schema helpers', () => {
  it('parses version ranges', () => {
    expect(parseVersions('2+')).toEqual({ min: 2, max: 0x7fff });
    expect(parseVersions('1-4')).toEqual({ min: 1, max: 4 });
    expect(parseVersions('3')).toEqual({ min: 3, max: 3 });
    expect(parseVersions('none').min).toBeGreaterThan(parseVersions('none').max);
    expect(() => parseVersions('x')).toThrow();
  });

  it('emits the narrowest version condition', () => {
    const all = { min: 0, max: 9 };
    expect(versionCondition({ min: 0, max: 0x7fff }, all)).toBeNull();
    expect(versionCondition({ min: 3, max: 0x7fff }, all)).toBe('v >= 3');
    expect(versionCondition({ min: 2, max: 4 }, all)).toBe('v >= 2 && v <= 4');
    expect(versionCondition({ min: 12, max: 0x7fff }, all)).toBe('false');
  });

  it('strips line comments but not slashes inside strings', () => {
    expect(JSON.parse(stripComments('// c\n{ "a": "x//y" } // t\n'))).toEqual({ a: 'x//y' });
  });
});
