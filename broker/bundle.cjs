// One bundled JavaScript file per entry point (the broker's, the samsa command's), rebuilt with
// esbuild whenever a source file is newer, so a start does not transpile some 300 TypeScript
// modules. Bundles live in broker/dist/ (not committed), two levels below the project's root as
// the sources are, so paths a module takes from import.meta.url hold in the bundle too.
// Plain CommonJS JavaScript: it runs before anything is compiled.
'use strict';
const { mkdirSync, readdirSync, renameSync, statSync } = require('node:fs');
const { join, dirname } = require('node:path');
const { pathToFileURL } = require('node:url');

const root = join(__dirname, '..');
const SOURCES = ['broker', 'protocol', 'storage', 'controller'];

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (e.name !== 'dist' && e.name !== 'node_modules') walk(join(dir, e.name));
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        newest = Math.max(newest, statSync(join(dir, e.name)).mtimeMs);
      }
    }
  };
  for (const d of SOURCES) walk(join(root, d));
  return newest;
}

function builtAt(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** The file URL of `name`'s bundle (broker/dist/<name>.mjs) of `entry` (relative to the root), built if stale. */
async function bundled(entry, name) {
  const outfile = join(root, 'broker/dist', `${name}.mjs`);
  if (builtAt(outfile) < newestSource()) {
    const { build } = require('esbuild');
    mkdirSync(dirname(outfile), { recursive: true });
    // Written aside and renamed, so concurrent starts never load a half-written bundle.
    const tmp = `${outfile}.${process.pid}.tmp`;
    await build({
      entryPoints: [join(root, entry)],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
    renameSync(tmp, outfile);
  }
  return pathToFileURL(outfile).href;
}

module.exports = { bundled };
