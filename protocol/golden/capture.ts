// Captures golden frames from real Kafka clients: run by a developer (`npx tsx
// protocol/golden/capture.ts`), never by tests; its output (one .bin per frame, plus index.json)
// is committed and decoded by the codec tests.
//
// Setup: librdkafka's mock cluster as the broker (see ../../../shared/tools/README.md; built to
// $MOCKCLUSTER, default /tmp/mockcluster), kcat, Debian's python3-kafka (with python3-snappy,
// python3-lz4, python3-zstandard for its codecs) at $PYTHON (default /usr/bin/python3), kafkajs
// from node_modules.
//
// How: the mock runs one broker; a recording proxy on 127.0.0.1 sits in front of it and every
// client bootstraps through the proxy. Requests pass through untouched. The mock advertises its
// own port in Metadata and FindCoordinator responses, so in those responses (only) the proxy
// swaps the int32 port that follows the advertised host for its own port, keeping the length:
// clients then stay on the proxy for every connection. Fixtures hold the bytes as the mock sent
// them, before that swap. Each frame is saved as it was on the wire without its size prefix.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { FrameReader, frame, peekRequestHeader } from '../framing.ts';
import { Reader } from '../reader.ts';

const GOLDEN_DIR = dirname(fileURLToPath(import.meta.url));
const SCHEMA_DIR = process.env.KAFKA_PROTOCOL_DIR ?? resolve(GOLDEN_DIR, '../../../shared/kafka-protocol');
const MOCKCLUSTER = process.env.MOCKCLUSTER ?? '/tmp/mockcluster';
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const KCAT = process.env.KCAT ?? 'kcat';
const HOST = '127.0.0.1';
const TOPIC = 'golden';
const STEP_TIMEOUT_MS = 60_000;
/** Exchanges kept per (client, api, version), and per codec for Produce: a first and a later call. */
const KEEP_PER_KEY = 2;
/**
 * Values long and repetitive enough that every codec shrinks the batch: librdkafka sends a batch
 * uncompressed when compressing would not make it smaller.
 */
const FILLER = ' lorem ipsum'.repeat(12);

export interface GoldenFrame {
  client: string;
  step: string;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  direction: 'request' | 'response';
  correlationId: number;
  file: string;
  /** Produce requests: compression codec of each record batch found, by Kafka's name. */
  compression?: string[];
  /** Anything a decoder must know that the other fields do not say. */
  note?: string;
  /** Responses: the request they answer (the response header version depends on it). */
  requestApiKey?: number;
  requestApiVersion?: number;
}

export interface GoldenIndex {
  generatedBy: string;
  broker: string;
  clients: Record<string, string>;
  frames: GoldenFrame[];
}

interface Captured {
  client: string;
  step: string;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  request: Buffer;
  response?: Buffer;
}

/** apiKey → name from the schemas, e.g. 0 → "Produce". */
function loadApiNames(): Map<number, string> {
  const names = new Map<number, string>();
  const dir = join(SCHEMA_DIR, 'message');
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('Request.json')) continue;
    const text = readFileSync(join(dir, file), 'utf8');
    const key = /"apiKey":\s*(\d+)/.exec(text);
    const name = /"name":\s*"(\w+)Request"/.exec(text);
    if (key && name) names.set(Number(key[1]), name[1]!);
  }
  return names;
}

const PRODUCE = 0;
const METADATA = 3;
const API_VERSIONS = 18;
const FIND_COORDINATOR = 10;

/** Replaces, in place, every int32 `from` that directly follows the advertised host bytes. */
function swapAdvertisedPort(buf: Buffer, from: number, to: number): number {
  const host = Buffer.from(HOST);
  let swaps = 0;
  for (let at = buf.indexOf(host); at >= 0; at = buf.indexOf(host, at + 1)) {
    const p = at + host.length;
    if (p + 4 <= buf.length && buf.readInt32BE(p) === from) {
      buf.writeInt32BE(to, p);
      swaps++;
    }
  }
  return swaps;
}

class RecordingProxy {
  readonly captured: Captured[] = [];
  client = 'none';
  step = 'none';
  private server = net.createServer((socket) => this.accept(socket));
  private sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly upstreamPort: number) {}

  async listen(): Promise<void> {
    this.server.listen(0, HOST);
    await once(this.server, 'listening');
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  private accept(downstream: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, HOST);
    this.sockets.add(downstream).add(upstream);
    const requests = new FrameReader();
    const responses = new FrameReader();
    const inFlight = new Map<number, Captured>();
    downstream.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      for (const f of requests.push(chunk)) {
        const h = peekRequestHeader(f);
        const c: Captured = { client: this.client, step: this.step, ...h, request: Buffer.from(f) };
        this.captured.push(c);
        inFlight.set(h.correlationId, c);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const f of responses.push(chunk)) {
        const c = inFlight.get(f.readInt32BE(0));
        let out: Buffer = f;
        if (c) {
          inFlight.delete(c.correlationId);
          c.response = Buffer.from(f);
          if (c.apiKey === METADATA || c.apiKey === FIND_COORDINATOR) {
            out = Buffer.from(f);
            swapAdvertisedPort(out, this.upstreamPort, this.port);
          }
        }
        for (const part of frame([out])) downstream.write(part);
      }
    });
    const end = () => {
      downstream.destroy();
      upstream.destroy();
      this.sockets.delete(downstream);
      this.sockets.delete(upstream);
    };
    downstream.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}

/** Starts the mock cluster and returns it with its bootstrap port. */
async function startMock(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(MOCKCLUSTER, ['1', '900', `${TOPIC}:1:1`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill(), 10_000);
  const [first] = (await once(lines, 'line')) as [string];
  clearTimeout(timer);
  const port = Number(first.trim().split(',')[0]!.split(':')[1]);
  if (!Number.isInteger(port)) throw new Error(`unexpected mock cluster output: ${first}`);
  return { child, port };
}

/** Runs a command to completion (or kills it at the step timeout); resolves with its stdout. */
async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  if (input !== undefined) child.stdin!.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}`);
  return out;
}

type Step = { client: string; step: string; run: (bootstrap: string) => Promise<void> };

function kafkajsSteps(): Step[] {
  const client = 'kafkajs';
  const kafka = (bootstrap: string) =>
    new Kafka({ clientId: 'golden-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const produce = (codec: CompressionTypes, name: string): Step => ({
    client,
    step: `produce ${name}`,
    run: async (bootstrap) => {
      const producer = kafka(bootstrap).producer({ allowAutoTopicCreation: false });
      await producer.connect();
      await producer.send({
        topic: TOPIC,
        compression: codec,
        messages: [1, 2, 3].map((i) => ({ key: `k${i}`, value: `kafkajs ${name} ${i}${FILLER}`, headers: { h: `${i}` } })),
      });
      await producer.disconnect();
    },
  });
  return [
    produce(CompressionTypes.None, 'none'),
    produce(CompressionTypes.GZIP, 'gzip'),
    {
      client,
      step: 'consumer group',
      run: async (bootstrap) => {
        const consumer = kafka(bootstrap).consumer({ groupId: 'golden-kafkajs-group', maxWaitTimeInMs: 200 });
        await consumer.connect();
        await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
        let seen = 0;
        const done = new Promise<void>((resolveDone, reject) => {
          const timer = setTimeout(() => reject(new Error('kafkajs consumer saw too few messages')), STEP_TIMEOUT_MS);
          void consumer.run({
            eachMessage: async () => {
              if (++seen === 6) {
                clearTimeout(timer);
                resolveDone();
              }
            },
          });
        });
        await done;
        await consumer.commitOffsets([{ topic: TOPIC, partition: 0, offset: String(seen) }]);
        await consumer.disconnect();
      },
    },
  ];
}

function kcatSteps(): Step[] {
  const client = 'kcat';
  const produce = (codec: string): Step => ({
    client,
    step: `produce ${codec}`,
    run: async (bootstrap) => {
      const lines = [1, 2, 3].map((i) => `k${i}:kcat ${codec} ${i}${FILLER}`).join('\n') + '\n';
      await run(KCAT, ['-b', bootstrap, '-P', '-t', TOPIC, '-z', codec, '-K', ':'], lines);
    },
  });
  return [
    ...['none', 'gzip', 'snappy', 'lz4', 'zstd'].map(produce),
    {
      client,
      step: 'consumer',
      run: async (bootstrap) => {
        await run(KCAT, ['-b', bootstrap, '-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-c', '5', '-e', '-q']);
      },
    },
    {
      client,
      step: 'consumer group',
      run: async (bootstrap) => {
        await run(KCAT, [
          '-b', bootstrap, '-G', 'golden-kcat-group', '-c', '5', '-q',
          '-X', 'auto.offset.reset=earliest', '-X', 'auto.commit.interval.ms=200', TOPIC,
        ]);
      },
    },
  ];
}

const KAFKA_PYTHON_PRODUCER = `
import sys
from kafka import KafkaProducer
codec = None if sys.argv[2] == 'none' else sys.argv[2]
p = KafkaProducer(bootstrap_servers=sys.argv[1], client_id='golden-kafka-python', compression_type=codec)
for i in (1, 2, 3):
    p.send('${TOPIC}', key=b'k%d' % i, value=('kafka-python %s %d${FILLER}' % (sys.argv[2], i)).encode(), headers=[('h', b'%d' % i)])
p.flush(30)
p.close(30)
`;

const KAFKA_PYTHON_CONSUMER = `
import sys
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
c = KafkaConsumer('${TOPIC}', bootstrap_servers=sys.argv[1], client_id='golden-kafka-python',
                  group_id='golden-kafka-python-group', auto_offset_reset='earliest',
                  enable_auto_commit=False, consumer_timeout_ms=20000, fetch_max_wait_ms=200)
seen = 0
for m in c:
    seen += 1
    if seen == 6:
        break
if seen < 6:
    sys.exit('kafka-python consumer saw %d messages' % seen)
c.commit()
c.close()
`;

function kafkaPythonSteps(): Step[] {
  const client = 'kafka-python';
  return [
    ...['none', 'gzip', 'snappy', 'lz4', 'zstd'].map(
      (codec): Step => ({
        client,
        step: `produce ${codec}`,
        run: async (bootstrap) => {
          await run(PYTHON, ['-c', KAFKA_PYTHON_PRODUCER, bootstrap, codec]);
        },
      }),
    ),
    {
      client,
      step: 'consumer group',
      run: async (bootstrap) => {
        await run(PYTHON, ['-c', KAFKA_PYTHON_CONSUMER, bootstrap]);
      },
    },
  ];
}

const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/**
 * Codec of each batch in a Produce request (v3+ carry one batch per partition in practice),
 * read with a minimal walk of the request so the index says what the bytes really hold.
 */
export function produceCompression(request: Buffer, apiVersion: number): string[] {
  const flexible = apiVersion >= 9;
  const r = new Reader(request);
  r.readInt16();
  r.readInt16();
  r.readInt32();
  r.readNullableString(); // client id: a classic string in every header version
  if (flexible) skipTaggedFields(r);
  if (apiVersion >= 3) flexible ? r.readCompactNullableString() : r.readNullableString();
  r.readInt16(); // acks
  r.readInt32(); // timeout
  const found: string[] = [];
  const topics = flexible ? r.readCompactArrayLength() : r.readArrayLength();
  for (let t = 0; t < topics; t++) {
    flexible ? r.readCompactString() : r.readString();
    const partitions = flexible ? r.readCompactArrayLength() : r.readArrayLength();
    for (let p = 0; p < partitions; p++) {
      r.readInt32();
      const records = flexible ? r.readCompactNullableBytes() : r.readNullableBytes();
      if (records && records.length > 17) {
        const magic = records[16]!;
        const attributes = magic >= 2 ? records.readInt16BE(21) : records[17]!;
        found.push(`${COMPRESSION_NAMES[attributes & 0x07] ?? 'unknown'} (magic ${magic})`);
      }
      if (flexible) skipTaggedFields(r);
    }
    if (flexible) skipTaggedFields(r);
  }
  return found;
}

function skipTaggedFields(r: Reader): void {
  const count = r.readUVarint();
  for (let i = 0; i < count; i++) {
    r.readUVarint();
    r.take(r.readUVarint());
  }
}

function versionOf(cmd: string, args: string[]): Promise<string> {
  return run(cmd, args).then((s) => s.trim().split('\n')[0]!, (err: Error) => `unknown (${err.message})`);
}

async function main(): Promise<void> {
  const apiNames = loadApiNames();
  const mock = await startMock();
  const proxy = new RecordingProxy(mock.port);
  await proxy.listen();
  const bootstrap = `${HOST}:${proxy.port}`;
  const failures: string[] = [];
  try {
    for (const step of [...kafkajsSteps(), ...kcatSteps(), ...kafkaPythonSteps()]) {
      proxy.client = step.client;
      proxy.step = step.step;
      process.stdout.write(`${step.client}: ${step.step} ... `);
      try {
        await step.run(bootstrap);
        console.log('ok');
      } catch (err) {
        console.log(`failed: ${(err as Error).message}`);
        failures.push(`${step.client} ${step.step}: ${(err as Error).message}`);
      }
      // Let late responses and closes land before the next step is labelled.
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await proxy.close();
    mock.child.kill();
  }

  const kcatVersion = /Version (\S+).*librdkafka (\S+)/.exec(await run(KCAT, ['-V']).catch(() => ''));
  const clients: Record<string, string> = {
    kafkajs: JSON.parse(readFileSync(resolve(GOLDEN_DIR, '../../node_modules/kafkajs/package.json'), 'utf8')).version,
    kcat: kcatVersion ? `${kcatVersion[1]} (librdkafka ${kcatVersion[2]})` : 'unknown',
    'kafka-python': await versionOf(PYTHON, ['-c', 'import kafka; print(kafka.__version__)']),
  };

  const index: GoldenIndex = {
    generatedBy: 'protocol/golden/capture.ts',
    broker: 'librdkafka mock cluster (1 broker), through a recording proxy',
    clients,
    frames: [],
  };
  const perKey = new Map<string, number>();
  const perName = new Map<string, number>();
  const writtenClients = new Set(proxy.captured.map((c) => c.client));
  for (const client of writtenClients) rmSync(join(GOLDEN_DIR, client), { recursive: true, force: true });
  for (const c of proxy.captured) {
    const key = `${c.client}|${c.apiKey}|${c.apiVersion}|${c.apiKey === PRODUCE ? c.step : ''}`;
    const kept = perKey.get(key) ?? 0;
    if (kept >= (c.apiKey === PRODUCE ? 1 : KEEP_PER_KEY)) continue;
    perKey.set(key, kept + 1);
    const apiName = apiNames.get(c.apiKey) ?? `ApiKey${c.apiKey}`;
    const nameKey = `${c.client}|${apiName}|${c.apiVersion}`;
    const n = perName.get(nameKey) ?? 0;
    perName.set(nameKey, n + 1);
    const base = `${c.client}/${apiName}-v${c.apiVersion}-${n}`;
    mkdirSync(join(GOLDEN_DIR, c.client), { recursive: true });
    const common = { client: c.client, step: c.step, apiName, correlationId: c.correlationId };
    const request: GoldenFrame = {
      ...common,
      apiKey: c.apiKey,
      apiVersion: c.apiVersion,
      direction: 'request',
      file: `${base}.request.bin`,
    };
    if (c.apiKey === PRODUCE) request.compression = produceCompression(c.request, c.apiVersion);
    writeFileSync(join(GOLDEN_DIR, request.file), c.request);
    index.frames.push(request);
    if (c.response) {
      const response: GoldenFrame = {
        ...common,
        apiKey: c.apiKey,
        apiVersion: c.apiVersion,
        direction: 'response',
        file: `${base}.response.bin`,
        requestApiKey: c.apiKey,
        requestApiVersion: c.apiVersion,
      };
      // ApiVersions is answered at v0 when its version is not served (KIP-511), so clients can
      // always read the error and the supported range.
      if (c.apiKey === API_VERSIONS && c.response.length >= 6 && c.response.readInt16BE(4) === 35) {
        response.note = 'UNSUPPORTED_VERSION: the body is encoded at version 0';
      }
      writeFileSync(join(GOLDEN_DIR, response.file), c.response);
      index.frames.push(response);
    }
  }
  writeFileSync(join(GOLDEN_DIR, 'index.json'), JSON.stringify(index, null, 2) + '\n');

  const summary = new Map<string, Set<string>>();
  for (const f of index.frames) {
    if (f.direction !== 'request') continue;
    const s = summary.get(f.client) ?? new Set<string>();
    s.add(`${f.apiName} v${f.apiVersion}${f.compression ? ` [${f.compression.join(', ')}]` : ''}`);
    summary.set(f.client, s);
  }
  for (const [client, apis] of summary) console.log(`${client}: ${[...apis].join('; ')}`);
  console.log(`${index.frames.length} frames written to ${GOLDEN_DIR}`);
  if (failures.length > 0) {
    console.log(`failed steps:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

// Importable (tests reuse produceCompression) without capturing anything.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
