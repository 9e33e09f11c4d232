// What a conformance suite runs against: one broker process (broker and controller in one node,
// as `npm start` runs it) or a KRaft cluster of three node processes, each broker and
// controller, with topics spread over the three brokers (replication factor 1; SAMSA_CLUSTER_RF=3
// replicates every topic to all three, with min.insync.replicas=2) and each group's coordinator
// on whichever broker leads its __consumer_offsets partition. The suites see only
// this interface: the bootstrap list, the brokers a client must find, and restarts.
// Invariants: ports and data directories stay the same across restarts, so the bootstrap list
// a client was given stays valid; a SIGTERM restart stops one node at a time and waits for it to
// be back (registered and unfenced) before the next, so every controlled shutdown has a quorum to
// report to, and takes the active controller last, as operators do, so that leadership of the
// metadata quorum moves once; a SIGKILL restart kills every node at once and starts them all
// again, the harshest crash there is for records already acknowledged. A cluster start or
// restart is done when every broker lists all three brokers in its Metadata answers and, with
// replicated topics, when every partition is led again by its preferred replica (the controller's
// automatic preferred leader election, as after a rolling restart of a Kafka cluster): the
// suites place groups by where leaders are, and a restart leaves them all on the survivors.
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { BrokerProcess } from './broker-process.ts';
import { ClusterProcess, type NodeProcess } from './cluster-process.ts';

export type TargetKind = 'broker' | 'cluster';

export interface TargetBroker {
  nodeId: number;
  host: string;
  port: number;
}

export interface Target {
  readonly kind: TargetKind;
  /** Comma-separated host:port of every broker, as clients take `bootstrap.servers`. */
  readonly bootstrap: string;
  /** The same, one entry per broker. */
  readonly bootstrapServers: string[];
  /** The brokers a client's metadata must show. */
  readonly brokers: TargetBroker[];
  /**
   * Restarts every broker on the same ports and data; resolves with each stopped process's exit
   * code (null: ended by a signal, or it had to be killed).
   */
  restart(signal: 'SIGTERM' | 'SIGKILL'): Promise<Array<number | null>>;
  /** The last `chars` characters each node printed, for failure reports. */
  logTail(chars: number): string;
  destroy(): Promise<void>;
}

export interface TargetSpec {
  readonly kind: TargetKind;
  /** How results and test titles name the target. */
  readonly title: string;
  /** Starts the target with these server.properties on every node. */
  start(properties: Record<string, string>): Promise<Target>;
}

/** How long a stopped process has to exit before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

/** Quick failure detection and elections, so that restarts and fencing take seconds, not minutes. */
export const CLUSTER_PROPERTIES: Readonly<Record<string, string>> = {
  'controller.quorum.election.timeout.ms': '500',
  'controller.quorum.fetch.timeout.ms': '1000',
  'controller.quorum.request.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '300',
  'broker.session.timeout.ms': '3000',
};

/** Replication factor of the cluster's topics, internal ones included. */
export const CLUSTER_REPLICATION_FACTOR = Number(process.env.SAMSA_CLUSTER_RF ?? 1);

/** What makes every topic of the cluster replicated, as a production cluster would be set up. */
function replication(rf: number): Record<string, string> {
  if (rf === 1) return {};
  return {
    'default.replication.factor': String(rf),
    'offsets.topic.replication.factor': String(rf),
    'transaction.state.log.replication.factor': String(rf),
    'min.insync.replicas': String(Math.min(2, rf)),
    'transaction.state.log.min.isr': String(Math.min(2, rf)),
    'replica.lag.time.max.ms': '3000',
    'replica.fetch.wait.max.ms': '200',
    'replica.fetch.backoff.ms': '200',
    // After a restart the preferred leaders take their partitions back within seconds, so the
    // suites can again place a group's coordinator away from its partitions' leaders; every
    // partition, not only once a broker's share away passes the default 10%.
    'leader.imbalance.check.interval.seconds': '3',
    'leader.imbalance.per.broker.percentage': '0',
  };
}

/** The metadata quorum leader as the running controllers report it, or -1 if none answers. */
async function quorumLeader(nodes: readonly NodeProcess[]): Promise<number> {
  for (const n of nodes.filter((x) => x.running && x.isController)) {
    let conn: KafkaConnection | undefined;
    try {
      conn = await KafkaConnection.connect('127.0.0.1', n.controllerPort, { requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
      const r = await conn.send(ApiKey.DescribeQuorum, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
      const p = r.topics[0]?.partitions[0];
      if (p && p.errorCode === ErrorCode.NONE && p.leaderId >= 0) return p.leaderId;
    } catch {
      // Not answering: ask the next one.
    } finally {
      await conn?.close();
    }
  }
  return -1;
}

/**
 * Waits until every broker lists every broker in its Metadata answers: a node that has just
 * started may still see the others fenced for a moment, and a restart counts as done when the
 * cluster is whole again everywhere.
 */
async function awaitWholeCluster(nodes: readonly NodeProcess[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const want = nodes.filter((n) => n.isBroker).map((n) => n.id);
  for (const n of nodes.filter((x) => x.isBroker)) {
    let seen: number[] = [];
    for (;;) {
      let conn: KafkaConnection | undefined;
      try {
        conn = await KafkaConnection.connect('127.0.0.1', n.port, { requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
        const md = await conn.send(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
        seen = md.brokers.map((b) => b.nodeId);
      } catch {
        seen = [];
      } finally {
        await conn?.close();
      }
      if (want.every((id) => seen.includes(id))) break;
      if (Date.now() > deadline) throw new Error(`broker ${n.id} lists brokers [${seen.join(', ')}], not all of [${want.join(', ')}], ${timeoutMs} ms after the restart`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Waits until every broker's Metadata shows every partition of every topic led by its preferred
 * (first) replica; the error names the partitions still led elsewhere.
 */
async function awaitPreferredLeaders(nodes: readonly NodeProcess[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const n of nodes.filter((x) => x.isBroker)) {
    let away: string[] = [];
    for (;;) {
      let conn: KafkaConnection | undefined;
      try {
        conn = await KafkaConnection.connect('127.0.0.1', n.port, { requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
        const md = await conn.send(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false });
        away = md.topics.flatMap((t) => t.partitions.filter((p) => p.replicaNodes.length > 0 && p.leaderId !== p.replicaNodes[0]).map((p) => `${t.name}-${p.partitionIndex} led by ${p.leaderId}, preferred ${p.replicaNodes[0]}, isr [${p.isrNodes.join(',')}]`));
      } catch (err) {
        away = [`no Metadata answer: ${(err as Error).message}`];
      } finally {
        await conn?.close();
      }
      if (away.length === 0) break;
      if (Date.now() > deadline) throw new Error(`broker ${n.id}: ${away.length} partitions not led by their preferred replica ${timeoutMs} ms after the restart (${away.slice(0, 5).join('; ')})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export function singleBroker(): TargetSpec {
  return {
    kind: 'broker',
    title: 'single broker',
    async start(properties) {
      const broker = await BrokerProcess.start({ overrides: properties });
      return {
        kind: 'broker',
        bootstrap: broker.bootstrap,
        bootstrapServers: [broker.bootstrap],
        brokers: [{ nodeId: 1, host: '127.0.0.1', port: broker.port }],
        async restart(signal) {
          const code = await broker.stop(signal, STOP_TIMEOUT_MS);
          await broker.launch();
          return [code];
        },
        logTail: (chars) => broker.logs.slice(-chars),
        destroy: () => broker.destroy(),
      };
    },
  };
}

export function threeNodeCluster(): TargetSpec {
  return {
    kind: 'cluster',
    title: CLUSTER_REPLICATION_FACTOR === 1 ? 'three-node cluster' : `three-node cluster, replication factor ${CLUSTER_REPLICATION_FACTOR}`,
    async start(properties) {
      const cluster = await ClusterProcess.start({ nodes: 3, properties: { ...CLUSTER_PROPERTIES, ...replication(CLUSTER_REPLICATION_FACTOR), ...properties } });
      const nodes = cluster.brokers;
      await awaitWholeCluster(nodes);
      const bootstrapServers = nodes.map((n) => n.bootstrap);
      return {
        kind: 'cluster',
        bootstrap: bootstrapServers.join(','),
        bootstrapServers,
        brokers: nodes.map((n) => ({ nodeId: n.id, host: '127.0.0.1', port: n.port })),
        async restart(signal) {
          if (signal === 'SIGKILL') {
            const codes = await Promise.all(nodes.map((n) => n.stop('SIGKILL', STOP_TIMEOUT_MS)));
            await Promise.all(nodes.map((n) => n.start()));
            await awaitWholeCluster(nodes);
            if (CLUSTER_REPLICATION_FACTOR > 1) await awaitPreferredLeaders(nodes);
            return codes;
          }
          const leader = await quorumLeader(nodes);
          const order = [...nodes.filter((n) => n.id !== leader), ...nodes.filter((n) => n.id === leader)];
          const codes = new Map<number, number | null>();
          for (const n of order) {
            codes.set(n.id, await n.stop('SIGTERM', STOP_TIMEOUT_MS));
            await n.start();
          }
          await awaitWholeCluster(nodes);
          if (CLUSTER_REPLICATION_FACTOR > 1) await awaitPreferredLeaders(nodes);
          return nodes.map((n) => codes.get(n.id) ?? null);
        },
        logTail: (chars) => nodes.map((n) => `--- node ${n.id} ---\n${n.logs.slice(-chars)}`).join('\n'),
        destroy: () => cluster.destroy(),
      };
    },
  };
}
