// A Kafka-speaking TCP server that stores nothing, to measure a load generator's own ceiling:
// Produce is decoded (as a broker must, to find the partitions) and acknowledged with made-up
// offsets; Fetch is answered from one pre-built block of batches, whatever offset is asked;
// Metadata names this server as the leader of every partition of any topic asked for, with
// `partitions` partitions; ApiVersions advertises those four APIs (and InitProducerId, answered
// with a fresh id) at the versions the generated codecs serve. Any other API closes the
// connection, as a broker does for one it does not serve. Responses go out in request order.
// Run alone: `npx tsx bench/loadgen/discard-sink.ts [partitions]` prints {"port":N} and serves
// until killed.
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ErrorCode } from '../../protocol/errors.ts';
import { DecodeError } from '../../protocol/decode-error.ts';
import { FrameReader } from '../../protocol/framing.ts';
import { API_SPECS, ApiKey, apiSpec } from '../../protocol/generated/api-table.ts';
import type { FetchRequest } from '../../protocol/generated/message/fetch-request.ts';
import type { FetchResponse } from '../../protocol/generated/message/fetch-response.ts';
import type { MetadataRequest } from '../../protocol/generated/message/metadata-request.ts';
import type { ProduceRequest } from '../../protocol/generated/message/produce-request.ts';
import { decodeRequestHeader, encodeResponseMessageFrame } from '../../protocol/headers.ts';
import { BASE_OFFSET_OFFSET, RECORD_BATCH_OVERHEAD, RECORDS_COUNT_OFFSET } from '../../protocol/records/batch-header.ts';
import { randomUuid, ZERO_UUID } from '../../protocol/uuid.ts';
import { batchPool } from './record-batches.ts';

const SERVED = [ApiKey.Produce, ApiKey.Fetch, ApiKey.Metadata, ApiKey.ApiVersions, ApiKey.InitProducerId] as const;
const NODE_ID = 1;

export interface DiscardSinkOptions {
  port?: number;
  /** Partitions of every topic. */
  partitions?: number;
  /** Size of the block a Fetch of one partition gets (cut to whole batches under its limit). */
  fetchBlockBytes?: number;
}

export interface DiscardSink {
  port: number;
  close(): Promise<void>;
}

function maxVersion(apiKey: ApiKey): number {
  const spec = API_SPECS[apiKey];
  return spec.maxStableVersion >= 0 ? spec.maxStableVersion : spec.maxVersion;
}

export async function startDiscardSink(options: DiscardSinkOptions = {}): Promise<DiscardSink> {
  const partitions = options.partitions ?? 1024;
  const batches = batchPool({ recordSize: 1024, batchBytes: 16 * 1024 }, Math.ceil((options.fetchBlockBytes ?? 1024 * 1024) / (16 * 1024 + 100)));
  // The block's batches at offsets 0..n-1; cut points let a smaller limit take a prefix.
  const cuts: number[] = [];
  let offset = 0n;
  let size = 0;
  for (const b of batches) {
    b.writeBigInt64BE(offset, BASE_OFFSET_OFFSET);
    offset += BigInt(b.readInt32BE(RECORDS_COUNT_OFFSET));
    size += b.length;
    cuts.push(size);
  }
  const block = Buffer.concat(batches);
  const blockFor = (limit: number): Buffer => {
    let end = cuts[0]!;
    for (const c of cuts) if (c <= limit) end = c;
    return block.subarray(0, end);
  };
  const topicIds = new Map<string, string>();
  const topicNames = new Map<string, string>();
  const idOf = (name: string): string => {
    let id = topicIds.get(name);
    if (!id) {
      id = randomUuid();
      topicIds.set(name, id);
      topicNames.set(id, name);
    }
    return id;
  };
  let nextOffset = 0n;
  let nextProducerId = 1000n;

  const serve = (socket: Socket, server: Server): void => {
    socket.setNoDelay(true);
    const frames = new FrameReader();
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let got: Buffer[];
      try {
        got = frames.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      socket.cork();
      for (const frame of got) {
        let out: Buffer[] | null;
        try {
          out = answer(frame, server);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          out = null;
        }
        if (out === null) {
          socket.destroy();
          return;
        }
        for (const c of out) socket.write(c);
      }
      socket.uncork();
    });
  };

  // The response frame's chunks, [] for a Produce with acks=0, or null to close the connection.
  const answer = (frame: Buffer, server: Server): Buffer[] | null => {
    const { header, reader } = decodeRequestHeader(frame);
    const { requestApiKey: key, requestApiVersion: v, correlationId } = header;
    const spec = apiSpec(key);
    if (!spec || !(SERVED as readonly number[]).includes(key)) return null;
    if (key === ApiKey.ApiVersions) {
      const supported = v >= spec.minVersion && v <= maxVersion(ApiKey.ApiVersions);
      const apiKeys = SERVED.map((k) => ({ apiKey: k, minVersion: API_SPECS[k].minVersion, maxVersion: maxVersion(k) }));
      return encodeResponseMessageFrame(ApiKey.ApiVersions, supported ? v : 0, correlationId, {
        errorCode: supported ? ErrorCode.NONE : ErrorCode.UNSUPPORTED_VERSION,
        apiKeys,
        throttleTimeMs: 0,
      });
    }
    if (v < spec.minVersion || v > maxVersion(key as ApiKey)) return null;
    if (key === ApiKey.Produce) {
      const req = API_SPECS[ApiKey.Produce].decodeRequest(reader, v) as ProduceRequest;
      if (req.acks === 0) return [];
      const responses = req.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((p) => {
          const baseOffset = nextOffset;
          nextOffset += BigInt(p.records && p.records.length >= RECORD_BATCH_OVERHEAD ? p.records.readInt32BE(RECORDS_COUNT_OFFSET) : 0);
          return { index: p.index, errorCode: 0, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null };
        }),
      }));
      return encodeResponseMessageFrame(ApiKey.Produce, v, correlationId, { responses, throttleTimeMs: 0 });
    }
    if (key === ApiKey.Fetch) {
      const req = API_SPECS[ApiKey.Fetch].decodeRequest(reader, v) as FetchRequest;
      let budget = req.maxBytes ?? 0x7fffffff;
      const response: FetchResponse = {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 0,
        responses: req.topics.map((t) => ({
          topic: t.topic ?? topicNames.get(t.topicId ?? ZERO_UUID) ?? '',
          topicId: t.topicId ?? ZERO_UUID,
          partitions: t.partitions.map((p) => {
            const records = budget > 0 ? blockFor(Math.min(p.partitionMaxBytes, budget)) : Buffer.alloc(0);
            budget -= records.length;
            return { partitionIndex: p.partition, errorCode: 0, highWatermark: 1n << 62n, lastStableOffset: 1n << 62n, logStartOffset: 0n, abortedTransactions: null, preferredReadReplica: -1, records };
          }),
        })),
      };
      return encodeResponseMessageFrame(ApiKey.Fetch, v, correlationId, response);
    }
    if (key === ApiKey.InitProducerId) {
      API_SPECS[ApiKey.InitProducerId].decodeRequest(reader, v);
      return encodeResponseMessageFrame(ApiKey.InitProducerId, v, correlationId, { throttleTimeMs: 0, errorCode: 0, producerId: nextProducerId++, producerEpoch: 0 });
    }
    const req = API_SPECS[ApiKey.Metadata].decodeRequest(reader, v) as MetadataRequest;
    const port = (server.address() as AddressInfo).port;
    return encodeResponseMessageFrame(ApiKey.Metadata, v, correlationId, {
      throttleTimeMs: 0,
      brokers: [{ nodeId: NODE_ID, host: '127.0.0.1', port, rack: null }],
      clusterId: 'discard-sink',
      controllerId: NODE_ID,
      topics: (req.topics ?? []).map((t) => {
        const name = t.name ?? topicNames.get(t.topicId ?? ZERO_UUID) ?? '';
        return {
          errorCode: 0,
          name,
          topicId: idOf(name),
          isInternal: false,
          // Leader epoch -1: clients then skip leader-epoch validation, which this server does not serve.
          partitions: Array.from({ length: partitions }, (_, i) => ({ errorCode: 0, partitionIndex: i, leaderId: NODE_ID, leaderEpoch: -1, replicaNodes: [NODE_ID], isrNodes: [NODE_ID], offlineReplicas: [] })),
          topicAuthorizedOperations: -2147483648,
        };
      }),
      clusterAuthorizedOperations: -2147483648,
    });
  };

  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket, server);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sink = await startDiscardSink({ partitions: Number(process.argv[2] ?? 1024) });
  console.log(JSON.stringify({ port: sink.port }));
}
