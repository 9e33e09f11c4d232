// The broker measured as a new user would measure it: with librdkafka's own load generator,
// `rdkafka_performance`, beside librdkafka's in-memory mock broker (C, no disk, every answer from
// memory) as the reference peer. Rounds alternate the two targets (the order swaps each round),
// each round on a fresh broker (`npm start`'s code, fresh temp dir) and a fresh mock, so a busy
// machine weighs on both alike; the figures to read are the ratios broker / mock.
//
// Each round on each target: latency first (before the produce cases leave GBs of the broker's log
// for the kernel to write back), an unmeasured produce warm-up, the produce cases (their order
// swapping every round), then the reads.
// Cases (1 KiB records, one partition, rdkafka_performance's own defaults unless said):
// - produce, acks=1 and acks=all: `-P -c <records>` as fast as it goes, linger.ms=5 (librdkafka's
//   default; rdkafka_performance sets 1000 ms, a second's tail in a short run); MB/s and msgs/s of
//   delivered records, and CPU seconds per GB of record values of the target process
//   (/proc/<pid>/stat) and of rdkafka_performance (sampled every 20 ms while it runs).
// - consume: `-C -o beginning` of a partition filled just before. The mock keeps only the last
//   5 MiB of a partition (rdkafka_mock.c), so the compared read is a window of that size, read
//   `--consume-reads` times; the broker also reads the whole partition the produce case filled.
// - latency at `--rate` records/s: one `-C -l` instance tailing the partition and one `-P -l`
//   instance; per-record latencies from their `-A` files (microseconds): produce to delivery
//   report, and produce to consume. linger.ms=0 (rdkafka_performance sets 1000 ms).
//
// `npm install --prefix bench/rdkafka && npx tsx bench/rdkafka-performance.ts [--rounds 3]
//   [--records 1000000] [--duration 10] [--rate 1000] [--cases produce,consume,latency]
//   [--targets broker,mock]`; it builds what is missing of
// rdkafka_performance and the mock launcher (../shared/tools/mockcluster.c) first.
// Every process started here is stopped here, by pid; all on loopback.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSeconds, createTopic, fmt, startBenchBroker } from './broker-common.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const TOOLS = join(HERE, 'rdkafka');
const LIBRDKAFKA = join(TOOLS, 'node_modules/node-rdkafka/deps/librdkafka');
const PERF = join(LIBRDKAFKA, 'examples/rdkafka_performance');
const MOCK_SRC = resolve(ROOT, '../shared/tools/mockcluster.c');
const MOCK_BIN = join(TOOLS, 'bin/mockcluster');
const GB = 1e9;
const RECORD = 1024;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    rounds: { type: 'string', default: '3' },
    records: { type: 'string', default: '1000000' },
    duration: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    'latency-warmup': { type: 'string', default: '1' },
    'consume-records': { type: 'string', default: '4000' },
    'consume-reads': { type: 'string', default: '15' },
    'mock-fetch-wait-ms': { type: 'string', default: '1' },
    'case-timeout': { type: 'string', default: '120' },
    override: { type: 'string', multiple: true, default: [] },
    // For focused runs (a profile of one path): which cases and which targets.
    cases: { type: 'string', default: 'produce,consume,latency' },
    targets: { type: 'string', default: 'broker,mock' },
  },
  strict: true,
});
const rounds = Number(values.rounds);
const records = Number(values.records);
const duration = Number(values.duration);
const rate = Number(values.rate);
const latencyWarmup = Number(values['latency-warmup']);
const consumeRecords = Number(values['consume-records']);
const consumeReads = Number(values['consume-reads']);
const mockFetchWaitMs = Number(values['mock-fetch-wait-ms']);
const caseTimeoutMs = Number(values['case-timeout']) * 1000;
const cases = new Set(values.cases.split(','));
const targets = values.targets.split(',').filter((x): x is 'broker' | 'mock' => x === 'broker' || x === 'mock');
const brokerOverrides = Object.fromEntries(
  values.override.map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new TypeError(`--override ${kv}: expected key=value`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }),
);

// ---------------------------------------------------------------------------------------------
// The tools: rdkafka_performance from node-rdkafka's bundled librdkafka, and the mock launcher
// compiled against that same library.

function ensureTools(): void {
  if (!existsSync(join(LIBRDKAFKA, 'src/rdkafka.h'))) {
    console.error('librdkafka is not installed; run first:\n  npm install --prefix bench/rdkafka   # builds librdkafka from source: several minutes');
    process.exit(1);
  }
  if (!existsSync(join(LIBRDKAFKA, 'src/librdkafka.so.1'))) {
    console.error(`librdkafka's library is not built (no ${join(LIBRDKAFKA, 'src/librdkafka.so.1')}); run: make -C ${LIBRDKAFKA} libs`);
    process.exit(1);
  }
  if (!existsSync(PERF)) {
    console.log(`building rdkafka_performance: make -C ${join(LIBRDKAFKA, 'examples')} rdkafka_performance`);
    execFileSync('make', ['-C', join(LIBRDKAFKA, 'examples'), 'rdkafka_performance'], { stdio: 'inherit' });
  }
  if (!existsSync(MOCK_SRC)) {
    console.error(`the mock launcher's source is missing: ${MOCK_SRC}`);
    process.exit(1);
  }
  const lib = join(LIBRDKAFKA, 'src/librdkafka.so.1');
  const stale = !existsSync(MOCK_BIN) || statSync(MOCK_BIN).mtimeMs < Math.max(statSync(MOCK_SRC).mtimeMs, statSync(lib).mtimeMs);
  if (stale) {
    // mockcluster.c includes <librdkafka/rdkafka.h>: a directory whose librdkafka/ is the source folder.
    const include = join(TOOLS, 'bin/include');
    mkdirSync(include, { recursive: true });
    if (!existsSync(join(include, 'librdkafka'))) symlinkSync(join(LIBRDKAFKA, 'src'), join(include, 'librdkafka'));
    const args = ['-O2', '-I', include, '-o', MOCK_BIN, MOCK_SRC, `-L${join(LIBRDKAFKA, 'src')}`, '-l:librdkafka.so.1', `-Wl,-rpath,${join(LIBRDKAFKA, 'src')}`];
    console.log(`building the mock launcher: gcc ${args.join(' ')}`);
    execFileSync('gcc', args, { stdio: 'inherit' });
  }
}

// ---------------------------------------------------------------------------------------------
// Processes. Each is tracked until it exits; any left when this script exits are killed by pid.

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

/** CPU seconds a process has used so far, all its threads; NaN once it is gone. */
function cpuSecondsOrNaN(pid: number): Promise<number> {
  return cpuSeconds(pid).catch(() => NaN);
}

interface ToolRun {
  code: number | null;
  out: string;
  /** CPU seconds of the tool, sampled every 20 ms: short of what it used after the last sample. */
  cpu: number;
  ms: number;
}

interface Tool {
  pid: number;
  /** Resolves when `text` appears in the output (the tool's stdout is line-buffered through stdbuf). */
  printed(text: string, timeoutMs: number): Promise<boolean>;
  done: Promise<ToolRun>;
  /** Asks rdkafka_performance to stop (SIGINT: it ends its loop, writes its summary and files). */
  interrupt(): void;
}

function startTool(args: string[], timeoutMs = caseTimeoutMs): Tool {
  const started = performance.now();
  // stdbuf: rdkafka_performance's stdout is a pipe here, which C buffers fully; lines are needed as they come.
  const child = spawn('stdbuf', ['-oL', PERF, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const waiters: { text: string; resolve: (seen: boolean) => void }[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve(true);
      else waiters.push(w);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // NaN until a sample is taken: a run shorter than one interval has no figure.
  let cpu = NaN;
  const sampler = setInterval(() => {
    void cpuSecondsOrNaN(child.pid!).then((s) => {
      if (Number.isFinite(s)) cpu = s;
    });
  }, 20);
  // Bounded: SIGINT at the deadline, SIGKILL 5 s later.
  const deadline = setTimeout(() => {
    out += `\n[stopped after ${timeoutMs} ms]\n`;
    child.kill('SIGINT');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  }, timeoutMs);
  const done = new Promise<ToolRun>((resolveDone) => {
    child.once('exit', (code) => {
      live.delete(child);
      clearInterval(sampler);
      clearTimeout(deadline);
      for (const w of waiters.splice(0)) w.resolve(false);
      resolveDone({ code, out, cpu, ms: performance.now() - started });
    });
  });
  return {
    pid: child.pid!,
    done,
    printed: (text, ms) =>
      new Promise<boolean>((res) => {
        if (out.includes(text)) return res(true);
        const timer = setTimeout(() => res(false), ms);
        waiters.push({
          text,
          resolve: (seen) => {
            clearTimeout(timer);
            res(seen);
          },
        });
      }),
    interrupt: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    },
  };
}

function runTool(args: string[], timeoutMs = caseTimeoutMs): Promise<ToolRun> {
  return startTool(args, timeoutMs).done;
}

interface Target {
  name: 'broker' | 'mock';
  bootstrap: string;
  pid: number;
  /** Consumer settings for the latency case on this target. */
  latencyConsumerArgs: string[];
  stop(): Promise<void>;
}

const TOPICS = { warmup: 'perf-warmup', produce1: 'perf-produce-acks1', produceAll: 'perf-produce-acksall', consume: 'perf-consume', latency1: 'perf-latency-acks1', latencyAll: 'perf-latency-acksall' };

async function startBrokerTarget(): Promise<Target> {
  const broker = await startBenchBroker({ 'num.partitions': '1', ...brokerOverrides });
  try {
    for (const topic of Object.values(TOPICS)) await createTopic(broker.bootstrap, topic, 1);
  } catch (err) {
    await broker.destroy();
    throw err;
  }
  return { name: 'broker', bootstrap: broker.bootstrap, pid: broker.pid!, latencyConsumerArgs: [], stop: () => broker.destroy() };
}

async function startMockTarget(): Promise<Target> {
  // One broker; it lives at most as long as a round may take, should this script die without stopping it.
  const lifetime = Math.ceil((caseTimeoutMs * 8) / 1000);
  const child = spawn(MOCK_BIN, ['1', String(lifetime), ...Object.values(TOPICS).map((t) => `${t}:1:1`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const bootstrap = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`mock broker did not start in 10 s: ${stderr}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        res(out.slice(0, nl).trim());
      }
    });
    child.once('exit', (code) => rej(new Error(`mock broker exited with ${code}: ${stderr}`)));
  });
  return {
    name: 'mock',
    bootstrap,
    pid: child.pid!,
    // The mock holds an empty fetch for the whole fetch.wait.max.ms even when data arrives
    // meanwhile (rdkafka_mock_handlers.c), so with the default 500 ms it measures that wait.
    latencyConsumerArgs: ['-X', `fetch.wait.max.ms=${mockFetchWaitMs}`],
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Parsing rdkafka_performance's summary lines (the last one printed is the final one).

function lastMatch(out: string, re: RegExp): RegExpExecArray | null {
  let last: RegExpExecArray | null = null;
  for (const m of out.matchAll(new RegExp(re.source, 'g'))) last = m as RegExpExecArray;
  return last;
}

interface Throughput {
  mbps: number;
  msgsPerSec: number;
  /** Target's CPU seconds per GB of record values. */
  cpuPerGB: number;
  /** rdkafka_performance's CPU seconds per GB (sampled every 20 ms; a little low). */
  clientCpuPerGB: number;
  records: number;
  error?: string;
}

async function produceCase(t: Target, topic: string, acks: string, count = records): Promise<Throughput> {
  const before = await cpuSecondsOrNaN(t.pid);
  // linger.ms=5, librdkafka's default: rdkafka_performance sets 1000 ms, which adds up to a second
  // of waiting for the last, partly filled batch to a run that lasts a few seconds.
  const run = await runTool(['-P', '-t', topic, '-p', '0', '-b', t.bootstrap, '-s', String(RECORD), '-c', String(count), '-X', 'linger.ms=5', '-X', `acks=${acks}`]);
  const cpu = (await cpuSecondsOrNaN(t.pid)) - before;
  // "% N messages produced (B bytes), D delivered (offset O, F failed) in T ms: M msgs/s and R MB/s, ..."
  const m = lastMatch(run.out, /(\d+) messages produced \((\d+) bytes\), (\d+) delivered \(offset -?\d+, (\d+) failed\) in (\d+)ms: (\d+) msgs\/s and ([\d.]+) MB\/s/);
  const delivered = Number(m?.[3] ?? 0);
  const gb = (delivered * RECORD) / GB;
  const error = !m || run.code !== 0 || delivered !== count ? `exit ${run.code}, ${delivered}/${count} delivered: ${run.out.trim().split('\n').slice(-3).join(' | ')}` : undefined;
  return { mbps: Number(m?.[7] ?? NaN), msgsPerSec: Number(m?.[6] ?? NaN), cpuPerGB: cpu / gb, clientCpuPerGB: run.cpu / gb, records: delivered, error };
}

/** Reads `count` records from the beginning; bytes and seconds as rdkafka_performance times them (first record to last). */
async function readFromBeginning(t: Target, topic: string, count: number): Promise<{ bytes: number; seconds: number; records: number; error?: string }> {
  const run = await runTool(['-C', '-t', topic, '-p', '0', '-b', t.bootstrap, '-o', 'beginning', '-c', String(count), '-e']);
  // "% N messages (B bytes) consumed in T ms: M msgs/s (R MB/s)"
  const m = lastMatch(run.out, /(\d+) messages \((\d+) bytes\) consumed in (\d+)ms: (\d+) msgs\/s \(([\d.]+) MB\/s\)/);
  const got = Number(m?.[1] ?? 0);
  const bytes = Number(m?.[2] ?? 0);
  // MB/s is computed from microseconds, the ms figure is truncated: time from bytes and MB/s.
  const seconds = bytes / (Number(m?.[5] ?? NaN) * 1e6);
  const error = !m || got !== count ? `exit ${run.code}, ${got}/${count} records read: ${run.out.trim().split('\n').slice(-3).join(' | ')}` : undefined;
  return { bytes, seconds, records: got, error };
}

interface Consume {
  mbps: number;
  msgsPerSec: number;
  error?: string;
}

async function consumeWindowCase(t: Target): Promise<Consume> {
  // Filled just before; linger 5 ms so the last batch does not wait rdkafka_performance's 1 s linger.
  const fill = await runTool(['-P', '-t', TOPICS.consume, '-p', '0', '-b', t.bootstrap, '-s', String(RECORD), '-c', String(consumeRecords), '-X', 'linger.ms=5', '-X', 'acks=1']);
  if (fill.code !== 0) return { mbps: NaN, msgsPerSec: NaN, error: `fill failed: ${fill.out.trim().split('\n').slice(-2).join(' | ')}` };
  let bytes = 0;
  let seconds = 0;
  let got = 0;
  for (let i = 0; i < consumeReads; i++) {
    const r = await readFromBeginning(t, TOPICS.consume, consumeRecords);
    if (r.error) return { mbps: NaN, msgsPerSec: NaN, error: r.error };
    bytes += r.bytes;
    seconds += r.seconds;
    got += r.records;
  }
  return { mbps: bytes / 1e6 / seconds, msgsPerSec: got / seconds };
}

/** The broker only: the whole partition the acks=1 produce case filled (the mock keeps 5 MiB of it). */
async function consumeLongCase(t: Target): Promise<Consume> {
  const r = await readFromBeginning(t, TOPICS.produce1, records);
  return { mbps: r.bytes / 1e6 / r.seconds, msgsPerSec: r.records / r.seconds, error: r.error };
}

interface Latency {
  /** Microseconds, in delivery / consumption order, warm-up dropped. */
  ack: number[];
  e2e: number[];
  error?: string;
}

async function latencyCase(t: Target, topic: string, acks: string, dir: string): Promise<Latency> {
  const count = Math.round(rate * (duration + latencyWarmup));
  const ackFile = join(dir, `${t.name}-${topic}-ack.txt`);
  const e2eFile = join(dir, `${t.name}-${topic}-e2e.txt`);
  const consumer = startTool(['-C', '-t', topic, '-p', '0', '-b', t.bootstrap, '-o', 'beginning', '-c', String(count), '-l', '-A', e2eFile, ...t.latencyConsumerArgs]);
  // It prints this once it has fetched up to the (empty) partition's end, i.e. once it is tailing.
  const tailing = await consumer.printed('Consumer reached end of', 15_000);
  if (!tailing) {
    consumer.interrupt();
    const c = await consumer.done;
    return { ack: [], e2e: [], error: `consumer did not reach the end: ${c.out.trim().split('\n').slice(-3).join(' | ')}` };
  }
  const producer = await runTool(['-P', '-t', topic, '-p', '0', '-b', t.bootstrap, '-s', String(RECORD), '-c', String(count), '-r', String(rate), '-l', '-A', ackFile, '-X', 'linger.ms=0', '-X', `acks=${acks}`]);
  // The consumer ends by itself once it has read `count` records; a lost record would keep it waiting.
  const grace = setTimeout(() => consumer.interrupt(), 10_000);
  const c = await consumer.done;
  clearTimeout(grace);
  const skip = Math.round(rate * latencyWarmup);
  const read = (file: string): number[] =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map(Number)
          .slice(skip)
      : [];
  const ack = read(ackFile);
  const e2e = read(e2eFile);
  const problems: string[] = [];
  if (producer.code !== 0) problems.push(`producer exit ${producer.code}: ${producer.out.trim().split('\n').slice(-2).join(' | ')}`);
  if (ack.length !== count - skip) problems.push(`${ack.length + skip}/${count} delivery reports`);
  if (e2e.length !== count - skip) problems.push(`${e2e.length + skip}/${count} consumed (exit ${c.code})`);
  return { ack, e2e, error: problems.length > 0 ? problems.join('; ') : undefined };
}

// ---------------------------------------------------------------------------------------------

interface RoundResult {
  produce1: Throughput;
  produceAll: Throughput;
  consume: Consume;
  consumeLong?: Consume;
  latency1: Latency;
  latencyAll: Latency;
}

const NO_THROUGHPUT: Throughput = { mbps: NaN, msgsPerSec: NaN, cpuPerGB: NaN, clientCpuPerGB: NaN, records: 0 };
const NO_CONSUME: Consume = { mbps: NaN, msgsPerSec: NaN };
const NO_LATENCY: Latency = { ack: [], e2e: [] };

async function round(t: Target, dir: string, n: number): Promise<RoundResult> {
  // Latency first: after the produce cases the kernel is still writing back a few GB of the
  // broker's log (the mock has none), which would weigh on the broker's latency alone.
  const latency1 = cases.has('latency') ? await latencyCase(t, TOPICS.latency1, '1', dir) : NO_LATENCY;
  const latencyAll = cases.has('latency') ? await latencyCase(t, TOPICS.latencyAll, 'all', dir) : NO_LATENCY;
  const produce = cases.has('produce');
  // Unmeasured: a fresh broker's first large produce runs partly unoptimised (without it the first
  // measured case came out 0.7-0.9 x the second on a single replica, at up to 1.5 x the CPU per GB).
  if (produce) await produceCase(t, TOPICS.warmup, '1', Math.min(records, 200_000));
  // The second GB of a round is written while the kernel writes back the first (the mock writes
  // nothing), so the two acks cases swap places every round.
  let produce1 = NO_THROUGHPUT;
  let produceAll = NO_THROUGHPUT;
  if (produce && n % 2 === 1) {
    produce1 = await produceCase(t, TOPICS.produce1, '1');
    produceAll = await produceCase(t, TOPICS.produceAll, 'all');
  } else if (produce) {
    produceAll = await produceCase(t, TOPICS.produceAll, 'all');
    produce1 = await produceCase(t, TOPICS.produce1, '1');
  }
  // The whole-partition read first (it needs the produce case): it also warms the broker's fetch path before the short reads.
  const consumeLong = t.name === 'broker' && produce && cases.has('consume') ? await consumeLongCase(t) : undefined;
  const consume = cases.has('consume') ? await consumeWindowCase(t) : NO_CONSUME;
  return { produce1, produceAll, consume, consumeLong, latency1, latencyAll };
}

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Nearest-rank percentile of microseconds, in milliseconds. */
function percentileMs(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]! / 1000;
}

function describeRound(name: string, r: RoundResult): string {
  const lat = (l: Latency): string => {
    const a = [...l.ack].sort((x, y) => x - y);
    const e = [...l.e2e].sort((x, y) => x - y);
    return `ack p50/p99 ${percentileMs(a, 0.5).toFixed(2)}/${percentileMs(a, 0.99).toFixed(2)} ms, e2e ${percentileMs(e, 0.5).toFixed(2)}/${percentileMs(e, 0.99).toFixed(2)} ms`;
  };
  const parts = [
    `produce acks=1 ${r.produce1.mbps.toFixed(0)} MB/s (${r.produce1.cpuPerGB.toFixed(2)} s/GB)`,
    `acks=all ${r.produceAll.mbps.toFixed(0)} MB/s (${r.produceAll.cpuPerGB.toFixed(2)} s/GB)`,
    `consume ${r.consume.mbps.toFixed(0)} MB/s`,
    ...(r.consumeLong ? [`whole partition ${r.consumeLong.mbps.toFixed(0)} MB/s`] : []),
    `latency acks=1 ${lat(r.latency1)}`,
    `acks=all ${lat(r.latencyAll)}`,
  ];
  const errors = [r.produce1.error, r.produceAll.error, r.consume.error, r.consumeLong?.error, r.latency1.error, r.latencyAll.error].filter((e) => e !== undefined);
  return `   ${name.padEnd(6)} ${parts.join('; ')}${errors.length > 0 ? `\n   ${name} ERRORS: ${errors.join(' / ')}` : ''}`;
}

ensureTools();
const versionText = execFileSync('bash', ['-c', `"${PERF}" 2>&1 || true`], { encoding: 'utf8' });
const librdkafkaVersion = /librdkafka version (\S+)/.exec(versionText)?.[1] ?? '?';
const dir = mkdtempSync(join(tmpdir(), 'samsa-rdkafka-perf-'));
const results: Record<'broker' | 'mock', RoundResult[]> = { broker: [], mock: [] };
const loadBefore = loadavg();
const startedAt = new Date();
console.log(
  `== rdkafka_performance (librdkafka ${librdkafkaVersion}) against the broker and librdkafka's mock broker, ${startedAt.toISOString()}, node ${process.version}\n` +
    `   ${rounds} rounds; produce ${records} x ${RECORD} B records per case; consume ${consumeReads} reads of ${consumeRecords} records; latency ${duration} s (+${latencyWarmup} s warm-up, dropped) at ${rate} records/s; ` +
    `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
);
try {
  for (let r = 1; r <= rounds; r++) {
    // The order swaps every round so that neither target always runs on the warmer machine.
    const order = r % 2 === 1 ? targets : [...targets].reverse();
    console.log(`round ${r}:`);
    for (const name of order) {
      const t = name === 'broker' ? await startBrokerTarget() : await startMockTarget();
      try {
        const res = await round(t, dir, r);
        results[name].push(res);
        console.log(describeRound(name, res));
      } finally {
        await t.stop();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Report: medians of the rounds for throughput and CPU; latency percentiles over all rounds' samples.

const b = results.broker;
const m = results.mock;
const med = (rs: RoundResult[], f: (r: RoundResult) => number): number => median(rs.map(f));
const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');

console.log(`\nThroughput (medians of ${rounds} rounds; MB/s = 10^6 bytes of record values per second, as rdkafka_performance prints it):\n`);
console.log('| case | broker MB/s | broker msgs/s | broker CPU s/GB | mock MB/s | mock msgs/s | mock CPU s/GB | client CPU s/GB broker / mock | broker / mock | goal |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
const throughputRow = (label: string, f: (r: RoundResult) => Throughput, goal: number): number => {
  const ratio = med(b, (r) => f(r).mbps) / med(m, (r) => f(r).mbps);
  console.log(
    `| ${label} | ${fmt(med(b, (r) => f(r).mbps), 0, 5)} | ${fmt(med(b, (r) => f(r).msgsPerSec), 0, 7)} | ${fmt(med(b, (r) => f(r).cpuPerGB), 2, 5)} | ` +
      `${fmt(med(m, (r) => f(r).mbps), 0, 5)} | ${fmt(med(m, (r) => f(r).msgsPerSec), 0, 7)} | ${fmt(med(m, (r) => f(r).cpuPerGB), 2, 5)} | ` +
      `${fmt(med(b, (r) => f(r).clientCpuPerGB), 2, 4)} / ${fmt(med(m, (r) => f(r).clientCpuPerGB), 2, 4).trim()} | ${fmt(ratio, 2, 4)} | >= ${goal}: ${verdict(ratio >= goal)} |`,
  );
  return ratio;
};
const p1 = throughputRow('produce, acks=1', (r) => r.produce1, 0.6);
const pAll = throughputRow('produce, acks=all', (r) => r.produceAll, 0.6);
const consumeRatio = med(b, (r) => r.consume.mbps) / med(m, (r) => r.consume.mbps);
console.log(
  `| consume from beginning, ${consumeRecords} records x ${consumeReads} | ${fmt(med(b, (r) => r.consume.mbps), 0, 5)} | ${fmt(med(b, (r) => r.consume.msgsPerSec), 0, 7)} | - | ` +
    `${fmt(med(m, (r) => r.consume.mbps), 0, 5)} | ${fmt(med(m, (r) => r.consume.msgsPerSec), 0, 7)} | - | - | ${fmt(consumeRatio, 2, 4)} | >= 0.8: ${verdict(consumeRatio >= 0.8)} |`,
);
console.log(
  `| consume from beginning, whole partition (${records} records; broker only) | ${fmt(med(b, (r) => r.consumeLong?.mbps ?? NaN), 0, 5)} | ${fmt(med(b, (r) => r.consumeLong?.msgsPerSec ?? NaN), 0, 7)} | - | - | - | - | - | - | - |`,
);

console.log(`\nLatency at ${rate} records/s, ms (percentiles over all rounds' records, ${rounds} x ${duration * rate} per case; mock consumer with fetch.wait.max.ms=${mockFetchWaitMs}):\n`);
console.log('| case | broker p50 | broker p99 | broker p99.9 | mock p50 | mock p99 | mock p99.9 | goal (broker p99) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
const latencyRow = (label: string, f: (r: RoundResult) => number[], goalMs: number): number => {
  const bs = b.flatMap(f).sort((x, y) => x - y);
  const ms = m.flatMap(f).sort((x, y) => x - y);
  const p99 = percentileMs(bs, 0.99);
  console.log(
    `| ${label} | ${fmt(percentileMs(bs, 0.5), 2, 5)} | ${fmt(p99, 2, 5)} | ${fmt(percentileMs(bs, 0.999), 2, 5)} | ` +
      `${fmt(percentileMs(ms, 0.5), 2, 5)} | ${fmt(percentileMs(ms, 0.99), 2, 5)} | ${fmt(percentileMs(ms, 0.999), 2, 5)} | <= ${goalMs}: ${verdict(p99 <= goalMs)} |`,
  );
  return p99;
};
latencyRow('acks=1, produce -> ack', (r) => r.latency1.ack, 2);
latencyRow('acks=1, produce -> consume', (r) => r.latency1.e2e, 5);
latencyRow('acks=all, produce -> ack', (r) => r.latencyAll.ack, 2);
latencyRow('acks=all, produce -> consume', (r) => r.latencyAll.e2e, 5);

const errors = [...b, ...m].flatMap((r) => [r.produce1.error, r.produceAll.error, r.consume.error, r.consumeLong?.error, r.latency1.error, r.latencyAll.error]).filter((e) => e !== undefined);
console.log(
  `\nRatios broker / mock: produce acks=1 ${p1.toFixed(2)}, acks=all ${pAll.toFixed(2)} (goal >= 0.6); consume ${consumeRatio.toFixed(2)} (goal >= 0.8).` +
    `\nLoad average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s.` +
    (errors.length > 0 ? `\n${errors.length} case(s) with errors (figures above include what they measured): ${errors.join(' / ')}` : ''),
);
