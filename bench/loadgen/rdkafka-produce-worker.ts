// Produce load from librdkafka (@confluentinc/kafka-javascript, installed apart in bench/loadgen,
// see bench/README.md), the same shape as produce-worker.ts: unkeyed records of recordSize bytes,
// sent to explicit partitions in runs of one batch's worth so librdkafka's batches fill up to
// batch.size, acks and max.in.flight as configured. Delivery reports are off: the binding hands
// them to JavaScript one object per record at a few tens of thousands a second, far below what
// librdkafka sends, so counting through them would measure the binding. Instead the records
// handed over in the measured window are counted and the window ends when flush() has seen them
// all delivered; no per-record latency. Bytes are counted as batch bytes (records times their
// encoded size in a batch of the same shape), comparable with the internal generator.
// Forked by workers.ts: `fork('rdkafka-produce-worker.ts', [JSON config])`.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { LatencyHistogram } from './latency-histogram.ts';
import { batchPool, recordsPerBatch } from './record-batches.ts';
import { type ProduceWorkerConfig, type WorkerResult, workerMain } from './workers.ts';

interface RdProducer {
  connect(options?: object, cb?: (err: Error | null) => void): void;
  on(event: 'ready', cb: () => void): void;
  on(event: 'event.error', cb: (err: Error) => void): void;
  setPollInterval(ms: number): void;
  produce(topic: string, partition: number, value: Buffer, key: null, timestamp: null, opaque: number): boolean;
  flush(timeoutMs: number, cb: (err: Error | null) => void): void;
  disconnect(cb: () => void): void;
}

const require = createRequire(import.meta.url);
const QUEUE_FULL = -184;

async function connect(config: ProduceWorkerConfig): Promise<() => Promise<WorkerResult>> {
  const { Producer } = require('@confluentinc/kafka-javascript') as { Producer: new (conf: object) => RdProducer };
  const perBatch = recordsPerBatch(config);
  const bytesPerRecord = batchPool(config, 1)[0]!.length / perBatch;
  const producer = new Producer({
    'bootstrap.servers': `${config.host}:${config.port}`,
    'client.id': 'samsa-bench-rdkafka',
    acks: config.acks,
    'enable.idempotence': false,
    'compression.type': 'none',
    'linger.ms': 5,
    'batch.size': Math.max(config.batchBytes + 4096, 16384),
    'batch.num.messages': 100000,
    'queue.buffering.max.messages': 1000000,
    'queue.buffering.max.kbytes': 1048576,
    'max.in.flight.requests.per.connection': config.maxInFlight,
    'message.max.bytes': config.maxRequestBytes,
    'socket.nagle.disable': true,
    dr_cb: false,
    log_level: 3,
  });
  const errors: string[] = [];
  producer.on('event.error', (err) => {
    if (errors.length < 5) errors.push(err.message);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('librdkafka producer not ready in 30 s')), 30_000);
    producer.on('ready', () => {
      clearTimeout(timer);
      resolve();
    });
    producer.connect({}, (err) => {
      if (err) reject(err);
    });
  });
  producer.setPollInterval(5);
  const value = randomBytes(config.recordSize);

  return async () => {
    const latency = new LatencyHistogram();
    let records = 0;
    let sent = 0;
    const start = performance.now();
    const measureFrom = start + config.warmupMs;
    const end = measureFrom + config.durationMs;
    const interval = config.rateBytesPerSec > 0 ? (bytesPerRecord / config.rateBytesPerSec) * 1000 : 0;
    let pi = 0;
    let inRun = 0;
    const budget = config.maxBytes > 0 ? Math.ceil(config.maxBytes / bytesPerRecord) : Infinity;
    outer: while (performance.now() < end && sent < budget) {
      for (let k = 0; k < 1000; k++) {
        const due = interval > 0 ? start + sent * interval : performance.now();
        if (interval > 0 && due > performance.now()) break;
        try {
          producer.produce(config.topic, config.partitions[pi]!, value, null, null, due);
        } catch (err) {
          if ((err as { code?: number }).code === QUEUE_FULL) break;
          throw err;
        }
        sent++;
        if (due >= measureFrom) records++;
        if (++inRun >= perBatch) {
          inRun = 0;
          pi = (pi + 1) % config.partitions.length;
        }
        if (sent >= budget) break outer;
      }
      await yieldTurn();
    }
    let failed = 0;
    await new Promise<void>((resolve) =>
      producer.flush(30_000, (err) => {
        if (err) {
          failed++;
          errors.push(`flush: ${err.message}`);
        }
        resolve();
      }),
    );
    const elapsedMs = performance.now() - (config.maxBytes > 0 ? start : measureFrom);
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
    if (config.maxBytes > 0) records = sent;
    return { bytes: records * bytesPerRecord, records, requests: 0, errors: failed, errorSamples: errors, elapsedMs, latency: latency.snapshot() };
  };
}

await workerMain(connect);
