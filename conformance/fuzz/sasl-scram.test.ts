// The SASL lane's own SCRAM messages: its proof is RFC 7677's, so its correct messages are
// correct; every client-final it marks as one no broker may accept is refused by Samsa's SCRAM
// server; and the messages are pure functions of the seed.
import { describe, expect, it } from 'vitest';
import { ScramServer, scramCredential, scramMechanism } from '../../broker/security/scram.ts';
import { Prng } from './prng.ts';
import { clientProof, finalPlan, malformedClientFirst, parseServerFirst, type ScramName } from './sasl-scram.ts';

describe('the SASL lane SCRAM messages', () => {
  it('computes the RFC 7677 client proof', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const auth = 'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    expect(clientProof('SCRAM-SHA-256', 'pencil', salt, 4096, auth).toString('base64')).toBe('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  });

  for (const name of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as ScramName[]) {
    it(`marks as must-fail only client-finals that ${name} refuses`, () => {
      const m = scramMechanism(name)!;
      const cred = scramCredential(m, 'pw', 4096, Buffer.from('fixed-salt'));
      const seen = new Set<string>();
      for (let seed = 1; seed <= 120; seed++) {
        const plan = finalPlan(new Prng(seed));
        if (!plan.mustFail) continue;
        seen.add(plan.kind);
        const server = new ScramServer(m, (u) => (u === 'u' ? cred : undefined), () => 'SERVERNONCE');
        const bare = 'n=u,r=clientnonce';
        const sf = parseServerFirst(server.evaluate(Buffer.from(`n,,${bare}`)).challenge)!;
        expect(() => server.evaluate(plan.build(sf, bare, name, 'pw')), plan.kind).toThrow();
      }
      expect(seen.size).toBeGreaterThan(12);
    });
  }

  it('lets a correct proof through the same server (the control of the test above)', () => {
    const m = scramMechanism('SCRAM-SHA-512')!;
    const cred = scramCredential(m, 'pw', 4096, Buffer.from('fixed-salt'));
    const server = new ScramServer(m, () => cred, () => 'SERVERNONCE');
    const bare = 'n=u,r=clientnonce';
    const sf = parseServerFirst(server.evaluate(Buffer.from(`n,,${bare}`)).challenge)!;
    const wp = `c=biws,r=${sf.nonce}`;
    const final = `${wp},p=${clientProof('SCRAM-SHA-512', 'pw', sf.salt, sf.iterations, `${bare},${sf.text},${wp}`).toString('base64')}`;
    expect(server.evaluate(Buffer.from(final)).user).toBe('u');
  });

  it('draws the same messages for the same seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    for (let i = 0; i < 50; i++) {
      const x = malformedClientFirst(a, 'u');
      const y = malformedClientFirst(b, 'u');
      expect(x.token.equals(y.token)).toBe(true);
      expect(finalPlan(a).kind).toBe(finalPlan(b).kind);
    }
  });
});
