// What metrics cost on the produce path: peak produce throughput (1 KiB records, acks=1, the
// same generator as broker-throughput.ts) through a broker child process with metrics.enabled
// true and false, alternated round by round in the same run (off, on, off, on, ...) so that a
// machine shared with other work weighs on both alike; a fresh broker and data dir per run.
// Beside MB/s, the broker process's CPU time per GB produced (from /proc, warm-up included for
// both alike): on a contended machine throughput swings with the neighbours' load, the CPU spent
// per byte less so. Goal: on within 3% of off. A scrape costs apart from that, once per scrape
// interval rather than per request: after each run with metrics on, /metrics is read 5 times and
// the broker's CPU time per scrape and the body's size are printed. First, in this process, the
// metrics work each produce request adds (the request observer's counts, histograms and error
// walk, and the per-topic counts), timed per call: the figure that noise does not swamp.
// `npx tsx bench/metrics-overhead.ts [--duration 10] [--partitions 1,8] [--rounds 3] [broker-common options]`
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { EMPTY_IMAGE } from '../controller/metadata/image.ts';
import { RequestMetrics } from '../broker/metrics/request-metrics.ts';
import { TopicMetrics } from '../broker/metrics/topic-metrics.ts';
import { freePort } from '../conformance/harness/broker-process.ts';
import { benchOptions, createTopic, describeErrors, fmt, header, produce, startBenchBroker } from './broker-common.ts';

export interface MetricsOverheadFigures {
  /** In-process nanoseconds of metrics work per produce request. */
  perRequestNs: number;
  partitions: number;
  offMBps: number[];
  onMBps: number[];
  /** Broker CPU seconds per GB of record batches acknowledged. */
  offCpuPerGB: number[];
  onCpuPerGB: number[];
  scrapeBytes: number;
  /** Broker CPU milliseconds per /metrics read (clock ticks of 10 ms, averaged over 5 reads). */
  scrapeCpuMs: number[];
}

/** Nanoseconds per produce request of the observer's work (median of 5 runs of 100,000). */
function measurePerRequest(): number {
  const registry = new Registry();
  const requests = new RequestMetrics(registry);
  const topics = new TopicMetrics(registry, () => EMPTY_IMAGE, new Set(['CONTROLLER']));
  const response = { responses: [{ name: 'bench', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null }] }], throttleTimeMs: 0 };
  const t = { listenerName: 'PLAINTEXT', apiKey: 0, apiVersion: 9, requestBytes: 65_600, responseBytes: 60, response, failed: false, receivedNs: 0n, startedNs: 100_000n, completedNs: 900_000n, remoteNs: 0n, sentNs: 950_000n, sendCompletedNs: 960_000n };
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

function measureHrtime(): number {
  const n = 1_000_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) process.hrtime.bigint();
  return Number(process.hrtime.bigint() - start) / n;
}

/** User + system CPU seconds of a process so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function runMetricsOverheadBench(argv: string[]): Promise<MetricsOverheadFigures[]> {
  const args = [...argv];
  let rounds = 3;
  const at = args.findIndex((a) => a === '--rounds' || a.startsWith('--rounds='));
  if (at >= 0) rounds = Number(args[at]!.includes('=') ? args.splice(at, 1)[0]!.split('=')[1] : args.splice(at, 2)[1]);
  // Shorter runs than the other produce benchmarks by default: the comparison needs several rounds.
  const opts = benchOptions(['--duration', '10', '--partitions', '1,8', ...args]);
  const perRequestNs = measurePerRequest();
  console.log(`metrics work per produce request, in process: ${perRequestNs.toFixed(0)} ns (process.hrtime.bigint() alone: ${measureHrtime().toFixed(0)} ns, for the machine's speed)`);
  header(`metrics overhead: peak produce MB/s (acks=1), metrics off and on alternated, ${rounds} rounds`, opts);
  const figures: MetricsOverheadFigures[] = [];
  for (const partitions of opts.partitions) {
    const f: MetricsOverheadFigures = { perRequestNs, partitions, offMBps: [], onMBps: [], offCpuPerGB: [], onCpuPerGB: [], scrapeBytes: 0, scrapeCpuMs: [] };
    for (let round = 0; round < rounds; round++) {
      for (const enabled of [false, true]) {
        const httpPort = await freePort();
        const broker = await startBenchBroker({ 'num.partitions': String(partitions), 'metrics.enabled': String(enabled), 'http.listeners': `http://127.0.0.1:${httpPort}`, ...opts.brokerOverrides });
        try {
          const topic = 'bench-metrics';
          await createTopic(broker.bootstrap, topic, partitions);
          const cpu0 = await cpuSeconds(broker.pid!);
          const r = await produce(opts, { host: '127.0.0.1', port: broker.port, topic, partitions, acks: 1 });
          const cpu = (await cpuSeconds(broker.pid!)) - cpu0;
          const perGB = cpu / ((r.mbps * (opts.duration + opts.warmup)) / 1000);
          (enabled ? f.onMBps : f.offMBps).push(r.mbps);
          (enabled ? f.onCpuPerGB : f.offCpuPerGB).push(perGB);
          let scrape = '';
          if (enabled) {
            const scrapes = 5;
            const before = await cpuSeconds(broker.pid!);
            for (let i = 0; i < scrapes; i++) f.scrapeBytes = (await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()).length;
            f.scrapeCpuMs.push((((await cpuSeconds(broker.pid!)) - before) * 1000) / scrapes);
            scrape = `  scrape: ${(f.scrapeBytes / 1024).toFixed(0)} KiB, ${f.scrapeCpuMs.at(-1)!.toFixed(0)} ms of broker CPU`;
          }
          console.log(`partitions ${fmt(partitions, 0, 3)}  round ${round + 1}  metrics ${enabled ? 'on ' : 'off'} ${fmt(r.mbps, 0, 7)} MB/s ${fmt(r.recordsPerSec, 0, 9)} records/s ${fmt(perGB, 2, 7)} broker CPU s/GB${scrape}${describeErrors(r)}`);
        } finally {
          await broker.destroy();
        }
      }
    }
    figures.push(f);
    const off = median(f.offMBps);
    const on = median(f.onMBps);
    const offCpu = median(f.offCpuPerGB);
    const onCpu = median(f.onCpuPerGB);
    console.log(
      `partitions ${partitions}: median off ${off.toFixed(0)} MB/s, on ${on.toFixed(0)} MB/s: on/off ${(on / off).toFixed(3)} (goal >= 0.97); ` +
        `broker CPU per GB off ${offCpu.toFixed(2)} s, on ${onCpu.toFixed(2)} s: on/off ${(onCpu / offCpu).toFixed(3)} (goal <= 1.03); a scrape ${(f.scrapeBytes / 1024).toFixed(0)} KiB for ${median(f.scrapeCpuMs).toFixed(0)} ms of broker CPU (${(median(f.scrapeCpuMs) / 150).toFixed(2)}% of a core at a 15 s interval)`,
    );
  }
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMetricsOverheadBench(process.argv.slice(2));
