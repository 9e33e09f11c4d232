// Certificates made at run time with the openssl tool (no private key is ever checked in): a CA,
// a server certificate for localhost/127.0.0.1, and client certificates, in PEM and PKCS12.
// `opensslAvailable` lets suites skip, visibly, where the tool is missing.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Pem {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** PKCS12 bundle of key and certificate, password PKCS12_PASSWORD. */
  p12File: string;
}

export interface TestPki {
  dir: string;
  caCert: string;
  caFile: string;
  server: Pem;
  client(name: string, subject: string): Promise<Pem>;
  /** Another server certificate for localhost/127.0.0.1 (certificate rotation). */
  serverCert(name: string, subject: string): Promise<Pem>;
  remove(): Promise<void>;
}

export const PKCS12_PASSWORD = 'test-store-pass';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

async function issue(dir: string, name: string, subject: string, server: boolean): Promise<Pem> {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  const ext = join(dir, `${name}.ext`);
  const extText = server ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n';
  await import('node:fs/promises').then((fs) => fs.writeFile(ext, extText));
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext]);
  openssl(dir, ['pkcs12', '-export', '-in', `${name}.crt`, '-inkey', `${name}.key`, '-out', `${name}.p12`, '-passout', `pass:${PKCS12_PASSWORD}`]);
  return {
    cert: await readFile(join(dir, `${name}.crt`), 'utf8'),
    key: await readFile(join(dir, `${name}.key`), 'utf8'),
    certFile: join(dir, `${name}.crt`),
    keyFile: join(dir, `${name}.key`),
    p12File: join(dir, `${name}.p12`),
  };
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-pki-'));
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Samsa Test CA']);
  const server = await issue(dir, 'server', '/C=US/O=Samsa Test/CN=localhost', true);
  return {
    dir,
    caCert: await readFile(join(dir, 'ca.crt'), 'utf8'),
    caFile: join(dir, 'ca.crt'),
    server,
    client: (name, subject) => issue(dir, name, subject, false),
    serverCert: (name, subject) => issue(dir, name, subject, true),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
