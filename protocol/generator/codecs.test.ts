// Property tests of every generated codec: for each schema and each of its versions, random
// messages survive encode → decode with every field intact, and decode → encode gives back the
// same bytes. Skips, saying so, when the schema folder is absent.
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reader } from '../reader.ts';
import { Writer } from '../writer.ts';
import { kebab } from './emit-message.ts';
import { DEFAULT_SCHEMA_DIR } from './main.ts';
import { loadSchemas, type MessageSpec } from './schema.ts';
import { containsFields, messageArbitrary } from './schema-arbitrary.ts';
import { dirname } from 'node:path';

const present = existsSync(DEFAULT_SCHEMA_DIR);
if (!present) console.warn(`SKIPPED: codec property tests need Kafka's schemas at ${DEFAULT_SCHEMA_DIR}`);

type Codec = { decode: (r: Reader, v: number) => unknown; encode: (w: Writer, v: number, m: unknown) => void };

async function codecOf(m: MessageSpec): Promise<Codec> {
  const mod = (await import(`../generated/${dirname(m.source)}/${kebab(m.name)}.ts`)) as Record<string, unknown>;
  return { decode: mod[`decode${m.name}`] as Codec['decode'], encode: mod[`encode${m.name}`] as Codec['encode'] };
}

function encode(c: Codec, v: number, m: unknown): Buffer {
  const w = new Writer(64);
  c.encode(w, v, m);
  return w.toBuffer();
}

describe.skipIf(!present)('generated codecs round-trip every message at every version', () => {
  const schemas = present ? loadSchemas(DEFAULT_SCHEMA_DIR) : [];
  for (const m of schemas) {
    it(`${m.source}`, async () => {
      const codec = await codecOf(m);
      for (let v = m.validVersions.min; v <= m.validVersions.max; v++) {
        fc.assert(
          fc.property(messageArbitrary(m, v), (msg) => {
            const bytes = encode(codec, v, msg);
            const r = new Reader(bytes);
            const decoded = codec.decode(r, v);
            expect(r.remaining).toBe(0);
            expect(containsFields(decoded, msg)).toBe(true);
            expect(encode(codec, v, decoded).equals(bytes)).toBe(true);
          }),
          { numRuns: 15, seed: 42 + v },
        );
      }
    });
  }
});
