// The checks every client goes through, against a target started once per client file and suite:
// one broker process, or a three-node cluster (target.ts) whose brokers lead different partitions
// of every topic, so the client has to route each request to the right leader, and whose group
// coordinator for the group check is not the leader of every partition. A client
// plugs in as a ClientDriver (its own API in-process, or a small program run as a child process);
// whatever it lacks is declared n/a with the reason, and whatever the broker does not advertise
// yet is skipped with the API's name. Topics are created up front by Metadata auto-creation
// (num.partitions=3), so the produce and consume checks do not depend on CreateTopics.
// Every record acknowledged (or sent with acks=0) is remembered per topic, and read back after
// each restart: a SIGTERM restart must keep everything, a SIGKILL one every acknowledged record.
// On a cluster a SIGTERM restart goes node by node and a SIGKILL one crashes every node at once.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { CompressionType } from '../../protocol/records/batch-header.ts';
import type { CheckId } from './checks.ts';
import { ClientReport } from './client-report.ts';
import { awaitTopicsOnEveryBroker, groupAwayFrom, partitionLeaders } from './placement.ts';
import { RESULTS_DIR } from './results.ts';
import { singleBroker, type Target, type TargetSpec } from './target.ts';
import { readTopic } from './read-back.ts';
import { expectSameRecords, makeRecords, type ReadRecord, type SentRecord } from './records.ts';

export const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];

export interface ProduceSpec {
  acks: 0 | 1 | -1;
  compression?: Codec;
  idempotent?: boolean;
}

export interface TopicDescription {
  name: string;
  partitions: number;
}

export interface ClusterView {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  /** Partition ids of the topic asked about. */
  partitions: number[];
}

/** One client, as the suite drives it. Optional methods are features the client may lack. */
export interface ClientDriver {
  metadata(topic: string): Promise<ClusterView>;
  createTopics?(topics: readonly TopicDescription[]): Promise<void>;
  describeTopics?(names: readonly string[]): Promise<TopicDescription[]>;
  deleteTopics?(names: readonly string[]): Promise<void>;
  /** Sends the records (each to its own partition) and resolves once the client says they are sent. */
  produce(topic: string, records: readonly SentRecord[], spec: ProduceSpec): Promise<void>;
  /** Reads every record of every partition from the beginning with the client's consumer. */
  consume?(topic: string, partitions: number, expected: number): Promise<ReadRecord[]>;
  /** The earliest offset whose timestamp is at or after `timestamp`, or -1 if none. */
  offsetForTime?(topic: string, partition: number, timestamp: number): Promise<number>;
  /**
   * Subscribes with a group, consumes from the beginning (no committed offsets yet), commits, and
   * returns the records consumed (at least `expected`). `assignor` is a
   * `partition.assignment.strategy` name when the suite runs the check once per assignor.
   */
  groupConsume?(topic: string, group: string, expected: number, options?: { assignor?: string }): Promise<ReadRecord[]>;
  close?(): Promise<void>;
}

export interface ClientSuiteOptions {
  client: string;
  title: string;
  /** The client's version, or why it cannot run here (then every check is skipped, visibly). */
  detect(): Promise<{ version: string } | { unavailable: string }>;
  /** The client for comma-separated bootstrap servers (every broker of the target). */
  driver(bootstrap: string): Promise<ClientDriver>;
  /** Checks the client has no feature for, with the reason. */
  notApplicable?: Partial<Record<CheckId, string>>;
  /** APIs the client's consumer needs besides Fetch (e.g. ListOffsets for "beginning"). */
  consumeRequires?: readonly ApiKey[];
  /** Whether records carry headers through this client. */
  headers?: boolean;
  /** Whether the client sets a record's CreateTime from `SentRecord.timestamp`. */
  explicitTimestamps?: boolean;
  /** Known broker bugs by check, each naming its FINDINGS.md entry. */
  knownBrokerBugs?: Partial<Record<CheckId, string>>;
  /** More APIs a check needs with this client, and why. */
  extraRequires?: Partial<Record<CheckId, { apis: readonly ApiKey[]; why: string }>>;
  /** Assignors the consumer-group check runs with, each in its own group (default: the client's own). */
  groupAssignors?: readonly string[];
  /** Checks this suite does not drive the client through yet, with the reason (skipped). */
  pending?: Partial<Record<CheckId, string>>;
  timeoutMs?: number;
}

const PARTITIONS = 3;
const COUNT = 30;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Asks again, for up to `timeoutMs`, until the answer is `done`; resolves with the last answer.
 * Brokers of a cluster learn of a metadata change one after another (in Kafka too), so the
 * suite's own client may ask one that has not yet when the client under test is done.
 */
async function settled<T>(ask: () => Promise<T>, done: (answer: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await ask();
    if (done(answer) || Date.now() > deadline) return answer;
    await sleep(100);
  }
}

/** Registers the client's checks against the target `spec` starts (one broker process unless given). */
export async function defineClientSuite(o: ClientSuiteOptions, spec: TargetSpec = singleBroker()): Promise<void> {
  const report = new ClientReport(o.client, o.title, 'clients', spec.kind);
  const detected = await o.detect();
  if ('unavailable' in detected) {
    report.unavailable(detected.unavailable);
    return;
  }
  report.setVersion(detected.version);
  // Broker logs of a failed run; an earlier run's are stale.
  const logFile = join(RESULTS_DIR, `${spec.kind}-${o.client}.log`);
  rmSync(logFile, { force: true });
  for (const [id, reason] of Object.entries(o.notApplicable ?? {})) report.notApplicable(id as CheckId, reason);
  const na = (id: CheckId): boolean => o.notApplicable?.[id] !== undefined;
  const pending = (id: CheckId): string | undefined => o.pending?.[id];
  const compare = { headers: o.headers ?? true };
  const t = (name: string): string => `${o.client}-${name}`;

  let target: Target;
  let driver: ClientDriver;
  let admin: KafkaClient;
  /** What each topic must hold, in send order. */
  const expected = new Map<string, SentRecord[]>();
  const remember = (topic: string, records: readonly SentRecord[]): void => {
    expected.set(topic, [...(expected.get(topic) ?? []), ...records]);
  };

  const newAdmin = (): KafkaClient => new KafkaClient({ bootstrapServers: target.bootstrapServers, clientId: 'conformance-admin', retries: 8 });
  /**
   * Restarts every broker with the suite's own connections closed, so that only the client under
   * test holds connections across it. Resolves with the exit codes of the stopped processes.
   */
  const restart = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<Array<number | null>> => {
    await admin.close();
    const codes = await target.restart(signal);
    admin = newAdmin();
    return codes;
  };

  const consume = async (topic: string): Promise<ReadRecord[]> => {
    const want = expected.get(topic)?.length ?? 0;
    if (driver.consume) return driver.consume(topic, PARTITIONS, want);
    return (await readTopic(admin, topic, PARTITIONS)).records;
  };
  const consumeRequires = o.consumeRequires ?? [];

  const check = (id: CheckId, title: string, fn: () => Promise<void>, requires: readonly ApiKey[] = [], passNote?: string): void => {
    if (na(id)) return;
    const why = pending(id);
    if (why !== undefined) {
      report.pending(id, `${id}: ${title}`, why);
      return;
    }
    const extra = o.extraRequires?.[id];
    const all = extra ? [...requires, ...extra.apis] : requires;
    report.check(id, title, fn, { requires: all, requiresWhy: extra?.why, passNote, knownBrokerBug: o.knownBrokerBugs?.[id], timeoutMs: o.timeoutMs });
  };

  describe(`${o.title} ${detected.version} on a ${spec.title}`, () => {
    beforeAll(async () => {
      // No initial rebalance delay: a group's first member is assigned at once.
      target = await spec.start({ 'num.partitions': String(PARTITIONS), 'group.initial.rebalance.delay.ms': '0' });
      await report.probe(target.bootstrap);
      admin = newAdmin();
      // Topics for every check, created by Metadata auto-creation with num.partitions.
      const topics = ['meta', 'described', 'doomed', 'acks0', 'acks1', 'acksall', ...CODECS, 'times', 'idempotent', 'after-restart', 'crash', 'group'].map(t);
      await admin.metadata(topics, { allowAutoTopicCreation: true });
      await awaitTopicsOnEveryBroker(target.bootstrapServers, topics);
      driver = await o.driver(target.bootstrap);
    }, 60_000);

    afterAll(async () => {
      await driver?.close?.();
      await admin?.close();
      if (target && report.data.results.some((r) => r.outcome === 'fail')) {
        // The brokers' side of a failure, kept for the findings.
        mkdirSync(RESULTS_DIR, { recursive: true });
        writeFileSync(logFile, target.logTail(400_000));
        console.warn(`[conformance] ${o.title} on a ${spec.title}: broker logs in ${logFile}`);
      }
      await target?.destroy();
    }, 60_000);

    check('metadata', 'the client sees the broker and a topic\'s partitions', async () => {
      const view = await driver.metadata(t('meta'));
      for (const b of target.brokers) expect(view.brokers).toContainEqual(b);
      expect([...view.partitions].sort()).toEqual([0, 1, 2]);
      if (target.brokers.length > 1) {
        // The cluster spreads a topic's partitions: the client must route by leader.
        const leaders = await partitionLeaders(admin, t('meta'));
        expect(new Set(leaders).size, `leaders of ${t('meta')}: ${leaders.join(', ')}`).toBeGreaterThan(1);
      }
    });

    check('create-topics', 'creates a 2-partition topic', async () => {
      await driver.createTopics!([{ name: t('created'), partitions: 2 }]);
      const md = await settled(() => admin.metadata([t('created')]), (m) => m.topics[0]!.errorCode === ErrorCode.NONE);
      expect(md.topics[0]!.errorCode).toBe(ErrorCode.NONE);
      expect(md.topics[0]!.partitions.length).toBe(2);
    }, [ApiKey.CreateTopics]);

    check('describe-topics', 'describes an existing topic', async () => {
      const topics = await driver.describeTopics!([t('described')]);
      expect(topics).toContainEqual({ name: t('described'), partitions: PARTITIONS });
    });

    check('delete-topics', 'deletes a topic', async () => {
      await driver.deleteTopics!([t('doomed')]);
      const md = await settled(() => admin.metadata([t('doomed')]), (m) => m.topics[0]!.errorCode !== ErrorCode.NONE);
      expect(md.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    }, [ApiKey.DeleteTopics]);

    for (const [id, acks, topic] of [
      ['produce-acks-0', 0, 'acks0'],
      ['produce-acks-1', 1, 'acks1'],
      ['produce-acks-all', -1, 'acksall'],
    ] as const) {
      check(id, `produces ${COUNT} keyed records with headers to ${PARTITIONS} partitions`, async () => {
        const records = makeRecords(t(topic), COUNT, PARTITIONS);
        await driver.produce(t(topic), records, { acks });
        remember(t(topic), records);
      });
    }

    check('consume-in-order', 'reads back what each acks level produced, in order per partition', async () => {
      const levels = [['produce-acks-0', 'acks0'], ['produce-acks-1', 'acks1'], ['produce-acks-all', 'acksall']] as const;
      for (const topic of levels.filter(([id]) => !na(id)).map(([, name]) => t(name))) {
        expect(expected.has(topic), `${topic} was produced`).toBe(true);
        expectSameRecords(expected.get(topic)!, await consume(topic), compare);
      }
    }, [ApiKey.Fetch, ...consumeRequires], compare.headers ? undefined : 'headers not compared: the client has no record headers');

    for (const codec of CODECS) {
      check(codec, `produces ${codec}-compressed batches and reads them back`, async () => {
        // Compressible values: librdkafka sends a batch uncompressed when compression would not shrink it.
        const records = makeRecords(t(codec), 20, PARTITIONS, 200);
        await driver.produce(t(codec), records, { acks: -1, compression: codec });
        remember(t(codec), records);
        expectSameRecords(records, await consume(t(codec)), compare);
        // The topic's compression.type is "producer": the log keeps the client's codec.
        const stored = await readTopic(admin, t(codec), PARTITIONS);
        const want = { gzip: CompressionType.Gzip, snappy: CompressionType.Snappy, lz4: CompressionType.Lz4, zstd: CompressionType.Zstd }[codec];
        expect(new Set(stored.batches.map((b) => b.compression))).toEqual(new Set([want]));
      }, [ApiKey.Fetch, ...consumeRequires]);
    }

    check('offsets-for-times', 'finds the first offset at or after a timestamp', async () => {
      const before = makeRecords(`${t('times')}-a`, 4, 1);
      const after = makeRecords(`${t('times')}-b`, 3, 1);
      let between: number;
      if (o.explicitTimestamps) {
        const base = Date.now() - 60_000;
        before.forEach((r, i) => (r.timestamp = base + i));
        after.forEach((r, i) => (r.timestamp = base + 30_000 + i));
        between = base + 15_000;
        await driver.produce(t('times'), [...before, ...after], { acks: -1 });
      } else {
        // The client stamps records itself: separate the two sends in time.
        await driver.produce(t('times'), before, { acks: -1 });
        await sleep(30);
        between = Date.now();
        await sleep(30);
        await driver.produce(t('times'), after, { acks: -1 });
      }
      remember(t('times'), [...before, ...after]);
      expect(await driver.offsetForTime!(t('times'), 0, between)).toBe(before.length);
      expect(await driver.offsetForTime!(t('times'), 0, 0)).toBe(0);
    }, [ApiKey.ListOffsets]);

    check('idempotent', 'produces with enable.idempotence; batches carry a producer id and sequences', async () => {
      const records = makeRecords(t('idempotent'), COUNT, PARTITIONS);
      await driver.produce(t('idempotent'), records, { acks: -1, idempotent: true });
      remember(t('idempotent'), records);
      const stored = await readTopic(admin, t('idempotent'), PARTITIONS);
      expectSameRecords(records, stored.records, compare);
      for (const b of stored.batches) {
        expect(b.producerId).toBeGreaterThanOrEqual(0n);
        expect(b.baseSequence).toBeGreaterThanOrEqual(0);
      }
    }, [ApiKey.InitProducerId, ApiKey.Fetch]);

    check('restart-sigterm', 'after a SIGTERM restart every topic reads back whole, and the client produces again', async () => {
      expect(expected.size).toBeGreaterThan(0);
      const codes = await restart('SIGTERM');
      const records = makeRecords(t('after-restart'), 9, PARTITIONS);
      await driver.produce(t('after-restart'), records, { acks: -1 });
      remember(t('after-restart'), records);
      for (const [topic, sent] of expected) expectSameRecords(sent, await consume(topic), compare);
      // A SIGTERM is a controlled shutdown: each process exits by itself, with status 0.
      expect(codes, 'exit status after SIGTERM (null: it had to be killed)').toEqual(codes.map(() => 0));
    }, [ApiKey.Fetch, ...consumeRequires]);

    check('restart-sigkill', 'after a SIGKILL restart every acknowledged record is there', async () => {
      const records = makeRecords(t('crash'), COUNT, PARTITIONS);
      await driver.produce(t('crash'), records, { acks: -1 });
      remember(t('crash'), records);
      await restart('SIGKILL');
      for (const [topic, sent] of expected) expectSameRecords(sent, await consume(topic), compare);
    }, [ApiKey.Fetch, ...consumeRequires]);

    const assignors = o.groupAssignors ?? [];
    check('consumer-group', `a group member consumes a topic from the beginning${assignors.length > 0 ? `, once per assignor (${assignors.join(', ')})` : ''}`, async () => {
      const records = makeRecords(t('group'), 12, PARTITIONS);
      await driver.produce(t('group'), records, { acks: -1 });
      remember(t('group'), records);
      for (const assignor of assignors.length > 0 ? assignors : [undefined]) {
        const base = assignor === undefined ? `${o.client}-group` : `${o.client}-group-${assignor}`;
        // On a cluster, a coordinator that does not lead every partition the member reads.
        const { group, coordinator, leaders } = await groupAwayFrom(admin, base, t('group'));
        if (target.brokers.length > 1) expect(leaders.filter((l) => l !== coordinator), `leaders ${leaders.join(', ')}, coordinator ${coordinator}`).not.toEqual([]);
        expect((await admin.findCoordinator(group)).nodeId, `coordinator of ${group}`).toBe(coordinator);
        const got = await driver.groupConsume!(t('group'), group, records.length, assignor === undefined ? undefined : { assignor });
        expectSameRecords(records, got, compare);
        // The member committed what it consumed before it left: the group's offsets are the log ends.
        const fetched = await admin.send({ nodeId: coordinator }, ApiKey.OffsetFetch, { groups: [{ groupId: group, topics: [{ name: t('group'), partitionIndexes: [0, 1, 2] }] }], requireStable: true });
        const committed = fetched.groups![0]!.topics.flatMap((x) => x.partitions).map((p) => [p.partitionIndex, Number(p.committedOffset)]);
        expect(committed, `offsets committed by group ${group}`).toEqual([0, 1, 2].map((p) => [p, records.filter((r) => r.partition === p).length]));
      }
    }, [ApiKey.Fetch, ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.Heartbeat, ApiKey.OffsetFetch, ApiKey.OffsetCommit], assignors.length > 0 ? `assignors: ${assignors.join(', ')}` : undefined);
  });
}

