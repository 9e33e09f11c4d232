// What the cluster tests ask of a running cluster, written once: a short-lived client, polling
// until a condition holds (bounded), the quorum leader as each controller reports it, and the
// leader/ISR of a topic's partitions. Plus the timings that make faults resolve in seconds rather
// than Kafka's production defaults, which every cluster test starts from.
import { KafkaClient } from '../../protocol/client/client.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { NodeProcess } from './cluster-process.ts';

/** Short election, fetch, session and lag timeouts (tests override single entries). */
export const FAST_FAILOVER_PROPERTIES: Readonly<Record<string, string>> = {
  'controller.quorum.election.timeout.ms': '500',
  'controller.quorum.fetch.timeout.ms': '1000',
  'controller.quorum.request.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '300',
  'broker.session.timeout.ms': '5000',
  'replica.lag.time.max.ms': '1500',
  'replica.fetch.wait.max.ms': '200',
  'replica.fetch.backoff.ms': '200',
};

export interface ClientOptions {
  clientId?: string;
  retries?: number;
  requestTimeoutMs?: number;
}

/** Runs `fn` with a client connected to `bootstrap`, closed afterwards whatever happens. */
export async function withClient<T>(bootstrap: string[], fn: (c: KafkaClient) => Promise<T>, opts: ClientOptions = {}): Promise<T> {
  const c = new KafkaClient({
    bootstrapServers: bootstrap,
    clientId: opts.clientId ?? 'cluster-test',
    requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
    retries: opts.retries ?? 2,
    retryBackoffMs: 200,
  });
  try {
    await c.connect();
    return await fn(c);
  } finally {
    await c.close();
  }
}

/**
 * Polls `check` every 100 ms until it returns something other than undefined or false (a throw
 * counts as not yet) and returns that value; fails naming `what` after `timeoutMs`.
 */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

export interface QuorumView {
  leaderId: number;
  epoch: number;
}

/** The quorum leader as `node` (a controller) reports it through DescribeQuorum, or -1. */
export async function quorumLeaderSeenBy(node: NodeProcess): Promise<QuorumView> {
  let conn: KafkaConnection | undefined;
  try {
    conn = await KafkaConnection.connect(node.host, node.controllerPort, { requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
    const r = await conn.send(ApiKey.DescribeQuorum, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
    const p = r.topics[0]?.partitions[0];
    return p && p.errorCode === ErrorCode.NONE ? { leaderId: p.leaderId, epoch: p.leaderEpoch } : { leaderId: -1, epoch: -1 };
  } catch {
    return { leaderId: -1, epoch: -1 };
  } finally {
    await conn?.close();
  }
}

/** Polls the running controllers until one reports itself leader (not one of `notIn`). */
export async function awaitQuorumLeader(controllers: () => NodeProcess[], timeoutMs: number, notIn: number[] = []): Promise<QuorumView & { ms: number }> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    for (const n of controllers().filter((x) => x.running)) {
      const seen = await quorumLeaderSeenBy(n);
      if (seen.leaderId === n.id && !notIn.includes(seen.leaderId)) return { ...seen, ms: Date.now() - started };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no quorum leader within ${timeoutMs} ms`);
}

export interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

/**
 * Every partition of `topic` in partition order as Metadata reports it, or undefined while the
 * topic is missing, has another partition count than `partitions` (when given), or any partition
 * reports an error. Asked once, without retries, so a poll sees the cluster as it is now.
 */
export async function partitionViews(bootstrap: string[], topic: string, partitions?: number): Promise<PartitionView[] | undefined> {
  return withClient(
    bootstrap,
    async (c) => {
      const t = (await c.metadata([topic], { allowAutoTopicCreation: false })).topics[0];
      if (!t || t.errorCode !== ErrorCode.NONE || (partitions !== undefined && t.partitions.length !== partitions)) return undefined;
      const out: PartitionView[] = [];
      for (const p of [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)) {
        if (p.errorCode !== ErrorCode.NONE) return undefined;
        out.push({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch ?? -1,
          replicas: [...p.replicaNodes],
          isr: [...p.isrNodes].sort((a, b) => a - b),
        });
      }
      return out;
    },
    { retries: 0, requestTimeoutMs: 5000 },
  );
}

/**
 * The partitions of `topic` as every one of `bootstraps` reports them, when they all agree on
 * each partition's leader, leader epoch and ISR; undefined otherwise. A node cut off from the
 * controller keeps its old view until it catches up, so one answer alone can be stale.
 */
export async function agreedPartitionViews(bootstraps: string[], topic: string, partitions?: number): Promise<PartitionView[] | undefined> {
  const views = await Promise.all(bootstraps.map((b) => partitionViews([b], topic, partitions).catch(() => undefined)));
  const first = views[0];
  if (!first) return undefined;
  const key = (v: PartitionView[]) => JSON.stringify(v.map((p) => [p.leader, p.leaderEpoch, p.isr]));
  return views.every((v) => v !== undefined && key(v) === key(first)) ? first : undefined;
}
