// SCRAM messages for the SASL lane, built here rather than with the broker's own SCRAM code so a
// fault shared by both sides cannot hide: client-first messages bent one way each, and
// client-final messages with a wrong or truncated nonce, a wrong proof, a wrong channel binding
// (some with a proof correctly computed over it), attributes missing, repeated or out of order.
// Every function is pure: the PRNG draws happen before any answer is read (see `FinalPlan`).
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import type { Prng } from './prng.ts';

export type ScramName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

const HASHES: Record<ScramName, { hash: 'sha256' | 'sha512'; length: number }> = {
  'SCRAM-SHA-256': { hash: 'sha256', length: 32 },
  'SCRAM-SHA-512': { hash: 'sha512', length: 64 },
};

/** A printable nonce (no ','), from the lane's own draws. */
export function nonceOf(rng: Prng, length = 24): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_';
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

/** The client proof (RFC 5802 section 3) for a password over an auth message. */
export function clientProof(mechanism: ScramName, password: string, salt: Buffer, iterations: number, authMessage: string): Buffer {
  const { hash, length } = HASHES[mechanism];
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, length, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const signature = createHmac(hash, storedKey).update(authMessage).digest();
  return Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
}

export interface ServerFirst {
  text: string;
  nonce: string;
  salt: Buffer;
  iterations: number;
}

/** The server-first message's fields, or null when the broker sent something else. */
export function parseServerFirst(bytes: Buffer): ServerFirst | null {
  const text = bytes.toString('utf8');
  const m = /^r=([^,]+),s=([^,]+),i=(\d+)/.exec(text);
  if (!m) return null;
  const iterations = Number(m[3]);
  // The lane computes proofs itself: an absurd iteration count would stall it, not the broker.
  if (!(iterations > 0 && iterations <= 100_000)) return null;
  return { text, nonce: m[1]!, salt: Buffer.from(m[2]!, 'base64'), iterations };
}

/** A client-first message bent one way, and a name for the journal. */
export function malformedClientFirst(rng: Prng, user: string): { kind: string; token: Buffer } {
  const nonce = nonceOf(rng);
  const noise = rng.bytes(rng.range(1, 64));
  const choice = rng.int(21);
  const t = (kind: string, s: string | Buffer): { kind: string; token: Buffer } => ({ kind, token: typeof s === 'string' ? Buffer.from(s, 'utf8') : s });
  switch (choice) {
    case 0: return t('no gs2 header', `n=${user},r=${nonce}`);
    case 1: return t('gs2 flag y', `y,,n=${user},r=${nonce}`);
    case 2: return t('gs2 flag p=tls-unique', `p=tls-unique,,n=${user},r=${nonce}`);
    case 3: return t('gs2 flag x', `x,,n=${user},r=${nonce}`);
    case 4: return t('no n=', `n,,r=${nonce}`);
    case 5: return t('no r=', `n,,n=${user}`);
    case 6: return t('empty nonce', `n,,n=${user},r=`);
    case 7: return t('n= twice', `n,,n=${user},n=${user},r=${nonce}`);
    case 8: return t('r= twice', `n,,n=${user},r=${nonce},r=${nonce}x`);
    case 9: return t('reserved m= extension', `n,,m=${nonce},n=${user},r=${nonce}`);
    case 10: return t('attributes swapped', `n,,r=${nonce},n=${user}`);
    case 11: return t('bad saslname escape', `n,,n=${user}=2X,r=${nonce}`);
    case 12: return t('invalid UTF-8 name', Buffer.concat([Buffer.from('n,,n='), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(`,r=${nonce}`)]));
    case 13: return t('non-printable nonce', Buffer.concat([Buffer.from(`n,,n=${user},r=`), noise]));
    case 14: return t('other authzid', `n,a=fz-other,n=${user},r=${nonce}`);
    case 15: return t('tokenauth=true', `n,,n=${user},r=${nonce},tokenauth=true`);
    case 16: return t('unknown user', `n,,n=fz-nobody-${nonce.slice(0, 6)},r=${nonce}`);
    case 17: return t('random bytes', noise);
    case 18: return t('client-final as first', `c=biws,r=${nonce},p=${noise.toString('base64')}`);
    case 19: return t('empty token', Buffer.alloc(0));
    default: return t('NUL inside', `n,,n=${user}\u0000x,r=${nonce}`);
  }
}

/** How a client-final message is bent; drawn before the exchange starts. */
export interface FinalPlan {
  kind: string;
  /** True when no broker may accept it (a proof that cannot verify, a nonce that is not ours). */
  mustFail: boolean;
  build(sf: ServerFirst, clientFirstBare: string, mechanism: ScramName, password: string): Buffer;
}

export function finalPlan(rng: Prng): FinalPlan {
  const choice = rng.int(19);
  const noise = rng.bytes(64);
  const cut = rng.range(1, 12);
  const proofOf = (sf: ServerFirst, bare: string, m: ScramName, pw: string, withoutProof: string): string =>
    clientProof(m, pw, sf.salt, sf.iterations, `${bare},${sf.text},${withoutProof}`).toString('base64');
  const plan = (kind: string, mustFail: boolean, build: FinalPlan['build']): FinalPlan => ({ kind, mustFail, build });
  const s = (text: string): Buffer => Buffer.from(text, 'utf8');
  switch (choice) {
    case 0: return plan('nonce with a changed character', true, (sf, bare, m, pw) => {
      const nonce = `${sf.nonce.slice(0, -1)}${sf.nonce.endsWith('A') ? 'B' : 'A'}`;
      const wp = `c=biws,r=${nonce}`;
      return s(`${wp},p=${proofOf(sf, bare, m, pw, wp)}`);
    });
    case 1: return plan('nonce cut short', true, (sf, bare, m, pw) => {
      const wp = `c=biws,r=${sf.nonce.slice(0, Math.max(1, sf.nonce.length - cut))}`;
      return s(`${wp},p=${proofOf(sf, bare, m, pw, wp)}`);
    });
    case 2: return plan('client nonce only', true, (sf, bare) => {
      const clientNonce = /r=([^,]*)/.exec(bare)?.[1] ?? '';
      return s(`c=biws,r=${clientNonce},p=${noise.subarray(0, 32).toString('base64')}`);
    });
    case 3: return plan('empty nonce', true, () => s(`c=biws,r=,p=${noise.subarray(0, 32).toString('base64')}`));
    case 4: return plan('random proof', true, (sf, _b, m) => s(`c=biws,r=${sf.nonce},p=${noise.subarray(0, HASHES[m].length).toString('base64')}`));
    case 5: return plan('proof of the wrong length', true, (sf) => s(`c=biws,r=${sf.nonce},p=${noise.subarray(0, cut).toString('base64')}`));
    case 6: return plan('proof not base64', true, (sf) => s(`c=biws,r=${sf.nonce},p=!!${noise.toString('hex').slice(0, cut)}`));
    case 7: return plan('empty proof', true, (sf) => s(`c=biws,r=${sf.nonce},p=`));
    case 8: return plan('proof with a flipped bit', true, (sf, bare, m, pw) => {
      const wp = `c=biws,r=${sf.nonce}`;
      const p = clientProof(m, pw, sf.salt, sf.iterations, `${bare},${sf.text},${wp}`);
      const i = cut % p.length;
      p[i] = p[i]! ^ (1 << (cut % 8));
      return s(`${wp},p=${p.toString('base64')}`);
    });
    case 9: return plan('wrong password', true, (sf, bare, m) => {
      const wp = `c=biws,r=${sf.nonce}`;
      return s(`${wp},p=${proofOf(sf, bare, m, 'not-the-password', wp)}`);
    });
    case 10: return plan('proof of the other hash', true, (sf, bare, m, pw) => {
      const wp = `c=biws,r=${sf.nonce}`;
      return s(`${wp},p=${proofOf(sf, bare, m === 'SCRAM-SHA-256' ? 'SCRAM-SHA-512' : 'SCRAM-SHA-256', pw, wp)}`);
    });
    // A channel binding other than the 'n,,' header announced, with a proof made over it: Kafka
    // checks only the proof, so whether it is accepted is not judged, only survived.
    case 11: return plan('channel binding y,, with a proof over it', false, (sf, bare, m, pw) => {
      const wp = `c=eSws,r=${sf.nonce}`;
      return s(`${wp},p=${proofOf(sf, bare, m, pw, wp)}`);
    });
    case 12: return plan('channel binding p=tls-unique with random data', false, (sf, bare, m, pw) => {
      const wp = `c=${Buffer.concat([Buffer.from('p=tls-unique,,'), noise.subarray(0, 12)]).toString('base64')},r=${sf.nonce}`;
      return s(`${wp},p=${proofOf(sf, bare, m, pw, wp)}`);
    });
    case 13: return plan('wrong channel binding, proof over biws', true, (sf, bare, m, pw) => s(`c=eSws,r=${sf.nonce},p=${proofOf(sf, bare, m, pw, `c=biws,r=${sf.nonce}`)}`));
    case 14: return plan('no c=', true, (sf) => s(`r=${sf.nonce},p=${noise.subarray(0, 32).toString('base64')}`));
    case 15: return plan('r= twice', true, (sf) => s(`c=biws,r=${sf.nonce},r=${sf.nonce},p=${noise.subarray(0, 32).toString('base64')}`));
    case 16: return plan('p= before r=', true, (sf) => s(`c=biws,p=${noise.subarray(0, 32).toString('base64')},r=${sf.nonce}`));
    case 17: return plan('channel binding not base64', true, (sf, bare, m, pw) => {
      const wp = `c=n,,*,r=${sf.nonce}`;
      return s(`${wp},p=${proofOf(sf, bare, m, pw, wp)}`);
    });
    default: return plan('client-first again', true, (_sf, bare) => s(`n,,${bare}`));
  }
}
