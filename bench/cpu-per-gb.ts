// What the broker's data path costs in CPU: CPU seconds (user + system, every thread of the
// process, from /proc/<pid>/stat) per GB of record batches, for produce (acks=1, one partition)
// and for fetch (one partition, from the page cache), beside two floors measured in the same run
// by the smallest Node programs that move the same bytes (bench/floors/floor-process.ts):
// receive over loopback TCP and append to a file; read a file from the page cache and write it
// to a socket. Rounds alternate broker and floor so a busy machine weighs on both alike; the
// figures are the medians, and the ratios are what to read (absolute figures drift with the
// machine). Goal: at most 1.25 x the floor for each.
// `npx tsx bench/cpu-per-gb.ts [--gb 2] [--rounds 3] [--duration 10]`
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchOptions, cpuSeconds, createTopic, describeErrors, fetchLoad, fmt, KiB, produce, rssMiB, startBenchBroker, startPortChild } from './broker-common.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const GB = 1e9;

const { values } = parseArgs({ args: process.argv.slice(2), options: { gb: { type: 'string', default: '2' }, rounds: { type: 'string', default: '3' } }, strict: false });
const totalBytes = Number(values.gb) * GB;
const rounds = Number(values.rounds);
const opts = { ...benchOptions(process.argv.slice(2).filter((a, i, all) => !['--gb', '--rounds'].includes(a) && !['--gb', '--rounds'].includes(all[i - 1] ?? ''))), warmup: 0 };

type Floor = Awaited<ReturnType<typeof startPortChild>>;

function startFloor(args: string[]): Promise<Floor> {
  return startPortChild(join(HERE, 'floors/floor-process.ts'), args, 'floor process');
}

/** Sends `bytes` to the port as fast as the socket takes them, then ends; resolves once the peer has read all. */
function sendBytes(port: number, bytes: number): Promise<number> {
  const block = Buffer.alloc(1024 * KiB, 0x5a);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const chunk = sent + block.length <= bytes ? block : block.subarray(0, bytes - sent);
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    socket.on('connect', pump);
    socket.on('error', reject);
    socket.on('close', () => resolve(performance.now() - started));
  });
}

/** Reads everything the port sends until it ends; resolves with the byte count and milliseconds. */
function receiveAll(port: number): Promise<{ bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let bytes = 0;
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    socket.on('error', reject);
    socket.on('end', () => resolve({ bytes, ms: performance.now() - started }));
  });
}

interface Sample {
  cpuPerGB: number;
  mbps: number;
  /** The broker's peak resident memory by the end of the phase (VmHWM), MiB. */
  peakRssMiB?: number;
}

async function floorProduce(dir: string): Promise<Sample> {
  const floor = await startFloor(['append', dir]);
  try {
    const before = await cpuSeconds(floor.pid);
    const ms = await sendBytes(floor.port, totalBytes);
    // The floor may still be writing what it read: wait until its CPU use settles.
    await new Promise((r) => setTimeout(r, 200));
    const cpu = (await cpuSeconds(floor.pid)) - before;
    return { cpuPerGB: cpu / (totalBytes / GB), mbps: totalBytes / 1e6 / (ms / 1000) };
  } finally {
    await floor.stop();
  }
}

async function floorConsume(file: string): Promise<Sample> {
  const floor = await startFloor(['serve', file, String(totalBytes)]);
  try {
    const before = await cpuSeconds(floor.pid);
    const { bytes, ms } = await receiveAll(floor.port);
    const cpu = (await cpuSeconds(floor.pid)) - before;
    return { cpuPerGB: cpu / (bytes / GB), mbps: bytes / 1e6 / (ms / 1000) };
  } finally {
    await floor.stop();
  }
}

async function brokerRound(): Promise<{ produce: Sample; consume: Sample }> {
  const broker = await startBenchBroker({ 'num.partitions': '1', ...opts.brokerOverrides });
  try {
    const pid = broker.pid!;
    const topic = 'bench-cpu';
    await createTopic(broker.bootstrap, topic, 1);
    const beforeProduce = await cpuSeconds(pid);
    const p = await produce(opts, { host: '127.0.0.1', port: broker.port, topic, partitions: 1, acks: 1, maxBytes: totalBytes });
    const produceCpu = (await cpuSeconds(pid)) - beforeProduce;
    const produceRss = await rssMiB(pid, 'VmHWM');
    if (p.errors > 0) console.log(`   produce errors${describeErrors(p)}`);
    const beforeFetch = await cpuSeconds(pid);
    const f = await fetchLoad(opts, { host: '127.0.0.1', port: broker.port, topic, partitions: 1 });
    const fetchCpu = (await cpuSeconds(pid)) - beforeFetch;
    const fetchRss = await rssMiB(pid, 'VmHWM');
    if (f.errors > 0) console.log(`   fetch errors${describeErrors(f)}`);
    return {
      produce: { cpuPerGB: produceCpu / (p.bytes / GB), mbps: p.mbps, peakRssMiB: produceRss },
      consume: { cpuPerGB: fetchCpu / (f.bytes / GB), mbps: f.mbps, peakRssMiB: fetchRss },
    };
  } finally {
    await broker.destroy();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const dir = mkdtempSync(join(tmpdir(), 'samsa-cpu-floor-'));
try {
  // The consume floor's file: 256 MiB, sent round and round like the broker's fetched log.
  const file = join(dir, 'served.log');
  writeFileSync(file, Buffer.alloc(256 * 1024 * KiB, 0x5a));
  console.log(`== CPU per GB: ${values.gb} GB produced per round, fetch for ${opts.duration} s, ${rounds} rounds, node ${process.version}, ${new Date().toISOString()}`);
  const samples = { brokerProduce: [] as Sample[], floorProduce: [] as Sample[], brokerConsume: [] as Sample[], floorConsume: [] as Sample[] };
  for (let round = 1; round <= rounds; round++) {
    const b = await brokerRound();
    const fp = await floorProduce(dir);
    const fc = await floorConsume(file);
    rmSync(join(dir, 'connection-1.log'), { force: true });
    samples.brokerProduce.push(b.produce);
    samples.brokerConsume.push(b.consume);
    samples.floorProduce.push(fp);
    samples.floorConsume.push(fc);
    console.log(
      `round ${round}: produce broker ${b.produce.cpuPerGB.toFixed(2)} s/GB at ${b.produce.mbps.toFixed(0)} MB/s, floor ${fp.cpuPerGB.toFixed(2)} s/GB at ${fp.mbps.toFixed(0)} MB/s; ` +
        `consume broker ${b.consume.cpuPerGB.toFixed(2)} s/GB at ${b.consume.mbps.toFixed(0)} MB/s, floor ${fc.cpuPerGB.toFixed(2)} s/GB at ${fc.mbps.toFixed(0)} MB/s; ` +
        `broker peak RSS ${b.produce.peakRssMiB!.toFixed(0)} MiB after produce, ${b.consume.peakRssMiB!.toFixed(0)} MiB after fetch`,
    );
  }
  const row = (name: string, broker: Sample[], floor: Sample[]): string => {
    const b = median(broker.map((s) => s.cpuPerGB));
    const f = median(floor.map((s) => s.cpuPerGB));
    return `| ${name} | ${fmt(b, 2, 5)} | ${fmt(median(broker.map((s) => s.mbps)), 0, 5)} | ${fmt(f, 2, 5)} | ${fmt(median(floor.map((s) => s.mbps)), 0, 5)} | ${fmt(b / f, 2, 5)} |`;
  };
  console.log('\n| path | broker CPU s/GB | broker MB/s | floor CPU s/GB | floor MB/s | broker / floor (goal <= 1.25) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(row('produce, acks=1, 1 partition', samples.brokerProduce, samples.floorProduce));
  console.log(row('fetch from page cache, 1 partition', samples.brokerConsume, samples.floorConsume));
  console.log(`\nbroker RSS under load (VmHWM, median): ${median(samples.brokerProduce.map((s) => s.peakRssMiB!)).toFixed(0)} MiB by the end of produce, ${median(samples.brokerConsume.map((s) => s.peakRssMiB!)).toFixed(0)} MiB by the end of fetch`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
