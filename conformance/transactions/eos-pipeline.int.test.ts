// Exactly-once under crashes: a consume–transform–produce processor (eos_processor.py beside this
// file, librdkafka's transactions through confluent-kafka-python) reads an input topic of 2,000
// records and is killed with SIGKILL inside an open transaction (its batch produced and flushed,
// its offsets not yet committed) at least 10 times, restarted each time, until it reaches the end
// of the input. A read_committed reader (kafkajs) of the output then finds every input record
// exactly once, while a read_uncommitted one also finds the killed transactions' aborted copies,
// so the kills did land inside transactions. Bounded: each run 60 s, the whole loop 120 s.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../harness/broker-process.ts';
import { PYTHON, pythonModuleVersion } from '../harness/python.ts';

const PROCESSOR = join(dirname(fileURLToPath(import.meta.url)), 'eos_processor.py');
const N = 2000;
const PARTITIONS = 4;
const KILLS = 10;
const MAX_RUNS = 30;
const LOOP_MS = 120_000;
const RUN_MS = 60_000;

const OVERRIDES = {
  'offsets.topic.num.partitions': '3',
  'transaction.state.log.num.partitions': '3',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'group.initial.rebalance.delay.ms': '0',
};

function kafka(bootstrap: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2000 } });
}

interface Run {
  outcome: 'killed' | 'done' | 'failed';
  committed: number;
  detail: string;
}

/**
 * One run of the processor. With `killAfterSent` it is killed (SIGKILL, by its pid) when it says
 * it has sent its batch of that many-th transaction, before committing it.
 */
function runProcessor(args: string[], killAfterSent: number | null): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [PROCESSOR, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let sent = 0;
    let committed = 0;
    let done = false;
    let killed = false;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let e: { event?: string; records?: number };
      try {
        e = JSON.parse(line) as typeof e;
      } catch {
        return;
      }
      if (e.event === 'committed') committed += e.records ?? 0;
      if (e.event === 'done') done = true;
      if (e.event === 'sent' && ++sent === killAfterSent && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (killed) resolve({ outcome: 'killed', committed, detail: '' });
      else if (done && code === 0) resolve({ outcome: 'done', committed, detail: '' });
      else resolve({ outcome: 'failed', committed, detail: `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}

async function readOutput(bootstrap: string, groupId: string, readUncommitted: boolean, atLeast: number): Promise<string[]> {
  const c = kafka(bootstrap, groupId).consumer({ groupId, readUncommitted, maxWaitTimeInMs: 200 });
  await c.connect();
  try {
    await c.subscribe({ topic: 'eos-out', fromBeginning: true });
    const seen: string[] = [];
    await c.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    const end = Date.now() + 60_000;
    while (seen.length < atLeast && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    // A little longer: nothing more may arrive.
    await new Promise((r) => setTimeout(r, 2000));
    return seen;
  } finally {
    await c.disconnect();
  }
}

const detected = await pythonModuleVersion('confluent_kafka', 'confluent_kafka.version()[0] + " (librdkafka " + confluent_kafka.libversion()[0] + ")"', 'python3-confluent-kafka');
if ('unavailable' in detected) console.warn(`exactly-once pipeline skipped: ${detected.unavailable}`);
const title = 'unavailable' in detected ? `exactly-once pipeline (skipped: ${detected.unavailable})` : `exactly-once pipeline with confluent-kafka-python ${detected.version}`;

describe.skipIf('unavailable' in detected)(title, () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await BrokerProcess.start({ overrides: OVERRIDES, startTimeoutMs: 60_000 });
    const admin = kafka(broker.bootstrap, 'eos-admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'eos-in', numPartitions: PARTITIONS }, { topic: 'eos-out', numPartitions: PARTITIONS }] });
    await admin.disconnect();
    const p = kafka(broker.bootstrap, 'eos-input').producer();
    await p.connect();
    for (let i = 0; i < N; i += 500) {
      const messages = Array.from({ length: 500 }, (_, j) => ({ key: `k${i + j}`, value: `v${i + j}`, partition: (i + j) % PARTITIONS }));
      await p.send({ topic: 'eos-in', acks: -1, messages });
    }
    await p.disconnect();
  }, 120_000);

  afterAll(async () => {
    await broker?.destroy();
  }, 60_000);

  it(`every input record is in the committed output exactly once after ${KILLS} SIGKILLs inside transactions`, async () => {
    const args = [broker.bootstrap, 'eos-in', 'eos-out', 'eos-group', 'eos-processor', String(PARTITIONS)];
    const runs: Run[] = [];
    let kills = 0;
    const end = Date.now() + LOOP_MS;
    for (;;) {
      expect(runs.length, `runs so far: ${JSON.stringify(runs)}`).toBeLessThan(MAX_RUNS);
      expect(Date.now(), `runs so far: ${JSON.stringify(runs)}`).toBeLessThan(end);
      // Killed in its 2nd or 3rd transaction: the run commits at least one batch first.
      const r = await runProcessor(args, kills < KILLS ? 2 + (runs.length % 2) : null);
      runs.push(r);
      if (r.outcome === 'killed') kills++;
      if (r.outcome === 'done') break;
    }
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(runs.filter((r) => r.outcome === 'failed'), 'runs that failed on their own').toEqual([]);

    const committed = await readOutput(broker.bootstrap, 'eos-check-committed', false, N);
    const expected = Array.from({ length: N }, (_, i) => `out:v${i}`).sort();
    expect(committed.length).toBe(N);
    expect([...committed].sort()).toEqual(expected);
    // The aborted copies exist: the kills hit open transactions whose batches were written.
    const everything = await readOutput(broker.bootstrap, 'eos-check-uncommitted', true, N + 1);
    expect(everything.length).toBeGreaterThan(N);
    expect(new Set(everything)).toEqual(new Set(expected));
  }, 300_000);
});
