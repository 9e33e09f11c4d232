// `npm start`: runs the broker from one bundled JavaScript file (broker/bundle.cjs) instead of
// transpiling some 300 TypeScript modules at every start, so a node answers its first request
// sooner. Plain JavaScript on purpose: it must run before anything is compiled. CommonJS on
// purpose too: the ES module loader reads an entry file through libuv's thread pool, which fixes the pool's
// size before any line of an .mjs entry could set it; a CommonJS entry is read synchronously.
// package.json's start script also sizes V8's heap (--initial-old-space-size), as Kafka's start
// script sizes the JVM's: sized for the broker's ~10 MB of live objects, V8 otherwise runs a full
// mark-compact every ~100 ms under produce load (the request buffers' churn), pausing every client.
'use strict';
const { bundled } = require('./bundle.cjs');

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

async function launch() {
  const { main } = await import(await bundled('broker/main.ts', 'main'));
  await main(process.argv.slice(2));
}

launch().catch((err) => {
  console.error(err);
  process.exit(1);
});
