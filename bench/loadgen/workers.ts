// Load-generator worker processes: their configs and results, and the parent side that starts
// them, starts their load at one moment, and merges what they measured.
// Protocol over the IPC channel: the parent forks each worker with its config as JSON in argv; a
// worker connects, says {type:'ready'}; once all are ready the parent says {type:'go'}; a worker
// ends with {type:'result'} or {type:'error'} and exits. Every worker is bounded by its own
// duration and, as a backstop, by a parent timer that kills it (by pid, only the processes
// started here).
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type HistogramSnapshot, LatencyHistogram } from './latency-histogram.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface CommonWorkerConfig {
  host: string;
  port: number;
  topic: string;
  /** Partitions this worker writes or reads, spread over its connections. */
  partitions: number[];
  /** Connections this worker opens to the broker. */
  connections: number;
  /** Load before measuring (not counted). */
  warmupMs: number;
  /** Measured window after the warm-up. */
  durationMs: number;
}

export interface ProduceWorkerConfig extends CommonWorkerConfig {
  acks: number;
  recordSize: number;
  batchBytes: number;
  /** Largest Produce request (max.request.size): batches of several partitions share a request up to it. */
  maxRequestBytes: number;
  /** Requests in flight per connection (max.in.flight.requests.per.connection). */
  maxInFlight: number;
  /** Record bytes per second this worker offers; 0 = as fast as acknowledged. */
  rateBytesPerSec: number;
  /** Stop after sending this many batch bytes (0 = no limit; used to fill topics). */
  maxBytes: number;
}

export interface FetchWorkerConfig extends CommonWorkerConfig {
  /** fetch.max.bytes and max.partition.fetch.bytes. */
  maxBytes: number;
  partitionMaxBytes: number;
  maxWaitMs: number;
  /** Fetches in flight per connection; > 1 splits the connection's partitions over them. */
  maxInFlight: number;
}

export interface WorkerResult {
  /** Batch bytes acknowledged (produce) or received (fetch) inside the measured window. */
  bytes: number;
  records: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  /** The measured window, ms. */
  elapsedMs: number;
  /** Request latency: send (or, rate-limited, its scheduled time) to response. */
  latency: HistogramSnapshot;
}

export type WorkerMessage = { type: 'ready' } | { type: 'result'; result: WorkerResult } | { type: 'error'; message: string };

export interface MergedResult {
  workers: number;
  bytes: number;
  records: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  /** MB/s (10^6) of batch bytes over the longest worker window. */
  mbps: number;
  recordsPerSec: number;
  latency: LatencyHistogram;
}

/** A worker script in this folder, by file name. */
export function workerScript(name: string): string {
  return join(HERE, name);
}

/** Runs workers of one script with their configs; resolves with the merged result. */
export async function runWorkers(script: string, configs: readonly CommonWorkerConfig[], extraMillis = 60_000): Promise<MergedResult> {
  const children: ChildProcess[] = [];
  const backstopMs = Math.max(...configs.map((c) => c.warmupMs + c.durationMs)) + extraMillis;
  const backstop = setTimeout(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }, backstopMs);
  try {
    const ready: Promise<void>[] = [];
    const results: Promise<WorkerResult>[] = [];
    for (const config of configs) {
      const child = fork(script, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      let onReady!: () => void;
      ready.push(new Promise<void>((r) => (onReady = r)));
      results.push(
        new Promise<WorkerResult>((resolve, reject) => {
          child.on('message', (m: WorkerMessage) => {
            if (m.type === 'ready') onReady();
            else if (m.type === 'result') resolve(m.result);
            else reject(new Error(`worker ${child.pid}: ${m.message}`));
          });
          child.once('exit', (code, signal) => reject(new Error(`worker ${child.pid} exited (code ${code}, signal ${signal}) without a result`)));
        }),
      );
    }
    // A worker that fails before it is ready rejects its result; don't wait for its 'ready' then.
    await Promise.race([Promise.all(ready), Promise.all(results)]);
    for (const c of children) c.send({ type: 'go' });
    return mergeResults(await Promise.all(results));
  } finally {
    clearTimeout(backstop);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

export function mergeResults(results: readonly WorkerResult[]): MergedResult {
  const latency = new LatencyHistogram();
  let bytes = 0;
  let records = 0;
  let requests = 0;
  let errors = 0;
  let elapsedMs = 0;
  const errorSamples: string[] = [];
  for (const r of results) {
    bytes += r.bytes;
    records += r.records;
    requests += r.requests;
    errors += r.errors;
    elapsedMs = Math.max(elapsedMs, r.elapsedMs);
    errorSamples.push(...r.errorSamples.slice(0, 3));
    latency.merge(r.latency);
  }
  const secs = elapsedMs / 1000 || 1;
  return { workers: results.length, bytes, records, requests, errors, errorSamples, mbps: bytes / 1e6 / secs, recordsPerSec: records / secs, latency };
}

/** The worker side: reads the config, announces readiness, waits for go, reports. */
export async function workerMain<C>(connect: (config: C) => Promise<() => Promise<WorkerResult>>): Promise<void> {
  const send = (m: WorkerMessage): void => void process.send?.(m);
  try {
    const config = JSON.parse(process.argv[2] ?? '{}') as C;
    const run = await connect(config);
    await new Promise<void>((resolve) => {
      process.once('message', () => resolve());
      send({ type: 'ready' });
    });
    const result = await run();
    await new Promise<void>((resolve) => process.send!({ type: 'result', result } satisfies WorkerMessage, () => resolve()));
  } catch (err) {
    await new Promise<void>((resolve) => process.send!({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies WorkerMessage, () => resolve()));
  }
  process.disconnect();
  process.exit(0);
}

/** Splits items round-robin into n groups (no empty group unless there are fewer items). */
export function spread<T>(items: readonly T[], n: number): T[][] {
  const groups: T[][] = Array.from({ length: Math.min(n, items.length) || 1 }, () => []);
  items.forEach((item, i) => groups[i % groups.length]!.push(item));
  return groups;
}
