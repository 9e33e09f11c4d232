// `npm run bench`: the broker benchmarks in one run, with the machine's limits measured first:
// load-generator ceilings against the discard sink, produce (peak and half-peak latency),
// consume from the page cache, start-up time and idle RSS at 1,000 partitions. Prints each table
// as it goes, then a Markdown summary for bench/README.md, and saves everything as JSON under
// bench/out/. Options pass through: `npm run bench -- --duration 5` for a quick run (see
// bench/broker-common.ts for the rest, and --fill-mib for the consume fill).
import { writeFileSync } from 'node:fs';
import { benchOptions } from './broker-common.ts';
import { type ConsumeFigures, fillBytesFrom, runConsumeBench } from './broker-consume.ts';
import { type Ceiling, measureCeilings } from './broker-loadgen.ts';
import { measureIdleRss, measureStartup, printRss, printStartup, type RssFigures, type StartupFigures } from './broker-startup.ts';
import { limitsFor, type ProduceFigures, runProduceBench, saveFigures } from './broker-throughput.ts';
import type { MachineLimits } from './limits.ts';


const OTHER_SCRIPTS = [
  ['bench/limits.ts', 'machine limits alone'],
  ['bench/records-codec.ts', 'record batch codec'],
  ['bench/storage-append.ts', 'partition log append'],
  ['bench/storage-read.ts', 'partition log read'],
  ['bench/storage-lookup.ts', 'offset and time lookups'],
  ['bench/broker-loadgen.ts', 'load-generator ceilings alone'],
  ['bench/broker-throughput.ts', 'produce alone'],
  ['bench/broker-consume.ts', 'consume alone'],
  ['bench/broker-startup.ts', 'start-up time and idle RSS alone'],
  ['bench/metrics-overhead.ts', 'produce with metrics on and off'],
  ['bench/replication.ts', 'produce with replication factor 3 and acks=all beside 1 and acks=1, on three nodes'],
];

const n = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function markdown(args: {
  command: string;
  limits: MachineLimits | null;
  ceilings: Ceiling[];
  produce: ProduceFigures[];
  consume: ConsumeFigures[];
  startup: StartupFigures;
  rss: RssFigures;
}): string {
  const { limits } = args;
  const lines: string[] = [];
  lines.push(`Command: \`${args.command}\` — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}`);
  lines.push('');
  if (limits) {
    lines.push(`Machine limits (same run): loopback TCP ${n(limits.loopbackTcpMBps)} MB/s, disk write fsync'd ${n(limits.disk.fsyncMBps)} MB/s (128 MiB burst) and ${n(limits.disk.sustainedFsyncMBps)} MB/s (kept up 6 s), page cache ${n(limits.disk.pageCacheMBps)} MB/s, memcpy ${n(limits.memcpyMBps)} MB/s.`);
    lines.push('');
  }
  lines.push('| load generator | api | partitions | MB/s | records/s |');
  lines.push('| --- | --- | ---: | ---: | ---: |');
  for (const c of args.ceilings) lines.push(`| ${c.loadgen} | ${c.api} | ${c.partitions} | ${n(c.mbps)} | ${n(c.recordsPerSec)} |`);
  lines.push('');
  lines.push('| produce | acks | peak MB/s | records/s | p50 ms | p99 ms | half-peak MB/s | p50 ms | p99 ms |');
  lines.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const f of args.produce) {
    lines.push(`| ${f.partitions} | ${f.acks === 1 ? '1' : 'all'} | ${n(f.peakMBps)} | ${n(f.peakRecordsPerSec)} | ${n(f.peakP50, 2)} | ${n(f.peakP99, 2)} | ${n(f.halfMBps)} | ${n(f.halfP50, 2)} | ${n(f.halfP99, 2)} |`);
  }
  lines.push('');
  lines.push('| consume | MB/s | records/s | × loopback TCP |');
  lines.push('| ---: | ---: | ---: | ---: |');
  for (const f of args.consume) lines.push(`| ${f.partitions} | ${n(f.mbps)} | ${n(f.recordsPerSec)} | ${limits ? n(f.mbps / limits.loopbackTcpMBps, 2) : '-'} |`);
  lines.push('');
  const one = args.produce.find((f) => f.partitions === 1 && f.acks === 1);
  lines.push('| target | measured | met |');
  lines.push('| --- | --- | --- |');
  if (one && limits) {
    for (const [label, rate] of [
      ['burst', limits.disk.fsyncMBps],
      ['kept up 6 s', limits.disk.sustainedFsyncMBps],
    ] as const) {
      const r = one.peakMBps / rate;
      lines.push(`| produce 1 partition acks=1 ≥ 0.9 × fsync'd disk write (${label}) | ${n(r, 2)} × | ${r >= 0.9 ? 'yes' : 'no'} |`);
    }
  }
  for (const f of args.consume) {
    if (!limits) break;
    const r = f.mbps / limits.loopbackTcpMBps;
    lines.push(`| consume ${f.partitions} partition(s) ≥ 0.8 × loopback TCP | ${n(r, 2)} × | ${r >= 0.8 ? 'yes' : 'no'} |`);
  }
  for (const f of args.produce.filter((x) => x.partitions === 1)) {
    lines.push(`| produce p99 at half peak, 1 partition acks=${f.acks === 1 ? '1' : 'all'} < 5 ms | ${n(f.halfP99, 2)} ms | ${f.halfP99 < 5 ? 'yes' : 'no'} |`);
  }
  const start = med(args.startup.restartMs);
  lines.push(`| start to first answer < 300 ms | fresh dir ${n(med(args.startup.freshMs))} ms, restart ${n(start)} ms (median; \`node --import tsx -e 0\` alone ${n(med(args.startup.nodeTsxMs))} ms) | ${med(args.startup.freshMs) < 300 ? 'yes' : 'no'} |`);
  lines.push(`| idle RSS with ${args.rss.partitions} partitions < 200 MiB | ${n(args.rss.idleMiB)} MiB (no topics: ${n(args.rss.emptyMiB)} MiB) | ${args.rss.idleMiB < 200 ? 'yes' : 'no'} |`);
  return lines.join('\n');
}

const argv = process.argv.slice(2);
const { fillBytes, rest } = fillBytesFrom(argv);
const opts = benchOptions(rest);
const limits = await limitsFor(opts);
const ceilings = await measureCeilings(opts);
const produce = await runProduceBench(opts, limits);
const consume = await runConsumeBench(opts, limits, fillBytes);
const startup = await measureStartup(5);
printStartup(startup);
const rss = await measureIdleRss(1000, 10);
printRss(rss);

const summary = markdown({ command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`, limits, ceilings, produce, consume, startup, rss });
const json = saveFigures('broker-all', { date: new Date().toISOString(), node: process.version, opts, limits, ceilings, produce, consume, startup, rss });
const md = json.replace(/\.json$/, '.md');
writeFileSync(md, `${summary}\n`);
console.log(`\n== summary (Markdown, for the "Broker" section of bench/README.md)\n\n${summary}\n`);
console.log(`Figures: printed above; JSON in ${json}; the Markdown summary in ${md} (bench/out/ is not committed: copy the summary into bench/README.md).`);
console.log('\nOther benchmark scripts (npx tsx <script>):');
for (const [script, what] of OTHER_SCRIPTS) console.log(`  ${script.padEnd(28)} ${what}`);
