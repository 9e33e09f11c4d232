// Certificate rotation through dynamic broker configs: `samsa configs --alter --entity-type
// brokers --entity-name 1 --add-config listener.name.ssl.ssl.keystore.location=<new file>` makes
// the SSL listener present the new certificate to new connections, without a restart; a key store
// that cannot be loaded is refused by the broker (logged) and the old certificate kept.
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, opensslAvailable, type TestPki } from './certs.ts';
import { samsa } from './run-process.ts';
import { type SecureBroker, startSecureBroker } from './secure-broker.ts';

const HAVE_OPENSSL = opensslAvailable();
if (!HAVE_OPENSSL) console.warn('conformance/security: openssl not found; skipping the dynamic TLS suite');

describe.skipIf(!HAVE_OPENSSL)('dynamic TLS key store', () => {
  let pki: TestPki;
  let b: SecureBroker;

  beforeAll(async () => {
    pki = await makeTestPki();
    b = await startSecureBroker(pki);
  }, 120_000);

  afterAll(async () => {
    await b?.broker.destroy();
    await pki?.remove();
  });

  /** The subject CN of the certificate the SSL listener presents now. */
  async function presentedCn(clientCert: { cert: string; key: string }): Promise<string> {
    const [host, port] = b.ssl.split(':');
    return new Promise((resolve, reject) => {
      const s = connect({ host, port: Number(port), ca: pki.caCert, cert: clientCert.cert, key: clientCert.key, checkServerIdentity: () => undefined }, () => {
        const cn = s.getPeerCertificate().subject.CN;
        s.destroy();
        resolve(Array.isArray(cn) ? cn.join(',') : (cn ?? ''));
      });
      s.on('error', reject);
    });
  }

  async function waitForCn(client: { cert: string; key: string }, cn: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    let seen = '';
    while (Date.now() < deadline) {
      seen = await presentedCn(client);
      if (seen === cn) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the listener still presents CN=${seen}`);
  }

  it('presents a new certificate after a dynamic key store change', async () => {
    const client = await pki.client('rotation-client', '/CN=Rotation');
    expect(await presentedCn(client)).toBe('localhost');
    const rotated = await pki.serverCert('rotated-server', '/O=Samsa Test/CN=rotated');
    const r = await samsa(['configs', '--bootstrap-server', b.plaintext, '--alter', '--entity-type', 'brokers', '--entity-name', '1', '--add-config', `listener.name.ssl.ssl.keystore.location=${rotated.p12File}`]);
    expect(r.stderr).toBe('');
    await waitForCn(client, 'rotated');
    expect(b.broker.logs).toContain('reloaded TLS key and trust stores from dynamic broker configs');
    // A store that cannot be read is refused and the current certificate stays.
    await samsa(['configs', '--bootstrap-server', b.plaintext, '--alter', '--entity-type', 'brokers', '--entity-name', '1', '--add-config', `listener.name.ssl.ssl.keystore.location=${pki.dir}/missing.p12`]);
    const deadline = Date.now() + 20_000;
    while (!b.broker.logs.includes('dynamic TLS settings could not be loaded') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    expect(b.broker.logs).toContain('dynamic TLS settings could not be loaded');
    expect(await presentedCn(client)).toBe('rotated');
  }, 90_000);
});
