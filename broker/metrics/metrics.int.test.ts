// /metrics and the health endpoints of a real in-process broker driven by kafkajs: the scrape is
// parsed with an independent text-format parser; bytes and messages in move by exactly the
// records produced and the bytes their batches take in the partition's segment files, bytes out
// by what a consumer read, request counters and latency histograms per API, consumer lag follows
// a consumer's commits, and readiness turns on only when start-up is done.
import { readdir, stat } from 'node:fs/promises';
import { freePort } from '../../conformance/harness/ports.ts';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, startBroker, type StartedBroker } from '../../index.ts';
import { parseBrokerConfig } from '../config/broker-config.ts';
import { SINGLE_NODE_DEFAULTS } from '../main.ts';
import { Scrape } from './scrape.ts';

const TOPIC = 'metered';

function kafkaFor(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'metrics-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function segmentBytes(logDir: string, topic: string, partition: number): Promise<number> {
  const dir = join(logDir, `${topic}-${partition}`);
  let total = 0;
  for (const f of await readdir(dir)) if (f.endsWith('.log')) total += (await stat(join(dir, f))).size;
  return total;
}

describe('metrics with kafkajs', () => {
  let started: StartedBroker;
  let http: string;
  let logDir: string;

  beforeAll(async () => {
    started = await startBroker({ overrides: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '4' } });
    http = started.http!;
    logDir = started.broker.context.config.logDirs[0]!;
    const admin = kafkaFor(started.bootstrap).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
    await admin.disconnect();
  }, 60_000);

  afterAll(async () => {
    await started?.stop();
  });

  it('serves live and ready once started, and the text format with Kafka\'s names', async () => {
    expect((await fetch(`${http}/health/live`)).status).toBe(200);
    const ready = await fetch(`${http}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect((await fetch(`${http}/nope`)).status).toBe(404);
    const s = await Scrape.of(http);
    expect(s.type('kafka_server_brokertopicmetrics_bytesin_total')).toBe('counter');
    expect(s.type('kafka_network_requestmetrics_totaltimems')).toBe('histogram');
    expect(s.value('kafka_controller_kafkacontroller_activecontrollercount')).toBe(1);
    expect(s.value('kafka_controller_kafkacontroller_fencedbrokercount')).toBe(0);
    expect(s.value('kafka_controller_kafkacontroller_activebrokercount')).toBe(1);
    expect(s.value('kafka_controller_kafkacontroller_globaltopiccount')).toBeGreaterThanOrEqual(1);
    expect(s.value('kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0);
    expect(s.value('kafka_server_raftmetrics_current_leader')).toBe(1);
    expect(s.value('kafka_server_raftmetrics_current_state', { current_state: 'leader' })).toBe(1);
    expect(s.value('kafka_server_raftmetrics_high_watermark')).toBeGreaterThan(0);
    // The topic was just created through this one-voter quorum: its commit took its fsync's time.
    expect(s.value('kafka_server_raftmetrics_commit_latency_max')).toBeGreaterThanOrEqual(s.value('kafka_server_raftmetrics_commit_latency_avg')!);
    expect(s.value('kafka_server_raftmetrics_commit_latency_avg')).toBeGreaterThanOrEqual(0);
    expect(s.value('kafka_server_replicamanager_partitioncount')).toBeGreaterThanOrEqual(1);
    expect(s.value('kafka_server_replicamanager_underreplicatedpartitions')).toBe(0);
    expect(s.value('kafka_server_delayedoperationpurgatory_purgatorysize', { delayedOperation: 'Produce' })).toBe(0);
    expect(s.value('kafka_log_log_numlogsegments', { topic: TOPIC, partition: '0' })).toBe(1);
    expect(s.value('kafka_server_socket_server_metrics_connection_count', { listener: 'PLAINTEXT' })).toBeGreaterThanOrEqual(0);
    expect(s.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(s.families.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts produced records and bytes exactly, and the consumer\'s bytes out and lag', async () => {
    const before = await Scrape.of(http);
    const producedBefore = before.sum('kafka_network_requestmetrics_requests_total', { request: 'Produce' });
    const latencyBefore = before.histogramCount('kafka_network_requestmetrics_totaltimems', { request: 'Produce' });
    expect(before.value('kafka_server_brokertopicmetrics_messagesin_total', { topic: TOPIC }) ?? 0).toBe(0);

    const kafka = kafkaFor(started.bootstrap);
    const producer = kafka.producer();
    await producer.connect();
    const sends = 4;
    for (let i = 0; i < sends; i++) {
      await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: 25 }, (_, j) => ({ key: `k${i}-${j}`, value: 'x'.repeat(100 + j) })) });
    }
    await producer.disconnect();
    const records = sends * 25;
    const onDisk = await segmentBytes(logDir, TOPIC, 0);
    expect(onDisk).toBeGreaterThan(records * 100);

    const afterProduce = await until('messages in', async () => {
      const s = await Scrape.of(http);
      return s.value('kafka_server_brokertopicmetrics_messagesin_total', { topic: TOPIC }) === records ? s : undefined;
    });
    expect(afterProduce.value('kafka_server_brokertopicmetrics_bytesin_total', { topic: TOPIC })).toBe(onDisk);
    expect(afterProduce.value('kafka_log_log_size', { topic: TOPIC, partition: '0' })).toBe(onDisk);
    expect(afterProduce.value('kafka_log_log_logendoffset', { topic: TOPIC, partition: '0' })).toBe(records);
    // The all-topics series includes this topic.
    expect(afterProduce.value('kafka_server_brokertopicmetrics_messagesin_total')).toBeGreaterThanOrEqual(records);
    expect(afterProduce.sum('kafka_network_requestmetrics_requests_total', { request: 'Produce' }) - producedBefore).toBe(sends);
    expect(afterProduce.histogramCount('kafka_network_requestmetrics_totaltimems', { request: 'Produce' }) - latencyBefore).toBe(sends);
    expect(afterProduce.histogramCount('kafka_network_requestmetrics_localtimems', { request: 'Produce' }) - latencyBefore).toBe(sends);
    expect(afterProduce.value('kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'NONE' })).toBeGreaterThanOrEqual(sends);
    expect(afterProduce.value('kafka_server_brokertopicmetrics_totalproducerequests_total', { topic: TOPIC })).toBe(sends);
    expect(afterProduce.value('kafka_server_brokertopicmetrics_failedproducerequests_total', { topic: TOPIC }) ?? 0).toBe(0);

    // A group whose committed offset is 0 lags by every record.
    const group = 'lagging';
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: group, topic: TOPIC, partitions: [{ partition: 0, offset: '0' }] });
    await admin.disconnect();
    const lagging = await Scrape.of(http);
    expect(lagging.value('kafka_consumergroup_lag', { consumergroup: group, topic: TOPIC, partition: '0' })).toBe(records);
    expect(lagging.value('kafka_consumergroup_current_offset', { consumergroup: group, topic: TOPIC, partition: '0' })).toBe(0);
    const bytesOutBefore = lagging.value('kafka_server_brokertopicmetrics_bytesout_total', { topic: TOPIC }) ?? 0;

    const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC });
    let consumed = 0;
    await consumer.run({ eachMessage: async () => void consumed++ });
    const caughtUp = await until('lag 0', async () => {
      const s = await Scrape.of(http);
      return s.value('kafka_consumergroup_lag', { consumergroup: group, topic: TOPIC, partition: '0' }) === 0 ? s : undefined;
    });
    await consumer.disconnect();
    expect(consumed).toBe(records);
    expect(caughtUp.value('kafka_consumergroup_current_offset', { consumergroup: group, topic: TOPIC, partition: '0' })).toBe(records);
    // Every stored byte went out at least once.
    expect((caughtUp.value('kafka_server_brokertopicmetrics_bytesout_total', { topic: TOPIC }) ?? 0) - bytesOutBefore).toBeGreaterThanOrEqual(onDisk);
    expect(caughtUp.sum('kafka_network_requestmetrics_requests_total', { request: 'Fetch' })).toBeGreaterThan(0);
    expect(caughtUp.histogramCount('kafka_network_requestmetrics_totaltimems', { request: 'Fetch' })).toBeGreaterThan(0);
    // The join waited for its rebalance (remote time); every answer's send was timed.
    expect(caughtUp.histogramCount('kafka_network_requestmetrics_remotetimems', { request: 'JoinGroup' })).toBeGreaterThanOrEqual(1);
    expect(caughtUp.sum('kafka_network_requestmetrics_remotetimems_sum', { request: 'JoinGroup' })).toBeGreaterThan(0);
    expect(caughtUp.histogramCount('kafka_network_requestmetrics_responsesendtimems', { request: 'Fetch' })).toBe(caughtUp.histogramCount('kafka_network_requestmetrics_totaltimems', { request: 'Fetch' }));
    expect(caughtUp.value('kafka_server_group_coordinator_metrics_group_completed_rebalance_count')).toBeGreaterThanOrEqual(1);
    expect(caughtUp.value('kafka_server_group_coordinator_metrics_offset_commit_count')).toBeGreaterThanOrEqual(1);
    expect(caughtUp.value('kafka_coordinator_group_groupmetadatamanager_numgroups')).toBeGreaterThanOrEqual(1);
    expect(caughtUp.value('kafka_coordinator_group_groupmetadatamanager_numoffsets')).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('counts bytes in exactly across segment rolls', async () => {
    const topic = 'rolling';
    const kafka = kafkaFor(started.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '2048' }] }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 12; i++) await producer.send({ topic, acks: 1, messages: Array.from({ length: 5 }, (_, j) => ({ value: `${i}-${j}-`.padEnd(150, 'y') })) });
    await producer.disconnect();
    const onDisk = await segmentBytes(logDir, topic, 0);
    const s = await until('messages in', async () => {
      const x = await Scrape.of(http);
      return x.value('kafka_server_brokertopicmetrics_messagesin_total', { topic }) === 60 ? x : undefined;
    });
    expect(s.value('kafka_log_log_numlogsegments', { topic, partition: '0' })).toBeGreaterThan(3);
    expect(s.value('kafka_server_brokertopicmetrics_bytesin_total', { topic })).toBe(onDisk);
  }, 60_000);
});

describe('health and switches', () => {
  it('is not ready until start-up has finished, and not ready once stopping', async () => {
    const port = await freePort();
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'samsa-health-'));
    const config = parseBrokerConfig({
      ...SINGLE_NODE_DEFAULTS,
      listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:0',
      'controller.quorum.voters': '1@127.0.0.1:0',
      'log.dirs': dir,
      'http.listeners': `http://127.0.0.1:${port}`,
    });
    let resolved = false;
    const starting = Broker.start(config, pino({ level: 'silent' }), { autoFormat: true }).then((b) => {
      resolved = true;
      return b;
    });
    const seen: { status: number; resolved: boolean }[] = [];
    let broker: Broker | undefined;
    try {
      for (const end = Date.now() + 60_000; Date.now() < end; ) {
        const r = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
        if (r) {
          seen.push({ status: r.status, resolved });
          await r.text();
          if (r.status === 200) break;
        }
        await new Promise((res) => setTimeout(res, 2));
      }
      broker = await starting;
      expect(seen.at(-1)?.status).toBe(200);
      // Never ready before start() had finished; answered 503 while it ran.
      expect(seen.filter((s) => s.status === 200 && !s.resolved)).toEqual([]);
      expect(seen.some((s) => s.status === 503)).toBe(true);
      expect(broker.httpListeners).toEqual([{ host: '127.0.0.1', port }]);
      const stopping = broker.stop();
      const r = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ status: 'not ready', reason: 'the node is stopping' });
      await stopping;
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    } finally {
      await (broker ?? (await starting.catch(() => undefined)))?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('metrics.enabled=false answers /metrics 404 and health still; empty http.listeners binds nothing', async () => {
    const off = await startBroker({ overrides: { 'metrics.enabled': 'false' } });
    try {
      expect((await fetch(`${off.http}/metrics`)).status).toBe(404);
      expect((await fetch(`${off.http}/health/ready`)).status).toBe(200);
    } finally {
      await off.stop();
    }
    const none = await startBroker({ overrides: { 'http.listeners': '' } });
    try {
      expect(none.http).toBeUndefined();
      expect(none.broker.httpListeners).toEqual([]);
    } finally {
      await none.stop();
    }
  }, 90_000);
});
