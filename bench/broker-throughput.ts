// Produce throughput and latency through a broker child process: 1 KiB unkeyed records in
// pre-encoded batches, at each partition count and with acks=1 and acks=all, first as fast as the
// broker acknowledges (peak), then rate-limited at half that peak (latency at a sustainable load,
// counted from each request's scheduled send time). A fresh broker and data dir per partition
// count. The machine's limits are measured in the same run; the 1-partition acks=1 peak is read
// against the fsync'd disk write rate (target >= 0.9 x) and the half-rate p99 against 5 ms.
// `npx tsx bench/broker-throughput.ts [--duration 30] [--partitions 1,8,64] [--workers 1]
//   [--connections 1] [--batch-bytes 65536] [--max-in-flight 8] [--loadgen internal|rdkafka] [--no-limits]`
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchOptions, benchOptions, createTopic, describeErrors, fmt, header, produce, startBenchBroker } from './broker-common.ts';
import { formatLimits, type MachineLimits, measureLimits } from './limits.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface ProduceFigures {
  partitions: number;
  acks: number;
  peakMBps: number;
  peakRecordsPerSec: number;
  peakP50: number;
  peakP99: number;
  halfOfferedMBps: number;
  halfMBps: number;
  halfP50: number;
  halfP99: number;
  halfP999: number;
  errors: number;
}

export async function runProduceBench(opts: BenchOptions, limits: MachineLimits | null): Promise<ProduceFigures[]> {
  header('produce: peak, then rate-limited at half the peak (MB/s of record batches; latency per request, ms)', opts);
  console.log('partitions  acks   peak MB/s  records/s  p50     p99   | half: offered MB/s  got MB/s   p50     p99   p99.9');
  const figures: ProduceFigures[] = [];
  for (const partitions of opts.partitions) {
    const broker = await startBenchBroker({ 'num.partitions': String(partitions), ...opts.brokerOverrides });
    try {
      for (const acks of [1, -1]) {
        const topic = `bench-produce-acks${acks === 1 ? '1' : 'all'}`;
        await createTopic(broker.bootstrap, topic, partitions);
        const run = { host: '127.0.0.1', port: broker.port, topic, partitions, acks };
        const peak = await produce(opts, run);
        const half = await produce(opts, { ...run, rateBytesPerSec: (peak.mbps * 1e6) / 2, maxInFlight: 64 });
        const f: ProduceFigures = {
          partitions,
          acks,
          peakMBps: peak.mbps,
          peakRecordsPerSec: peak.recordsPerSec,
          peakP50: peak.latency.percentileMillis(50),
          peakP99: peak.latency.percentileMillis(99),
          halfOfferedMBps: peak.mbps / 2,
          halfMBps: half.mbps,
          halfP50: half.latency.percentileMillis(50),
          halfP99: half.latency.percentileMillis(99),
          halfP999: half.latency.percentileMillis(99.9),
          errors: peak.errors + half.errors,
        };
        figures.push(f);
        console.log(
          `${fmt(partitions, 0, 10)}  ${(acks === 1 ? '1' : 'all').padStart(4)} ${fmt(f.peakMBps, 0, 11)} ${fmt(f.peakRecordsPerSec, 0, 10)} ${fmt(f.peakP50, 2, 6)} ${fmt(f.peakP99, 2, 7)}   | ${fmt(f.halfOfferedMBps, 0, 18)} ${fmt(f.halfMBps, 0, 9)} ${fmt(f.halfP50, 2, 6)} ${fmt(f.halfP99, 2, 7)} ${fmt(f.halfP999, 2, 7)}${describeErrors(peak)}${describeErrors(half)}`,
        );
      }
    } finally {
      await broker.destroy();
    }
  }
  const one = figures.find((f) => f.partitions === 1 && f.acks === 1);
  if (one && limits) {
    const d = limits.disk;
    console.log(
      `\n1 partition, acks=1: ${one.peakMBps.toFixed(0)} MB/s = ${(one.peakMBps / d.fsyncMBps).toFixed(2)} x the fsync'd disk write burst (${d.fsyncMBps.toFixed(0)} MB/s), ` +
        `${(one.peakMBps / d.sustainedFsyncMBps).toFixed(2)} x the sustained one (${d.sustainedFsyncMBps.toFixed(0)} MB/s); target >= 0.9`,
    );
  }
  for (const f of figures) {
    if (f.partitions === 1) console.log(`half-peak p99, 1 partition, acks=${f.acks === 1 ? '1' : 'all'}: ${f.halfP99.toFixed(2)} ms; target < 5 ms`);
  }
  return figures;
}

/** Saves a run's figures as JSON under bench/out/ (ignored by git); returns the path. */
export function saveFigures(name: string, data: unknown): string {
  const dir = join(HERE, 'out');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2));
  return file;
}

export async function limitsFor(opts: BenchOptions): Promise<MachineLimits | null> {
  if (opts.noLimits) return null;
  const limits = await measureLimits();
  console.log(`machine limits (bench/limits.ts, this run):\n${formatLimits(limits)}`);
  return limits;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts = benchOptions();
  const limits = await limitsFor(opts);
  const figures = await runProduceBench(opts, limits);
  console.log(`figures saved to ${saveFigures('broker-throughput', { date: new Date().toISOString(), node: process.version, opts, limits, figures })}`);
}
