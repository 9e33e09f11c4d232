// The fuzz run: starts a broker process with short group timings, learns the versions it serves,
// runs the lanes (malformed frames, group members, producers, topic churn, fetch sessions,
// DeleteRecords/ListOffsets on PLAINTEXT; SASL exchanges on SASL_PLAINTEXT and SASL_SSL; TLS on
// SSL and SASL_SSL) for a bounded time beside a healthy client, watches the process, and
// ends with a real client (kafkajs) producing and reading back records. Every lane draws from its
// own PRNG forked in a fixed order from the seed, so `seed` replays the same actions.
// A failure (the process gone, or the healthy client unanswered) ends the run at once and is
// reported with the seed, the last actions of every lane and the broker's last log lines.
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { BrokerProcess } from '../harness/broker-process.ts';
import { FuzzContext, sleep, type VersionRanges } from './context.ts';
import { runFetcher, runProducer, runRecords, runTopics, STEADY_TOPICS } from './data-lanes.ts';
import { GROUP_TIMINGS, runGroupMember } from './group-lane.ts';
import { HEALTH_TOPIC, HealthCheck, percentile } from './health.ts';
import { loadCorpus } from './mutate.ts';
import { Prng } from './prng.ts';
import { runRaw } from './raw-lane.ts';
import { runSasl } from './sasl-lane.ts';
import { createScramUser, type FuzzPki, makeFuzzPki, secureEndpoints, secureOverrides, securePorts } from './secure.ts';
import { runTls } from './tls-lane.ts';
import { Wire } from './wire.ts';

export interface FuzzOptions {
  seed: number;
  durationMs: number;
  logger: Logger;
  /** How long the healthy client may go unanswered before the run fails. */
  healthLimitMs?: number;
  /** Actions kept for the failure report. */
  journalSize?: number;
  /** Lane counts; the defaults suit two shared cores. */
  lanes?: Partial<Record<'raw' | 'members' | 'producers' | 'topics' | 'fetchers' | 'records' | 'sasl' | 'tls', number>>;
  /** Certificates to reuse across runs (made, and removed at the end, when absent). */
  pki?: FuzzPki;
  /** False leaves out the secured listeners and their lanes. */
  secure?: boolean;
  /** Kinds of input to leave out (known faults awaiting a fix), e.g. 'huge-partition-counts'. */
  avoid?: readonly string[];
  /** Skip the closing kafkajs round trip (for very short runs). */
  skipFinalCheck?: boolean;
}

export interface FuzzFailure {
  reason: string;
  /** The last actions of every lane, oldest first, one per line. */
  actions: string;
  /** Each lane's latest action, for a hang: what the lanes were waiting on. */
  perLane: string;
  /** The broker's last output lines (pino JSON, and any stack Node printed). */
  brokerLog: string;
}

export interface FuzzReport {
  seed: number;
  elapsedMs: number;
  connections: number;
  framesSent: number;
  framesPerSecond: number;
  actions: number;
  unanswered: number;
  undecodable: number;
  anomalies: string[];
  /** Faults of the fuzzer itself; a sound fuzzer has none. */
  fuzzerFaults: number;
  /** The secured listeners fuzzed, or why they were left out. */
  secure: string;
  /** Rounds of the SASL and TLS lanes, and correct logins and TLS clients served among them. */
  secureRounds: number;
  logins: number;
  /** Broken security guarantees (data before authentication, bad credentials accepted, correct ones refused). */
  violations: number;
  crashes: number;
  failure?: FuzzFailure;
  /** Latencies are of whole rounds (ApiVersions, Metadata, Produce, Fetch in turn). */
  health: { rounds: number; errorAnswers: number; reconnects: number; secureLogins: number; p50Ms: number; p99Ms: number; maxMs: number; quietBeforeP50Ms: number; quietAfterP50Ms: number };
  rssStartKb: number;
  rssEndKb: number;
  finalCheck: string;
  avoided: string[];
}

/** Group expiries short enough to be reached many times in a run. */
export const FUZZ_BROKER_OVERRIDES: Record<string, string> = {
  'group.initial.rebalance.delay.ms': String(GROUP_TIMINGS.initialDelayMs),
  'group.min.session.timeout.ms': String(GROUP_TIMINGS.minSessionMs),
  'group.max.session.timeout.ms': String(GROUP_TIMINGS.maxSessionMs),
  'offsets.topic.num.partitions': '5',
  'num.partitions': '2',
};

const QUIET_MS = 1000;

const DEFAULT_LANES = { raw: 2, members: 8, producers: 2, topics: 1, fetchers: 2, records: 1, sasl: 2, tls: 1 };

function rssKb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function apiVersions(port: number): Promise<VersionRanges> {
  const w = await Wire.open(port);
  try {
    const r = await w.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'samsa-fuzz', clientSoftwareVersion: '1' });
    const out: VersionRanges = new Map();
    for (const k of r?.apiKeys ?? []) out.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
    return out;
  } finally {
    w.destroy();
  }
}

async function createTopics(port: number, names: string[], partitions: number): Promise<void> {
  const w = await Wire.open(port);
  try {
    await w.request(ApiKey.CreateTopics, 5, { topics: names.map((name) => ({ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] })), timeoutMs: 10_000, validateOnly: false }, { timeoutMs: 15_000 });
  } finally {
    w.destroy();
  }
}

/** The last lines of the broker's output, and every line that carries an error or a stack. */
function brokerLogExcerpt(logs: string): string {
  const lines = logs.split('\n').filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => /"level":(50|60)|Error|^\s+at /.test(l)).slice(-40);
  return [...errors, '--- last lines ---', ...lines.slice(-30)].join('\n');
}

/** kafkajs produces records to a fresh topic and reads them all back through a group consumer. */
async function finalCheck(bootstrap: string, seed: number): Promise<string> {
  const kafka = new Kafka({ clientId: 'fz-final', brokers: [bootstrap], logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10_000, retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 } });
  const topic = `fz-final-${seed}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `fz-final-${seed}`, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 6000 });
  const expected = 20;
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await producer.connect();
    const messages = Array.from({ length: expected }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    await producer.send({ topic, acks: -1, messages });
    const seen = new Set<string>();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value?.toString() ?? '') });
    const until = Date.now() + 30_000;
    while (seen.size < expected && Date.now() < until) await sleep(100);
    if (seen.size < expected) return `failed: kafkajs read back ${seen.size} of ${expected} records within 30 s`;
    return `ok: kafkajs produced and read back ${expected} records`;
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const log = opts.logger.child({ seed: opts.seed });
  const root = new Prng(opts.seed);
  const lanes = { ...DEFAULT_LANES, ...opts.lanes };
  const corpus = loadCorpus();
  const made = opts.secure === false ? 'left out as asked' : (opts.pki ?? (await makeFuzzPki()));
  const certs = typeof made === 'string' ? undefined : made;
  const ports = certs ? await securePorts() : undefined;
  const secureNote = certs ? 'SASL_PLAINTEXT, SASL_SSL, SSL' : `skipped: ${made as string}`;
  if (!certs) log[opts.secure === false ? 'info' : 'warn']({ reason: made }, 'secured listeners and their lanes left out');
  let broker: BrokerProcess;
  try {
    broker = await BrokerProcess.start(ports && certs ? { port: ports.plaintext, controllerPort: ports.controller, overrides: { ...FUZZ_BROKER_OVERRIDES, ...secureOverrides(ports, certs) } } : { overrides: FUZZ_BROKER_OVERRIDES });
  } catch (err) {
    if (certs && !opts.pki) await certs.pki.remove();
    throw err;
  }
  const pid = broker.pid;
  log.info({ pid, port: broker.port, corpus: corpus.length }, 'fuzz broker started');
  let failure: FuzzFailure | undefined;
  let ctx: FuzzContext | undefined;
  let health: HealthCheck | undefined;
  let rssStartKb = NaN;
  let rssEndKb = NaN;
  let finalResult = 'skipped';
  const started = Date.now();
  try {
    const versions = await apiVersions(broker.port);
    await createTopics(broker.port, [...STEADY_TOPICS, HEALTH_TOPIC], 3);
    if (ports && certs) await createScramUser(broker.port);
    rssStartKb = rssKb(pid);
    ctx = new FuzzContext(broker.port, versions, Date.now() + QUIET_MS + opts.durationMs, opts.journalSize ?? 200, new Set(opts.avoid ?? []));
    const c = ctx;
    if (ports && certs) c.secure = secureEndpoints(ports, certs);
    const fail = (reason: string): void => {
      if (failure) return;
      // A refused or dropped health connection is usually the process dying: say so if it has.
      if (!alive(pid) && !reason.startsWith('broker process exited')) reason = `broker process exited (${reason})`;
      failure = { reason, actions: c.journal.format(), perLane: c.journal.latestPerLane(), brokerLog: '' };
      c.stopped = true;
    };
    health = new HealthCheck(broker.port, opts.healthLimitMs ?? 5000, 200, fail, c.secure);
    health.start();
    // A second of health rounds with no other traffic, to compare with the same after the lanes stop.
    await sleep(QUIET_MS);
    health.phase = 'during';
    const guarded = (lane: string, run: () => Promise<void>): Promise<void> =>
      run().catch((err: Error) => {
        if (!alive(pid)) return;
        c.fault(lane, err);
      });
    const running: Promise<void>[] = [];
    // Forks are taken in a fixed order so each lane's stream depends only on the seed.
    for (let i = 0; i < lanes.raw; i++) { const r = root.fork(); running.push(guarded(`raw${i}`, () => runRaw(c, r, `raw${i}`, corpus))); }
    for (let i = 0; i < lanes.members; i++) { const r = root.fork(); running.push(guarded(`member${i}`, () => runGroupMember(c, r, `member${i}`))); }
    for (let i = 0; i < lanes.producers; i++) { const r = root.fork(); running.push(guarded(`produce${i}`, () => runProducer(c, r, `produce${i}`))); }
    for (let i = 0; i < lanes.topics; i++) { const r = root.fork(); running.push(guarded(`topics${i}`, () => runTopics(c, r, `topics${i}`))); }
    for (let i = 0; i < lanes.fetchers; i++) { const r = root.fork(); running.push(guarded(`fetch${i}`, () => runFetcher(c, r, `fetch${i}`))); }
    for (let i = 0; i < lanes.records; i++) { const r = root.fork(); running.push(guarded(`records${i}`, () => runRecords(c, r, `records${i}`))); }
    // The secured lanes fork last, so the PLAINTEXT lanes' streams are those of runs without them.
    for (let i = 0; i < (c.secure ? lanes.sasl : 0); i++) { const r = root.fork(); running.push(guarded(`sasl${i}`, () => runSasl(c, r, `sasl${i}`))); }
    for (let i = 0; i < (c.secure ? lanes.tls : 0); i++) { const r = root.fork(); running.push(guarded(`tls${i}`, () => runTls(c, r, `tls${i}`))); }
    let lastReport = Date.now();
    while (c.running) {
      await sleep(200);
      if (!alive(pid)) fail('broker process exited');
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        log.info({ elapsedS: Math.round((Date.now() - started) / 1000), connections: c.counters.connections, framesSent: c.framesSent(), healthRounds: health.rounds, healthP99Ms: percentile(health.latenciesMs, 99), rssKb: rssKb(pid) }, 'fuzz progress');
      }
    }
    c.stopped = true;
    await Promise.race([Promise.all(running), sleep(15_000)]);
    c.closeAll();
    if (!failure) {
      // Let the broker settle the connections dropped above, then time quiet rounds again.
      await sleep(500);
      health.phase = 'after';
      await sleep(QUIET_MS);
      if (!alive(pid)) fail('broker process exited');
    }
    await health.stop();
    rssEndKb = rssKb(pid);
    if (!failure && !opts.skipFinalCheck) {
      finalResult = await finalCheck(broker.bootstrap, opts.seed);
      if (!alive(pid)) fail('broker process exited during the final kafkajs check');
    }
  } finally {
    if (failure) {
      await sleep(300); // the dying process's last words
      failure.brokerLog = brokerLogExcerpt(broker.logs);
    }
    ctx?.closeAll();
    await health?.stop();
    await broker.destroy();
    if (certs && !opts.pki) await certs.pki.remove();
  }
  const elapsedMs = Date.now() - started;
  const lat = health?.latenciesMs ?? [];
  const framesSent = ctx?.framesSent() ?? 0;
  return {
    seed: opts.seed,
    elapsedMs,
    connections: ctx?.counters.connections ?? 0,
    framesSent,
    framesPerSecond: Math.round(framesSent / (elapsedMs / 1000)),
    actions: ctx?.journal.total ?? 0,
    unanswered: ctx?.counters.unanswered ?? 0,
    undecodable: ctx?.counters.undecodable ?? 0,
    anomalies: ctx?.anomalies ?? [],
    fuzzerFaults: ctx?.faults ?? 0,
    secure: secureNote,
    secureRounds: ctx?.counters.secureRounds ?? 0,
    logins: ctx?.counters.logins ?? 0,
    violations: ctx?.violations ?? 0,
    crashes: failure ? 1 : 0,
    failure,
    health: { rounds: lat.length, errorAnswers: health?.errorAnswers ?? 0, reconnects: health?.reconnects ?? 0, secureLogins: health?.secureLogins ?? 0, quietBeforeP50Ms: percentile(health?.quietMs.before ?? [], 50), quietAfterP50Ms: percentile(health?.quietMs.after ?? [], 50), p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), maxMs: lat.length ? Math.max(...lat) : NaN },
    rssStartKb,
    rssEndKb,
    finalCheck: finalResult,
    avoided: [...(opts.avoid ?? [])],
  };
}

/** The report as the lines a person reads at the end of a run. */
export function formatReport(r: FuzzReport): string {
  const lines = [
    `seed ${r.seed}: ${r.crashes === 0 ? 'no crash' : `FAILED: ${r.failure!.reason}`}${r.avoided.length ? ` (avoiding ${r.avoided.join(', ')})` : ''}`,
    `  run time            ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  connections opened  ${r.connections}`,
    `  frames sent         ${r.framesSent} (${r.framesPerSecond}/s)`,
    `  actions             ${r.actions} (unanswered or closed: ${r.unanswered}, undecodable answers: ${r.undecodable})`,
    `  crashes             ${r.crashes}`,
    `  fuzzer faults       ${r.fuzzerFaults}`,
    `  secured listeners   ${r.secure}${r.secureRounds ? `: ${r.secureRounds} SASL/TLS rounds, ${r.logins} correct logins and TLS clients served, violations ${r.violations}` : ''}`,
    `  health check        ${r.health.rounds} rounds, p50 ${r.health.p50Ms} ms, p99 ${r.health.p99Ms} ms, max ${r.health.maxMs} ms (a round: ApiVersions, Metadata, Produce, Fetch${r.health.secureLogins ? ', and Metadata over SASL_SSL' : ''}), error answers ${r.health.errorAnswers}, reconnects ${r.health.reconnects}${r.health.secureLogins ? `, SASL_SSL logins ${r.health.secureLogins}` : ''}`,
    `  health, no traffic  round p50 ${r.health.quietBeforeP50Ms} ms before the fuzz lanes, ${r.health.quietAfterP50Ms} ms after`,
    `  broker RSS          ${(r.rssStartKb / 1024).toFixed(1)} MiB at start, ${(r.rssEndKb / 1024).toFixed(1)} MiB at end`,
    `  final client check  ${r.finalCheck}`,
  ];
  if (r.anomalies.length) lines.push('  anomalies:', ...r.anomalies.slice(0, 20).map((a) => `    ${a}`));
  if (r.failure) {
    lines.push(`replay: npm run fuzz -- --seed ${r.seed} --seconds ${Math.ceil(r.elapsedMs / 1000)}${r.avoided.length ? ` --avoid ${r.avoided.join(',')}` : ''}`);
    lines.push('last actions (time since start, lane, action):', r.failure.actions);
    lines.push('latest action of each lane:', r.failure.perLane);
    lines.push('broker log:', r.failure.brokerLog);
  }
  return lines.join('\n');
}
