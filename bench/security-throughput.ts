// Produce and fetch throughput over PLAINTEXT, SSL (TLS with a client certificate) and SASL_SSL
// (SCRAM-SHA-512) listeners of the same broker process, in one run: one connection, 1 KiB records
// in 64 KiB pre-encoded batches, acks=1 with 16 requests in flight, then fetching the written data
// back from offset 0. Shows what TLS and SASL cost against PLAINTEXT on this machine (SASL only
// adds the handshake; the bytes flow as with SSL). Needs the openssl tool for the certificates.
// `npx tsx bench/security-throughput.ts [--duration 10]`
import { parseArgs } from 'node:util';
import { makeTestPki } from '../conformance/security/certs.ts';
import { samsa } from '../conformance/security/run-process.ts';
import { startSecureBroker } from '../conformance/security/secure-broker.ts';
import { createTopic } from './broker-common.ts';
import { batchPool } from './loadgen/record-batches.ts';
import { KafkaClient } from '../protocol/client/client.ts';
import { KafkaConnection, type ConnectionOptions } from '../protocol/client/connection.ts';
import { ApiKey } from '../protocol/generated/api-table.ts';
import { saslAuthenticate } from '../broker/security/client-security.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: process.env.BENCH_DURATION ?? '10' } } });
const durationMs = Number(values.duration) * 1000;
const IN_FLIGHT = 16;

async function produce(conn: KafkaConnection, topic: string, pool: Buffer[]): Promise<{ mbps: number; bytes: number }> {
  let bytes = 0;
  let next = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const records = pool[next++ % pool.length]!;
      const r = await conn.send(ApiKey.Produce, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
      const code = r?.responses[0]?.partitionResponses[0]?.errorCode ?? -1;
      if (code !== 0) throw new Error(`produce error ${code}`);
      bytes += records.length;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { mbps: bytes / 1e6 / ((performance.now() - started) / 1000), bytes };
}

async function fetchAll(conn: KafkaConnection, topic: string, topicId: string, total: number): Promise<number> {
  let offset = 0n;
  let bytes = 0;
  const started = performance.now();
  while (bytes < total && performance.now() - started < durationMs * 3) {
    const r = await conn.send(ApiKey.Fetch, {
      replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 8 * 1024 * 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 8 * 1024 * 1024 }] }],
      forgottenTopicsData: [], rackId: '',
    } as never);
    const p = (r as { responses: { partitions: { records: Buffer | null; highWatermark: bigint }[] }[] }).responses[0]!.partitions[0]!;
    const got = p.records?.length ?? 0;
    if (got === 0) break;
    bytes += got;
    // Whole batches: the next offset is past the last complete batch (base offset + last offset delta + 1).
    let pos = 0;
    const buf = p.records!;
    while (pos + 61 <= buf.length) {
      const len = buf.readInt32BE(pos + 8);
      if (pos + 12 + len > buf.length) break;
      offset = buf.readBigInt64BE(pos) + BigInt(buf.readInt32BE(pos + 23)) + 1n;
      pos += 12 + len;
    }
  }
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

const pki = await makeTestPki();
const b = await startSecureBroker(pki);
try {
  await samsa(['configs', '--bootstrap-server', b.plaintext, '--alter', '--add-config', 'SCRAM-SHA-512=[password=bench-secret]', '--entity-type', 'users', '--entity-name', 'bench']);
  const client = await pki.client('bench-client', '/CN=bench');
  const cases: [string, string, ConnectionOptions][] = [
    ['PLAINTEXT', b.plaintext, {}],
    ['SSL (client certificate)', b.ssl, { tls: { ca: pki.caCert, cert: client.cert, key: client.key } }],
    ['SASL_SSL (SCRAM-SHA-512)', b.saslSsl, { tls: { ca: pki.caCert }, authenticate: (c) => saslAuthenticate(c, 'SCRAM-SHA-512', 'bench', 'bench-secret') }],
  ];
  const pool = batchPool({ recordSize: 1024, batchBytes: 64 * 1024 }, 32);
  console.log(`security: produce (acks=1, ${IN_FLIGHT} in flight, 64 KiB batches of 1 KiB records, ${durationMs / 1000} s) and fetch back, one connection, MB/s`);
  console.log('listener                    connect ms  produce MB/s  fetch MB/s');
  for (const [name, bootstrap, options] of cases) {
    const topic = `bench-${name.split(' ')[0]!.toLowerCase()}`;
    await createTopic(b.plaintext, topic, 1);
    const [host, port] = bootstrap.split(':');
    const t0 = performance.now();
    const conn = await KafkaConnection.connect(host!, Number(port), { clientId: 'bench-security', requestTimeoutMs: 60_000, ...options });
    const connectMs = performance.now() - t0;
    const admin = new KafkaClient({ bootstrapServers: b.plaintext, clientId: 'bench-security' });
    const topicId = (await admin.metadata([topic])).topics[0]!.topicId ?? '';
    await admin.close();
    const p = await produce(conn, topic, pool);
    const f = await fetchAll(conn, topic, topicId, p.bytes);
    console.log(`${name.padEnd(27)} ${connectMs.toFixed(1).padStart(10)} ${p.mbps.toFixed(0).padStart(13)} ${f.toFixed(0).padStart(11)}`);
    await conn.close();
  }
} finally {
  await b.broker.destroy();
  await pki.remove();
}
