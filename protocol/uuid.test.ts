import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomUuid, uuidToBytes, uuidToString } from './uuid.ts';

describe('uuid text', () => {
  it('is the URL-safe base64 of the 16 bytes, whatever ids came before (cached or not)', () => {
    // Few distinct ids drawn many times, so cache hits and slot collisions both occur.
    const id = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(fc.array(id, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { minLength: 1, maxLength: 200 }), fc.nat({ max: 7 }), (ids, picks, pad) => {
        for (const p of picks) {
          const raw = ids[p % ids.length]!;
          const framed = Buffer.concat([Buffer.alloc(pad), raw, Buffer.alloc(3)]);
          expect(uuidToString(framed, pad)).toBe(raw.toString('base64url'));
        }
      }),
    );
  });

  it('round-trips through bytes', () => {
    for (let i = 0; i < 100; i++) {
      const s = randomUuid();
      expect(uuidToString(uuidToBytes(s))).toBe(s);
    }
    expect(() => uuidToBytes('short')).toThrow(TypeError);
  });
});
