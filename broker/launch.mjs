// `npm start`: runs the broker from one bundled JavaScript file instead of transpiling some 300
// TypeScript modules at every start, so a node answers its first request sooner. The bundle
// (broker/dist/main.mjs, not committed) is rebuilt with esbuild whenever a source file is newer.
// Plain JavaScript on purpose: it must run before anything is compiled.
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Log writes of many partitions and the fsyncs of checkpoints and rolled segments all run on
// libuv's thread pool; its default 4 threads let one slow fsync stall every partition's appends.
// Set before the pool starts (it starts at the first asynchronous file operation).
process.env.UV_THREADPOOL_SIZE ??= '16';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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

if (builtAt() < newestSource()) {
  const { build } = await import('esbuild');
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

const { main } = await import(pathToFileURL(outfile).href);
await main(process.argv.slice(2));
