// What metrics cost on the produce path: peak produce throughput (1 KiB records, acks=1, the
// same generator as broker-throughput.ts) through a broker child process with metrics.enabled
// true and false, alternated in the same run so that a machine shared with other work weighs on
// both alike, in the order off-on, on-off, off-on, ... so that whatever one run leaves behind
// for the next (dirty pages being written back, a data dir being removed) falls on both modes
// alike; a fresh broker and data dir per run. `--side-by-side` runs the two brokers at the same
// time instead, each with its own load generator: a slow spell of the machine (this one's speed
// swings by 2x for tens of seconds, native CRC work included) then weighs on both, and they
// share the cores as they can, so the one that costs more per byte gets fewer bytes through.
// `--control` runs both slots with metrics off: the ratio it prints is the benchmark's own bias
// and noise, to read the real ratio against. `--rate <MB/s>` offers each broker that load instead
// of as much as it takes: side by side below saturation, neither broker's share of the cores
// feeds back into its cost per byte, and CPU per GB is the precise figure (an interval of about
// ±1% in 16 rounds, against ±4-6% at peak). With SAMSA_BROKER_NODE_ARGS=--trace-gc each run also
// prints V8's collections per GB.
// Beside MB/s, the broker process's CPU time per GB produced (from /proc, warm-up included for
// both alike): on a contended machine throughput swings with the neighbours' load, the CPU spent
// per byte less so. Goal: on within 3% of off. A scrape costs apart from that, once per scrape
// interval rather than per request: after each run with metrics on, /metrics is read 5 times and
// the broker's CPU time per scrape and the body's size are printed. First, in this process, the
// metrics work each produce request adds (the request observer's counts, histograms and error
// walk, and the per-topic counts), timed per call: the figure that noise does not swamp.
// `npx tsx bench/metrics-overhead.ts [--duration 10] [--partitions 1,8] [--rounds 3] [--side-by-side] [--control] [--rate MB/s] [broker-common options]`
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { EMPTY_IMAGE } from '../controller/metadata/image.ts';
import { RequestMetrics } from '../broker/metrics/request-metrics.ts';
import { TopicMetrics } from '../broker/metrics/topic-metrics.ts';
import { freePort } from '../conformance/harness/broker-process.ts';
import { benchOptions, cpuSeconds, cpuTimes, createTopic, describeErrors, fmt, header, produce, startBenchBroker } from './broker-common.ts';

/** One run's figures. */
interface Run {
  mbps: number;
  /** Broker CPU seconds per GB of record batches acknowledged: user + system, and user alone. */
  cpuPerGB: number;
  userPerGB: number;
}

export interface MetricsOverheadFigures {
  /** In-process nanoseconds of metrics work per produce request. */
  perRequestNs: number;
  partitions: number;
  /** Per round, the run with metrics off and the one with them on. */
  rounds: { off: Run; on: Run }[];
  scrapeBytes: number;
  /** Broker CPU milliseconds per /metrics read (clock ticks of 10 ms, averaged over 5 reads). */
  scrapeCpuMs: number[];
}

/**
 * The geometric mean of the rounds' on/off ratios and its 95% interval (t over the log ratios).
 * Pairing each run with its neighbour cancels the drift over a run, which on this machine (page
 * cache filling, neighbours' load) moves MB/s by more than the effect measured.
 */
function pairedRatio(rounds: { off: Run; on: Run }[], pick: (r: Run) => number): { ratio: number; low: number; high: number } {
  const logs = rounds.map((r) => Math.log(pick(r.on) / pick(r.off)));
  const n = logs.length;
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  // Student's t at 97.5% for n-1 degrees of freedom (n up to 30; 2.0 beyond).
  const T = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06, 2.05, 2.05, 2.05];
  const half = (T[n - 2] ?? 2.0) * (sd / Math.sqrt(n));
  return { ratio: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) };
}

/** Nanoseconds per produce request of the observer's work (median of 5 runs of 100,000). */
function measurePerRequest(): number {
  const registry = new Registry();
  const requests = new RequestMetrics(registry);
  const topics = new TopicMetrics(registry, () => EMPTY_IMAGE, new Set(['CONTROLLER']));
  const response = { responses: [{ name: 'bench', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null }] }], throttleTimeMs: 0 };
  const t = { listenerName: 'PLAINTEXT', apiKey: 0, apiVersion: 9, requestBytes: 65_600, responseBytes: 60, response, failed: false, receivedMs: 5000, startedMs: 5000.1, completedMs: 5000.9, remoteMs: 0, sentMs: 5000.95, sendCompletedMs: 5000.96 };
  const runs: number[] = [];
  for (let run = 0; run < 6; run++) {
    const n = 100_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      requests.requestCompleted(t);
      topics.requestCompleted(t);
    }
    if (run > 0) runs.push(Number(process.hrtime.bigint() - start) / n);
  }
  return median(runs);
}

/** Nanoseconds per reading of the clock the connection times requests with. */
function measureClock(): number {
  const n = 1_000_000;
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += performance.now();
  if (sink === 0) console.log('');
  return Number(process.hrtime.bigint() - start) / n;
}

/** With SAMSA_BROKER_NODE_ARGS=--trace-gc: V8's collections per GB in a run's part of the broker's output. */
function gcPerGB(output: string, gb: number): string {
  const pauses = (kind: string) => [...output.matchAll(new RegExp(`${kind}[^\\n]*?, ([\\d.]+) / [\\d.]+ ms`, 'g'))].map((m) => Number(m[1]));
  const scavenges = pauses('Scavenge');
  const compacts = pauses('Mark-Compact');
  if (scavenges.length + compacts.length === 0) return '';
  const ms = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return `  per GB: ${(scavenges.length / gb).toFixed(0)} scavenges (${(ms(scavenges) / gb).toFixed(0)} ms), ${(compacts.length / gb).toFixed(1)} mark-compacts (${(ms(compacts) / gb).toFixed(0)} ms)`;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function runMetricsOverheadBench(argv: string[]): Promise<MetricsOverheadFigures[]> {
  const args = [...argv];
  const numberArg = (name: string, fallback: number): number => {
    const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
    if (at < 0) return fallback;
    return Number(args[at]!.includes('=') ? args.splice(at, 1)[0]!.split('=')[1] : args.splice(at, 2)[1]);
  };
  const rounds = numberArg('--rounds', 3);
  const rateMBps = numberArg('--rate', 0);
  const controlAt = args.indexOf('--control');
  const control = controlAt >= 0;
  if (control) args.splice(controlAt, 1);
  const sideAt = args.indexOf('--side-by-side');
  const sideBySide = sideAt >= 0;
  if (sideBySide) args.splice(sideAt, 1);
  // Shorter runs than the other produce benchmarks by default: the comparison needs several rounds.
  const opts = benchOptions(['--duration', '10', '--partitions', '1,8', ...args]);
  const perRequestNs = measurePerRequest();
  console.log(`metrics work per produce request, in process: ${perRequestNs.toFixed(0)} ns (performance.now() alone: ${measureClock().toFixed(0)} ns, for the machine's speed)`);
  const load = rateMBps > 0 ? `produce at ${rateMBps} MB/s` : 'peak produce MB/s';
  header(`metrics overhead: ${load} (acks=1), metrics off and on ${sideBySide ? 'side by side' : 'alternated'}, ${rounds} rounds`, opts);
  const figures: MetricsOverheadFigures[] = [];
  for (const partitions of opts.partitions) {
    const f: MetricsOverheadFigures = { perRequestNs, partitions, rounds: [], scrapeBytes: 0, scrapeCpuMs: [] };
    const start = async (enabled: boolean) => {
      const httpPort = await freePort();
      const broker = await startBenchBroker({ 'num.partitions': String(partitions), 'metrics.enabled': String(enabled && !control), 'http.listeners': `http://127.0.0.1:${httpPort}`, ...opts.brokerOverrides });
      return { broker, enabled, httpPort };
    };
    const measure = async ({ broker, enabled, httpPort }: Awaited<ReturnType<typeof start>>, round: number): Promise<Run> => {
      const topic = 'bench-metrics';
      await createTopic(broker.bootstrap, topic, partitions);
      const logMark = broker.logs.length;
      const before = await cpuTimes(broker.pid!);
      const r = await produce(opts, { host: '127.0.0.1', port: broker.port, topic, partitions, acks: 1, rateBytesPerSec: rateMBps * 1e6 });
      const after = await cpuTimes(broker.pid!);
      const gb = (r.mbps * (opts.duration + opts.warmup)) / 1000;
      const run: Run = { mbps: r.mbps, cpuPerGB: (after.user + after.system - before.user - before.system) / gb, userPerGB: (after.user - before.user) / gb };
      let scrape = '';
      if (enabled && !control) {
        const scrapes = 5;
        const before = await cpuSeconds(broker.pid!);
        for (let i = 0; i < scrapes; i++) f.scrapeBytes = (await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()).length;
        f.scrapeCpuMs.push((((await cpuSeconds(broker.pid!)) - before) * 1000) / scrapes);
        scrape = `  scrape: ${(f.scrapeBytes / 1024).toFixed(0)} KiB, ${f.scrapeCpuMs.at(-1)!.toFixed(0)} ms of broker CPU`;
      }
      const mode = enabled ? (control ? 'off (control)' : 'on ') : 'off';
      const gc = gcPerGB(broker.logs.slice(logMark), gb);
      console.log(
        `partitions ${fmt(partitions, 0, 3)}  round ${fmt(round + 1, 0, 2)}  metrics ${mode.padEnd(13)} ${fmt(r.mbps, 0, 7)} MB/s ${fmt(r.recordsPerSec, 0, 9)} records/s ${fmt(run.cpuPerGB, 2, 7)} broker CPU s/GB (user ${fmt(run.userPerGB, 2, 5)})${gc}${scrape}${describeErrors(r)}`,
      );
      return run;
    };
    for (let round = 0; round < rounds; round++) {
      if (sideBySide) {
        const both = await Promise.all([start(false), start(true)]);
        try {
          // Both at once: whatever slows the machine meanwhile slows both.
          const [off, on] = await Promise.all(both.map((b) => measure(b, round)));
          f.rounds.push({ off: off!, on: on! });
        } finally {
          await Promise.all(both.map((b) => b.broker.destroy()));
        }
        continue;
      }
      const pair: Partial<{ off: Run; on: Run }> = {};
      for (const enabled of round % 2 === 0 ? [false, true] : [true, false]) {
        const b = await start(enabled);
        try {
          pair[enabled ? 'on' : 'off'] = await measure(b, round);
        } finally {
          await b.broker.destroy();
        }
      }
      f.rounds.push(pair as { off: Run; on: Run });
    }
    figures.push(f);
    const show = (x: { ratio: number; low: number; high: number }): string => `${x.ratio.toFixed(3)} (95% interval ${x.low.toFixed(3)}-${x.high.toFixed(3)})`;
    const scrapeMs = median(f.scrapeCpuMs);
    console.log(
      `partitions ${partitions}${control ? ' (control: both off)' : ''}, on/off over ${rounds} paired rounds: MB/s ${show(pairedRatio(f.rounds, (r) => r.mbps))} ${rateMBps > 0 ? '(the load offered)' : '(goal >= 0.97)'}; ` +
        `broker CPU per GB ${show(pairedRatio(f.rounds, (r) => r.cpuPerGB))}, user CPU per GB ${show(pairedRatio(f.rounds, (r) => r.userPerGB))} (goal <= 1.03)` +
        (control ? '' : `; a scrape ${(f.scrapeBytes / 1024).toFixed(0)} KiB for ${scrapeMs.toFixed(0)} ms of broker CPU (${(scrapeMs / 150).toFixed(2)}% of a core at a 15 s interval)`),
    );
  }
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMetricsOverheadBench(process.argv.slice(2));
