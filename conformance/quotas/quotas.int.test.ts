// Client quotas and connection limits against a broker process, with kafkajs as the client:
// quotas set and read back with `samsa configs`, a producer and a consumer held to 1 MB/s by
// their client ids (measured from the broker's side: bytes in its log files, bytes it handed the
// consumer, over wall-clock time, never from the client's own timings) and told to throttle
// themselves (throttle_time_ms > 0, which kafkajs logs as client-side throttling), and a client
// over max.connections.per.ip refused while others are served.
// The byte rates measure the broker's enforcement: as long as the client can offer more than
// the quota (it can by far, even on a loaded machine), the rate is the quota's, so the check
// stays tight while every wait is generous.
// The broker measures rates over quota.window.num=2 windows of 1 s here: a quota holds the rate
// over its whole window, and inside it Kafka's Rate lets a client burst (with the default 11
// windows, up to ten seconds' worth at once), so a 20-s measurement must span many windows to
// see the quota rather than where its bursts fell.
// A throttled fetch is answered without data (Kafka's rule), so a consumer's wasted round trips
// keep it under its quota rather than at it: its check is the upper bound and the throttling.
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../protocol/client/client.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { BrokerProcess } from '../harness/broker-process.ts';
import { samsa } from '../harness/samsa-cli.ts';

const MB = 1_048_576;
const MEASURE_MS = 20_000;
/** The quota's first window admits a burst (Kafka's rate counts at least quota.window.num - 1 windows); measuring starts after it. */
const WARMUP_MS = 5_000;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A kafkajs client that counts the client-side throttles it is told of (KIP-219). */
function kafkaFor(bootstrap: string, clientId: string) {
  const throttles: number[] = [];
  const kafka = new Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.DEBUG,
    requestTimeout: 60_000,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
    logCreator: () => (entry: LogEntry) => {
      const m = /Client side throttling in effect for (\d+)ms/.exec(entry.log.message);
      if (m) throttles.push(Number(m[1]));
    },
  });
  return { kafka, throttles };
}

async function logBytes(dataDir: string, topic: string): Promise<number> {
  const dir = join(dataDir, `${topic}-0`);
  let total = 0;
  for (const f of await readdir(dir)) if (f.endsWith('.log')) total += (await stat(join(dir, f))).size;
  return total;
}

describe('client quotas and connection limits (kafkajs, broker process)', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await BrokerProcess.start({
      overrides: {
        // 127.0.0.2 is loopback too: a second address on this machine, with its own limit.
        'max.connections.per.ip.overrides': '127.0.0.2:2',
        'num.partitions': '1',
        'quota.window.num': '2',
        'quota.window.size.seconds': '1',
      },
      startTimeoutMs: 90_000,
    });
  }, 120_000);

  afterAll(async () => {
    await broker?.destroy();
  }, 60_000);

  it('sets and describes client quotas with samsa configs', async () => {
    const B = ['configs', '--bootstrap-server', broker.bootstrap];
    for (const [client, key] of [
      ['quota-producer', 'producer_byte_rate'],
      ['quota-consumer', 'consumer_byte_rate'],
    ]) {
      const r = await samsa([...B, '--alter', '--entity-type', 'clients', '--entity-name', client!, '--add-config', `${key}=${MB}`]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`Completed updating config for client ${client}.\n`);
    }
    const d = await samsa([...B, '--describe', '--entity-type', 'clients']);
    expect(d.stdout).toContain(`Quota configs for client-id 'quota-producer' are producer_byte_rate=${MB}.0`);
    expect(d.stdout).toContain(`Quota configs for client-id 'quota-consumer' are consumer_byte_rate=${MB}.0`);
    const bad = await samsa([...B, '--alter', '--entity-type', 'ips', '--entity-name', '10.0.0.1', '--add-config', 'producer_byte_rate=1']);
    expect(bad.code).not.toBe(0);
  }, 180_000);

  it('holds a producer sending as fast as it can to producer_byte_rate, and tells it to throttle', async () => {
    const topic = 'quota-produce';
    const { kafka, throttles } = kafkaFor(broker.bootstrap, 'quota-producer');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const value = Buffer.alloc(1000, 7);
    const messages = Array.from({ length: 100 }, () => ({ value }));
    let stop = false;
    const senders = Array.from({ length: 3 }, async () => {
      while (!stop) await producer.send({ topic, messages, acks: 1 });
    });
    try {
      await sleep(WARMUP_MS);
      const t0 = Date.now();
      const b0 = await logBytes(broker.dataDir, topic);
      await sleep(MEASURE_MS);
      const b1 = await logBytes(broker.dataDir, topic);
      const rate = (b1 - b0) / ((Date.now() - t0) / 1000);
      console.log(`producer held to ${(rate / MB).toFixed(3)} MB/s by producer_byte_rate=${MB} (${throttles.length} throttled responses, max ${Math.max(0, ...throttles)} ms)`);
      expect(rate).toBeGreaterThan(0.9 * MB);
      expect(rate).toBeLessThan(1.1 * MB);
      expect(throttles.length).toBeGreaterThan(0);
      expect(Math.max(...throttles)).toBeGreaterThan(0);
    } finally {
      stop = true;
      await Promise.allSettled(senders);
      await producer.disconnect();
    }
  }, 180_000);

  it('holds a consumer to consumer_byte_rate, and tells it to throttle', async () => {
    const topic = 'quota-consume';
    // 40 MB written at full speed through Samsa's own client (no quota on its client id).
    const filler = new KafkaClient({ bootstrapServers: broker.bootstrap, clientId: 'quota-filler' });
    await filler.connect();
    await filler.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
    const value = Buffer.alloc(1000, 3);
    for (let i = 0; i < 40; i++) {
      const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: Array.from({ length: 1000 }, (_, j) => ({ timestampDelta: 0, offsetDelta: j, key: null, value })) });
      let attempt = 0;
      for (;;) {
        const r = await filler.produce(topic, 0, batch, { acks: 1 }).catch((e: unknown) => e);
        if (!(r instanceof Error)) break;
        if (++attempt > 20) throw r;
        await sleep(250);
      }
    }
    await filler.close();

    const { kafka, throttles } = kafkaFor(broker.bootstrap, 'quota-consumer');
    // Java's consumer defaults: at most 1 MB per partition per fetch.
    const consumer = kafka.consumer({ groupId: 'quota-group', maxBytesPerPartition: MB });
    let received = 0;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) received += m.value?.length ?? 0;
      },
    });
    try {
      await sleep(WARMUP_MS);
      const t0 = Date.now();
      const r0 = received;
      await sleep(MEASURE_MS);
      const rate = (received - r0) / ((Date.now() - t0) / 1000);
      console.log(`consumer held to ${(rate / MB).toFixed(3)} MB/s by consumer_byte_rate=${MB} (${throttles.length} throttled responses, max ${Math.max(0, ...throttles)} ms)`);
      // Record values only: the fetched bytes the quota counts also hold batch and record headers (a few %).
      expect(rate).toBeGreaterThan(0.3 * MB);
      expect(rate).toBeLessThan(1.1 * MB);
      expect(received).toBeLessThan(40 * 1000 * 1000);
      expect(throttles.length).toBeGreaterThan(0);
    } finally {
      await consumer.disconnect();
    }
  }, 240_000);

  it('closes a connection over max.connections.per.ip right after accept, and serves the others', async () => {
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: broker.port, localAddress: '127.0.0.2' }, () => resolve(s));
        s.once('error', reject);
      });
    const closedSoon = (s: Socket, ms: number) =>
      new Promise<boolean>((resolve) => {
        if (s.destroyed) return resolve(true);
        const timer = setTimeout(() => resolve(false), ms);
        s.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
        s.on('error', () => undefined);
        s.resume();
      });
    const first = await open();
    const second = await open();
    const third = await open();
    try {
      expect(await closedSoon(third, 10_000)).toBe(true);
      expect(await closedSoon(first, 500)).toBe(false);
      expect(await closedSoon(second, 500)).toBe(false);
      // A client from another address is served meanwhile.
      const { kafka } = kafkaFor(broker.bootstrap, 'quota-other');
      const admin = kafka.admin();
      await admin.connect();
      expect((await admin.describeCluster()).brokers).toHaveLength(1);
      await admin.disconnect();
      expect(broker.logs).toMatch(/refusing connection: address 127\.0\.0\.2 already has the configured maximum of 2 connections/);
      // A slot freed is a slot again.
      first.destroy();
      await sleep(500);
      const fourth = await open();
      expect(await closedSoon(fourth, 1500)).toBe(false);
      fourth.destroy();
    } finally {
      for (const s of [first, second, third]) s.destroy();
    }
  }, 120_000);
});
