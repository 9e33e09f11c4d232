// Consumer groups end to end with the samsa tools as child processes against an in-process broker
// on 127.0.0.1: two `console-consumer --group` members share a topic, then `consumer-groups`
// describes, resets and deletes what they committed.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { samsaArgs } from '../../conformance/harness/samsa-cli.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../index.ts';
import type { StartedBroker } from '../../index.ts';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { partitionForKey } from './partitioner.ts';

const CHILD_TIMEOUT_MS = 30_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<Run>;
}

/** Starts `samsa <args>`; it is killed (by pid) if it outlives the timeout. */
function start(args: string[], input?: string, timeoutMs = CHILD_TIMEOUT_MS): Running {
  const child = spawn(process.execPath, samsaArgs(args), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`samsa ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  child.stdin!.end(input ?? '');
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

function samsa(args: string[], input?: string): Promise<Run> {
  return start(args, input).done;
}

async function eventually(check: () => Promise<boolean> | boolean, attempts = 60, pauseMs = 250): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}

/** Data lines of a `--describe` offsets table: [topic, partition, current, end, lag, consumer]. */
function offsetRows(stdout: string): string[][] {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const header = lines.findIndex((l) => l.startsWith('GROUP '));
  return lines.slice(header + 1).map((l) => l.trim().split(/\s+/).slice(1, 7));
}

let broker: StartedBroker;
let client: KafkaClient;
let B: string[];

beforeAll(async () => {
  broker = await startBroker({ overrides: { 'num.partitions': '1', 'group.initial.rebalance.delay.ms': '300' } });
  B = ['--bootstrap-server', broker.bootstrap];
  client = new KafkaClient({ bootstrapServers: broker.bootstrap });
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

async function describeGroup(groupId: string): Promise<{ state: string; members: number }> {
  const c = await client.findCoordinator(groupId);
  const r = await client.send({ nodeId: c.nodeId }, ApiKey.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
  return { state: r.groups[0]!.groupState, members: r.groups[0]!.members.length };
}

function keyedLines(from: number, count: number): string {
  return Array.from({ length: count }, (_, i) => `k${from + i}:v${from + i}`).join('\n') + '\n';
}

describe('console-consumer --group and consumer-groups', () => {
  it('shares partitions between members, commits, describes lag, resets and deletes', { timeout: 180_000 }, async () => {
    const topic = 'cg-shared';
    expect((await samsa(['topics', ...B, '--create', '--topic', topic, '--partitions', '2'])).code).toBe(0);

    const consumerArgs = ['console-consumer', ...B, '--topic', topic, '--group', 'cg1', '--from-beginning', '--property', 'print.partition=true', '--timeout-ms', '60000'];
    const n = 40;
    const members = [start(consumerArgs, undefined, 90_000), start(consumerArgs, undefined, 90_000)];
    try {
      await eventually(async () => {
        const g = await describeGroup('cg1');
        return g.state === 'Stable' && g.members === 2;
      }, 120);

      const produced = await samsa(['console-producer', ...B, '--topic', topic, '--property', 'parse.key=true', '--property', 'key.separator=:'], keyedLines(0, n));
      expect(produced.code).toBe(0);
      const lines = (): string[] => members.flatMap((m) => m.stdout().split('\n').filter((l) => l !== ''));
      await eventually(() => lines().length >= n, 80);

      // Every record once, each member printing only the partition it was assigned.
      const expected = Array.from({ length: n }, (_, i) => `Partition:${partitionForKey(Buffer.from(`k${i}`), 2)}\tv${i}`);
      expect(lines().sort()).toEqual(expected.sort());
      const partitionsOf = members.map((m) => new Set(m.stdout().split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0])));
      for (const p of partitionsOf) expect(p.size).toBeLessThanOrEqual(1);
      expect(new Set([...partitionsOf[0]!, ...partitionsOf[1]!]).size).toBe(2);

      // An active group is neither reset nor deleted.
      const refused = await samsa(['consumer-groups', ...B, '--reset-offsets', '--group', 'cg1', '--topic', topic, '--to-earliest', '--execute']);
      expect(refused.code).toBe(0);
      expect(refused.stdout).toContain("Error: Assignments can only be reset if the group 'cg1' is inactive, but the current state is Stable.");
      const notEmpty = await samsa(['consumer-groups', ...B, '--delete', '--group', 'cg1']);
      expect(notEmpty.stdout).toContain("* Group 'cg1' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.");

      const active = await samsa(['consumer-groups', ...B, '--describe', '--group', 'cg1']);
      expect(active.code).toBe(0);
      const activeRows = offsetRows(active.stdout);
      expect(activeRows).toHaveLength(2);
      for (const row of activeRows) expect(row[5]).toMatch(/^consumer-cg1-1-/);

      for (const m of members) process.kill(m.child.pid!, 'SIGTERM');
      const ends = await Promise.all(members.map((m) => m.done));
      for (const e of ends) {
        expect(e.code).toBe(0);
        expect(e.stderr).toMatch(/Processed a total of \d+ messages/);
      }
    } finally {
      for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) process.kill(m.child.pid!, 'SIGKILL');
    }

    // Closed members committed everything they printed and left the group.
    expect(await describeGroup('cg1')).toEqual({ state: 'Empty', members: 0 });
    const idle = await samsa(['consumer-groups', ...B, '--describe', '--group', 'cg1']);
    expect(idle.code).toBe(0);
    expect(idle.stderr).toContain("Consumer group 'cg1' has no active members.");
    const idleRows = offsetRows(idle.stdout);
    expect(idleRows.map((r) => r[1]).sort()).toEqual(['0', '1']);
    for (const [, , current, end, lag, consumer] of idleRows) {
      expect(current).toBe(end);
      expect(lag).toBe('0');
      expect(consumer).toBe('-');
    }

    // More records: the lag is what nobody has read yet.
    const m = 15;
    expect((await samsa(['console-producer', ...B, '--topic', topic, '--property', 'parse.key=true', '--property', 'key.separator=:'], keyedLines(100, m))).code).toBe(0);
    const lagging = offsetRows((await samsa(['consumer-groups', ...B, '--describe', '--group', 'cg1'])).stdout);
    expect(lagging.reduce((sum, r) => sum + Number(r[4]), 0)).toBe(m);

    // A dry run changes nothing; --execute commits the plan.
    const dry = await samsa(['consumer-groups', ...B, '--reset-offsets', '--group', 'cg1', '--topic', topic, '--to-earliest']);
    expect(dry.stderr).toContain('WARN: No action will be performed as the --execute option is missing.');
    expect(dry.stdout.split('\n').filter((l) => l.startsWith('cg1 ')).map((l) => l.trim().split(/\s+/).slice(2))).toEqual([['0', '0'], ['1', '0']]);
    expect(offsetRows((await samsa(['consumer-groups', ...B, '--describe', '--group', 'cg1'])).stdout).reduce((sum, r) => sum + Number(r[4]), 0)).toBe(m);
    const reset = await samsa(['consumer-groups', ...B, '--reset-offsets', '--group', 'cg1', '--topic', topic, '--to-earliest', '--execute']);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/\nGROUP {26}TOPIC {26}PARTITION {2}NEW-OFFSET {5}\ncg1 {28}cg-shared {22}0 {10}0 {14}\ncg1 {28}cg-shared {22}1 {10}0 {14}\n/);

    // A member of the group now reads everything again.
    const again = await samsa(['console-consumer', ...B, '--topic', topic, '--group', 'cg1', '--max-messages', String(n + m), '--timeout-ms', '20000']);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n').filter((l) => l !== '')).toHaveLength(n + m);
    expect(again.stderr).toContain(`Processed a total of ${n + m} messages`);

    const listed = await samsa(['consumer-groups', ...B, '--list', '--state']);
    expect(listed.stdout).toMatch(/^GROUP {20,}STATE {15}\n/);
    expect(listed.stdout).toMatch(/\ncg1 +Empty +\n/);

    const deleted = await samsa(['consumer-groups', ...B, '--delete', '--group', 'cg1']);
    expect(deleted).toMatchObject({ code: 0, stdout: "Deletion of requested consumer groups ('cg1') was successful.\n" });
    expect((await samsa(['consumer-groups', ...B, '--list'])).stdout.split('\n')).not.toContain('cg1');
    const gone = await samsa(['consumer-groups', ...B, '--describe', '--group', 'cg1']);
    expect(gone.stdout).toContain("Error: Consumer group 'cg1' does not exist.");
  });

  it('deletes the offsets of one topic and commits nothing without --group', { timeout: 120_000 }, async () => {
    const topic = 'cg-offsets';
    expect((await samsa(['topics', ...B, '--create', '--topic', topic, '--partitions', '1'])).code).toBe(0);
    expect((await samsa(['console-producer', ...B, '--topic', topic], 'a\nb\nc\n')).code).toBe(0);

    const anonymous = await samsa(['console-consumer', ...B, '--topic', topic, '--from-beginning', '--max-messages', '3', '--timeout-ms', '20000']);
    expect(anonymous.stdout).toBe('a\nb\nc\n');
    // The generated group committed nothing, so it is not listed with offsets of this topic.
    for (const g of (await samsa(['consumer-groups', ...B, '--list'])).stdout.split('\n').filter((l) => l.startsWith('console-consumer-'))) {
      expect(offsetRows((await samsa(['consumer-groups', ...B, '--describe', '--group', g])).stdout)).toEqual([]);
    }

    const read = await samsa(['console-consumer', ...B, '--topic', topic, '--group', 'cg2', '--from-beginning', '--max-messages', '3', '--timeout-ms', '20000']);
    expect(read.stdout).toBe('a\nb\nc\n');
    expect(offsetRows((await samsa(['consumer-groups', ...B, '--describe', '--group', 'cg2'])).stdout).map((r) => r.slice(0, 5))).toEqual([[topic, '0', '3', '3', '0']]);

    const deleted = await samsa(['consumer-groups', ...B, '--delete-offsets', '--group', 'cg2', '--topic', topic]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(`Request succeed for deleting offsets with topic ${topic} group cg2\n\nTOPIC                          PARTITION       STATUS         \n${topic.padEnd(30)} 0               Successful     \n`);
  });
});
