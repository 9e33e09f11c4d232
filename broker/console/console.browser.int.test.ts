// The console in a real browser (playwright-core driving Debian's chromium) against a running
// broker: the overview, a topic created with kcat found in the list and its records browsed from
// a timestamp, a consumer group's lag watched falling to 0 as a kafkajs consumer reads and its
// offsets reset once it is empty (preview, then apply), a topic
// created and a config altered from the page (through its confirmation dialogs), and the
// throughput chart. Screenshots go to a temporary folder named in the log. Skips, saying so,
// where /usr/bin/chromium is not installed; the kcat step alone is skipped (and kafkajs writes the
// records instead) where kcat is not.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';

const CHROMIUM = '/usr/bin/chromium';
const KCAT = '/usr/bin/kcat';
const present = existsSync(CHROMIUM);
const hasKcat = existsSync(KCAT);
if (!present) console.warn(`console browser test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);
const WAIT = { timeout: 20_000 };

function kcat(args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(KCAT, args, { timeout: 20_000 }, (err, _out, stderr) => (err ? reject(new Error(`kcat ${args.join(' ')}: ${err.message} ${stderr}`)) : resolve()));
    child.stdin!.end(input);
  });
}

describe.skipIf(!present)('console in a browser', () => {
  let started: StartedBroker;
  let browser: Browser;
  let kafka: Kafka;
  let shots: string;
  let page: Page;
  const foreign: string[] = [];
  const errors: string[] = [];

  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const go = async (hash: string) => {
    await page.goto(`${started.http}/${hash}`);
    await page.waitForSelector('body[data-loaded="true"]', WAIT);
  };

  beforeAll(async () => {
    started = await startBroker({ overrides: { 'group.initial.rebalance.delay.ms': '0' } });
    kafka = new Kafka({ clientId: 'console-browser', brokers: [started.bootstrap], logLevel: logLevel.NOTHING });
    shots = await mkdtemp(join(tmpdir(), 'samsa-console-shots-'));
    console.info(`console browser test: screenshots in ${shots}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (r) => {
      if (!r.url().startsWith(started.http!)) foreign.push(r.url());
    });
    page.on('pageerror', (e) => errors.push(e.message));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await started?.stop();
  });

  it('shows the quorum and this node on the overview, loading nothing from elsewhere', async () => {
    await go('#/overview');
    await page.waitForSelector('#quorum-summary', WAIT);
    expect(await page.textContent('#quorum-summary')).toMatch(/^leader 1, epoch \d+, high watermark \d+$/);
    expect(await page.textContent('#voters tr[data-replica="1"] td:nth-child(2)')).toBe('leader');
    const node = page.locator('#nodes tr[data-node="1"]');
    expect(await node.locator('td:nth-child(2)').textContent()).toBe('broker, controller');
    expect(await node.locator('td:nth-child(3)').textContent()).toContain(`PLAINTEXT://${started.bootstrap}`);
    expect(await node.locator('td:nth-child(5)').textContent()).toBe('unfenced');
    expect(await node.locator('td:nth-child(10) a').first().getAttribute('href')).toBe(`${started.http}/`);
    expect(Number(await page.textContent('#features tr[data-feature="metadata.version"] td:nth-child(2)'))).toBeGreaterThan(0);
    await shot('overview');
  }, 30_000);

  it('finds a topic written with kcat and browses its records from a timestamp', async () => {
    const topic = 'kcat-written';
    const first = Array.from({ length: 3 }, (_, i) => `early-${i}`);
    const second = Array.from({ length: 4 }, (_, i) => `{"late":${i}}`);
    let between: number;
    if (hasKcat) {
      const args = ['-b', started.bootstrap, '-P', '-t', topic, '-p', '0', '-K', '\t'];
      await kcat(args, first.map((v, i) => `k${i}\t${v}`).join('\n') + '\n');
      await new Promise((r) => setTimeout(r, 1100));
      // The page takes the time to the second: `between` floored is still after the first batch.
      between = Date.now();
      await kcat([...args, '-H', 'origin=kcat'], second.map((v, i) => `k${i}\t${v}`).join('\n') + '\n');
    } else {
      console.warn('console browser test: kcat is not installed; the kcat step is skipped and kafkajs writes the records');
      const producer = kafka.producer();
      await producer.connect();
      const now = Date.now();
      between = now;
      await producer.send({ topic, messages: first.map((v, i) => ({ key: `k${i}`, value: v, timestamp: String(now - 10_000) })) });
      await producer.send({ topic, messages: second.map((v, i) => ({ key: `k${i}`, value: v, headers: { origin: 'kcat' }, timestamp: String(now + 1000) })) });
      await producer.disconnect();
    }
    await go('#/topics');
    await page.waitForSelector(`#topics tr[data-topic="${topic}"]`, WAIT);
    await page.click(`#topics tr[data-topic="${topic}"] a`);
    await page.waitForSelector('#partitions tr[data-partition="0"]', WAIT);
    expect(await page.textContent('#partitions tr[data-partition="0"] td:nth-child(7)')).toBe('7');
    await page.click('#browse-link');
    await page.waitForSelector('#records tr[data-offset="0"]', WAIT);
    await page.selectOption('#browse-mode', 'timestamp');
    // datetime-local takes the browser's local time, to the second.
    const local = await page.evaluate((ms) => {
      const d = new Date(ms);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, between);
    await page.fill('#browse-time', local);
    await page.selectOption('#browse-format', 'json');
    await page.click('#browse-go');
    await page.waitForSelector('#records tr[data-offset="3"]', WAIT);
    expect(await page.locator('#records tbody tr').count()).toBe(4);
    expect(await page.locator('#records tr[data-offset="0"]').count()).toBe(0);
    expect(await page.textContent('#records tr[data-offset="4"] pre.value')).toBe('{\n  "late": 1\n}');
    expect(await page.textContent('#records tr[data-offset="4"] .header')).toBe('origin: kcat');
    await page.selectOption('#browse-format', 'hex');
    expect(await page.textContent('#records tr[data-offset="3"] pre.key')).toBe('6b 30');
    await shot('messages-from-timestamp');
  }, 60_000);

  it('watches a consumer group\'s lag fall to 0 as a consumer reads, then resets its offsets', async () => {
    const topic = 'lagging';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 300 }, (_, i) => ({ value: `m${i}` })) });
    await producer.disconnect();
    await admin.setOffsets({ groupId: 'watchers', topic, partitions: [{ partition: 0, offset: '0' }] });
    await admin.disconnect();
    await go('#/groups');
    await page.waitForSelector('#groups tr[data-group="watchers"]', WAIT);
    await page.click('#groups tr[data-group="watchers"] a');
    await page.waitForFunction(`document.querySelector('#group-lag')?.textContent === '300'`, undefined, WAIT);
    const consumer = kafka.consumer({ groupId: 'watchers' });
    await consumer.connect();
    await consumer.subscribe({ topic });
    // Slow enough that the page sees the lag on its way down.
    await consumer.run({ autoCommitInterval: 200, eachBatchAutoResolve: true, eachMessage: () => new Promise((r) => setTimeout(r, 5)) });
    try {
      await page.waitForFunction(`document.querySelector('#group-lag')?.textContent === '0'`, undefined, { timeout: 40_000 });
      expect(await page.textContent('#group-state')).toBe('Stable');
      expect(await page.textContent('#offsets tr[data-tp="lagging-0"] td:nth-child(3)')).toBe('300');
      // The chart went from 300 down to 0: its line has at least those two samples (a fast
      // consumer may be done before the page samples any value in between).
      const d = await page.getAttribute('#lag-chart path[data-series="total lag"]', 'd');
      expect(d!.split(' ').length).toBeGreaterThanOrEqual(2);
      await shot('group-lag');
    } finally {
      await consumer.disconnect();
    }
    // Empty now: preview a reset to the earliest offset, then apply it through the confirmation.
    await page.waitForFunction(`document.querySelector('#group-state')?.textContent === 'Empty'`, undefined, WAIT);
    await page.selectOption('#reset-to', 'earliest');
    await page.click('#reset-preview');
    await page.waitForSelector('#reset-rows tr[data-tp="lagging-0"]', WAIT);
    expect(await page.locator('#reset-rows tr[data-tp="lagging-0"] td').allTextContents()).toEqual(['lagging', '0', '300', '0']);
    expect(await page.textContent('#offsets tr[data-tp="lagging-0"] td:nth-child(3)')).toBe('300');
    await page.click('#reset-apply');
    await page.waitForSelector('#confirm-dialog[open]', WAIT);
    expect(await page.textContent('#confirm-detail')).toBe('lagging-0: 300 -> 0');
    await page.click('#confirm-ok');
    await page.waitForFunction(`document.querySelector('#group-lag')?.textContent === '300'`, undefined, WAIT);
    expect(await page.textContent('#offsets tr[data-tp="lagging-0"] td:nth-child(3)')).toBe('0');
  }, 70_000);

  it('creates a topic and alters its config from the page, through confirmations', async () => {
    await go('#/topics');
    await page.fill('#new-topic-name', 'made-in-console');
    await page.fill('#new-topic-partitions', '3');
    await page.fill('#new-topic-configs', 'cleanup.policy=compact');
    await page.click('#create-topic');
    await page.waitForSelector('#confirm-dialog[open]', WAIT);
    expect(await page.textContent('#confirm-text')).toContain('made-in-console');
    await page.click('#confirm-ok');
    await page.waitForSelector('#topics tr[data-topic="made-in-console"]', WAIT);
    expect(await page.textContent('#topics tr[data-topic="made-in-console"] td:nth-child(2)')).toBe('3');
    // Kafka's error for a second topic of the same name is shown.
    await page.fill('#new-topic-name', 'made-in-console');
    await page.click('#create-topic');
    await page.click('#confirm-ok');
    await page.waitForSelector('#error:not([hidden])', WAIT);
    expect(await page.textContent('#error')).toMatch(/^TOPIC_ALREADY_EXISTS: /);
    await page.click('#topics tr[data-topic="made-in-console"] a');
    await page.waitForSelector('#configs tr[data-config="cleanup.policy"]', WAIT);
    expect(await page.textContent('#configs tr[data-config="cleanup.policy"] td:nth-child(3)')).toBe('DYNAMIC_TOPIC_CONFIG');
    await page.fill('#config-name', 'retention.ms');
    await page.fill('#config-value', '3600000');
    await page.click('#config-set');
    await page.click('#confirm-ok');
    await page.waitForFunction(`document.querySelector('#configs tr[data-config="retention.ms"] td:nth-child(3)')?.textContent === 'DYNAMIC_TOPIC_CONFIG'`, undefined, WAIT);
    expect(await page.textContent('#configs tr[data-config="retention.ms"] td:nth-child(2)')).toBe('3600000');
    // Cancelling a change does nothing.
    await page.fill('#config-value', '7200000');
    await page.click('#config-set');
    await page.click('#confirm-cancel');
    await page.waitForTimeout(500);
    expect(await page.textContent('#configs tr[data-config="retention.ms"] td:nth-child(2)')).toBe('3600000');
    await shot('topic-configs');
  }, 40_000);

  it('draws live throughput per topic', async () => {
    await go('#/throughput');
    const producer = kafka.producer();
    await producer.connect();
    const sending = (async () => {
      for (let i = 0; i < 8; i++) {
        await producer.send({ topic: 'lagging', messages: Array.from({ length: 50 }, () => ({ value: 'x'.repeat(200) })) });
        await new Promise((r) => setTimeout(r, 400));
      }
    })();
    await page.waitForSelector('#throughput tr[data-topic="lagging"]', WAIT);
    await sending;
    await producer.disconnect();
    expect(await page.locator('#throughput-in path[data-series="lagging"]').count()).toBe(1);
    await shot('throughput');
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  }, 40_000);
});
