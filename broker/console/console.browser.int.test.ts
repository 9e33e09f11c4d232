// The console page in a real browser (playwright-core driving Debian's chromium): it loads from
// the broker alone, renders the quorum, the broker and a topic created with kafkajs, and shows a
// topic's partitions when opened. Skips, saying so, where /usr/bin/chromium is not installed.
import { existsSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type StartedBroker } from '../../index.ts';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present) console.warn(`console browser test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!present)('console in a browser', () => {
  let started: StartedBroker;
  let browser: Browser;

  beforeAll(async () => {
    started = await startBroker();
    const admin = new Kafka({ clientId: 'console-browser', brokers: [started.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'browsed', numPartitions: 2 }] });
    await admin.disconnect();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await started?.stop();
  });

  it('renders the quorum, brokers and topics from the broker alone', async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(started.http!)) foreign.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${started.http}/`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
    expect(await page.textContent('#quorum-summary')).toMatch(/^leader 1, epoch \d+, high watermark \d+$/);
    expect(await page.textContent('#voters tr[data-replica="1"] td:nth-child(2)')).toBe('leader');
    expect(await page.textContent('#brokers tr[data-broker="1"] td:nth-child(4)')).toBe('unfenced');
    expect(await page.textContent('#brokers tr[data-broker="1"] td:nth-child(2)')).toBe(`PLAINTEXT://${started.bootstrap}`);
    const topic = page.locator('#topics tr[data-topic="browsed"]');
    expect(await topic.locator(':scope > td:nth-child(2)').textContent()).toBe('2');
    expect(await topic.locator(':scope > td:nth-child(4)').textContent()).toBe('0');
    await topic.locator('summary').click();
    const rows = topic.locator('tr.partition');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).locator('td').allTextContents()).toEqual(['1', '1', '1', '1']);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  }, 60_000);
});
