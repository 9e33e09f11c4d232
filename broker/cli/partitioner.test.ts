import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DefaultPartitioner, murmur2, partitionForKey, toPositive } from './partitioner.ts';

// kafkajs's default partitioner ports the Java client's murmur2; it serves as an independent oracle.
const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

describe('murmur2', () => {
  it('matches the values in Kafka\'s UtilsTest', () => {
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [text, expected] of cases) expect(murmur2(Buffer.from(text)), text).toBe(expected);
  });

  it('agrees with kafkajs\'s Java-compatible murmur2 on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(murmur2(bytes)).toBe(kafkajsMurmur2(Buffer.from(bytes)));
      }),
      { numRuns: 500 },
    );
  });

  it('places keys as toPositive(murmur2) % n', () => {
    const key = Buffer.from('foo');
    expect(partitionForKey(key, 3)).toBe(toPositive(murmur2(key)) % 3);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(0x7fffffff);
  });
});

describe('DefaultPartitioner', () => {
  it('sends null keys to one partition until batch.size bytes, then moves on', () => {
    let r = 0;
    const values = [0.1, 0.1, 0.9];
    const p = new DefaultPartitioner({ batchSize: 100, random: () => values[r++ % values.length]! });
    const seen = Array.from({ length: 6 }, () => p.partition(null, 40, 4));
    // 40 + 40 + 40 reaches 100 after the third record; the fourth goes elsewhere.
    expect(seen.slice(0, 3)).toEqual([0, 0, 0]);
    expect(seen[3]).not.toBe(0);
    expect(new Set(seen.slice(3)).size).toBe(1);
  });

  it('keeps keyed records on the key\'s partition', () => {
    const p = new DefaultPartitioner({ batchSize: 10 });
    const key = Buffer.from('user-42');
    const first = p.partition(key, 1000, 7);
    for (let i = 0; i < 5; i++) expect(p.partition(key, 1000, 7)).toBe(first);
  });
});
