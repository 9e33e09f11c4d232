// `npm start`: runs the broker from one bundled JavaScript file instead of transpiling some 300
// TypeScript modules at every start, so a node answers its first request sooner. The bundle
// (broker/dist/main.mjs, not committed) is rebuilt with esbuild whenever a source file is newer.
// Plain JavaScript on purpose: it must run before anything is compiled. CommonJS on purpose too:
// the ES module loader reads an entry file through libuv's thread pool, which fixes the pool's
// size before any line of an .mjs entry could set it; a CommonJS entry is read synchronously.
// package.json's start script also sizes V8's heap (--initial-old-space-size), as Kafka's start
// script sizes the JVM's: sized for the broker's ~10 MB of live objects, V8 otherwise runs a full
// mark-compact every ~100 ms under produce load (the request buffers' churn), pausing every client.
'use strict';
const { mkdirSync, readdirSync, renameSync, statSync } = require('node:fs');
const { join, dirname } = require('node:path');
const { pathToFileURL } = require('node:url');

// Log writes of many partitions and the fsyncs of checkpoints and rolled segments all run on
// libuv's thread pool; its default 4 threads let one slow fsync stall every partition's appends.
// Set before the pool starts (it starts at the first asynchronous file operation).
process.env.UV_THREADPOOL_SIZE ??= '16';

// Started by `samsa server-start` (broker/start-command.ts), which waits on this process: if that
// process dies without passing a signal on, its end of our stdin closes, and we stop cleanly.
if (process.env.SAMSA_STOP_WITH_PARENT === '1') {
  delete process.env.SAMSA_STOP_WITH_PARENT;
  process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
}

const root = join(__dirname, '..');
const outfile = join(root, 'broker/dist/main.mjs');
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

function builtAt() {
  try {
    return statSync(outfile).mtimeMs;
  } catch {
    return 0;
  }
}

async function launch() {
  if (builtAt() < newestSource()) await bundle();
  const { main } = await import(pathToFileURL(outfile).href);
  await main(process.argv.slice(2));
}

async function bundle() {
  const { build } = require('esbuild');
  mkdirSync(dirname(outfile), { recursive: true });
  // Written aside and renamed, so concurrent starts never load a half-written bundle.
  const tmp = `${outfile}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(root, 'broker/main.ts')],
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

launch().catch((err) => {
  console.error(err);
  process.exit(1);
});
