import { describe, expect, it } from 'vitest';
import { findBatches, loadCorpus, mutate, sizePrefixed, splitChunks } from './mutate.ts';
import { Prng } from './prng.ts';

describe('mutations of the golden corpus', () => {
  const corpus = loadCorpus();

  it('loads every captured request frame', () => {
    expect(corpus.length).toBeGreaterThan(20);
    for (const f of corpus) expect(f.frame.readInt16BE(0)).toBe(f.apiKey);
  });

  it('finds the record batches of captured produce requests', () => {
    const produce = corpus.filter((f) => f.apiKey === 0);
    expect(produce.length).toBeGreaterThan(0);
    for (const f of produce) expect(findBatches(f.frame).length).toBeGreaterThan(0);
  });

  it('is a pure function of the frame and the seed', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const a = new Prng(seed);
      const b = new Prng(seed);
      for (const f of corpus) {
        const ma = mutate(f.frame, a);
        const mb = mutate(f.frame, b);
        expect(ma.kind).toBe(mb.kind);
        expect(Buffer.concat(ma.chunks).equals(Buffer.concat(mb.chunks))).toBe(true);
      }
    }
  });

  it('never changes the corpus frame it mutates', () => {
    const r = new Prng(11);
    for (const f of corpus) {
      const copy = Buffer.from(f.frame);
      for (let i = 0; i < 20; i++) mutate(f.frame, r);
      expect(f.frame.equals(copy)).toBe(true);
    }
  });

  it('splits bytes into chunks that join back to them', () => {
    const r = new Prng(3);
    const bytes = sizePrefixed(Buffer.from('hello world'));
    expect(bytes.readInt32BE(0)).toBe(11);
    for (let i = 0; i < 20; i++) expect(Buffer.concat(splitChunks(bytes, r)).equals(bytes)).toBe(true);
  });
});
