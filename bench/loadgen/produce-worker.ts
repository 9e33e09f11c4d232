// Produce load from one process over the internal client's KafkaConnection: pre-encoded batches
// of unkeyed records, several partitions' batches per request up to maxRequestBytes, up to
// maxInFlight requests pipelined per connection. Unlimited, it keeps every connection full; with
// a rate, requests leave on a fixed schedule and latency counts from the scheduled time, so a
// stalled broker shows up as latency instead of a quietly lower offered load.
// Forked by workers.ts: `fork('produce-worker.ts', [JSON config])`.
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { ProduceRequest } from '../../protocol/generated/message/produce-request.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { batchPool, recordsPerBatch } from './record-batches.ts';
import { type ProduceWorkerConfig, type WorkerResult, spread, workerMain } from './workers.ts';

const POOL = 8;

interface Lane {
  conn: KafkaConnection;
  inFlight: number;
  /** Request shapes for this connection's partitions, used round-robin. */
  groups: number[][];
  next: number;
}

async function connect(config: ProduceWorkerConfig): Promise<() => Promise<WorkerResult>> {
  const pool = batchPool({ recordSize: config.recordSize, batchBytes: config.batchBytes }, POOL);
  const batchSize = pool[0]!.length;
  const batchRecords = recordsPerBatch(config);
  const perRequest = Math.max(1, Math.floor(config.maxRequestBytes / batchSize));
  const lanes: Lane[] = [];
  for (const parts of spread(config.partitions, config.connections)) {
    const conn = await KafkaConnection.connect(config.host, config.port, { clientId: 'samsa-bench', requestTimeoutMs: 60_000 });
    const groups: number[][] = [];
    for (let i = 0; i < parts.length; i += perRequest) groups.push(parts.slice(i, i + perRequest));
    lanes.push({ conn, inFlight: 0, groups, next: 0 });
  }

  return async () => {
    const latency = new LatencyHistogram();
    const errorSamples: string[] = [];
    let bytes = 0;
    let records = 0;
    let requests = 0;
    let errors = 0;
    let sentBytes = 0;
    let poolNext = 0;
    const start = performance.now();
    const measureFrom = start + config.warmupMs;
    const end = measureFrom + config.durationMs;
    let stopped = false;
    let wake: (() => void) | undefined;
    const poke = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };

    const fail = (message: string): void => {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(message);
    };

    const sendOn = (lane: Lane, scheduledAt: number): void => {
      const partitions = lane.groups[lane.next]!;
      lane.next = (lane.next + 1) % lane.groups.length;
      const request: ProduceRequest = {
        transactionalId: null,
        acks: config.acks,
        timeoutMs: 30_000,
        topicData: [{ name: config.topic, partitionData: partitions.map((index) => ({ index, records: pool[poolNext++ % POOL]! })) }],
      };
      const requestBytes = partitions.length * batchSize;
      sentBytes += requestBytes;
      lane.inFlight++;
      requests++;
      lane.conn.send(ApiKey.Produce, request).then(
        (response) => {
          lane.inFlight--;
          const now = performance.now();
          let ok = partitions.length;
          for (const t of response?.responses ?? []) {
            for (const p of t.partitionResponses) {
              if (p.errorCode !== 0) {
                ok--;
                fail(`partition ${p.index}: error ${p.errorCode} ${p.errorMessage ?? ''}`);
              }
            }
          }
          if (now >= measureFrom && now <= end) {
            bytes += ok * batchSize;
            records += ok * batchRecords;
            if (scheduledAt >= measureFrom) latency.recordMillis(now - scheduledAt);
          }
          poke();
        },
        (err: unknown) => {
          lane.inFlight--;
          fail(err instanceof Error ? err.message : String(err));
          poke();
        },
      );
    };

    const idle = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const t = setTimeout(() => {
          wake = undefined;
          resolve();
        }, ms);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });

    const budgetLeft = (): boolean => config.maxBytes <= 0 || sentBytes < config.maxBytes;
    const live = (): Lane[] => lanes.filter((l) => !l.conn.isClosed);

    if (config.rateBytesPerSec > 0) {
      // Fixed schedule: request i leaves at start + i * interval (or when a slot frees, late).
      // Requests cycle through every lane's partition groups, so on average they carry this much.
      const avgRequestBytes = (config.partitions.length / lanes.reduce((n, l) => n + l.groups.length, 0)) * batchSize;
      const interval = (avgRequestBytes / config.rateBytesPerSec) * 1000;
      let i = 0;
      let rr = 0;
      while (!stopped) {
        const now = performance.now();
        if (now >= end || !budgetLeft() || live().length === 0) break;
        const due = start + i * interval;
        if (due > now) {
          await idle(Math.max(0, due - now));
          continue;
        }
        let lane: Lane | undefined;
        for (let k = 0; k < lanes.length && !lane; k++) {
          const candidate = lanes[(rr + k) % lanes.length]!;
          if (!candidate.conn.isClosed && candidate.inFlight < config.maxInFlight) {
            lane = candidate;
            rr = (rr + k + 1) % lanes.length;
          }
        }
        if (!lane) {
          await idle(5);
          continue;
        }
        sendOn(lane, due);
        i++;
      }
    } else {
      while (!stopped) {
        if (performance.now() >= end || !budgetLeft() || live().length === 0) break;
        let sent = false;
        for (const lane of lanes) {
          while (!lane.conn.isClosed && lane.inFlight < config.maxInFlight && budgetLeft()) {
            sendOn(lane, performance.now());
            sent = true;
          }
        }
        if (!sent) await idle(Math.max(1, end - performance.now()));
      }
    }
    stopped = true;
    const windowEnd = Math.min(performance.now(), end);
    // Let what is in flight land (bounded), so the broker is quiet for whatever runs next.
    const drainUntil = performance.now() + 30_000;
    while (lanes.some((l) => l.inFlight > 0 && !l.conn.isClosed) && performance.now() < drainUntil) await idle(10);
    await Promise.all(lanes.map((l) => l.conn.close()));
    // A byte-budget run (no warm-up) counts to when its last request was answered.
    const elapsedMs = config.maxBytes > 0 ? performance.now() - start : windowEnd - measureFrom;
    if (config.maxBytes > 0) {
      bytes = sentBytes - errors * batchSize;
      records = (bytes / batchSize) * batchRecords;
    }
    return { bytes, records, requests, errors, errorSamples, elapsedMs, latency: latency.snapshot() };
  };
}

await workerMain(connect);
