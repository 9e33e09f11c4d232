import { ApiKey } from '../../protocol/generated/api-table.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { BrokerProcess } from '../harness/broker-process.ts';
import { Wire } from './wire.ts';
const b = await BrokerProcess.start();
const MAX = (1n << 63n) - 1n;
try {
  const w = await Wire.open(b.port);
  await w.request(ApiKey.CreateTopics, 5, { topics: [{ name: 'x', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const deltas = process.argv.slice(2).map(Number);
  const records = encodeRecordBatch({ compression: Number(process.env.C ?? 0), baseTimestamp: MAX - BigInt(deltas[0] ?? 0), maxTimestamp: MAX, records: deltas.slice(1).map((d, i) => ({ offsetDelta: i, timestampDelta: d, key: null, value: Buffer.alloc(Number(process.env.V ?? 1)) })) });
  for (let i = 0; i < 2; i++) {
    const r = await w.request(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'x', partitionData: [{ index: 0, records }] }] }, { timeoutMs: 5000 }).catch((e) => e.message);
    console.log(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 300));
  }
  await new Promise((r) => setTimeout(r, 1000));
  let alive = true;
  try { process.kill(b.pid!, 0); } catch { alive = false; }
  console.log('alive', alive);
} finally {
  console.log(b.logs.split('\n').filter((l) => /"level":(50|60)/.test(l)).map((l) => l.slice(0, 300)).slice(-4).join('\n'));
  await b.destroy();
}
