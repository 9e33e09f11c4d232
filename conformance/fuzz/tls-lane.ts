// TLS on the SSL (ssl.client.auth=requested) and SASL_SSL listeners: each round opens one
// connection and runs one scenario, drawn whole before the first byte is sent:
// - random bytes, or a Kafka request in plain text, where a ClientHello belongs;
// - a real ClientHello (made by node:tls, caught before it leaves) cut short or bent: record type,
//   version, record and handshake lengths, a byte anywhere, written twice, behind an SSLv2 header;
// - garbage mid-handshake: the TLS client speaks through a relay over a raw TCP socket, which
//   forwards the ClientHello and then corrupts the client's second flight or adds records of its
//   own once the server has answered;
// - connections closed mid-handshake (after part of the ClientHello, after the server's first
//   bytes) or left stalled for a while;
// - garbage after a successful handshake, written on the raw socket under the TLS session:
//   random bytes, application-data records that cannot decrypt, plain-text alerts and handshake
//   records, a record longer than TLS allows;
// - renegotiation of a TLS 1.2 session (the broker closes the connection, as Kafka does: nothing
//   may be served after it), clients offering only TLS 1.0/1.1, a client certificate no CA
//   vouches for (the SSL listener must close before serving anything);
// - and, as the positive control, a correct TLS client (with or without a trusted client
//   certificate) whose ApiVersions must be answered.
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { encodeRequestFrame } from '../../protocol/headers.ts';
import type { FuzzContext, SecureEndpoints } from './context.ts';
import { sleep } from './context.ts';
import type { Prng } from './prng.ts';
import { Wire } from './wire.ts';

/** How long a handshake may take on a busy machine. */
const WAIT_MS = 1500;
/** How long to watch a connection after damaging it: only the broker's survival is judged. */
const LINGER_MS = 300;

/**
 * A raw TCP socket to the broker with a TLS client speaking through it: every byte either way
 * passes `toServer`/`toClient`, so a scenario can bend, hold back or add bytes.
 */
class Relay {
  readonly raw: Socket;
  readonly tls: TLSSocket;
  private readonly pipe: Duplex;
  clientWrites = 0;
  serverBytes = 0;
  closed = false;
  secure = false;
  /** What the relay does with the client's n-th write; by default forwards it. */
  onClientWrite: (chunk: Buffer, n: number) => Buffer | null = (c) => c;
  /** Told of the server's bytes as they pass. */
  onServerBytes: (chunk: Buffer) => void = () => {};

  constructor(port: number, options: ConnectionOptions) {
    this.raw = netConnect({ host: '127.0.0.1', port });
    this.raw.setNoDelay(true);
    const relay = this;
    this.pipe = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        const out = relay.onClientWrite(chunk, relay.clientWrites++);
        if (out && !relay.raw.destroyed) relay.raw.write(out);
        cb();
      },
      read() {},
    });
    this.raw.on('data', (d: Buffer) => {
      this.serverBytes += d.length;
      this.onServerBytes(d);
      this.pipe.push(d);
    });
    const end = (): void => {
      if (this.closed) return;
      this.closed = true;
      this.pipe.push(null);
      this.pipe.destroy();
    };
    this.raw.on('close', end);
    this.raw.on('error', end);
    this.pipe.on('error', () => {});
    this.tls = tlsConnect({ ...options, socket: this.pipe });
    this.tls.on('error', () => {});
    this.tls.once('secureConnect', () => (this.secure = true));
  }

  /** Waits until `done()` holds, the raw socket closes, or `ms` pass. */
  async until(done: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done() && !this.closed && Date.now() < deadline) await sleep(10);
  }

  destroy(): void {
    this.tls.destroy();
    this.raw.destroy();
    this.pipe.destroy();
  }
}

/** A TLS record: type, version 0x0303, the body. */
function record(type: number, body: Buffer, length = body.length): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt8(type, 0);
  h.writeUInt16BE(0x0303, 1);
  h.writeUInt16BE(length & 0xffff, 3);
  return Buffer.concat([h, body]);
}

/** The first write of a fresh TLS client: its ClientHello record(s). */
async function captureClientHello(options: ConnectionOptions): Promise<Buffer | null> {
  let hello: Buffer | null = null;
  const pipe = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      hello ??= Buffer.from(chunk);
      cb();
    },
    read() {},
  });
  pipe.on('error', () => {});
  const t = tlsConnect({ ...options, socket: pipe });
  t.on('error', () => {});
  const deadline = Date.now() + 1000;
  while (hello === null && Date.now() < deadline) await sleep(5);
  t.destroy();
  pipe.destroy();
  return hello;
}

/** A ClientHello bent one way (positions drawn as fractions so they fit any hello's length). */
function bendHello(hello: Buffer, how: number, at: number, value: number, noise: Buffer): { kind: string; bytes: Buffer } {
  const b = Buffer.from(hello);
  const pos = Math.min(b.length - 1, Math.floor(at * b.length));
  switch (how) {
    case 0: return { kind: `cut at ${pos} of ${b.length}`, bytes: b.subarray(0, pos) };
    case 1: b[0] = value & 1 ? 0x17 : 0x15; return { kind: `record type ${b[0]}`, bytes: b };
    case 2: b.writeUInt16BE(value & 1 ? 0x0300 : 0xfefd, 1); return { kind: 'record version bent', bytes: b };
    case 3: b.writeUInt16BE(value & 1 ? 0 : 0xffff, 3); return { kind: `record length ${b.readUInt16BE(3)}`, bytes: b };
    case 4: b.writeUIntBE(value & 1 ? 0xffffff : 1, 6, 3); return { kind: 'handshake length bent', bytes: b };
    case 5: b[pos] = b[pos]! ^ (1 + (value & 0x7f)); return { kind: `byte ${pos} flipped`, bytes: b };
    case 6: return { kind: 'written twice', bytes: Buffer.concat([b, b]) };
    case 7: return { kind: 'behind an SSLv2 header', bytes: Buffer.concat([Buffer.from([0x80, b.length & 0x7f, 0x01, 0x03, 0x01]), b]) };
    case 8: noise.copy(b, Math.min(pos, b.length - 1)); return { kind: `noise from byte ${pos}`, bytes: b };
    default: b[5] = 0x02; return { kind: 'handshake type ServerHello', bytes: b };
  }
}

type Scenario = 'random' | 'plaintext' | 'bent-hello' | 'mid-handshake' | 'close' | 'after-handshake' | 'renegotiate' | 'old-protocol' | 'untrusted' | 'correct';

export async function runTls(ctx: FuzzContext, rng: Prng, lane: string): Promise<void> {
  const sec: SecureEndpoints = ctx.secure!;
  const log = (a: string): void => ctx.journal.add(lane, a);
  while (ctx.running) {
    const ssl = rng.chance(0.6);
    const port = ssl ? sec.sslPort : sec.saslSslPort;
    const scenario = rng.weighted<Scenario>([[2, 'random'], [1, 'plaintext'], [4, 'bent-hello'], [3, 'mid-handshake'], [2, 'close'], [3, 'after-handshake'], [2, 'renegotiate'], [1, 'old-protocol'], [1, 'untrusted'], [3, 'correct']]);
    const how = rng.int(10);
    const at = rng.int(1_000_000) / 1_000_000;
    const value = rng.u32();
    const noise = rng.bytes(rng.range(1, 2048));
    const tls13 = rng.chance(0.5);
    const withCert = ssl && rng.chance(0.5);
    const times = rng.range(1, 5);
    const stallMs = rng.chance(0.2) ? rng.range(200, 1500) : 0;
    const tag = `${ssl ? 'SSL' : 'SASL_SSL'}`;
    const base: ConnectionOptions = { ...sec.tls, ...(tls13 ? {} : { maxVersion: 'TLSv1.2' }), ...(withCert ? sec.clientCert : {}) };
    ctx.counters.secureRounds++;
    let relay: Relay | undefined;
    let raw: Socket | undefined;
    let wire: Wire | undefined;
    try {
      switch (scenario) {
        case 'random': {
          log(`${tag}: ${noise.length} random bytes before the handshake`);
          raw = await rawSocket(port);
          raw.write(noise);
          await closedWithin(raw, LINGER_MS);
          break;
        }
        case 'plaintext': {
          log(`${tag}: ApiVersions in plain text`);
          raw = await rawSocket(port);
          raw.write(Buffer.concat(encodeRequestFrame(ApiKey.ApiVersions, 3, 1, 'fz-tls', { clientSoftwareName: 'samsa-fuzz', clientSoftwareVersion: '1' })));
          await closedWithin(raw, LINGER_MS);
          break;
        }
        case 'bent-hello': {
          const hello = await captureClientHello(base);
          if (!hello) break;
          const bent = bendHello(hello, how, at, value, noise.subarray(0, 64));
          log(`${tag}: ClientHello (TLS ${tls13 ? '1.3' : '1.2'}) ${bent.kind}`);
          raw = await rawSocket(port);
          raw.write(bent.bytes);
          await closedWithin(raw, LINGER_MS);
          break;
        }
        case 'mid-handshake': {
          const kinds = ['second flight byte flipped', 'second flight replaced by noise', 'noise after the server first answers', 'alert record after the server first answers', 'ChangeCipherSpec with a bad body', 'second ClientHello'];
          const kind = kinds[how % kinds.length]!;
          log(`${tag}: TLS ${tls13 ? '1.3' : '1.2'} handshake, ${kind}`);
          relay = new Relay(port, base);
          const r = relay;
          let hello: Buffer | null = null;
          r.onClientWrite = (chunk, n) => {
            if (n === 0) hello = Buffer.from(chunk);
            if (n !== 1) return chunk;
            if (how % kinds.length === 0) {
              const b = Buffer.from(chunk);
              const i = Math.min(b.length - 1, Math.floor(at * b.length));
              b[i] = b[i]! ^ 0x40;
              return b;
            }
            return how % kinds.length === 1 ? noise : chunk;
          };
          let injected = false;
          r.onServerBytes = () => {
            if (injected || how % kinds.length < 2) return;
            injected = true;
            const k = how % kinds.length;
            const extra = k === 2 ? noise : k === 3 ? record(0x15, Buffer.from([2, value & 0xff])) : k === 4 ? record(0x14, noise.subarray(0, 16)) : hello ?? noise;
            r.raw.write(extra);
          };
          await r.until(() => r.secure, WAIT_MS);
          if (r.secure && !r.closed) {
            // If the handshake survived the damage, the session is only judged by the broker staying up.
            r.tls.write(Buffer.concat(encodeRequestFrame(ApiKey.ApiVersions, 3, 1, 'fz-tls', { clientSoftwareName: 'samsa-fuzz', clientSoftwareVersion: '1' })));
            await r.until(() => false, 200);
          }
          break;
        }
        case 'close': {
          const kinds = ['after part of the ClientHello', 'after the ClientHello', 'after the server first answers', 'stalled mid-ClientHello'];
          const kind = kinds[how % kinds.length]!;
          log(`${tag}: closed ${kind}${how % kinds.length === 3 ? ` for ${stallMs || 300} ms` : ''}`);
          if (how % kinds.length === 0 || how % kinds.length === 3) {
            const hello = await captureClientHello(base);
            if (!hello) break;
            raw = await rawSocket(port);
            raw.write(hello.subarray(0, Math.max(1, Math.floor(at * hello.length))));
            await sleep(how % kinds.length === 3 ? stallMs || 300 : 0);
            break;
          }
          relay = new Relay(port, base);
          const r = relay;
          if (how % kinds.length === 1) r.onClientWrite = (c, n) => (n === 0 ? (setImmediate(() => r.raw.destroy()), c) : null);
          else r.onServerBytes = () => r.raw.destroy();
          await r.until(() => false, LINGER_MS);
          break;
        }
        case 'after-handshake': {
          const kinds = ['random bytes', 'application data that cannot decrypt', 'plain-text alert', 'plain-text ClientHello', 'record longer than TLS allows', 'half a request, then noise'];
          const kind = kinds[how % kinds.length]!;
          log(`${tag}: TLS ${tls13 ? '1.3' : '1.2'}, then ${kind} under the session`);
          relay = new Relay(port, base);
          const r = relay;
          await r.until(() => r.secure, WAIT_MS);
          if (!r.secure || r.closed) break;
          const k = how % kinds.length;
          if (k === 5) {
            const frame = Buffer.concat(encodeRequestFrame(ApiKey.ApiVersions, 3, 1, 'fz-tls', { clientSoftwareName: 'samsa-fuzz', clientSoftwareVersion: '1' }));
            r.tls.write(frame.subarray(0, Math.max(1, Math.floor(at * frame.length))));
            await sleep(20);
          }
          const hello = k === 3 ? await captureClientHello(base) : null;
          const extra = k === 0 || k === 5 ? noise : k === 1 ? record(0x17, noise) : k === 2 ? record(0x15, Buffer.from([2, 40])) : k === 3 ? hello ?? noise : record(0x17, Buffer.alloc(18_000, value & 0xff));
          r.raw.write(extra);
          await r.until(() => false, LINGER_MS);
          break;
        }
        case 'renegotiate': {
          log(`${tag}: TLS 1.2, renegotiation asked ${times} times, then ApiVersions`);
          const t = await tlsSocket(port, { ...base, maxVersion: 'TLSv1.2' });
          if (!t) break;
          raw = t;
          for (let i = 0; i < times && !t.destroyed; i++) {
            const done = new Promise<void>((resolve) => {
              const ok = t.renegotiate({ rejectUnauthorized: true }, () => resolve());
              if (!ok) resolve();
              setTimeout(resolve, 500);
            });
            await done;
          }
          // As Kafka, the broker refuses renegotiation by closing the connection: nothing is served after it.
          if (!t.destroyed && (await answersApiVersions(t))) ctx.violation(lane, `${tag}: ApiVersions answered after a TLS renegotiation (Kafka closes the connection)`);
          break;
        }
        case 'old-protocol': {
          log(`${tag}: a client offering only TLS 1.0-1.1`);
          const t = await tlsSocket(port, { ...sec.tls, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
          if (t) {
            raw = t;
            ctx.violation(lane, `${tag} listener completed a TLS handshake offering only TLS 1.0-1.1 (${t.getProtocol()})`);
          }
          break;
        }
        case 'untrusted': {
          log(`SSL: a client certificate no CA vouches for (TLS ${tls13 ? '1.3' : '1.2'}), then ApiVersions`);
          const t = await tlsSocket(sec.sslPort, { ...sec.tls, ...(tls13 ? {} : { maxVersion: 'TLSv1.2' }), ...sec.untrustedCert });
          if (!t) break;
          raw = t;
          const answered = await answersApiVersions(t);
          if (answered) ctx.violation(lane, 'the SSL listener served a client whose certificate no CA vouches for');
          break;
        }
        case 'correct': {
          log(`${tag}: correct TLS ${tls13 ? '1.3' : '1.2'} client${withCert ? ' with a trusted certificate' : ''}, ApiVersions`);
          try {
            wire = ctx.adopt(await Wire.openTls(port, base, 5000));
          } catch (err) {
            const code = (err as { code?: string }).code;
            if (code === 'WIRE_TIMEOUT') ctx.counters.unanswered++;
            else ctx.violation(lane, `a correct TLS client could not connect to ${tag}: ${(err as Error).message}`);
            break;
          }
          const r = await ctx.call(lane, wire, ApiKey.ApiVersions, 3, { clientSoftwareName: 'samsa-fuzz', clientSoftwareVersion: '1' }, { timeoutMs: 5000 });
          if (r && r.errorCode === 0) ctx.counters.logins++;
          else if (r) ctx.violation(lane, `ApiVersions over TLS on ${tag} answered error ${r.errorCode}`);
          else if (wire.closed) ctx.violation(lane, `ApiVersions over TLS on ${tag}: connection closed`);
          break;
        }
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ECONNREFUSED' && code !== 'ECONNRESET' && code !== 'EPIPE') ctx.fault(lane, err as Error);
    } finally {
      relay?.destroy();
      raw?.destroy();
      if (wire) ctx.close(wire);
    }
    if (relay || raw) ctx.counters.connections++;
    await sleep(rng.int(20));
  }
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.setNoDelay(true);
    s.once('connect', () => {
      s.removeAllListeners('error');
      s.on('error', () => {});
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** A TLS socket once its handshake is done, or null if the handshake failed or took too long. */
function tlsSocket(port: number, options: ConnectionOptions): Promise<TLSSocket | null> {
  return new Promise((resolve) => {
    const t = tlsConnect({ host: '127.0.0.1', port, ...options });
    const timer = setTimeout(() => {
      t.destroy();
      resolve(null);
    }, WAIT_MS * 2);
    t.on('error', () => {
      clearTimeout(timer);
      t.destroy();
      resolve(null);
    });
    t.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(t);
    });
  });
}

function closedWithin(s: Socket, ms: number): Promise<boolean> {
  if (s.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** True if a size-prefixed answer comes back to an ApiVersions request within the wait. */
async function answersApiVersions(t: TLSSocket): Promise<boolean> {
  let got = 0;
  t.on('data', (d: Buffer) => (got += d.length));
  t.write(Buffer.concat(encodeRequestFrame(ApiKey.ApiVersions, 3, 1, 'fz-tls', { clientSoftwareName: 'samsa-fuzz', clientSoftwareVersion: '1' })));
  const deadline = Date.now() + WAIT_MS;
  while (got < 4 && !t.destroyed && Date.now() < deadline) await sleep(10);
  return got >= 4;
}
