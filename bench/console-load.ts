// How long the console takes to load against a broker with 1,000 partitions (50 topics of 20 by
// default, a few records in each partition, one consumer group with offsets on every partition of
// one topic): headless chromium opens each page fresh and the time from navigation to the page
// marking itself loaded (body[data-loaded]) is taken, rounds alternating page by page, medians and
// maxima printed; beside it, the JSON call each page waits for, timed alone from this process.
// The peer, in the same rounds: a fresh context loading a page that marks itself loaded at once,
// from a bare Node HTTP server in this process, which is what the browser alone takes (starting
// a context, a navigation, a selector wait). Each page is printed as a ratio to it too.
// `npx tsx bench/console-load.ts [--topics 50] [--partitions 20] [--rounds 5]`
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { chromium } from 'playwright-core';
import { BrokerProcess, freePort } from '../conformance/harness/broker-process.ts';
import { createTopic } from './broker-common.ts';

const CHROMIUM = '/usr/bin/chromium';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    console.log(`skipped: ${CHROMIUM} is not installed`);
    return;
  }
  const topics = arg('topics', 50);
  const perTopic = arg('partitions', 20);
  const rounds = arg('rounds', 5);
  const httpPort = await freePort();
  const broker = await BrokerProcess.start({ overrides: { 'http.listeners': `http://127.0.0.1:${httpPort}`, 'group.initial.rebalance.delay.ms': '0' }, startTimeoutMs: 60_000 });
  const base = `http://127.0.0.1:${httpPort}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const blank = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><body data-loaded="true"><p>loaded</p></body></html>'));
  await new Promise<void>((resolve) => blank.listen(0, '127.0.0.1', resolve));
  const blankUrl = `http://127.0.0.1:${(blank.address() as { port: number }).port}/`;
  try {
    const names = Array.from({ length: topics }, (_, i) => `console-load-${String(i).padStart(3, '0')}`);
    const setupStart = Date.now();
    for (const name of names) await createTopic(broker.bootstrap, name, perTopic);
    const kafka = new Kafka({ clientId: 'console-load', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    for (const name of names) {
      await producer.send({ topic: name, messages: Array.from({ length: perTopic * 5 }, (_, i) => ({ partition: i % perTopic, key: `k${i}`, value: JSON.stringify({ i, pad: 'x'.repeat(100) }) })) });
    }
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'console-load-group', topic: names[0]!, partitions: Array.from({ length: perTopic }, (_, p) => ({ partition: p, offset: '1' })) });
    await admin.disconnect();
    console.log(`setup: ${topics} topics x ${perTopic} partitions = ${topics * perTopic} partitions, ${topics * perTopic * 5} records, in ${((Date.now() - setupStart) / 1000).toFixed(1)} s`);
    console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

    const pages: { name: string; hash: string; api: string }[] = [
      { name: 'overview', hash: '#/overview', api: '/api/nodes' },
      { name: 'topics', hash: '#/topics', api: '/api/topics' },
      { name: 'topic (20 partitions)', hash: `#/topic/${names[0]}`, api: `/api/topic?name=${names[0]}` },
      { name: 'messages (50 records)', hash: `#/messages?topic=${names[0]}`, api: `/api/messages?topic=${names[0]}&partition=0&offset=0&limit=50` },
      { name: 'consumer group', hash: '#/group/console-load-group', api: '/api/group?id=console-load-group' },
      { name: 'broker configs', hash: '#/configs', api: '/api/broker-configs' },
    ];
    const pageMs = new Map<string, number[]>(pages.map((p) => [p.name, []]));
    const apiMs = new Map<string, number[]>(pages.map((p) => [p.name, []]));
    const blankMs: number[] = [];
    const load = async (url: string): Promise<number> => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(url);
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
      const loaded = performance.now() - t0;
      await context.close();
      return loaded;
    };
    for (let round = 0; round <= rounds; round++) {
      const floor = await load(blankUrl);
      if (round > 0) blankMs.push(floor);
      for (const p of pages) {
        const loaded = await load(`${base}/${p.hash}`);
        const a0 = performance.now();
        const r = await fetch(`${base}${p.api}`);
        await r.arrayBuffer();
        const api = performance.now() - a0;
        if (!r.ok) throw new Error(`${p.api}: HTTP ${r.status}`);
        // Round 0 warms the broker's and the browser's caches and is not counted.
        if (round === 0) continue;
        pageMs.get(p.name)!.push(loaded);
        apiMs.get(p.name)!.push(api);
      }
    }
    console.log(`\npage load to data-loaded, fresh browser context each time (${rounds} rounds; ms):`);
    console.log('page                      median     max  / blank   | its JSON call: median     max');
    const floor = median(blankMs);
    console.log(`${'blank page (the peer)'.padEnd(24)} ${floor.toFixed(0).padStart(7)} ${Math.max(...blankMs).toFixed(0).padStart(7)}   1.00   |`);
    for (const p of pages) {
      const l = pageMs.get(p.name)!;
      const a = apiMs.get(p.name)!;
      console.log(`${p.name.padEnd(24)} ${median(l).toFixed(0).padStart(7)} ${Math.max(...l).toFixed(0).padStart(7)} ${(median(l) / floor).toFixed(2).padStart(6)}   | ${p.api.split('?')[0]!.padEnd(20)} ${median(a).toFixed(0).padStart(6)} ${Math.max(...a).toFixed(0).padStart(7)}`);
    }
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    await browser.close();
    blank.close();
    await broker.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
