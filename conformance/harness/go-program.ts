// Builds a client folder's Go program against Debian's Go packages (GOPATH mode, no module
// downloads) into the OS temp dir, or says why it cannot: no Go toolchain, a missing package, or
// a build error. Versions come from the Debian packages that provide the libraries.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './child-json.ts';

const GOPATH_DIR = join(tmpdir(), 'samsa-conformance-go');

export async function debianVersion(pkg: string): Promise<string | null> {
  try {
    const r = await run('dpkg-query', ['-W', '-f', '${Version}', pkg], { timeoutMs: 10_000 });
    return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
  } catch {
    return null;
  }
}

/** Builds `<dir>/main.go`; resolves with the binary's path, or the reason it could not be built. */
export async function buildGoProgram(dir: string, name: string, debianPackage: string): Promise<{ binary: string; version: string } | { unavailable: string }> {
  const version = await debianVersion(debianPackage);
  if (version === null) return { unavailable: `Debian package ${debianPackage} is not installed (apt-get install golang-go ${debianPackage})` };
  mkdirSync(GOPATH_DIR, { recursive: true });
  const binary = join(GOPATH_DIR, name);
  try {
    const r = await run('go', ['build', '-o', binary, 'main.go'], {
      cwd: dir,
      timeoutMs: 240_000,
      env: { GO111MODULE: 'off', GOPATH: `/usr/share/gocode:${GOPATH_DIR}`, GOFLAGS: '' },
    });
    if (r.timedOut) return { unavailable: 'go build did not finish within 240 s' };
    if (r.code !== 0) {
      const errors = r.stderr.split('\n').filter((l) => /\.go:\d+|cannot find package|undefined/.test(l));
      return { unavailable: `go build failed with Debian's packages: ${(errors[0] ?? r.stderr.trim().split('\n').pop() ?? '').trim()}` };
    }
  } catch {
    return { unavailable: 'no Go toolchain (apt-get install golang-go)' };
  }
  return { binary, version };
}
