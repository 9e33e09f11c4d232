// Fetch load from one process over the internal client's KafkaConnection: each connection
// fetches its partitions from offset 0, maxInFlight fetches at a time (each over its own share of
// the partitions, as a consumer has one fetch per broker in flight), and starts a partition over
// from its log start once it reaches the high watermark, so a bounded amount of data already
// written can be read for as long as the run lasts (from the page cache).
// Forked by workers.ts: `fork('fetch-worker.ts', [JSON config])`.
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import { ZERO_UUID } from '../../protocol/uuid.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { scanBatches } from './record-batches.ts';
import { type FetchWorkerConfig, type WorkerResult, spread, workerMain } from './workers.ts';

interface Stream {
  conn: KafkaConnection;
  partitions: number[];
  offsets: Map<number, bigint>;
}

async function connect(config: FetchWorkerConfig): Promise<() => Promise<WorkerResult>> {
  const streams: Stream[] = [];
  let topicId = ZERO_UUID;
  for (const parts of spread(config.partitions, config.connections)) {
    const conn = await KafkaConnection.connect(config.host, config.port, { clientId: 'samsa-bench', requestTimeoutMs: 60_000 });
    if (topicId === ZERO_UUID) {
      const md = await conn.send(ApiKey.Metadata, { topics: [{ name: config.topic }], allowAutoTopicCreation: false });
      topicId = md.topics.find((t) => t.name === config.topic)?.topicId ?? ZERO_UUID;
    }
    for (const share of spread(parts, config.maxInFlight)) streams.push({ conn, partitions: share, offsets: new Map(share.map((p) => [p, 0n])) });
  }
  // Fetch v13+ names topics by id only; without one, stay on v12 as Kafka's clients do.
  const version = Math.min(streams[0]!.conn.versionFor(ApiKey.Fetch), topicId === ZERO_UUID ? 12 : Infinity);

  return async () => {
    const latency = new LatencyHistogram();
    const errorSamples: string[] = [];
    let bytes = 0;
    let records = 0;
    let requests = 0;
    let errors = 0;
    const start = performance.now();
    const measureFrom = start + config.warmupMs;
    const end = measureFrom + config.durationMs;
    const fail = (message: string): void => {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(message);
    };

    const loop = async (s: Stream): Promise<void> => {
      while (performance.now() < end && !s.conn.isClosed) {
        const request: FetchRequest = {
          replicaId: -1,
          maxWaitMs: config.maxWaitMs,
          minBytes: 1,
          maxBytes: config.maxBytes,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: config.topic,
              topicId,
              partitions: s.partitions.map((partition) => ({
                partition,
                currentLeaderEpoch: -1,
                fetchOffset: s.offsets.get(partition)!,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: config.partitionMaxBytes,
              })),
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        };
        const sentAt = performance.now();
        requests++;
        let response;
        try {
          response = await s.conn.send(ApiKey.Fetch, request, { version });
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err));
          return;
        }
        const now = performance.now();
        if (response.errorCode) fail(`fetch error ${response.errorCode}`);
        for (const t of response.responses) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0) {
              fail(`partition ${p.partitionIndex}: error ${p.errorCode}`);
              continue;
            }
            const got = scanBatches(p.records ?? Buffer.alloc(0));
            // At the high watermark start over at once: a fetch there would wait maxWaitMs for data
            // that never comes, and the run would measure that wait instead of the reads.
            const restart = p.logStartOffset !== undefined && p.logStartOffset >= 0n ? p.logStartOffset : 0n;
            if (got.nextOffset >= 0n) s.offsets.set(p.partitionIndex, got.nextOffset >= p.highWatermark ? restart : got.nextOffset);
            else if (s.offsets.get(p.partitionIndex)! >= p.highWatermark) s.offsets.set(p.partitionIndex, restart);
            if (now >= measureFrom && now <= end) {
              bytes += got.bytes;
              records += got.records;
            }
          }
        }
        if (sentAt >= measureFrom && now <= end) latency.recordMillis(now - sentAt);
      }
    };
    await Promise.all(streams.map(loop));
    const elapsedMs = Math.min(performance.now(), end) - measureFrom;
    await Promise.all([...new Set(streams.map((s) => s.conn))].map((c) => c.close()));
    return { bytes, records, requests, errors, errorSamples, elapsedMs, latency: latency.snapshot() };
  };
}

await workerMain(connect);
