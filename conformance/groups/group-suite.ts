// Consumer-group scenarios for one client, against a target started once per client file and
// suite (target.ts): one broker process, or a three-node cluster where each group is given an id
// whose coordinator does not lead every partition of its topic, so members talk to the
// coordinator and to other partition leaders at once. Members
// run as child processes (GroupMember) so that a kill is a real kill, records are produced with
// kafkajs from the test process, and what the broker kept is read back with OffsetFetch,
// DescribeGroups and ListGroups through Samsa's own client as well as through the client's
// committed(). Outcomes go in the group matrix (GROUP_CHECKS, `groups-[cluster-]<client>.json`).
// Invariants: every wait is bounded; a member commits each record after processing it, so a
// record processed again after its commit is a broker fault (the ledger's `afterCommit`), while a
// record processed twice without a commit in between is allowed; the broker runs with
// `group.initial.rebalance.delay.ms=0` and members with 6000 ms sessions (Kafka's
// `group.min.session.timeout.ms` default), which bounds how long a dead member keeps partitions.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { run } from '../harness/child-json.ts';
import { samsaArgs } from '../harness/samsa-cli.ts';
import type { GroupCheckId } from '../harness/checks.ts';
import { ClientReport } from '../harness/client-report.ts';
import { awaitTopicsOnEveryBroker, groupAwayFrom } from '../harness/placement.ts';
import { singleBroker, type Target, type TargetSpec } from '../harness/target.ts';
import { RESULTS_DIR } from '../harness/results.ts';
import { GroupLedger, GroupMember, until, type MemberCommand, type MemberConfig } from './group-member.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 6000;
/** Time for members to join, rebalance and read what was produced, on a loaded 2-core machine. */
const SETTLE_MS = 30_000;
const GROUP_APIS = [ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.Heartbeat, ApiKey.LeaveGroup, ApiKey.OffsetCommit, ApiKey.OffsetFetch, ApiKey.Fetch];

export interface GroupSuiteOptions {
  client: string;
  title: string;
  detect(): Promise<{ version: string } | { unavailable: string }>;
  /** The command that runs one member with this configuration. */
  member(config: MemberConfig): MemberCommand;
  /**
   * The group's committed offsets for partitions 0..n-1 of a topic, as the client reads them
   * (-1: none), from comma-separated bootstrap servers.
   */
  committed(bootstrap: string, group: string, topic: string, partitions: number): Promise<number[]>;
  /** The eager assignor the failover check uses, when the client takes one. */
  assignor?: string;
  /** Scenarios the client has no feature for, with the reason. */
  notApplicable?: Partial<Record<GroupCheckId, string>>;
  /** Known broker bugs by scenario, each naming its FINDINGS.md entry. */
  knownBrokerBugs?: Partial<Record<GroupCheckId, string>>;
}

/** Whether `samsa consumer-groups` exists in this tree yet; the reason to skip if not. */
async function consumerGroupsCliMissing(): Promise<string | undefined> {
  const file = join(ROOT, 'broker/cli/consumer-groups.ts');
  if (!existsSync(file)) return 'consumer-groups CLI not available (no broker/cli/consumer-groups.ts)';
  const r = await run(process.execPath, samsaArgs(['consumer-groups', '--help']), { cwd: ROOT, timeoutMs: 30_000 });
  if (r.code !== 0 || !r.stdout.includes('--describe')) return `consumer-groups CLI not available (samsa consumer-groups --help exited ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''})`;
  return undefined;
}

/** Rows of a `--describe` table by column name (Kafka's ConsumerGroupCommand layout). */
export function parseDescribeTable(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').map((l) => l.trim());
  const at = lines.findIndex((l) => /\bGROUP\b/.test(l) && /\bLAG\b/.test(l));
  if (at < 0) throw new Error(`no GROUP ... LAG header in:\n${text}`);
  const columns = lines[at]!.split(/\s+/);
  return lines
    .slice(at + 1)
    .filter((l) => l !== '')
    .map((l) => {
      const cells = l.split(/\s+/);
      return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
    });
}

/** Registers the client's group scenarios against the target `spec` starts (one broker process unless given). */
export async function defineGroupSuite(o: GroupSuiteOptions, spec: TargetSpec = singleBroker()): Promise<void> {
  const report = new ClientReport(o.client, o.title, 'groups', spec.kind);
  const detected = await o.detect();
  if ('unavailable' in detected) {
    report.unavailable(detected.unavailable);
    return;
  }
  report.setVersion(detected.version);
  // Broker logs of a failed run; an earlier run's are stale.
  const logFile = join(RESULTS_DIR, `groups-${spec.kind}-${o.client}.log`);
  rmSync(logFile, { force: true });
  for (const [id, reason] of Object.entries(o.notApplicable ?? {})) report.notApplicable(id as GroupCheckId, reason);

  let target: Target;
  let admin: KafkaClient;
  const live: GroupMember[] = [];
  const t = (name: string): string => `${o.client}-${name}`;
  const newAdmin = (): KafkaClient => new KafkaClient({ bootstrapServers: target.bootstrapServers, clientId: 'conformance-admin', retries: 8 });

  const startMember = (name: string, group: string, topic: string, ledger: GroupLedger, extra: Partial<MemberConfig> = {}): GroupMember => {
    const config: MemberConfig = { bootstrap: target.bootstrap, group, topic, clientId: `${o.client}-${name}`, sessionTimeoutMs: SESSION_TIMEOUT_MS, ...extra };
    if (o.assignor !== undefined && config.assignor === undefined) config.assignor = o.assignor;
    const m = GroupMember.start(name, o.member(config), ledger);
    live.push(m);
    return m;
  };

  /** `count` records with keys `<tag>-<i>` on partition i % 6; returns the keys. */
  const produce = async (topic: string, tag: string, count: number): Promise<string[]> => {
    const kafka = new Kafka({ clientId: 'conformance-producer', brokers: target.bootstrapServers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const keys = Array.from({ length: count }, (_, i) => `${tag}-${i}`);
      await producer.send({ topic, acks: -1, messages: keys.map((key, i) => ({ key, value: `value of ${key}`, partition: i % PARTITIONS })) });
      return keys;
    } finally {
      await producer.disconnect();
    }
  };

  /** Creates the scenario's topic and picks its group (on a cluster, one placed away from some partitions). */
  const createTopic = async (topic: string, baseGroup: string): Promise<string> => {
    const md = await admin.metadata([topic], { allowAutoTopicCreation: true });
    expect(md.topics[0]!.partitions.length).toBe(PARTITIONS);
    await awaitTopicsOnEveryBroker(target.bootstrapServers, [topic]);
    const { group, coordinator, leaders } = await groupAwayFrom(admin, baseGroup, topic);
    if (target.brokers.length > 1) {
      expect(new Set(leaders).size, `leaders of ${topic}: ${leaders.join(', ')}`).toBeGreaterThan(1);
      expect(leaders.filter((l) => l !== coordinator), `leaders ${leaders.join(', ')}, coordinator ${coordinator}`).not.toEqual([]);
    }
    return group;
  };

  /** Log end offsets of every partition. */
  const endOffsets = async (topic: string): Promise<number[]> => {
    const out: number[] = [];
    for (let p = 0; p < PARTITIONS; p++) out.push(Number((await admin.listOffsets(topic, p, -1n)).offset));
    return out;
  };

  /**
   * A request to the group's coordinator, found again and retried while it is loading or moving
   * (after a restart).
   */
  const groupRequest = async <T extends { errorCode: number }>(group: string, send: (coordinator: number) => Promise<T>): Promise<T> => {
    const retriable: number[] = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR];
    for (let attempt = 0; ; attempt++) {
      const coordinator = await admin.findCoordinator(group).then((c) => c.nodeId, () => -1);
      if (coordinator >= 0) {
        const answer = await send(coordinator);
        if (!retriable.includes(answer.errorCode) || attempt === 40) return answer;
      } else if (attempt === 40) {
        throw new Error(`no coordinator found for ${group}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  /** Committed offsets read with OffsetFetch (v8, one group), -1 for none. */
  const offsetFetch = async (group: string, topic: string): Promise<number[]> => {
    const answer = await groupRequest(group, async (coordinator) => {
      const r = await admin.send({ nodeId: coordinator }, ApiKey.OffsetFetch, { groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: Array.from({ length: PARTITIONS }, (_, p) => p) }] }], requireStable: true });
      return r.groups![0]!;
    });
    expect(answer.errorCode, `OffsetFetch ${group}`).toBe(ErrorCode.NONE);
    const out = new Array<number>(PARTITIONS).fill(-1);
    for (const p of answer.topics.flatMap((x) => x.partitions)) {
      expect(p.errorCode, `OffsetFetch ${group} partition ${p.partitionIndex}`).toBe(ErrorCode.NONE);
      out[p.partitionIndex] = Number(p.committedOffset);
    }
    return out;
  };

  const describeGroup = async (group: string) =>
    groupRequest(group, async (coordinator) => (await admin.send({ nodeId: coordinator }, ApiKey.DescribeGroups, { groups: [group], includeAuthorizedOperations: false })).groups[0]!);

  const allProcessed = (ledger: GroupLedger, keys: readonly string[]): boolean => keys.every((k) => ledger.processed.has(k));
  const committedTo = (ledger: GroupLedger, ends: readonly number[]): boolean => ends.every((end, p) => end === 0 || ledger.committed.get(p) === end);
  const missing = (ledger: GroupLedger, keys: readonly string[]): string => {
    const left = keys.filter((k) => !ledger.processed.has(k));
    return `${left.length} records not processed (${left.slice(0, 5).join(', ')})`;
  };

  const check = (id: GroupCheckId, title: string, fn: () => Promise<void>, extra: { requires?: readonly ApiKey[]; unavailable?: () => Promise<string | undefined>; passNote?: string } = {}): void => {
    if (o.notApplicable?.[id] !== undefined) return;
    report.check(id, title, async () => {
      try {
        await fn();
      } finally {
        // Whatever happened, no member outlives its scenario.
        await Promise.all(live.splice(0).map((m) => m.kill()));
      }
    }, { requires: [...GROUP_APIS, ...(extra.requires ?? [])], unavailable: extra.unavailable, passNote: extra.passNote, knownBrokerBug: o.knownBrokerBugs?.[id], timeoutMs: 120_000 });
  };

  /**
   * Three members share the topic; one is killed with SIGKILL and its partitions must move to
   * the other two once its session expires; every record is processed and none again after its
   * commit. With a cooperative assignor, the survivors must only gain the dead member's partitions.
   */
  const failover = async (name: string, cooperative: string | undefined): Promise<void> => {
    const topic = t(name);
    const group = await createTopic(topic, t(`${name}-group`));
    const ledger = new GroupLedger();
    const extra = cooperative === undefined ? {} : { assignor: cooperative };
    const members = [0, 1, 2].map((i) => startMember(`${name}-m${i}`, group, topic, ledger, extra));
    const shared = (list: readonly GroupMember[]): boolean => {
      const owned = list.flatMap((m) => [...m.owned]);
      return owned.length === PARTITIONS && new Set(owned).size === PARTITIONS;
    };
    await until('three members to own the 6 partitions between them', () => members.every((m) => m.owned.size > 0) && shared(members), SETTLE_MS, members);
    const first = await produce(topic, `${name}-a`, 60);
    const firstEnds = await endOffsets(topic);
    await until('every record processed and committed', () => allProcessed(ledger, first) && committedTo(ledger, firstEnds), SETTLE_MS, members);

    const [dead, ...survivors] = [members[2]!, members[0]!, members[1]!];
    const deadOwned = [...dead.owned].sort((a, b) => a - b);
    const marks = survivors.map((m) => m.events.length);
    await dead.kill();
    const killedAt = Date.now();
    const second = await produce(topic, `${name}-b`, 60);
    await until('the killed member\'s partitions to move to the survivors', () => shared(survivors), SESSION_TIMEOUT_MS + SETTLE_MS, survivors);
    console.info(`[conformance] ${o.title} ${name}: partitions of the killed member moved ${Date.now() - killedAt} ms after the kill (session.timeout.ms ${SESSION_TIMEOUT_MS})`);
    const ends = await endOffsets(topic);
    await until('every record processed and committed after the move', () => allProcessed(ledger, second) && committedTo(ledger, ends), SETTLE_MS, survivors);

    expect(ledger.afterCommit, 'records processed again after their offset was committed').toEqual([]);
    expect(missing(ledger, [...first, ...second])).toBe('0 records not processed ()');
    expect(await offsetFetch(group, topic)).toEqual(ends);
    if (cooperative !== undefined) {
      survivors.forEach((m, i) => {
        expect(m.eventsOf('revoked', marks[i]).flatMap((e) => e.partitions), `${m.name} revoked after the kill`).toEqual([]);
      });
      const gained = survivors.flatMap((m, i) => m.eventsOf('assigned', marks[i]).flatMap((e) => e.partitions)).sort((a, b) => a - b);
      expect(gained, 'partitions newly assigned to the survivors').toEqual(deadOwned);
    }
  };

  /** Members consume everything and leave; what the broker keeps for the group is checked. */
  const consumeAll = async (name: string, group: string, topic: string, keys: readonly string[], ledger: GroupLedger): Promise<GroupMember> => {
    const m = startMember(name, group, topic, ledger);
    const ends = await endOffsets(topic);
    await until(`${name} to process and commit every record`, () => allProcessed(ledger, keys) && committedTo(ledger, ends), SETTLE_MS, [m]);
    return m;
  };

  const brokerRestart = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const name = signal === 'SIGTERM' ? 'restart' : 'crash';
    const topic = t(name);
    const group = await createTopic(topic, t(`${name}-group`));
    const ledger = new GroupLedger();
    const first = await produce(topic, `${name}-a`, 30);
    const m = await consumeAll(`${name}-m0`, group, topic, first, ledger);
    await m.stop();
    const ends = await endOffsets(topic);
    expect(await offsetFetch(group, topic)).toEqual(ends);

    await admin.close();
    await target.restart(signal);
    admin = newAdmin();

    expect(await offsetFetch(group, topic), 'OffsetFetch after the restart').toEqual(ends);
    expect(await o.committed(target.bootstrap, group, topic, PARTITIONS), `${o.title} committed() after the restart`).toEqual(ends);
    const described = await describeGroup(group);
    expect(described).toMatchObject({ errorCode: ErrorCode.NONE, groupId: group, groupState: 'Empty', protocolType: 'consumer' });
    // ListGroups lists the groups of the broker asked: ask the coordinator.
    const listed = await groupRequest(group, (coordinator) => admin.send({ nodeId: coordinator }, ApiKey.ListGroups, { statesFilter: [], typesFilter: [] }));
    expect(listed.groups.map((g) => g.groupId)).toContain(group);

    // A member of the kept group reads only what came after the committed offsets.
    const second = await produce(topic, `${name}-b`, 30);
    await consumeAll(`${name}-m1`, group, topic, second, ledger);
    expect(ledger.afterCommit, 'records processed again after their offset was committed').toEqual([]);
  };

  describe(`${o.title} ${detected.version}: consumer groups on a ${spec.title}`, () => {
    beforeAll(async () => {
      target = await spec.start({ 'num.partitions': String(PARTITIONS), 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '5' });
      await report.probe(target.bootstrap);
      admin = newAdmin();
    }, 60_000);

    afterAll(async () => {
      await Promise.all(live.splice(0).map((m) => m.kill()));
      await admin?.close();
      if (target && report.data.results.some((r) => r.outcome === 'fail')) {
        // The brokers' side of a failure, kept for the findings.
        mkdirSync(RESULTS_DIR, { recursive: true });
        writeFileSync(logFile, target.logTail(400_000));
        console.warn(`[conformance] ${o.title} groups on a ${spec.title}: broker logs in ${logFile}`);
      }
      await target?.destroy();
    }, 60_000);

    check('group-failover', 'three members share 6 partitions; one is killed; its partitions move and every record is processed, none again after its commit', () => failover('failover', undefined), {
      passNote: o.assignor === undefined ? undefined : `assignor: ${o.assignor}`,
    });

    check('group-cooperative', 'cooperative-sticky: after a kill the survivors only gain the dead member\'s partitions', () => failover('cooperative', 'cooperative-sticky'));

    check('group-resume', 'a consumer restarted in its group resumes at the committed offsets', async () => {
      const topic = t('resume');
      const group = await createTopic(topic, t('resume-group'));
      const ledger = new GroupLedger();
      const first = await produce(topic, 'resume-a', 30);
      await (await consumeAll('resume-m0', group, topic, first, ledger)).stop();
      const second = await produce(topic, 'resume-b', 30);
      const again = await consumeAll('resume-m1', group, topic, second, ledger);
      expect(ledger.afterCommit, 'records processed again after their offset was committed').toEqual([]);
      expect(again.eventsOf('record').map((e) => e.key).sort()).toEqual([...second].sort());
    });

    check('group-broker-sigterm', 'after a SIGTERM broker restart the group and its committed offsets are there', () => brokerRestart('SIGTERM'), {
      requires: [ApiKey.DescribeGroups, ApiKey.ListGroups],
    });
    check('group-broker-sigkill', 'after a SIGKILL broker restart the group and its committed offsets are there', () => brokerRestart('SIGKILL'), {
      requires: [ApiKey.DescribeGroups, ApiKey.ListGroups],
    });

    check('group-static-member', 'static members killed and restarted within the session timeout (a follower, then the leader) get their partitions back; the others see no rebalance', async () => {
      const topic = t('static');
      const group = await createTopic(topic, t('static-group'));
      const ledger = new GroupLedger();
      const instance = (i: number): Partial<MemberConfig> => ({ instanceId: `${o.client}-static-${i}` });
      // The first member to join leads the group: start it alone so the leader is known.
      const members = [startMember('static-m0', group, topic, ledger, instance(0))];
      await until('the first static member to own every partition', () => members[0]!.owned.size === PARTITIONS, SETTLE_MS, members);
      members.push(...[1, 2].map((i) => startMember(`static-m${i}`, group, topic, ledger, instance(i))));
      await until('three static members to own the 6 partitions between them', () => members.every((m) => m.owned.size > 0) && members.reduce((n, m) => n + m.owned.size, 0) === PARTITIONS, SETTLE_MS, members);
      const first = await produce(topic, 'static-a', 30);
      await until('every record processed', () => allProcessed(ledger, first), SETTLE_MS, members);

      /** Kills member i and starts it again with the same group.instance.id; it must get the same partitions. */
      const restart = async (i: number): Promise<{ back: GroupMember; killedAt: number }> => {
        const gone = members[i]!;
        const goneOwned = [...gone.owned].sort((a, b) => a - b);
        await gone.kill();
        const killedAt = Date.now();
        const back = startMember(`static-m${i}-again`, group, topic, ledger, instance(i));
        members[i] = back;
        await until(`restarted static member ${i} to get partitions`, () => back.owned.size > 0, SETTLE_MS, members);
        expect([...back.owned].sort((a, b) => a - b), `partitions of restarted static member ${i}`).toEqual(goneOwned);
        return { back, killedAt };
      };
      const marks = new Map(members.map((m) => [m, m.events.length]));
      const follower = await restart(2);
      marks.set(follower.back, follower.back.events.length);
      const leader = await restart(0);
      const second = await produce(topic, 'static-b', 30);
      await until('every record processed', () => allProcessed(ledger, second), SETTLE_MS, members);
      // Past the killed instances' session timeout: their old sessions must not expire and rebalance.
      await until('the old session timeouts to pass', () => Date.now() > leader.killedAt + SESSION_TIMEOUT_MS + 2000, SESSION_TIMEOUT_MS + 5000);
      for (const m of [members[1]!, follower.back]) {
        expect(m.eventsOf('revoked', marks.get(m)).flatMap((e) => e.partitions), `${m.name} revoked after a static restart`).toEqual([]);
        expect(m.eventsOf('assigned', marks.get(m)), `${m.name} assigned after a static restart`).toEqual([]);
      }
      expect(members.reduce((n, m) => n + m.owned.size, 0), members.map((m) => m.describe()).join('\n')).toBe(PARTITIONS);
      expect(ledger.afterCommit, 'records processed again after their offset was committed').toEqual([]);
    }, { requires: [ApiKey.DescribeGroups] });

    check('group-describe-lag', '`samsa consumer-groups --describe --group` shows committed offset, end offset and lag per partition, and the active member', async () => {
      const topic = t('lag');
      const group = await createTopic(topic, t('lag-group'));
      const ledger = new GroupLedger();
      const describe = async (): Promise<Array<Record<string, string>>> => {
        const r = await run(process.execPath, samsaArgs(['consumer-groups', '--bootstrap-server', target.bootstrap, '--describe', '--group', group]), { cwd: ROOT, timeoutMs: 30_000 });
        expect(r.code, `samsa consumer-groups exited ${r.code}: ${r.stderr}`).toBe(0);
        const rows = parseDescribeTable(r.stdout).filter((row) => row['TOPIC'] === topic);
        expect(rows.every((row) => row['GROUP'] === group), r.stdout).toBe(true);
        return rows.sort((a, b) => Number(a['PARTITION']) - Number(b['PARTITION']));
      };
      const offsets = (rows: Array<Record<string, string>>) => rows.map((row) => ({ partition: Number(row['PARTITION']), current: Number(row['CURRENT-OFFSET']), end: Number(row['LOG-END-OFFSET']), lag: Number(row['LAG']) }));
      const first = await produce(topic, 'lag-a', 30);
      const member = await consumeAll('lag-m0', group, topic, first, ledger);
      const committed = await endOffsets(topic);
      // An active member: every partition shown with it, caught up.
      const active = await describe();
      expect(offsets(active)).toEqual(committed.map((end, p) => ({ partition: p, current: end, end, lag: 0 })));
      expect(new Set(active.map((row) => row['CLIENT-ID'])), 'CLIENT-ID of the active member').toEqual(new Set([`${o.client}-lag-m0`]));
      expect(active.every((row) => row['CONSUMER-ID'] !== '-' && row['HOST'] !== '-'), 'CONSUMER-ID and HOST of the active member').toBe(true);
      await member.stop();
      // An empty group with records produced since its commits: the lag is the difference.
      await produce(topic, 'lag-b', 12);
      const ends = await endOffsets(topic);
      expect(offsets(await describe())).toEqual(ends.map((end, p) => ({ partition: p, current: committed[p]!, end, lag: end - committed[p]! })));
    }, { unavailable: consumerGroupsCliMissing, requires: [ApiKey.DescribeGroups, ApiKey.ListOffsets] });
  });
}
