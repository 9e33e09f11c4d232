// The load generators' own ceilings: each candidate drives the discard sink (bench/loadgen/
// discard-sink.ts, which answers Produce and Fetch without storing) with the same load shapes as
// the broker benchmarks. A broker figure near its generator's ceiling measures the generator.
// `npx tsx bench/broker-loadgen.ts [--duration 10] [--partitions 1,8,64]`
import { pathToFileURL } from 'node:url';
import { type BenchOptions, benchOptions, describeErrors, fetchLoad, fmt, header, produce, rdkafkaInstalled, startSinkProcess } from './broker-common.ts';

export interface Ceiling {
  loadgen: string;
  api: 'produce' | 'fetch';
  partitions: number;
  mbps: number;
  recordsPerSec: number;
}

export async function measureCeilings(opts: BenchOptions): Promise<Ceiling[]> {
  const sink = await startSinkProcess();
  const out: Ceiling[] = [];
  try {
    header('load generator ceilings against the discard sink (MB/s of record batches)', opts);
    console.log('loadgen                 api       partitions      MB/s   records/s   p50 ms   p99 ms');
    const candidates: Array<{ name: string; o: BenchOptions }> = [
      { name: `internal x${opts.workers}`, o: { ...opts, loadgen: 'internal' } },
      { name: 'internal x2', o: { ...opts, loadgen: 'internal', workers: 2 } },
    ];
    if (rdkafkaInstalled()) candidates.push({ name: 'librdkafka (ckjs) x1', o: { ...opts, loadgen: 'rdkafka', workers: 1 } });
    else console.log('(librdkafka binding not installed in bench/loadgen: see bench/README.md)');
    const seen = new Set<string>();
    for (const { name, o } of candidates) {
      if (seen.has(`${o.loadgen}/${o.workers}`)) continue;
      seen.add(`${o.loadgen}/${o.workers}`);
      for (const partitions of opts.partitions) {
        const r = await produce(o, { host: '127.0.0.1', port: sink.port, topic: 'sink', partitions, acks: 1 });
        out.push({ loadgen: name, api: 'produce', partitions, mbps: r.mbps, recordsPerSec: r.recordsPerSec });
        console.log(`${name.padEnd(22)}  produce ${fmt(partitions, 0, 12)} ${fmt(r.mbps, 0, 9)} ${fmt(r.recordsPerSec, 0, 11)} ${fmt(r.latency.percentileMillis(50), 2)} ${fmt(r.latency.percentileMillis(99), 2)}${describeErrors(r)}`);
      }
      if (o.loadgen !== 'internal') continue;
      for (const partitions of opts.partitions) {
        const r = await fetchLoad(o, { host: '127.0.0.1', port: sink.port, topic: 'sink', partitions });
        out.push({ loadgen: name, api: 'fetch', partitions, mbps: r.mbps, recordsPerSec: r.recordsPerSec });
        console.log(`${name.padEnd(22)}  fetch   ${fmt(partitions, 0, 12)} ${fmt(r.mbps, 0, 9)} ${fmt(r.recordsPerSec, 0, 11)} ${fmt(r.latency.percentileMillis(50), 2)} ${fmt(r.latency.percentileMillis(99), 2)}${describeErrors(r)}`);
      }
    }
  } finally {
    await sink.stop();
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await measureCeilings(benchOptions());
}
