// The samsa tools run as child processes against an in-process broker on 127.0.0.1: what they
// print, their exit codes, and that what one tool writes another reads back.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../conformance/harness/ports.ts';
import { samsa as runSamsa, SAMSA_BIN } from '../../conformance/harness/samsa-cli.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBroker } from '../../index.ts';
import type { StartedBroker } from '../../index.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { decodeRecordBatch, iterateBatches } from '../../protocol/records/record-batch.ts';
import { partitionForKey } from './partitioner.ts';

const CHILD_TIMEOUT_MS = 30_000;
// Each test runs the CLI a dozen times, a process start each (seconds apiece on a busy machine).
vi.setConfig({ testTimeout: 180_000 });

/** Runs `samsa <args>` with optional stdin; the child is killed (by pid) if it outlives the timeout. */
function samsa(args: string[], input?: string, timeoutMs = CHILD_TIMEOUT_MS) {
  return runSamsa(args, { input, timeoutMs });
}

/** Retries a check a bounded number of times: metadata changes reach brokers asynchronously, as in Kafka. */
async function eventually(check: () => Promise<boolean>, attempts = 20, pauseMs = 250): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}

let broker: StartedBroker;
let B: string[];

beforeAll(async () => {
  broker = await startBroker({ overrides: { 'num.partitions': '1' } });
  B = ['--bootstrap-server', broker.bootstrap];
});

afterAll(async () => {
  await broker?.stop();
});

describe('samsa topics', () => {
  it('creates, lists, describes, alters and deletes a topic, with Kafka\'s messages', async () => {
    const created = await samsa(['topics', ...B, '--create', '--topic', 'cli-t1', '--partitions', '3', '--replication-factor', '1', '--config', 'retention.ms=60000']);
    expect(created).toMatchObject({ code: 0, stdout: 'Created topic cli-t1.\n' });

    const again = await samsa(['topics', ...B, '--create', '--topic', 'cli-t1', '--partitions', '3']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Error while executing topic command : Topic 'cli-t1' already exists.");
    expect((await samsa(['topics', ...B, '--create', '--topic', 'cli-t1', '--if-not-exists'])).code).toBe(0);

    const list = await samsa(['topics', ...B, '--list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')).toContain('cli-t1');

    const described = await samsa(['topics', ...B, '--describe', '--topic', 'cli-t1']);
    expect(described.code).toBe(0);
    const lines = described.stdout.replace(/\n$/, '').split('\n');
    expect(lines[0]).toMatch(/^Topic: cli-t1\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: .*retention\.ms=60000/);
    // Kafka 3.9's tool reads partitions with DescribeTopicPartitions, which adds the ELR columns.
    expect(lines.slice(1)).toEqual([0, 1, 2].map((p) => `\tTopic: cli-t1\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: `));

    expect((await samsa(['topics', ...B, '--alter', '--topic', 'cli-t1', '--partitions', '4'])).code).toBe(0);
    await eventually(async () => (await samsa(['topics', ...B, '--describe', '--topic', 'cli-t1'])).stdout.includes('PartitionCount: 4'));

    expect((await samsa(['topics', ...B, '--delete', '--topic', 'cli-t1'])).code).toBe(0);
    await eventually(async () => !(await samsa(['topics', ...B, '--list'])).stdout.split('\n').includes('cli-t1'));
    const missing = await samsa(['topics', ...B, '--delete', '--topic', 'cli-t1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Topic 'cli-t1' does not exist as expected");
    expect((await samsa(['topics', ...B, '--delete', '--topic', 'cli-t1', '--if-exists'])).code).toBe(0);
  });

  it('fails with a usage error and no connection when the action is missing', async () => {
    const r = await samsa(['topics', ...B, '--topic', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Command must include exactly one action');
  });
});

describe('samsa configs', () => {
  it('alters and describes topic configs through IncrementalAlterConfigs', async () => {
    expect((await samsa(['topics', ...B, '--create', '--topic', 'cli-cfg', '--partitions', '1'])).code).toBe(0);
    const alter = await samsa(['configs', ...B, '--alter', '--entity-type', 'topics', '--entity-name', 'cli-cfg', '--add-config', 'retention.ms=1000,cleanup.policy=compact']);
    expect(alter).toMatchObject({ code: 0, stdout: 'Completed updating config for topic cli-cfg.\n' });
    const d1 = await samsa(['configs', ...B, '--describe', '--entity-type', 'topics', '--entity-name', 'cli-cfg']);
    expect(d1.code).toBe(0);
    const lines = d1.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Dynamic configs for topic cli-cfg are:');
    expect(lines[1]).toMatch(/^ {2}cleanup\.policy=compact sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:cleanup\.policy=compact/);
    expect(lines[2]).toMatch(/^ {2}retention\.ms=1000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:retention\.ms=1000/);

    expect((await samsa(['configs', ...B, '--alter', '--topic', 'cli-cfg', '--delete-config', 'cleanup.policy'])).code).toBe(0);
    const d2 = await samsa(['configs', ...B, '--describe', '--topic', 'cli-cfg']);
    expect(d2.stdout).not.toContain('cleanup.policy');
    expect(d2.stdout).toContain('retention.ms=1000');

    const bad = await samsa(['configs', ...B, '--alter', '--topic', 'cli-cfg', '--delete-config', 'segment.ms']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid config(s): segment.ms');
  });
});

describe('samsa console-producer, console-consumer and get-offsets', () => {
  it('round-trips keys, values and headers, partitioned by murmur2 of the key', async () => {
    expect((await samsa(['topics', ...B, '--create', '--topic', 'cli-rt', '--partitions', '3'])).code).toBe(0);
    const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const input = keys.map((k, i) => `src:cli,n:${i}|${k}:value-${i}`).join('\n') + '\n';
    const produced = await samsa(
      ['console-producer', ...B, '--topic', 'cli-rt', '--property', 'parse.key=true', '--property', 'key.separator=:', '--property', 'parse.headers=true', '--property', 'headers.delimiter=|', '--compression-codec', 'lz4', '--timeout', '10'],
      input,
    );
    expect(produced.stderr).toBe('');
    expect(produced.code).toBe(0);

    // acks=all by default, so the console producer was idempotent: its batches carry a producer id.
    const probe = new KafkaClient({ bootstrapServers: broker.bootstrap });
    try {
      const fetched = await probe.fetch('cli-rt', partitionForKey(Buffer.from(keys[0]!), 3), 0n, { maxWaitMs: 0 });
      const first = decodeRecordBatch(fetched.records, 0).header;
      expect(first.producerId).toBeGreaterThanOrEqual(0n);
      expect(first.baseSequence).toBe(0);
    } finally {
      await probe.close();
    }

    const consumed = await samsa([
      'console-consumer', ...B, '--topic', 'cli-rt', '--from-beginning', '--max-messages', String(keys.length),
      '--property', 'print.key=true', '--property', 'print.partition=true', '--property', 'print.headers=true', '--timeout-ms', '10000',
    ]);
    expect(consumed.code).toBe(0);
    expect(consumed.stderr).toContain(`Processed a total of ${keys.length} messages`);
    const lines = consumed.stdout.trimEnd().split('\n').sort();
    const expected = keys.map((k, i) => `Partition:${partitionForKey(Buffer.from(k), 3)}\tsrc:cli,n:${i}\t${k}\tvalue-${i}`).sort();
    expect(lines).toEqual(expected);

    const offsets = await samsa(['get-offsets', ...B, '--topic', 'cli-rt']);
    expect(offsets.code).toBe(0);
    const counts = new Map<number, number>();
    for (const k of keys) counts.set(partitionForKey(Buffer.from(k), 3), (counts.get(partitionForKey(Buffer.from(k), 3)) ?? 0) + 1);
    expect(offsets.stdout).toBe([0, 1, 2].map((p) => `cli-rt:${p}:${counts.get(p) ?? 0}\n`).join(''));
    const earliest = await samsa(['get-offsets', ...B, '--topic', 'cli-rt', '--time', 'earliest', '--partitions', '0']);
    expect(earliest.stdout).toBe('cli-rt:0:0\n');
  });

  it('reads one partition from an offset and stops after --timeout-ms without records', async () => {
    expect((await samsa(['topics', ...B, '--create', '--topic', 'cli-one', '--partitions', '1'])).code).toBe(0);
    const lines = Array.from({ length: 5 }, (_, i) => `line-${i}`).join('\n') + '\n';
    expect((await samsa(['console-producer', ...B, '--topic', 'cli-one', '--timeout', '0'], lines)).code).toBe(0);
    const r = await samsa(['console-consumer', ...B, '--topic', 'cli-one', '--partition', '0', '--offset', '3', '--timeout-ms', '1500', '--property', 'print.offset=true']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Offset:3\tline-3\nOffset:4\tline-4\n');
    expect(r.stderr).toContain('TimeoutException');
    expect(r.stderr).toContain('Processed a total of 2 messages');
  });
});

describe('samsa perf tests', () => {
  it('producer-perf-test writes every record and prints Kafka\'s total line; consumer-perf-test reads them back', async () => {
    expect((await samsa(['topics', ...B, '--create', '--topic', 'cli-perf', '--partitions', '2'])).code).toBe(0);
    const n = 5000;
    const p = await samsa(['producer-perf-test', '--topic', 'cli-perf', '--num-records', String(n), '--record-size', '100', '--throughput', '-1', '--producer-props', `bootstrap.servers=${broker.bootstrap}`, 'acks=1', 'compression.type=zstd']);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    expect(p.stdout.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(`^${n} records sent, \\d+\\.\\d{6} records/sec \\(\\d+\\.\\d{2} MB/sec\\), \\d+\\.\\d{2} ms avg latency, \\d+\\.\\d{2} ms max latency, \\d+ ms 50th, \\d+ ms 95th, \\d+ ms 99th, \\d+ ms 99\\.9th\\.$`),
    );

    // The records are all there: count them with the internal client.
    const client = new KafkaClient({ bootstrapServers: broker.bootstrap });
    try {
      let total = 0;
      for (const partition of [0, 1]) {
        let offset = 0n;
        for (let round = 0; round < 100; round++) {
          const f = await client.fetch('cli-perf', partition, offset, { maxWaitMs: 0 });
          if (f.records.length === 0) break;
          for (const e of iterateBatches(f.records)) {
            const b = decodeRecordBatch(f.records, e.position);
            total += b.records.filter((r) => r.value?.length === 100).length;
            offset = b.header.baseOffset + BigInt(b.header.lastOffsetDelta) + 1n;
          }
        }
      }
      expect(total).toBe(n);
    } finally {
      await client.close();
    }

    const c = await samsa(['consumer-perf-test', ...B, '--topic', 'cli-perf', '--messages', String(n), '--timeout', '10000']);
    expect(c.code).toBe(0);
    const [header, line] = c.stdout.trimEnd().split('\n');
    expect(header).toBe('start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec');
    const fields = line!.split(', ');
    expect(fields).toHaveLength(10);
    expect(fields[2]).toBe(((n * 100) / 1048576).toFixed(4));
    expect(fields[4]).toBe(String(n));
  });
});

describe('samsa server-start', () => {
  async function serverStart(dir: string, port: number, controllerPort: number, logLevel: string) {
    const child = spawn(
      process.execPath,
      [
        SAMSA_BIN, 'server-start',
        '--override', `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        '--override', `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        '--override', `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
        '--override', `log.dirs=${dir}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: logLevel } },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // 'exit', not 'close': the broker process shares (inherits) samsa's output pipes.
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, output: () => output };
  }

  it('runs a single node from overrides until SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-cli-'));
    const [port, controllerPort] = [await freePort(), await freePort()];
    const { child, exited } = await serverStart(dir, port, controllerPort, 'warn');
    try {
      await eventually(async () => (await samsa(['topics', '--bootstrap-server', `127.0.0.1:${port}`, '--list'], undefined, 15_000)).code === 0, 40, 250);
      const created = await samsa(['topics', '--bootstrap-server', `127.0.0.1:${port}`, '--create', '--topic', 'from-server-start']);
      expect(created.stdout).toBe('Created topic from-server-start.\n');
      process.kill(child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!existsSync('/proc/self'))('hands over to the npm start process, which stops cleanly by itself if samsa is killed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-cli-'));
    const [port, controllerPort] = [await freePort(), await freePort()];
    const { child, exited, output } = await serverStart(dir, port, controllerPort, 'info');
    let brokerPid: number | undefined;
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      await eventually(async () => /"msg":"broker started"/.test(output()), 60, 250);
      const started = output().split('\n').find((l) => l.includes('"msg":"broker started"'))!;
      brokerPid = (JSON.parse(started) as { pid: number }).pid;
      expect(brokerPid).not.toBe(child.pid);
      // The broker process runs with the start script's flags, as `npm start` does.
      expect(readFileSync(`/proc/${brokerPid}/cmdline`, 'utf8').split('\0')).toContain('--initial-old-space-size=128');
      process.kill(child.pid!, 'SIGKILL');
      await exited;
      await eventually(async () => !alive(brokerPid!), 60, 250);
      expect(existsSync(join(dir, '.kafka_cleanshutdown'))).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      if (brokerPid !== undefined && alive(brokerPid)) process.kill(brokerPid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
