// Start-up time and idle memory of a broker child process started as `npm start` starts it
// (broker/launch.cjs: the bundled broker), as the conformance harness does.
// - Start-up: from just before the process is spawned to the first ApiVersions answered on its
//   listener, polled every 2 ms; on a fresh data dir (formatted on first start) and again on the
//   same dir after a clean stop. For context, the same for `node -e 0` and `node --import tsx -e 0`
//   (the floor any broker started this way pays). Target < 300 ms.
// - Idle RSS with 1,000 partitions: VmRSS from /proc/<pid>/status before creating the topic and
//   after creating one of 1,000 partitions and leaving the broker idle. Target < 200 MiB.
// `npx tsx bench/broker-startup.ts [--samples 5] [--idle-seconds 10] [--rss-partitions 1000]`
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BrokerProcess, freePort } from '../conformance/harness/broker-process.ts';
import { ConnectionError } from '../protocol/client/connection-errors.ts';
import { KafkaConnection } from '../protocol/client/connection.ts';
import { createTopic, fmt, rssMiB, startBenchBroker } from './broker-common.ts';
import { saveFigures } from './broker-throughput.ts';

export interface StartupFigures {
  nodeBareMs: number[];
  nodeTsxMs: number[];
  freshMs: number[];
  restartMs: number[];
}

export interface RssFigures {
  partitions: number;
  emptyMiB: number;
  idleMiB: number;
  idleSeconds: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Polls host:port with ApiVersions until one is answered; ms since `t0`. Bounded by timeoutMs. */
async function firstAnswer(port: number, t0: number, timeoutMs: number, abort: { done: boolean }): Promise<number> {
  while (!abort.done && performance.now() - t0 < timeoutMs) {
    try {
      const conn = await KafkaConnection.connect('127.0.0.1', port, { connectTimeoutMs: 1000, requestTimeoutMs: 5000 });
      const at = performance.now() - t0;
      await conn.close();
      return at;
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  throw new Error(`no ApiVersions answer on port ${port} within ${timeoutMs} ms`);
}

/** Time for a Node process with these arguments to exit. */
async function processMs(args: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return performance.now() - t0;
}

async function brokerStart(dataDir: string, port: number, controllerPort: number): Promise<{ ms: number; broker: BrokerProcess }> {
  const abort = { done: false };
  const t0 = performance.now();
  const answered = firstAnswer(port, t0, 60_000, abort);
  try {
    const broker = await BrokerProcess.start({ dataDir, port, controllerPort });
    return { ms: await answered, broker };
  } catch (err) {
    abort.done = true;
    await answered.catch(() => undefined);
    throw err;
  }
}

export async function measureStartup(samples: number): Promise<StartupFigures> {
  const out: StartupFigures = { nodeBareMs: [], nodeTsxMs: [], freshMs: [], restartMs: [] };
  for (let i = 0; i < samples; i++) {
    out.nodeBareMs.push(await processMs(['-e', '0']));
    out.nodeTsxMs.push(await processMs(['--import', 'tsx', '-e', '0']));
    const dataDir = await mkdtemp(join(tmpdir(), 'samsa-bench-start-'));
    const port = await freePort();
    const controllerPort = await freePort();
    try {
      const first = await brokerStart(dataDir, port, controllerPort);
      out.freshMs.push(first.ms);
      await first.broker.stop('SIGTERM');
      const again = await brokerStart(dataDir, port, controllerPort);
      out.restartMs.push(again.ms);
      await again.broker.stop('SIGKILL');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  return out;
}

export async function measureIdleRss(partitions: number, idleSeconds: number): Promise<RssFigures> {
  const broker = await startBenchBroker({ 'num.partitions': String(partitions) });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const emptyMiB = await rssMiB(broker.pid!);
    await createTopic(broker.bootstrap, 'bench-idle', partitions, 120_000);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    return { partitions, emptyMiB, idleMiB: await rssMiB(broker.pid!), idleSeconds };
  } finally {
    await broker.destroy();
  }
}

export function printStartup(s: StartupFigures): void {
  const row = (name: string, xs: number[]): string => `${name.padEnd(36)} ${fmt(median(xs), 0, 7)} ${fmt(Math.min(...xs), 0, 7)} ${fmt(Math.max(...xs), 0, 7)}`;
  console.log(`\n== start-up: spawn to first ApiVersions answer (ms, ${s.freshMs.length} samples; target < 300 ms)`);
  console.log(`${''.padEnd(36)}  median     min     max`);
  console.log(row('broker, fresh data dir (formats)', s.freshMs));
  console.log(row('broker, restart on the same dir', s.restartMs));
  console.log(row('(node -e 0, to exit)', s.nodeBareMs));
  console.log(row('(node --import tsx -e 0, to exit)', s.nodeTsxMs));
}

export function printRss(r: RssFigures): void {
  console.log(`\n== idle RSS (VmRSS; target < 200 MiB with 1,000 partitions)`);
  console.log(`no topics:                         ${fmt(r.emptyMiB, 0, 6)} MiB`);
  console.log(`${r.partitions} partitions, idle ${r.idleSeconds} s:      ${fmt(r.idleMiB, 0, 6)} MiB`);
}

export function startupOptions(argv = process.argv.slice(2)): { samples: number; idleSeconds: number; rssPartitions: number } {
  const { values } = parseArgs({
    args: argv,
    options: { samples: { type: 'string', default: '5' }, 'idle-seconds': { type: 'string', default: '10' }, 'rss-partitions': { type: 'string', default: '1000' } },
    strict: false,
  });
  return { samples: Number(values.samples), idleSeconds: Number(values['idle-seconds']), rssPartitions: Number(values['rss-partitions']) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = startupOptions();
  const startup = await measureStartup(o.samples);
  printStartup(startup);
  const rss = await measureIdleRss(o.rssPartitions, o.idleSeconds);
  printRss(rss);
  console.log(`figures saved to ${saveFigures('broker-startup', { date: new Date().toISOString(), node: process.version, startup, rss })}`);
}
