// kafka-python and confluent-kafka-python over SASL_SSL with SCRAM-SHA-512: produce, then consume
// in a consumer group. Each skips, visibly, when its Debian package does not import.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, pythonModuleVersion } from '../harness/python.ts';
import { makeTestPki, opensslAvailable, type TestPki } from './certs.ts';
import { run, samsa } from './run-process.ts';
import { type SecureBroker, startSecureBroker } from './secure-broker.ts';

const SCRIPT = fileURLToPath(new URL('./python_clients.py', import.meta.url));
const HAVE_OPENSSL = opensslAvailable();
const CLIENTS = [
  { name: 'kafka-python', availability: await pythonModuleVersion('kafka', 'kafka.__version__', 'python3-kafka') },
  { name: 'confluent-kafka', availability: await pythonModuleVersion('confluent_kafka', 'confluent_kafka.version()[0]', 'python3-confluent-kafka') },
];
for (const c of CLIENTS) if ('unavailable' in c.availability) console.warn(`conformance/security: skipping ${c.name}: ${c.availability.unavailable}`);
if (!HAVE_OPENSSL) console.warn('conformance/security: openssl not found; skipping the Python security suite');
const ANY = CLIENTS.some((c) => 'version' in c.availability);

describe.skipIf(!HAVE_OPENSSL || !ANY)('Python clients over SASL_SSL', () => {
  let pki: TestPki;
  let b: SecureBroker;

  beforeAll(async () => {
    pki = await makeTestPki();
    b = await startSecureBroker(pki);
    const r = await samsa(['configs', '--bootstrap-server', b.plaintext, '--alter', '--add-config', 'SCRAM-SHA-512=[password=frank-secret]', '--entity-type', 'users', '--entity-name', 'frank']);
    expect(r.stdout).toContain('Completed updating config for user frank.');
  }, 120_000);

  afterAll(async () => {
    await b?.broker.destroy();
    await pki?.remove();
  });

  for (const c of CLIENTS) {
    it.skipIf(!('version' in c.availability))(`${c.name} produces and consumes in a group with SCRAM-SHA-512`, async () => {
      const topic = `python-${c.name}`;
      const r = await run(PYTHON, [SCRIPT, c.name, b.saslSsl, 'SCRAM-SHA-512', 'frank', 'frank-secret', pki.caFile, topic], { timeoutMs: 100_000 });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      const result = JSON.parse(line || '{"error":"no output"}') as { consumed?: string[]; error?: string };
      expect(result.error, r.stderr.slice(-2000)).toBeUndefined();
      expect(result.consumed).toEqual(['one', 'two', 'three']);
    }, 120_000);
  }
});
