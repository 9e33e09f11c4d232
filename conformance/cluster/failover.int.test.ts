// Durability under leader failover with a real client: a three-node KRaft cluster of real
// processes (each node broker and controller), a topic with 3 partitions, replication factor 3 and
// min.insync.replicas=2, and an idempotent acks=all librdkafka producer
// (conformance/cluster/idempotent_producer.py) writing numbered records without pause while the
// node leading the most partitions is killed (SIGKILL) and restarted, again and again. Afterwards
// every partition is read back from its leader: each acknowledged record must be there exactly
// once, at the offset its delivery report gave, and each partition must hold its records in the
// order they were sent with no gap and no duplicate. A second round stops leaders with SIGTERM,
// where the producer must see no error but retriable ones. A third round cuts the leader off from
// the other nodes (not from the producer) with network namespaces the test makes: the cut-off
// leader must acknowledge nothing with acks=all (a write sent straight to it is refused or times
// out, and would show up as foreign data if it were kept), and what it wrote alone is truncated
// when it is reconnected. Without root or network namespaces that round is skipped, visibly, and
// the others run on loopback.
// SAMSA_FAILOVER_KILLS sets the number of kills (3 by default, which npm test runs; 20 for the
// long run, which found FINDINGS.md F8, a restart that never completed, and F9: a partition that
// took no acknowledged write for 90 s, a Metadata answer computed before the Produce queued ahead
// of it on the connection; SAMSA_FAILOVER_CUTS likewise for the cuts, 2 by default). Without
// python3-confluent-kafka the tests are skipped, visibly.
// Two defects of librdkafka (Debian 12 has 2.0.2) show up here with answers Kafka gives alike,
// and are told apart from the broker's faults: a batch answered NOT_LEADER_OR_FOLLOWER by a
// leader that lost its leadership, but already replicated to the new one, is sent again after
// librdkafka bumps its producer epoch, a duplicate the broker cannot recognise across epochs (a
// duplicate within one producer epoch still fails the test); and after a batch that timed out
// (possibly persisted) librdkafka before 2.3.0 sends the next one with a sequence that skips it
// and fails fatally on the OUT_OF_ORDER_SEQUENCE_NUMBER answer. Such a producer is replaced by a
// new one on a new topic for the rounds left, at most MAX_CLIENT_DEFECTS times per test. SAMSA_FAILOVER_PRODUCER_DEBUG (librdkafka
// debug contexts, e.g. eos,broker,protocol,msg) writes the producer's debug log to a file named
// on failure.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { encodeRecordBatch } from '../../protocol/records/record-batch.ts';
import { agreedPartitionViews, eventually, FAST_FAILOVER_PROPERTIES, type PartitionView, partitionViews, withClient as withClusterClient } from '../harness/cluster-checks.ts';
import { ClusterProcess, type NodeProcess } from '../harness/cluster-process.ts';
import { NetLab } from '../harness/net-lab.ts';
import { PYTHON, pythonModuleVersion } from '../harness/python.ts';
import { readPartition } from '../harness/read-back.ts';

const KILLS = Math.max(1, Number(process.env.SAMSA_FAILOVER_KILLS ?? 3));
const TERMS = 2;
const CUTS = Math.max(1, Number(process.env.SAMSA_FAILOVER_CUTS ?? 2));
const PRODUCER_DEBUG = process.env.SAMSA_FAILOVER_PRODUCER_DEBUG;
const MAX_CLIENT_DEFECTS = 3;
const PARTITIONS = 3;
const SESSION_TIMEOUT_MS = 3000;
const PROPERTIES = { ...FAST_FAILOVER_PROPERTIES, 'broker.session.timeout.ms': String(SESSION_TIMEOUT_MS), 'replica.lag.time.max.ms': '3000' };
const DRIVER = join(dirname(fileURLToPath(import.meta.url)), 'idempotent_producer.py');
// Errors librdkafka reports on a connection that went away; it reconnects and retries by itself.
const CONNECTION_ERRORS = new Set(['_TRANSPORT', '_ALL_BROKERS_DOWN']);

const librdkafka = await pythonModuleVersion('confluent_kafka', 'confluent_kafka.libversion()[0]', 'python3-confluent-kafka');
const unavailable = 'unavailable' in librdkafka ? librdkafka.unavailable : null;
if (unavailable) console.warn(`failover tests skipped: ${unavailable}`);

const labUnavailable = unavailable ? null : await NetLab.available();
if (labUnavailable) console.warn(`failover tests: the network-partition round is skipped: ${labUnavailable}`);

type Fault = 'SIGKILL' | 'SIGTERM' | 'cut';

let cluster: ClusterProcess;
let lab: NetLab | undefined;

function withClient<T>(fn: (c: KafkaClient) => Promise<T>, retries = 2): Promise<T> {
  return withClusterClient(cluster.bootstrap, fn, { clientId: 'failover-test', retries });
}

const partitionStates = (topic: string) => partitionViews(cluster.bootstrap, topic, PARTITIONS);

/** Waits until every broker reports every partition with the same live leader and all three replicas in its ISR. */
async function settled(topic: string, timeoutMs = 60_000): Promise<PartitionView[]> {
  return eventually(`${topic}: every partition led with a full ISR`, timeoutMs, async () => {
    const s = await agreedPartitionViews(cluster.bootstrap, topic, PARTITIONS);
    return s && s.every((p) => p.leader >= 0 && cluster.node(p.leader).running && p.isr.length === 3) ? s : undefined;
  });
}

interface Ack {
  k: number;
  p: number;
  o: number;
  /** When the producer took the record, and when its acknowledgement arrived (epoch ms). */
  s: number;
  t: number;
}
interface ClientError {
  error: string;
  str: string;
  fatal: boolean;
  retriable: boolean;
  t: number;
}
interface Failure {
  fail: number;
  p: number;
  err: string;
  fatal: boolean;
  retriable: boolean;
  t: number;
}
interface Summary {
  produced: number;
  acked: number;
  failed: number;
  unflushed: number;
  perPartition: number[];
  fatal: string | null;
}

/** The Python producer as a child: its delivery reports arrive as they happen. */
class ProducerChild {
  readonly acks: Ack[] = [];
  readonly failures: Failure[] = [];
  readonly errors: ClientError[] = [];
  private readonly child: ChildProcess;
  private stderr = '';
  private buffered = '';
  private readonly done: Promise<Summary>;
  /** Where the producer's stderr goes when its debug log is on (too long to keep in memory). */
  readonly debugLog = PRODUCER_DEBUG ? join(tmpdir(), `samsa-failover-producer-${Date.now()}.log`) : undefined;

  constructor(bootstrap: string[], topic: string) {
    const args = JSON.stringify({ bootstrap: bootstrap.join(','), topic, partitions: PARTITIONS, intervalMs: 2, debug: PRODUCER_DEBUG });
    const stderrFd = this.debugLog ? openSync(this.debugLog, 'w') : undefined;
    this.child = spawn(PYTHON, [DRIVER, args], { stdio: ['pipe', 'pipe', stderrFd ?? 'pipe'] });
    if (stderrFd !== undefined) closeSync(stderrFd);
    this.child.stdin!.on('error', () => undefined);
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    this.done = new Promise((resolve, reject) => {
      let summary: Summary | undefined;
      this.child.stdout!.on('data', (d: Buffer) => {
        this.buffered += d.toString();
        const lines = this.buffered.split('\n');
        this.buffered = lines.pop()!;
        for (const line of lines) {
          if (line.trim() === '') continue;
          const m = JSON.parse(line) as Record<string, unknown>;
          if ('ack' in m) this.acks.push({ k: m.ack as number, p: m.p as number, o: m.o as number, s: m.s as number, t: m.t as number });
          else if ('fail' in m) this.failures.push(m as unknown as Failure);
          else if ('error' in m) this.errors.push(m as unknown as ClientError);
          else if ('done' in m) summary = m.done as Summary;
        }
      });
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        if (summary && code === 0) resolve(summary);
        else reject(new Error(`producer exited with ${code ?? signal} and no summary:\n${this.stderr.slice(-3000)}`));
      });
    });
    this.done.catch(() => undefined);
  }

  /** The first fatal error the client reported: it produces nothing more. */
  get fatal(): ClientError | undefined {
    return this.errors.find((e) => e.fatal);
  }

  /** The time of the first acknowledgement on partition `p` after `since`, if any yet. */
  firstAckAfter(p: number, since: number): number | undefined {
    let first: number | undefined;
    for (let i = this.acks.length - 1; i >= 0 && this.acks[i]!.t > since; i--) if (this.acks[i]!.p === p) first = this.acks[i]!.t;
    return first;
  }

  /**
   * The time of the first acknowledgement on partition `p` of a record taken after `since`: an
   * answer the old leader sent just before it went does not count as the new leader's.
   */
  firstAckOfWriteAfter(p: number, since: number): number | undefined {
    let first: number | undefined;
    for (let i = this.acks.length - 1; i >= 0 && this.acks[i]!.t > since; i--) {
      const a = this.acks[i]!;
      if (a.p === p && a.s > since) first = a.t;
    }
    return first;
  }

  /** Stops producing and waits (bounded) for the flush and the summary. */
  async stop(timeoutMs = 120_000): Promise<Summary> {
    this.child.stdin!.end('stop\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }

  get stderrTail(): string {
    return this.debugLog ? `(in ${this.debugLog})` : this.stderr.slice(-2000);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** The producer failed fatally: it writes nothing more, so waiting for its acknowledgements is pointless. */
class ProducerFatal extends Error {
  constructor(readonly clientError: ClientError) {
    super(`the producer failed fatally: ${clientError.error}: ${clientError.str}`);
  }
}

/** Like eventually(), but ends at once when the producer has failed fatally. */
async function whileProducing<T>(producer: ProducerChild, what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fatal = producer.fatal;
    if (fatal) throw new ProducerFatal(fatal);
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** librdkafka's version as [major, minor, patch]. */
function libVersion(): number[] {
  return ('version' in librdkafka ? librdkafka.version : '0').split('.').map(Number);
}

/**
 * Names the librdkafka defect a fatal error comes from, or null when it is not a known one: before
 * 2.3.0, after a batch that timed out (possibly persisted), the next batch's sequence skips it and
 * the OUT_OF_ORDER_SEQUENCE_NUMBER answer (Kafka gives the same) is taken as fatal (fixed in
 * librdkafka 2.3.0: "idempotent producer fatal errors, triggered after a possibly persisted
 * message state").
 */
function knownClientDefect(e: ClientError): string | null {
  const [major = 0, minor = 0] = libVersion();
  const before230 = major < 2 || (major === 2 && minor < 3);
  if (before230 && e.error === 'OUT_OF_ORDER_SEQUENCE_NUMBER' && e.str.includes('sequence desynchronization') && e.str.includes('MsgPossiblyPersisted')) {
    return `librdkafka ${'version' in librdkafka ? librdkafka.version : '?'} (before 2.3.0) failed fatally on OUT_OF_ORDER_SEQUENCE_NUMBER after a possibly persisted batch`;
  }
  return null;
}

/** The times (epoch ms, after `since`) of the lines every node logged with message `msg` that `match` accepts. */
function loggedAt(msg: string, since: number, match: (line: Record<string, unknown>) => boolean = () => true): number[] {
  const out: number[] = [];
  const quoted = JSON.stringify(msg);
  for (const n of cluster.nodes) {
    for (const text of n.logs.split('\n')) {
      if (!text.includes(quoted)) continue;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      const t = Number(line.time);
      if (line.msg === msg && t > since && match(line)) out.push(t);
    }
  }
  return out.sort((a, b) => a - b);
}

/**
 * Where a stop's failover time went, from the nodes' own log lines: a new active controller
 * elected (when the victim was it), the victim fenced, each affected partition's new leader, and
 * the producer's first acknowledged write of each after the stop; in ms after the stop.
 */
function failoverBreakdown(topic: string, victim: number, affected: readonly number[], stoppedAt: number, producer: ProducerChild): Breakdown {
  const rel = (t: number | undefined) => (t === undefined ? undefined : t - stoppedAt);
  const controller = rel(loggedAt('became the active controller', stoppedAt)[0]);
  const fenced = rel(loggedAt('fencing broker: no heartbeat within its session', stoppedAt, (l) => l.brokerId === victim)[0]);
  const leaders = affected.map((p) => rel(loggedAt('became leader', stoppedAt, (l) => l.topic === topic && l.partition === p)[0]));
  const acks = affected.map((p) => rel(producer.firstAckOfWriteAfter(p, stoppedAt)));
  return { controller, fenced, leaders, acks };
}

interface Breakdown {
  controller: number | undefined;
  fenced: number | undefined;
  leaders: (number | undefined)[];
  acks: (number | undefined)[];
}

function describeBreakdown(b: Breakdown): string {
  const ms = (x: number | undefined) => (x === undefined ? '-' : String(x));
  return `${b.controller === undefined ? '' : `new active controller ${b.controller} ms, `}fenced ${ms(b.fenced)} ms, new leaders ${b.leaders.map(ms).join('/')} ms, first acknowledged writes ${b.acks.map(ms).join('/')} ms`;
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

/** Picks the node leading the most partitions, not the last victim where there is a choice. */
function victimOf(states: PartitionView[], previous: number | undefined): NodeProcess {
  const counts = new Map<number, number>();
  for (const s of states) counts.set(s.leader, (counts.get(s.leader) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] === previous ? 1 : 0) - (b[0] === previous ? 1 : 0));
  return cluster.node(ranked[0]![0]);
}

interface Verdict {
  acked: number;
  inLog: number;
  /** Records in the log twice within one producer epoch: the broker's idempotence failed. */
  duplicates: string[];
  /** Records in the log twice, the later copy written in a later producer epoch: sent again by the client. */
  resent: string[];
  lost: string[];
  misplaced: string[];
  disorder: string[];
  foreign: string[];
}

/** Reads every partition back and compares it with what the producer sent and was told. */
async function verify(topic: string, producer: ProducerChild, summary: Summary): Promise<Verdict> {
  const v: Verdict = { acked: producer.acks.length, inLog: 0, duplicates: [], resent: [], lost: [], misplaced: [], disorder: [], foreign: [] };
  await withClient(async (c) => {
    for (let p = 0; p < PARTITIONS; p++) {
      const read = await readPartition(c, topic, p, 5000);
      v.inLog += read.records.length;
      const epochAt = (offset: number) => read.batches.find((b) => offset >= Number(b.baseOffset) && offset <= Number(b.baseOffset) + b.lastOffsetDelta)?.producerEpoch ?? -1;
      const offsetOf = new Map<number, number>();
      const kAt = new Map<number, number>();
      let expected = 0;
      for (const r of read.records) {
        const [pp, kk] = (r.value ?? '').split(':');
        const k = Number(kk);
        if (Number(pp) !== p || !Number.isInteger(k)) {
          v.foreign.push(`${p}@${r.offset}=${r.value}`);
          continue;
        }
        kAt.set(r.offset, k);
        if (offsetOf.has(k)) {
          const first = offsetOf.get(k)!;
          const epochs = `producer epochs ${epochAt(first)} and ${epochAt(r.offset)}`;
          (epochAt(r.offset) > epochAt(first) ? v.resent : v.duplicates).push(`${p}:${k} at ${first} and ${r.offset} (${epochs})`);
          continue;
        }
        offsetOf.set(k, r.offset);
        // Sent in order k = 0, 1, 2, ... per partition: the log must hold them in that order, whole.
        if (k !== expected) v.disorder.push(`${p}:${k} at ${r.offset}, expected ${p}:${expected}`);
        expected = Math.max(expected, k + 1);
      }
      for (const a of producer.acks.filter((x) => x.p === p)) {
        const at = offsetOf.get(a.k);
        if (at === undefined) v.lost.push(`${p}:${a.k} (acknowledged at offset ${a.o})`);
        // No offset: librdkafka acknowledged it because a later batch was taken in sequence.
        else if (typeof a.o === 'number' && a.o >= 0 && kAt.get(a.o) !== a.k) v.misplaced.push(`${p}:${a.k} acknowledged at ${a.o}, found at ${at}`);
      }
      if (expected > summary.perPartition[p]!) v.foreign.push(`${p}: ${expected} records, ${summary.perPartition[p]} sent`);
    }
  });
  return v;
}

async function saveLogs(name: string): Promise<string> {
  const dir = join(tmpdir(), `samsa-failover-${name}-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  for (const n of cluster.nodes) await writeFile(join(dir, `node-${n.id}.log`), n.logs);
  return dir;
}

/**
 * A write sent straight to `node` while it is cut off, for a partition it led: never
 * acknowledged (and, were it kept, foreign data in the read-back). Returns how it was refused.
 */
async function refusedByCutOffLeader(node: NodeProcess, topic: string, partition: number): Promise<string> {
  const c = new KafkaClient({ bootstrapServers: [node.bootstrap], clientId: 'failover-test', requestTimeoutMs: 5000, retries: 0 });
  try {
    await c.connect();
    const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from('cut-off write') }] });
    await c.produce(topic, partition, batch, { acks: -1, timeoutMs: 3000 });
    return 'acknowledged';
  } catch (err) {
    return err instanceof KafkaError ? `error ${err.errorCode}` : `failed: ${(err as Error).message}`;
  } finally {
    await c.close().catch(() => undefined);
  }
}

/**
 * Runs the producer on a new topic while `rounds` times the busiest leader is stopped with a
 * signal and started again, or cut off from the other nodes and reconnected; returns the
 * producer's record and the checks' figures.
 */
async function failoverRounds(topic: string, rounds: number, signal: Fault) {
  // A round left behind by an earlier failure would show up below as a confusing topic error.
  await eventually('three unfenced brokers', 30_000, async () => (await withClient((c) => c.metadata([]), 0)).brokers.length === 3);
  await withClient(async (c) => {
    const r = await c.createTopics([{ name: topic, numPartitions: PARTITIONS, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
    expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
  });
  await settled(topic);
  const producer = new ProducerChild(cluster.bootstrap, topic);
  const recoveries: number[] = [];
  const breakdowns: Breakdown[] = [];
  const started = Date.now();
  try {
    await whileProducing(producer, 'the producer acknowledged on every partition', 30_000, async () => {
      for (let p = 0; p < PARTITIONS; p++) if (producer.firstAckAfter(p, started) === undefined) return undefined;
      return true;
    });
    let previous: number | undefined;
    let roundsDone = 0;
    let clientDefect: string | null = null;
    // Undoes the current round's fault (restart or reconnect the node), until it is undone.
    let restore: (() => Promise<void>) | undefined;
    try {
      for (let i = 0; i < rounds; i++) {
        const states = await settled(topic);
        const victim = victimOf(states, previous);
        previous = victim.id;
        const affected = states.flatMap((s, p) => (s.leader === victim.id ? [p] : []));
        // Writes flow everywhere before the leader goes.
        const before = Date.now();
        await whileProducing(producer, 'acknowledgements on every partition before the stop', 30_000, async () => {
          for (let p = 0; p < PARTITIONS; p++) if (producer.firstAckAfter(p, before) === undefined) return undefined;
          return true;
        });
        let stoppedAt = Date.now();
        if (signal === 'cut') {
          await lab!.cut(victim.id);
          // Writes taken while the routes were being cut may still have been replicated.
          stoppedAt = Date.now();
          const refusal = await refusedByCutOffLeader(victim, topic, affected[0]!);
          console.log(`cut ${i + 1}/${rounds}: a write sent straight to the cut-off leader, node ${victim.id}: ${refusal}`);
          expect(refusal).not.toBe('acknowledged');
        } else {
          await victim.stop(signal);
        }
        restore = signal === 'cut' ? () => lab!.heal(victim.id) : () => victim.start();
        roundsDone = i + 1;
        let resumed: number;
        if (signal === 'cut') {
          // Clients that ask only the cut-off node keep its stale view (its Metadata still names it
          // leader, as a Kafka broker's would), so writes are not expected to resume while it is
          // cut; what counts is that the others replace it and that nothing it took alone stays.
          const others = cluster.brokers.filter((n) => n.id !== victim.id).map((n) => n.bootstrap);
          resumed = await eventually(`round ${i + 1}: partitions ${affected.join(',')} led by another node than the cut-off ${victim.id}`, 60_000, async () => {
            const now = await agreedPartitionViews(others, topic, PARTITIONS);
            return now !== undefined && affected.every((p) => now[p]!.leader >= 0 && now[p]!.leader !== victim.id) ? Date.now() : undefined;
          });
        } else {
          resumed = await whileProducing(producer, `round ${i + 1}: acknowledgements on partitions ${affected.join(',')} after node ${victim.id} stopped`, 90_000, async () => {
            const times = affected.map((p) => producer.firstAckOfWriteAfter(p, stoppedAt));
            return times.every((t) => t !== undefined) ? Math.max(...(times as number[])) : undefined;
          });
        }
        recoveries.push(resumed - stoppedAt);
        const outcome = signal === 'cut' ? 'the others elected new leaders for all of them' : 'first write taken after the stop acknowledged on all of them';
        console.log(`${signal} ${i + 1}/${rounds}: node ${victim.id} led partitions ${affected.join(',')}; ${outcome} after ${resumed - stoppedAt} ms (${producer.acks.length} acknowledged so far)`);
        const breakdown = failoverBreakdown(topic, victim.id, affected, stoppedAt, producer);
        breakdowns.push(breakdown);
        console.log(`${signal} ${i + 1}/${rounds}: after the stop: ${describeBreakdown(breakdown)}`);
        // A restarted node that wins the quorum election right after registering once stayed
        // fenced here (FINDINGS.md F8): the start's own timeout bounds it.
        const undo = restore;
        restore = undefined;
        await undo();
      }
    } catch (err) {
      clientDefect = err instanceof ProducerFatal ? knownClientDefect(err.clientError) : null;
      if (!clientDefect) throw err;
      console.log(`${topic}: ${clientDefect} (${(err as ProducerFatal).clientError.str}); ${roundsDone} of ${rounds} rounds done with this producer, checking what it wrote`);
      if (restore) await restore();
    }
    const after = await settled(topic);
    console.log(`${topic} settled: leaders ${after.map((s) => s.leader).join(',')}, epochs ${after.map((s) => s.leaderEpoch).join(',')}`);
    const summary = await producer.stop();
    const verdict = await verify(topic, producer, summary);
    console.log(
      `${topic}: ${roundsDone} x ${signal} in ${((Date.now() - started) / 1000).toFixed(1)} s; produced ${summary.produced}, acknowledged ${verdict.acked}, ` +
        `failed ${summary.failed}, unflushed ${summary.unflushed}, records in the log ${verdict.inLog}; duplicates ${verdict.duplicates.length} (and ${verdict.resent.length} sent again in a later producer epoch), lost ${verdict.lost.length}, ` +
        `misplaced ${verdict.misplaced.length}, out of order ${verdict.disorder.length}; ${signal === 'cut' ? 'new leaders after a cut' : 'next acknowledged write after a stop'} p50 ${percentile(recoveries, 0.5)} ms, ` +
        `p99 ${percentile(recoveries, 0.99)} ms, max ${Math.max(...recoveries)} ms`,
    );
    if (signal === 'SIGKILL') {
      // Per round, the last affected partition's steps: what the p50 and p99 above are made of.
      const step = (f: (b: Breakdown) => number | undefined) => breakdowns.map(f).filter((x): x is number => x !== undefined);
      const last = (xs: (number | undefined)[]) => (xs.some((x) => x === undefined) ? undefined : Math.max(...(xs as number[])));
      const fenced = step((b) => b.fenced);
      const leaders = step((b) => last(b.leaders));
      const leaderToAck = step((b) => {
        const l = last(b.leaders);
        const a = last(b.acks);
        return l === undefined || a === undefined ? undefined : a - l;
      });
      console.log(
        `${topic}: stop to fenced p50 ${percentile(fenced, 0.5)} ms / max ${Math.max(...fenced)} ms; stop to the last new leader p50 ${percentile(leaders, 0.5)} ms / max ${Math.max(...leaders)} ms; ` +
          `new leader to its first acknowledged write p50 ${percentile(leaderToAck, 0.5)} ms / max ${Math.max(...leaderToAck)} ms; rounds where the victim was the active controller ${breakdowns.filter((b) => b.controller !== undefined).length}/${breakdowns.length}`,
      );
    }
    if (verdict.resent.length > 0) {
      console.log(
        `${topic}: ${verdict.resent.length} records twice, the later copy in a later producer epoch: librdkafka bumped its epoch after a NOT_LEADER_OR_FOLLOWER answer for a batch the new leader already had, and sent it again (the broker cannot tell across epochs): ${verdict.resent.slice(0, 5).join('; ')}`,
      );
    }
    const errorNames = [...new Set(producer.errors.map((e) => `${e.error}${e.fatal ? ' (fatal)' : ''}`))];
    if (errorNames.length > 0) console.log(`${topic}: client errors reported: ${errorNames.join(', ')}`);
    const bad = verdict.duplicates.length + verdict.lost.length + verdict.misplaced.length + verdict.disorder.length + verdict.foreign.length + (clientDefect ? 0 : summary.failed);
    if (bad > 0 || (summary.fatal && !clientDefect)) {
      console.log(`${topic}: node logs in ${await saveLogs(topic)}${producer.debugLog ? `, producer debug log in ${producer.debugLog}` : ''}`);
      console.log(JSON.stringify({ verdict: { ...verdict, duplicates: verdict.duplicates.slice(0, 20), lost: verdict.lost.slice(0, 20) }, failures: producer.failures.slice(0, 10), fatal: summary.fatal }));
    }
    return { producer, summary, verdict, recoveries, roundsDone, clientDefect };
  } catch (err) {
    console.log(`${topic}: node logs in ${await saveLogs(topic)}`);
    const lastAcks = [...Array(PARTITIONS).keys()].map((p) => producer.acks.filter((a) => a.p === p).at(-1));
    const states = await partitionStates(topic).catch(() => undefined);
    console.log(JSON.stringify({ lastAcks, states, failures: producer.failures.slice(0, 10), errors: producer.errors.slice(-20), producerStderr: producer.stderrTail }));
    throw err;
  } finally {
    producer.kill();
  }
}

type Segment = Awaited<ReturnType<typeof failoverRounds>>;

/**
 * Every record acknowledged exactly once, where it was acknowledged, in order; no fatal error,
 * nothing left unsent. After a known client defect the producer failed what it still held, so
 * only what it was told counts: every acknowledged record there once, where it was acknowledged.
 */
function expectEveryAcknowledgedRecordOnce({ summary, verdict, producer, clientDefect }: Segment): void {
  expect(verdict.lost).toEqual([]);
  expect(verdict.duplicates).toEqual([]);
  expect(verdict.misplaced).toEqual([]);
  expect(verdict.disorder).toEqual([]);
  expect(verdict.foreign).toEqual([]);
  if (clientDefect) return;
  expect(summary.fatal).toBeNull();
  expect(producer.errors.filter((e) => e.fatal)).toEqual([]);
  expect(producer.failures).toEqual([]);
  expect(summary.unflushed).toBe(0);
  expect(verdict.acked).toBe(summary.produced);
}

/**
 * Runs `rounds` rounds with one producer, or, when a known client defect ends a producer early,
 * with a new producer on a new topic for the rounds left (at most MAX_CLIENT_DEFECTS times).
 */
async function failoverTest(topic: string, rounds: number, signal: Fault): Promise<Segment[]> {
  const segments: Segment[] = [];
  let done = 0;
  while (done < rounds) {
    const segment = await failoverRounds(segments.length === 0 ? topic : `${topic}-${segments.length + 1}`, rounds - done, signal);
    segments.push(segment);
    done += segment.roundsDone;
    const defects = segments.filter((s) => s.clientDefect).length;
    if (defects > MAX_CLIENT_DEFECTS) throw new Error(`${topic}: ${defects} producers ended by client defects, more than ${MAX_CLIENT_DEFECTS}: ${segment.clientDefect}`);
  }
  return segments;
}

beforeAll(async () => {
  if (unavailable) return;
  if (labUnavailable === null) lab = await NetLab.create([1, 2, 3]);
  cluster = await ClusterProcess.start({ nodes: 3, properties: PROPERTIES, lab });
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
  await lab?.destroy();
});

describe.skipIf(unavailable !== null)(`leader failover under an idempotent acks=all librdkafka producer (${KILLS} kills)`, () => {
  it(`loses, duplicates and reorders no acknowledged record across ${KILLS} SIGKILLs of the busiest leader`, async () => {
    for (const segment of await failoverTest('failover-kill', KILLS, 'SIGKILL')) expectEveryAcknowledgedRecordOnce(segment);
  }, 120_000 + KILLS * 60_000);

  it(`sees no error but retriable ones across ${TERMS} SIGTERMs of the busiest leader`, async () => {
    for (const segment of await failoverTest('failover-term', TERMS, 'SIGTERM')) {
      expect(segment.producer.errors.filter((e) => !(e.retriable || CONNECTION_ERRORS.has(e.error) || (e.fatal && segment.clientDefect)))).toEqual([]);
      expectEveryAcknowledgedRecordOnce(segment);
    }
  }, 120_000 + TERMS * 60_000);

  it.skipIf(labUnavailable !== null)(`acknowledges nothing on a leader cut off from the others, and truncates what it wrote alone (${CUTS} cuts)`, async () => {
    for (const segment of await failoverTest('failover-cut', CUTS, 'cut')) expectEveryAcknowledgedRecordOnce(segment);
  }, 120_000 + CUTS * 90_000);
});
