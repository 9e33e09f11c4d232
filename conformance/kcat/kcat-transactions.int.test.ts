// Transactions through kcat (librdkafka) against a broker process: `kcat -P -X transactional.id=..`
// sends all its input in one transaction, committed when its input ends; interrupted, it leaves
// the transaction open and the coordinator aborts it at transaction.timeout.ms; a second kcat with the same transactional.id fences the first (its open
// transaction is aborted and its later records never commit). kcat reads its input in blocks, so
// an open transaction is given many lines, and the test waits for some of them to be in the log. Read back with kcat itself:
// read_committed sees exactly the committed records, read_uncommitted every data record, and
// neither any control record.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../protocol/client/client.ts';
import { BrokerProcess } from '../harness/broker-process.ts';
import { run } from '../harness/child-json.ts';
import { eventually } from '../harness/cluster-checks.ts';

/** Enough lines that kcat, reading its input in blocks, sends some before its input ends. */
const lines = (tag: string): string[] => Array.from({ length: 20_000 }, (_, i) => `${tag}-${i}`);

const kcatVersion = await run('kcat', ['-V'], { timeoutMs: 10_000 }).catch(() => null);
const unavailable = kcatVersion === null || kcatVersion.code !== 0 || !/Transactions/.test(kcatVersion.stdout);
if (unavailable) console.warn('[conformance] kcat transactions skipped: kcat with transaction support is not installed (apt-get install kcat)');

let broker: BrokerProcess;
let admin: KafkaClient;

beforeAll(async () => {
  if (unavailable) return;
  broker = await BrokerProcess.start();
  admin = new KafkaClient({ bootstrapServers: [broker.bootstrap], clientId: 'kcat-txn-admin', retries: 8 });
  await admin.connect();
}, 60_000);

afterAll(async () => {
  await admin?.close();
  await broker?.destroy();
});

async function newTopic(name: string): Promise<string> {
  const r = await admin.createTopics([{ name, numPartitions: 1, replicationFactor: 1 }]);
  expect(r.topics[0]!.errorCode).toBe(0);
  return name;
}

/**
 * A transactional kcat producer whose stdin stays open until `end()` (commit) or `interrupt()`.
 * librdkafka wants transaction.timeout.ms at least socket.timeout.ms (10 s here).
 */
function transactionalKcat(topic: string, transactionalId: string, timeoutMs = 60_000): { write(lines: string[]): void; end(): Promise<Exit>; interrupt(): Promise<Exit>; child: ChildProcess } {
  const child = spawn('kcat', ['-b', broker.bootstrap, '-P', '-t', topic, '-p', '0', '-X', `transactional.id=${transactionalId}`, '-X', `transaction.timeout.ms=${timeoutMs}`, '-X', `message.timeout.ms=${Math.min(timeoutMs, 30_000)}`, '-X', 'linger.ms=5', '-X', 'socket.timeout.ms=10000'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  // A kcat that has ended (fenced, say) closes its input: later writes are ignored, not thrown.
  child.stdin!.on('error', () => undefined);
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  const bounded = (): Promise<Exit> => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    return exited.finally(() => clearTimeout(timer));
  };
  return {
    child,
    write: (lines) => void child.stdin!.write(lines.map((l) => `${l}\n`).join('')),
    end: () => {
      child.stdin!.end();
      return bounded();
    },
    interrupt: () => {
      // kcat notes the interrupt, but a read of its input in progress goes on: end the input too.
      child.kill('SIGINT');
      setTimeout(() => child.stdin!.end(), 200);
      return bounded();
    },
  };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** The log end offset of partition 0 (what read_uncommitted can reach once written). */
async function logEnd(topic: string): Promise<bigint> {
  return (await admin.listOffsets(topic, 0, -1n)).offset ?? -1n;
}

async function consume(topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const r = await run('kcat', ['-b', broker.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%s\\n', '-X', `isolation.level=${isolation}`], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`kcat -C failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe.skipIf(unavailable)('kcat (librdkafka) transactions', () => {
  it('commits when its input ends; an interrupted one is aborted at its transaction timeout; read_committed sees exactly the committed records', async () => {
    const topic = await newTopic('kcat-txn');
    const committed = transactionalKcat(topic, 'kcat-commit');
    committed.write(['c1', 'c2', 'c3']);
    const done = await committed.end();
    expect(done.code, done.stderr).toBe(0);

    const aborted = transactionalKcat(topic, 'kcat-abort', 10_000);
    aborted.write(lines('a'));
    // Some records are in the log (so the abort has something to abort) before the interrupt.
    await eventually('the open transaction\'s records in the log', 20_000, async () => (await logEnd(topic)) > 4n);
    // kcat 1.7 ends at once on an interrupt during its input, leaving the transaction open: the
    // coordinator aborts it when transaction.timeout.ms passes, as Kafka's does.
    await aborted.interrupt();

    const again = transactionalKcat(topic, 'kcat-commit');
    again.write(['c4']);
    expect((await again.end()).code).toBe(0);

    // Until the open transaction is aborted, read_committed stops before it (the last stable offset).
    await eventually('c4 visible to read_committed once the open transaction is aborted', 45_000, async () => (await consume(topic, 'read_committed')).length === 4);
    expect(await consume(topic, 'read_committed')).toEqual(['c1', 'c2', 'c3', 'c4']);
    const all = await consume(topic, 'read_uncommitted');
    expect(all.slice(0, 3)).toEqual(['c1', 'c2', 'c3']);
    expect(all.at(-1)).toBe('c4');
    const abortedRecords = all.slice(3, -1);
    expect(abortedRecords.length).toBeGreaterThan(0);
    expect(abortedRecords).toEqual(lines('a').slice(0, abortedRecords.length));
  });

  it('a second producer with the same transactional.id fences the first, whose records never commit', async () => {
    const topic = await newTopic('kcat-zombie');
    const zombie = transactionalKcat(topic, 'kcat-shared');
    zombie.write(lines('z'));
    await eventually('the first producer\'s records in the log', 20_000, async () => (await logEnd(topic)) > 0n);

    const successor = transactionalKcat(topic, 'kcat-shared');
    successor.write(['s1', 's2']);
    const done = await successor.end();
    expect(done.code, done.stderr).toBe(0);

    zombie.write(['z3']);
    const fenced = await zombie.end();
    expect(fenced.stderr).toMatch(/fenced|PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|abort/i);

    expect(await consume(topic, 'read_committed')).toEqual(['s1', 's2']);
    const all = await consume(topic, 'read_uncommitted');
    expect(all).toEqual(expect.arrayContaining(['z-0', 's1', 's2']));
    expect(all).not.toContain('z3');
  });
});
