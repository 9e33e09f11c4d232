// `samsa producer-perf-test`: Kafka's kafka-producer-perf-test.sh (ProducerPerformance). Sends
// --num-records records of --record-size random uppercase bytes (or lines of --payload-file) with
// null keys, at most --throughput records/s (-1: no cap), through the batching producer with up
// to max.in.flight.requests.per.connection requests in flight per broker. Latency of a record is
// from its send() to its acknowledgement. Every 5 s it prints the window's line and at the end
// the total line with percentiles, in ProducerPerformance's format; latencies are sampled for
// percentiles at most 500000 times, as Kafka does.
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { CliError, clientFor, parseInteger, parseKeyValues, processIo, runAction, sleep } from './command-io.ts';
import type { CommandIo } from './command-io.ts';
import { producerSettingsFromProps } from './producer-props.ts';
import { RecordProducer } from './record-producer.ts';
import type { ProducerSettings } from './record-producer.ts';

export interface ProducerPerfOptions {
  topic: string;
  numRecords: number;
  recordSize?: number;
  payloadFile?: string;
  payloadDelimiter: string;
  throughput: number;
  bootstrapServers: string;
  producer: Partial<ProducerSettings>;
  reportingIntervalMs: number;
}

interface RawProducerPerfOptions {
  topic?: string;
  numRecords?: string;
  recordSize?: string;
  payloadFile?: string;
  payloadDelimiter?: string;
  throughput?: string;
  producerProps?: string[];
  producerConfig?: string;
  bootstrapServer?: string;
}

export function defineProducerPerfOptions(cmd: Command): Command {
  return cmd
    .description('Measure producer throughput and latency (kafka-producer-perf-test).')
    .option('--topic <topic>', 'REQUIRED: the topic to produce to.')
    .option('--num-records <n>', 'REQUIRED: the number of records to send.')
    .option('--record-size <bytes>', 'The size of each record in bytes (or give --payload-file).')
    .option('--payload-file <file>', 'Records are chosen at random from the lines (split by --payload-delimiter) of this file.')
    .option('--payload-delimiter <d>', 'The delimiter of records in --payload-file.', '\\n')
    .option('--throughput <n>', 'REQUIRED: throttle to about this many records/s; -1 for no throttling.')
    .option('--producer-props <props...>', 'Producer properties: bootstrap.servers=host:port acks=1 batch.size=16384 linger.ms=0 compression.type=lz4 ...')
    .option('--producer.config <file>', 'A producer properties file.')
    .option('--bootstrap-server <server>', 'Shorthand for --producer-props bootstrap.servers=<server>.');
}

/** Java properties file lines (k=v or k:v; # and ! comments). */
function parsePropertiesText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'))
    .map((l) => l.replace(/^([^=:\s]+)\s*[:=]\s*/, '$1='));
}

export async function toProducerPerfOptions(raw: RawProducerPerfOptions): Promise<ProducerPerfOptions> {
  if (raw.topic === undefined) throw new CliError('Missing required argument "[topic]"');
  if (raw.numRecords === undefined) throw new CliError('Missing required argument "[num-records]"');
  if (raw.throughput === undefined) throw new CliError('Missing required argument "[throughput]"');
  if ((raw.recordSize === undefined) === (raw.payloadFile === undefined)) throw new CliError('Either --record-size or --payload-file must be specified but not both.');
  const fileProps = raw.producerConfig === undefined ? [] : parsePropertiesText(await readFile(raw.producerConfig, 'utf8'));
  const props = parseKeyValues([...fileProps, ...(raw.producerProps ?? [])], '--producer-props');
  if (raw.bootstrapServer !== undefined) props.set('bootstrap.servers', raw.bootstrapServer);
  const bootstrapServers = props.get('bootstrap.servers');
  if (bootstrapServers === undefined) throw new CliError('Either --producer-props or --producer.config must be specified, with bootstrap.servers.');
  const producer = producerSettingsFromProps(props);
  return {
    topic: raw.topic,
    numRecords: parseInteger('--num-records', raw.numRecords, 1)!,
    recordSize: parseInteger('--record-size', raw.recordSize, 0),
    payloadFile: raw.payloadFile,
    payloadDelimiter: (raw.payloadDelimiter ?? '\\n').replace(/\\n/g, '\n').replace(/\\t/g, '\t'),
    throughput: Number(raw.throughput),
    bootstrapServers,
    producer,
    reportingIntervalMs: 5000,
  };
}

/** ProducerPerformance's Stats: totals, a 5 s window, and sampled latencies for percentiles. */
export class PerfStats {
  private readonly start: number;
  private windowStart: number;
  private readonly sampling: number;
  private readonly latencies: Int32Array;
  private index = 0;
  count = 0;
  bytes = 0;
  private maxLatency = 0;
  private totalLatency = 0;
  private windowCount = 0;
  private windowMaxLatency = 0;
  private windowTotalLatency = 0;
  private windowBytes = 0;
  private readonly reportingIntervalMs: number;
  private readonly out: (line: string) => void;
  private readonly now: () => number;

  constructor(numRecords: number, reportingIntervalMs: number, out: (line: string) => void, now: () => number = Date.now) {
    this.now = now;
    this.start = now();
    this.windowStart = this.start;
    this.sampling = Math.floor(numRecords / Math.min(numRecords, 500_000));
    this.latencies = new Int32Array(Math.floor(numRecords / this.sampling) + 1);
    this.reportingIntervalMs = reportingIntervalMs;
    this.out = out;
  }

  record(iteration: number, latency: number, bytes: number, time: number): void {
    this.count++;
    this.bytes += bytes;
    this.totalLatency += latency;
    if (latency > this.maxLatency) this.maxLatency = latency;
    this.windowCount++;
    this.windowBytes += bytes;
    this.windowTotalLatency += latency;
    if (latency > this.windowMaxLatency) this.windowMaxLatency = latency;
    if (iteration % this.sampling === 0 && this.index < this.latencies.length) this.latencies[this.index++] = latency;
    if (time - this.windowStart >= this.reportingIntervalMs) {
      this.printWindow(time);
      this.newWindow(time);
    }
  }

  printWindow(time = this.now()): void {
    const elapsed = Math.max(1, time - this.windowStart);
    const recsPerSec = (1000 * this.windowCount) / elapsed;
    const mbPerSec = (1000 * this.windowBytes) / elapsed / (1024 * 1024);
    const avg = this.windowCount === 0 ? NaN : this.windowTotalLatency / this.windowCount;
    this.out(`${this.windowCount} records sent, ${recsPerSec.toFixed(1)} records/sec (${mbPerSec.toFixed(2)} MB/sec), ${fmt(avg, 1)} ms avg latency, ${this.windowMaxLatency.toFixed(1)} ms max latency.\n`);
  }

  private newWindow(time: number): void {
    this.windowStart = time;
    this.windowCount = 0;
    this.windowMaxLatency = 0;
    this.windowTotalLatency = 0;
    this.windowBytes = 0;
  }

  percentiles(...ps: number[]): number[] {
    const sorted = this.latencies.slice(0, this.index).sort();
    return ps.map((p) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!));
  }

  totalLine(time = this.now()): string {
    const elapsed = Math.max(1, time - this.start);
    const recsPerSec = (1000 * this.count) / elapsed;
    const mbPerSec = (1000 * this.bytes) / elapsed / (1024 * 1024);
    const [p50, p95, p99, p999] = this.percentiles(0.5, 0.95, 0.99, 0.999);
    const avg = this.count === 0 ? NaN : this.totalLatency / this.count;
    return `${this.count} records sent, ${recsPerSec.toFixed(6)} records/sec (${mbPerSec.toFixed(2)} MB/sec), ${fmt(avg, 2)} ms avg latency, ${this.maxLatency.toFixed(2)} ms max latency, ${p50} ms 50th, ${p95} ms 95th, ${p99} ms 99th, ${p999} ms 99.9th.\n`;
  }
}

/** Java's %.Nf prints NaN as "NaN". */
function fmt(v: number, digits: number): string {
  return Number.isNaN(v) ? 'NaN' : v.toFixed(digits);
}

/** A random payload of uppercase letters, as ProducerPerformance builds it. */
export function randomPayload(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = 65 + Math.floor(Math.random() * 26);
  return b;
}

/** A producer, with a refused combination of settings reported as a usage error. */
function newProducer(...args: ConstructorParameters<typeof RecordProducer>): RecordProducer {
  try {
    return new RecordProducer(...args);
  } catch (e) {
    if (e instanceof TypeError) throw new CliError(e.message);
    throw e;
  }
}

export async function runProducerPerf(o: ProducerPerfOptions, io: CommandIo): Promise<void> {
  let payloads: Buffer[];
  if (o.payloadFile !== undefined) {
    const text = await readFile(o.payloadFile, 'utf8');
    payloads = text.split(o.payloadDelimiter).filter((s) => s !== '').map((s) => Buffer.from(s, 'utf8'));
    if (payloads.length === 0) throw new CliError(`File is empty: ${o.payloadFile}`);
    io.out(`Reading payloads from: ${o.payloadFile}\nNumber of messages read: ${payloads.length}\n`);
  } else {
    payloads = [randomPayload(o.recordSize!)];
  }
  const client = clientFor(o.bootstrapServers, 'perf-producer-client', { requestTimeoutMs: o.producer.requestTimeoutMs });
  let stats: PerfStats | undefined;
  let errors = 0;
  let firstError: Error | null = null;
  let completed = 0;
  // Records of one batch complete together; a batch's contexts are its records' send times.
  const producer = newProducer(client, o.producer, {
    onBatchComplete: (err, batch) => {
      if (err) {
        errors += batch.count;
        firstError ??= err;
        return;
      }
      // Batches of payload-file records have no contexts: their records report one by one.
      const sent = batch.contexts;
      if (sent === null) return;
      const now = Date.now();
      for (let i = 0; i < batch.count; i++) stats!.record(completed++, now - sent[i]!, recordBytes, now);
    },
  });
  const fixed = payloads.length === 1;
  const recordBytes = payloads[0]!.length;
  try {
    await producer.prepare(o.topic);
    stats = new PerfStats(o.numRecords, o.reportingIntervalMs, io.out);
    const start = Date.now();
    const target = o.throughput;
    for (let i = 0; i < o.numRecords; i++) {
      const sendStart = Date.now();
      if (fixed) {
        producer.send({ topic: o.topic, key: null, value: payloads[0]! }, undefined, sendStart);
      } else {
        const value = payloads[Math.floor(Math.random() * payloads.length)]!;
        producer.send({ topic: o.topic, key: null, value }, (err) => {
          const now = Date.now();
          if (err === null) stats!.record(completed++, now - sendStart, value.length, now);
        });
      }
      if (target >= 0) {
        // ThroughputThrottler: sleep once ahead of schedule by at least 2 ms.
        const due = start + ((i + 1) * 1000) / Math.max(target, 1e-9);
        if (due - Date.now() >= 2) await sleep(due - Date.now());
      }
      if (!producer.hasCapacity) await producer.waitForCapacity();
      // Let responses in regularly: the sender shares this thread.
      else if ((i & 255) === 255) await new Promise((r) => setImmediate(r));
    }
    await producer.flush();
    io.out(stats.totalLine());
    if (errors > 0) {
      io.err(`${errors} records failed; first error: ${(firstError as Error | null)?.message}\n`);
      io.fail(1);
    }
  } finally {
    await client.close();
  }
}

export function producerPerfTestCommand(io: CommandIo = processIo): Command {
  return defineProducerPerfOptions(new Command('producer-perf-test')).action(async (raw: RawProducerPerfOptions) => {
    await runAction(io, '', async () => runProducerPerf(await toProducerPerfOptions(raw), io));
  });
}
