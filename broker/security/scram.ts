// SCRAM (RFC 5802, RFC 7677) with SHA-256 and SHA-512, as Kafka runs it: credentials are salted
// (PBKDF2) and only StoredKey and ServerKey are kept; no channel binding ("n,,"); the
// `tokenauth` extension (delegation tokens) is refused. The server side is a small state machine
// that throws SaslAuthenticationError on anything but a correct exchange; the client side serves
// tests, the CLI and inter-broker connections.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface ScramMechanismInfo {
  name: ScramMechanismName;
  /** Kafka's ScramMechanism type, as stored in UserScramCredentialRecord. */
  type: number;
  hash: 'sha256' | 'sha512';
  keyLength: number;
  minIterations: number;
}

export const SCRAM_MECHANISMS: readonly ScramMechanismInfo[] = [
  { name: 'SCRAM-SHA-256', type: 1, hash: 'sha256', keyLength: 32, minIterations: 4096 },
  { name: 'SCRAM-SHA-512', type: 2, hash: 'sha512', keyLength: 64, minIterations: 4096 },
];
/** AlterUserScramCredentials refuses more iterations than this (Kafka's limit). */
export const MAX_SCRAM_ITERATIONS = 16384;

export const scramMechanism = (name: string): ScramMechanismInfo | undefined => SCRAM_MECHANISMS.find((m) => m.name === name);
export const scramMechanismOfType = (type: number): ScramMechanismInfo | undefined => SCRAM_MECHANISMS.find((m) => m.type === type);

/** Thrown when a client fails SCRAM or PLAIN: the message is what the client is told. */
export class SaslAuthenticationError extends Error {
  readonly code = 'SASL_AUTHENTICATION_FAILED';
}

export interface ScramCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

const hmac = (m: ScramMechanismInfo, key: Buffer, data: string | Buffer): Buffer => createHmac(m.hash, key).update(data).digest();
const hash = (m: ScramMechanismInfo, data: Buffer): Buffer => createHash(m.hash).update(data).digest();
const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((x, i) => x ^ b[i]!));

export function saltedPassword(m: ScramMechanismInfo, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, m.keyLength, m.hash);
}

export function clientKey(m: ScramMechanismInfo, salted: Buffer): Buffer {
  return hmac(m, salted, 'Client Key');
}

export function serverKey(m: ScramMechanismInfo, salted: Buffer): Buffer {
  return hmac(m, salted, 'Server Key');
}

/** The stored form of a password (what AlterUserScramCredentials and storage format write). */
export function scramCredential(m: ScramMechanismInfo, password: string, iterations: number, salt: Buffer = randomBytes(32)): ScramCredential {
  const salted = saltedPassword(m, password, salt, iterations);
  return { salt, storedKey: hash(m, clientKey(m, salted)), serverKey: serverKey(m, salted), iterations };
}

/** The credential from a client's salted password (AlterUserScramCredentials carries that). */
export function credentialFromSaltedPassword(m: ScramMechanismInfo, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  return { salt, storedKey: hash(m, clientKey(m, salted)), serverKey: serverKey(m, salted), iterations };
}

/** RFC 5802 saslname: ',' and '=' are written =2C and =3D. */
export const encodeSaslName = (s: string): string => s.replace(/=/g, '=3D').replace(/,/g, '=2C');
export function decodeSaslName(s: string): string {
  if (/=(?!2C|3D)/.test(s)) throw new SaslAuthenticationError('Invalid username: =xx encodings other than =2C and =3D are not allowed');
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const CLIENT_FIRST = /^n,(?:a=([^,]*))?,(n=([^,]*),r=([^,]*)((?:,[a-zA-Z]+=[^,]*)*))$/;
const CLIENT_FINAL = /^(c=([A-Za-z0-9+/=]*),r=([^,]*)(?:,[a-zA-Z]+=[^,]*)*),p=([A-Za-z0-9+/=]+)$/;

export interface ScramServerResult {
  challenge: Buffer;
  /** Set when the exchange is complete: the authenticated user. */
  user?: string;
}

/** One SCRAM exchange on the server: client-first, then client-final. */
export class ScramServer {
  private state: 'first' | 'final' | 'done' | 'failed' = 'first';
  private user = '';
  private credential: ScramCredential | undefined;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  constructor(
    private readonly mechanism: ScramMechanismInfo,
    private readonly lookup: (user: string) => ScramCredential | undefined,
    private readonly serverNonce: () => string = () => randomBytes(24).toString('base64url'),
  ) {}

  get complete(): boolean {
    return this.state === 'done';
  }

  evaluate(token: Buffer): ScramServerResult {
    try {
      if (this.state === 'first') return this.first(token.toString('utf8'));
      if (this.state === 'final') return this.final(token.toString('utf8'));
      throw new SaslAuthenticationError(`Unexpected SCRAM message after the exchange ${this.state === 'done' ? 'completed' : 'failed'}`);
    } catch (err) {
      this.state = 'failed';
      throw err;
    }
  }

  private first(text: string): ScramServerResult {
    const m = CLIENT_FIRST.exec(text);
    if (!m) throw new SaslAuthenticationError('Invalid SCRAM client first message');
    const [, authzid, bare, saslname, nonce, extensions] = m;
    if (!PRINTABLE_NONCE.test(nonce!)) throw new SaslAuthenticationError('Invalid SCRAM client nonce');
    const user = decodeSaslName(saslname!);
    if (user === '') throw new SaslAuthenticationError('Authentication failed: username not specified');
    for (const ext of (extensions ?? '').split(',').filter((e) => e !== '')) {
      const [k, v] = [ext.slice(0, ext.indexOf('=')), ext.slice(ext.indexOf('=') + 1)];
      if (k === 'tokenauth' && v.toLowerCase() === 'true') throw new SaslAuthenticationError('Authentication failed: delegation tokens are not supported');
    }
    if (authzid !== undefined && authzid !== '' && decodeSaslName(authzid) !== user) {
      throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    }
    this.credential = this.lookup(user);
    if (!this.credential) throw new SaslAuthenticationError('Authentication failed: Invalid user credentials');
    if (this.credential.iterations < this.mechanism.minIterations) throw new SaslAuthenticationError(`Iterations ${this.credential.iterations} is less than the minimum ${this.mechanism.minIterations} for ${this.mechanism.name}`);
    this.user = user;
    this.clientFirstBare = bare!;
    this.nonce = nonce! + this.serverNonce();
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    this.state = 'final';
    return { challenge: Buffer.from(this.serverFirst, 'utf8') };
  }

  private final(text: string): ScramServerResult {
    const m = CLIENT_FINAL.exec(text);
    if (!m) throw new SaslAuthenticationError('Invalid SCRAM client final message');
    const [, withoutProof, , nonce, proofB64] = m;
    // Kafka only checks that the nonce ends with the server's combined nonce (librdkafka repeats the
    // client part in front), so the same clients work here.
    if (!nonce!.endsWith(this.nonce)) throw new SaslAuthenticationError('Invalid client nonce in the final client message.');
    const cred = this.credential!;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const proof = Buffer.from(proofB64!, 'base64');
    const signature = hmac(this.mechanism, cred.storedKey, authMessage);
    if (proof.length !== signature.length) throw new SaslAuthenticationError(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism.name}`);
    const computedStoredKey = hash(this.mechanism, xor(proof, signature));
    if (!timingSafeEqual(computedStoredKey, cred.storedKey)) {
      throw new SaslAuthenticationError(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism.name}`);
    }
    this.state = 'done';
    const serverSignature = hmac(this.mechanism, cred.serverKey, authMessage);
    return { challenge: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), user: this.user };
  }
}

/** The client side of one SCRAM exchange. */
export class ScramClient {
  private clientFirstBare = '';
  private serverSignature: Buffer | null = null;
  constructor(
    private readonly mechanism: ScramMechanismInfo,
    private readonly user: string,
    private readonly password: string,
    private readonly clientNonce: string = randomBytes(24).toString('base64url'),
  ) {}

  first(): Buffer {
    this.clientFirstBare = `n=${encodeSaslName(this.user)},r=${this.clientNonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  final(serverFirst: Buffer): Buffer {
    const text = serverFirst.toString('utf8');
    const m = /^r=([^,]+),s=([^,]+),i=(\d+)/.exec(text);
    if (!m || !m[1]!.startsWith(this.clientNonce)) throw new SaslAuthenticationError('Invalid SCRAM server first message');
    const salted = saltedPassword(this.mechanism, this.password, Buffer.from(m[2]!, 'base64'), Number(m[3]));
    const withoutProof = `c=biws,r=${m[1]}`;
    const authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const ck = clientKey(this.mechanism, salted);
    const signature = hmac(this.mechanism, hash(this.mechanism, ck), authMessage);
    this.serverSignature = hmac(this.mechanism, serverKey(this.mechanism, salted), authMessage);
    return Buffer.from(`${withoutProof},p=${xor(ck, signature).toString('base64')}`, 'utf8');
  }

  /** Checks the server's final message; throws when the server did not prove it knows the key. */
  verify(serverFinal: Buffer): void {
    const m = /^v=([A-Za-z0-9+/=]+)/.exec(serverFinal.toString('utf8'));
    if (!m || !this.serverSignature || !Buffer.from(m[1]!, 'base64').equals(this.serverSignature)) throw new SaslAuthenticationError('Invalid SCRAM server signature');
  }
}
