// TLS renegotiation on SSL and SASL_SSL listeners: as Kafka's SslTransportLayer ("Renegotiation
// is not supported"), a client that asks to renegotiate a TLS 1.2 session has its connection
// closed, and the broker goes on serving others. Node's server would otherwise renegotiate, and
// only report (not stop) a client that renegotiates again and again.
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../index.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { encodeRequestFrame } from '../protocol/headers.ts';
import { makeTestPki, opensslAvailable, type TestPki } from '../conformance/security/certs.ts';

const haveOpenssl = opensslAvailable();
if (!haveOpenssl) console.warn('skipping TLS renegotiation tests: the openssl tool is not installed');

describe.skipIf(!haveOpenssl)('TLS renegotiation', () => {
  let pki: TestPki;
  let started: StartedBroker;
  const port = (name: string): number => started.broker.listeners.find((l) => l.name === name)!.port;

  beforeAll(async () => {
    pki = await makeTestPki();
    started = await startBroker({
      overrides: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,CONTROLLER://127.0.0.1:0',
        'advertised.listeners': 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'PLAINTEXT',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.certificate.chain': pki.server.cert,
        'ssl.keystore.key': pki.server.key,
        'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
      },
    });
  }, 60_000);

  afterAll(async () => {
    await started?.stop();
    await pki?.remove();
  });

  function open(listener: string): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const t = connect({ host: '127.0.0.1', port: port(listener), ca: pki.caCert, servername: 'localhost', maxVersion: 'TLSv1.2' });
      t.once('secureConnect', () => resolve(t));
      t.once('error', reject);
    });
  }

  /** Asks for renegotiation and resolves once the broker closed the connection (or after 5 s). */
  async function renegotiateUntilClosed(t: TLSSocket): Promise<{ closed: boolean; answered: boolean }> {
    let answered = false;
    t.on('data', () => (answered = true));
    t.on('error', () => {});
    const closed = new Promise<boolean>((resolve) => {
      t.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    t.renegotiate({ rejectUnauthorized: true }, () => {
      // After a refused renegotiation this write goes nowhere; after an accepted one it is served.
      if (!t.destroyed) t.write(Buffer.concat(encodeRequestFrame(ApiKey.ApiVersions, 3, 1, 'reneg', { clientSoftwareName: 'reneg', clientSoftwareVersion: '1' })));
    });
    return { closed: await closed, answered };
  }

  for (const listener of ['SSL', 'SASL_SSL']) {
    it(`closes a ${listener} connection that asks to renegotiate, and serves the next client`, async () => {
      const t = await open(listener);
      const outcome = await renegotiateUntilClosed(t);
      expect(outcome).toEqual({ closed: true, answered: false });
      const next = await open(listener);
      const answer = new Promise<number>((resolve) => next.once('data', (d: Buffer) => resolve(d.length)));
      next.write(Buffer.concat(encodeRequestFrame(ApiKey.ApiVersions, 3, 1, 'reneg', { clientSoftwareName: 'reneg', clientSoftwareVersion: '1' })));
      expect(await answer).toBeGreaterThan(8);
      next.destroy();
    }, 30_000);
  }
});
