// Consume throughput from the page cache through a broker child process: each partition count's
// topic is first filled with 1 KiB records (acks=1, --fill-mib in all, default 1024 MiB, written
// moments before so it is cached), then fetched from offset 0 for the duration, each partition
// starting over at its high watermark. Read against loopback TCP between two Node processes
// measured in the same run (target >= 0.8 x).
// `npx tsx bench/broker-consume.ts [--duration 30] [--partitions 1,8,64] [--fill-mib 1024] [--workers 1] [--no-limits]`
import { pathToFileURL } from 'node:url';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { type BenchOptions, benchOptions, brokerServes, createTopic, describeErrors, fetchLoad, fmt, header, produce, startBenchBroker } from './broker-common.ts';
import { limitsFor, saveFigures } from './broker-throughput.ts';
import type { MachineLimits } from './limits.ts';

export interface ConsumeFigures {
  partitions: number;
  filledMB: number;
  fillMBps: number;
  mbps: number;
  recordsPerSec: number;
  fetchP50: number;
  fetchP99: number;
  errors: number;
}

export async function runConsumeBench(opts: BenchOptions, limits: MachineLimits | null, fillBytes: number): Promise<ConsumeFigures[]> {
  header(`consume from page cache: fetch of ${(fillBytes / 1048576).toFixed(0)} MiB already written, round and round (MB/s of record batches)`, opts);
  const figures: ConsumeFigures[] = [];
  let printedHeader = false;
  for (const partitions of opts.partitions) {
    const broker = await startBenchBroker({ 'num.partitions': String(partitions), ...opts.brokerOverrides });
    try {
      if (!(await brokerServes(broker.bootstrap, ApiKey.Fetch))) {
        console.log('the broker does not serve Fetch yet: consume benchmark skipped');
        return figures;
      }
      if (!printedHeader) {
        console.log('partitions   fill MB/s      MB/s   records/s  fetch p50 ms  p99 ms');
        printedHeader = true;
      }
      const topic = 'bench-consume';
      await createTopic(broker.bootstrap, topic, partitions);
      const fill = await produce({ ...opts, loadgen: 'internal' }, { host: '127.0.0.1', port: broker.port, topic, partitions, acks: 1, maxBytes: fillBytes });
      const r = await fetchLoad(opts, { host: '127.0.0.1', port: broker.port, topic, partitions });
      const f: ConsumeFigures = {
        partitions,
        filledMB: fill.bytes / 1e6,
        fillMBps: fill.mbps,
        mbps: r.mbps,
        recordsPerSec: r.recordsPerSec,
        fetchP50: r.latency.percentileMillis(50),
        fetchP99: r.latency.percentileMillis(99),
        errors: r.errors + fill.errors,
      };
      figures.push(f);
      console.log(`${fmt(partitions, 0, 10)} ${fmt(f.fillMBps, 0, 11)} ${fmt(f.mbps, 0, 9)} ${fmt(f.recordsPerSec, 0, 11)} ${fmt(f.fetchP50, 2, 13)} ${fmt(f.fetchP99, 2, 7)}${describeErrors(fill)}${describeErrors(r)}`);
    } finally {
      await broker.destroy();
    }
  }
  if (limits) {
    for (const f of figures) {
      console.log(`${f.partitions} partition(s): ${f.mbps.toFixed(0)} MB/s = ${(f.mbps / limits.loopbackTcpMBps).toFixed(2)} x loopback TCP (${limits.loopbackTcpMBps.toFixed(0)} MB/s); target >= 0.8`);
    }
  }
  return figures;
}

export function fillBytesFrom(argv: string[]): { fillBytes: number; rest: string[] } {
  const i = argv.indexOf('--fill-mib');
  if (i < 0) return { fillBytes: 1024 * 1048576, rest: argv };
  return { fillBytes: Number(argv[i + 1]) * 1048576, rest: [...argv.slice(0, i), ...argv.slice(i + 2)] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { fillBytes, rest } = fillBytesFrom(process.argv.slice(2));
  const opts = benchOptions(rest);
  const limits = await limitsFor(opts);
  const figures = await runConsumeBench(opts, limits, fillBytes);
  console.log(`figures saved to ${saveFigures('broker-consume', { date: new Date().toISOString(), node: process.version, opts, limits, fillBytes, figures })}`);
}
