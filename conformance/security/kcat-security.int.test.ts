// kcat (librdkafka) over SASL_SSL with SCRAM-SHA-512 (and OAUTHBEARER) and over SSL with a client certificate
// (ssl.client.auth=required): produce, consume, and a balanced consumer group; a wrong password
// fails authentication. Skips, visibly, without kcat or openssl.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, opensslAvailable, type TestPki } from './certs.ts';
import { hasCommand, run, samsa } from './run-process.ts';
import { type SecureBroker, startSecureBroker } from './secure-broker.ts';

const HAVE_OPENSSL = opensslAvailable();
const HAVE_KCAT = await hasCommand('kcat');
if (!HAVE_OPENSSL || !HAVE_KCAT) console.warn(`conformance/security: ${!HAVE_KCAT ? 'kcat' : 'openssl'} not found; skipping the kcat security suite`);

describe.skipIf(!HAVE_OPENSSL || !HAVE_KCAT)('kcat security', () => {
  let pki: TestPki;
  let b: SecureBroker;
  let scram: string[];
  let tls: string[];

  const kcat = async (args: readonly string[], input = '') => {
    const r = await run('kcat', ['-X', 'socket.timeout.ms=10000', ...args], { input, timeoutMs: 45_000 });
    if (r.timedOut) throw new Error(`kcat ${args.join(' ')} timed out\n${r.stderr}`);
    return r;
  };
  const ok = async (args: readonly string[], input = '') => {
    const r = await kcat(args, input);
    if (r.code !== 0 || /Delivery failed|ERROR/.test(r.stderr)) throw new Error(`kcat failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  };

  beforeAll(async () => {
    pki = await makeTestPki();
    b = await startSecureBroker(pki);
    const r = await samsa(['configs', '--bootstrap-server', b.plaintext, '--alter', '--add-config', 'SCRAM-SHA-512=[password=erin-secret]', '--entity-type', 'users', '--entity-name', 'erin']);
    expect(r.stdout).toContain('Completed updating config for user erin.');
    scram = ['-b', b.saslSsl, '-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${pki.caFile}`, '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', 'sasl.username=erin', '-X', 'sasl.password=erin-secret'];
    const client = await pki.client('kcat-client', '/O=Samsa Test/CN=Kcat');
    tls = ['-b', b.ssl, '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${pki.caFile}`, '-X', `ssl.certificate.location=${client.certFile}`, '-X', `ssl.key.location=${client.keyFile}`];
  }, 120_000);

  afterAll(async () => {
    await b?.broker.destroy();
    await pki?.remove();
  });

  for (const [name, opts] of [
    ['SASL_SSL with SCRAM-SHA-512', () => scram],
    ['SSL with a client certificate', () => tls],
  ] as const) {
    it(`produces, consumes and runs a balanced consumer group over ${name}`, async () => {
      const topic = `kcat-${name.replace(/[^a-zA-Z0-9]/g, '-').toLowerCase()}`;
      await ok([...opts(), '-P', '-t', topic], 'one\ntwo\nthree\n');
      const consumed = await ok([...opts(), '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n']);
      expect(consumed.trim().split('\n')).toEqual(['one', 'two', 'three']);
      const grouped = await ok([...opts(), '-G', `${topic}-group`, '-o', 'beginning', '-c', '3', '-q', '-f', '%s\\n', topic]);
      expect(grouped.trim().split('\n').sort()).toEqual(['one', 'three', 'two']);
    }, 120_000);
  }

  it('produces and consumes over SASL_SSL with OAUTHBEARER (librdkafka\'s unsecured token)', async () => {
    const oauth = ['-b', b.saslSsl, '-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${pki.caFile}`, '-X', 'sasl.mechanisms=OAUTHBEARER', '-X', 'enable.sasl.oauthbearer.unsecure.jwt=true', '-X', 'sasl.oauthbearer.config=principal=judy'];
    await ok([...oauth, '-P', '-t', 'kcat-oauthbearer'], 'one\ntwo\n');
    const consumed = await ok([...oauth, '-C', '-t', 'kcat-oauthbearer', '-o', 'beginning', '-e', '-q', '-f', '%s\\n']);
    expect(consumed.trim().split('\n')).toEqual(['one', 'two']);
  }, 120_000);

  it('fails authentication with a wrong SCRAM password', async () => {
    const args = scram.map((a) => (a === 'sasl.password=erin-secret' ? 'sasl.password=wrong' : a));
    const r = await kcat([...args, '-L']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Authentication failed|SASL authentication error/);
  }, 60_000);
});
