// Shared pieces of the broker benchmarks: command-line options, a broker child process (the
// conformance harness's, with `npm start`'s code), the discard sink as a child process, topic
// creation, produce and fetch runs through the load-generator workers, and printing. Every
// process started here is stopped here, by pid.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BrokerProcess } from '../conformance/harness/broker-process.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { type FetchWorkerConfig, type MergedResult, type ProduceWorkerConfig, runWorkers, spread, workerScript } from './loadgen/workers.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const MB = 1e6;
export const KiB = 1024;

export interface BenchOptions {
  /** Measured seconds per case. */
  duration: number;
  warmup: number;
  partitions: number[];
  /** Load-generator processes. */
  workers: number;
  /** Connections per worker. */
  connections: number;
  batchBytes: number;
  maxInFlight: number;
  /** Skip the machine-limit probes (they take several seconds). */
  noLimits: boolean;
  loadgen: 'internal' | 'rdkafka';
  /** Broker config overrides (`--override key=value`, repeatable), as `--override` of `npm start`. */
  brokerOverrides: Record<string, string>;
}

/** Options every broker benchmark takes; `--duration 5` for a quick run. */
export function benchOptions(argv = process.argv.slice(2)): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: process.env.BENCH_DURATION ?? '30' },
      warmup: { type: 'string' },
      partitions: { type: 'string', default: '1,8,64' },
      workers: { type: 'string', default: '1' },
      connections: { type: 'string', default: '1' },
      'batch-bytes': { type: 'string', default: String(64 * KiB) },
      'max-in-flight': { type: 'string', default: '8' },
      'no-limits': { type: 'boolean', default: false },
      loadgen: { type: 'string', default: 'internal' },
      override: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const duration = Number(values.duration);
  const loadgen = values.loadgen === 'rdkafka' ? 'rdkafka' : 'internal';
  return {
    duration,
    warmup: values.warmup !== undefined ? Number(values.warmup) : Math.min(5, Math.max(1, duration / 6)),
    partitions: values.partitions.split(',').map(Number),
    workers: Number(values.workers),
    connections: Number(values.connections),
    batchBytes: Number(values['batch-bytes']),
    maxInFlight: Number(values['max-in-flight']),
    noLimits: values['no-limits'],
    loadgen,
    brokerOverrides: Object.fromEntries(
      values.override.map((kv) => {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new TypeError(`--override ${kv}: expected key=value`);
        return [kv.slice(0, eq), kv.slice(eq + 1)];
      }),
    ),
  };
}

/** Whether the optional librdkafka binding is installed in bench/loadgen (see bench/README.md). */
export function rdkafkaInstalled(): boolean {
  return existsSync(join(HERE, 'loadgen/node_modules/@confluentinc/kafka-javascript/package.json'));
}

/** A broker child process on free loopback ports in a fresh temp dir, auto-creating topics with `numPartitions`. */
export async function startBenchBroker(overrides: Record<string, string> = {}): Promise<BrokerProcess> {
  return BrokerProcess.start({ overrides: { 'auto.create.topics.enable': 'true', ...overrides } });
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User and system CPU seconds a process has used so far, all its threads (/proc/<pid>/stat). */
export async function cpuTimes(pid: number): Promise<{ user: number; system: number }> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state; utime is the 14th field.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
}

/** CPU seconds a process has used so far, all its threads (user + system). */
export async function cpuSeconds(pid: number): Promise<number> {
  const { user, system } = await cpuTimes(pid);
  return user + system;
}

/** VmRSS of a process from /proc, MiB; `VmHWM` for its peak so far. */
export async function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/**
 * Creates a topic with `partitions` partitions: by CreateTopics when the broker serves it, else
 * by Metadata auto-creation (the broker's num.partitions must then equal `partitions`). Waits
 * until every partition has a leader; bounded by `timeoutMs`.
 */
export async function createTopic(bootstrap: string, name: string, partitions: number, timeoutMs = 60_000): Promise<void> {
  const client = new KafkaClient({ bootstrapServers: bootstrap, clientId: 'samsa-bench', requestTimeoutMs: timeoutMs });
  try {
    await client.connect();
    const conn = await client.connectionFor('any');
    if (conn.apiVersions?.has(ApiKey.CreateTopics)) {
      const res = await client.createTopics([{ name, numPartitions: partitions, replicationFactor: 1 }], { timeoutMs });
      const code = res.topics[0]?.errorCode ?? -1;
      if (code !== 0 && code !== 36 /* TOPIC_ALREADY_EXISTS */) throw new Error(`CreateTopics ${name}: error ${code} ${res.topics[0]?.errorMessage ?? ''}`);
    } else {
      await client.metadata([name], { allowAutoTopicCreation: true });
    }
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const md = await client.metadata([name]);
      const t = md.topics.find((x) => x.name === name);
      const led = t?.partitions.filter((p) => p.errorCode === 0 && p.leaderId >= 0).length ?? 0;
      if (t && t.errorCode === 0 && led === partitions && t.partitions.length === partitions) return;
      if (t && t.errorCode === 0 && t.partitions.length > 0 && t.partitions.length !== partitions) {
        throw new Error(`topic ${name} has ${t.partitions.length} partitions, wanted ${partitions}`);
      }
      if (performance.now() > deadline) throw new Error(`topic ${name}: ${led}/${partitions} partitions led after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await client.close();
  }
}

/** Whether the broker advertises an API (checked once per bootstrap). */
export async function brokerServes(bootstrap: string, apiKey: ApiKey): Promise<boolean> {
  const client = new KafkaClient({ bootstrapServers: bootstrap, clientId: 'samsa-bench' });
  try {
    const conn = await client.connectionFor('any');
    return conn.apiVersions?.has(apiKey) ?? false;
  } finally {
    await client.close();
  }
}

export interface ProduceRun {
  host: string;
  port: number;
  topic: string;
  partitions: number;
  acks: number;
  /** Record bytes per second offered over all workers; 0 = unlimited. */
  rateBytesPerSec?: number;
  /** Stop after this many bytes in all (filling a topic); 0 = run for the duration. */
  maxBytes?: number;
  maxInFlight?: number;
}

/** Produce load from the configured generator; the merged result of its workers. */
export async function produce(opts: BenchOptions, run: ProduceRun): Promise<MergedResult> {
  const parts = Array.from({ length: run.partitions }, (_, i) => i);
  const groups = spread(parts, opts.workers);
  const fill = (run.maxBytes ?? 0) > 0;
  const configs: ProduceWorkerConfig[] = groups.map((partitions) => ({
    host: run.host,
    port: run.port,
    topic: run.topic,
    partitions,
    connections: opts.connections,
    warmupMs: fill ? 0 : opts.warmup * 1000,
    durationMs: fill ? 600_000 : opts.duration * 1000,
    acks: run.acks,
    recordSize: KiB,
    batchBytes: opts.batchBytes,
    maxRequestBytes: 1024 * KiB,
    maxInFlight: run.maxInFlight ?? opts.maxInFlight,
    rateBytesPerSec: (run.rateBytesPerSec ?? 0) / groups.length,
    maxBytes: fill ? Math.ceil(run.maxBytes! / groups.length) : 0,
  }));
  if (opts.loadgen === 'rdkafka' && !rdkafkaInstalled()) {
    throw new Error('--loadgen rdkafka needs the librdkafka binding: npm install --prefix bench/loadgen');
  }
  const script = opts.loadgen === 'rdkafka' ? workerScript('rdkafka-produce-worker.ts') : workerScript('produce-worker.ts');
  return runWorkers(script, configs);
}

export interface FetchRun {
  host: string;
  port: number;
  topic: string;
  partitions: number;
}

/** Fetch load (internal client) over a topic's partitions, starting over at the high watermark. */
export async function fetchLoad(opts: BenchOptions, run: FetchRun): Promise<MergedResult> {
  const parts = Array.from({ length: run.partitions }, (_, i) => i);
  const configs: FetchWorkerConfig[] = spread(parts, opts.workers).map((partitions) => ({
    host: run.host,
    port: run.port,
    topic: run.topic,
    partitions,
    connections: opts.connections,
    warmupMs: opts.warmup * 1000,
    durationMs: opts.duration * 1000,
    maxBytes: 50 * 1024 * KiB,
    partitionMaxBytes: 1024 * KiB,
    maxWaitMs: 500,
    // One fetch in flight per partition group; a single partition gets one at a time, as in Kafka.
    maxInFlight: Math.min(partitions.length, 4),
  }));
  return runWorkers(workerScript('fetch-worker.ts'), configs);
}

/** A child Node process (a tsx script) that prints {"port": N} once listening; stopped with SIGTERM. */
export async function startPortChild(script: string, args: readonly string[], what: string): Promise<{ pid: number; port: number; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 30 s`)), 30_000);
    child.stdout!.once('data', (d: Buffer) => {
      clearTimeout(timer);
      resolve(JSON.parse(d.toString()).port as number);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The discard sink in its own process (so it does not share the generator's event loop). */
export function startSinkProcess(partitions = 1024): Promise<{ port: number; stop(): Promise<void> }> {
  return startPortChild(join(HERE, 'loadgen/discard-sink.ts'), [String(partitions)], 'discard sink');
}

export function fmt(n: number, digits = 0, width = 8): string {
  return (Number.isFinite(n) ? n.toFixed(digits) : '-').padStart(width);
}

export function describeErrors(r: MergedResult): string {
  return r.errors > 0 ? `  (${r.errors} errors, e.g. ${r.errorSamples[0] ?? '?'})` : '';
}

export function header(title: string, opts: BenchOptions): void {
  console.log(`\n== ${title}`);
  console.log(
    `   ${new Date().toISOString()}  node ${process.version}  duration ${opts.duration}s (+${opts.warmup}s warm-up)  loadgen ${opts.loadgen}: ${opts.workers} worker(s) x ${opts.connections} connection(s), ${opts.maxInFlight} in flight, batches of ${opts.batchBytes / KiB} KiB`,
  );
}
