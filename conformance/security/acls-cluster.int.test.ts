// ACLs across a cluster of processes: one controller-only node and two broker-only nodes, all
// with StandardAuthorizer and allow.everyone.if.no.acl.found=true (every client is
// User:ANONYMOUS on PLAINTEXT listeners, so the first ACLs can be written before any exists).
// CreateAcls sent to one broker is checked there, forwarded to the controller (which checks the
// forwarding broker's principal), committed to the metadata log and enforced by the other broker;
// follower fetches (replication factor 2) keep working under CLUSTER_ACTION.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSecured } from '../../broker/cli/acls-connection.ts';
import type { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { ClusterProcess } from '../harness/cluster-process.ts';

let cluster: ClusterProcess;
const open: KafkaConnection[] = [];

async function connect(address: string): Promise<KafkaConnection> {
  const c = await connectSecured([address], { protocol: 'PLAINTEXT' }, 'acl-cluster-test');
  open.push(c);
  return c;
}

const acl = (resourceType: number, resourceName: string, operation: number, permissionType: number) => ({ resourceType, resourceName, resourcePatternType: 3, principal: 'User:ANONYMOUS', host: '*', operation, permissionType });
const describeAll = { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 };

async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  cluster = await ClusterProcess.start({
    controllers: 1,
    brokers: 2,
    properties: {
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'allow.everyone.if.no.acl.found': 'true',
      'offsets.topic.replication.factor': '2',
      'offsets.topic.num.partitions': '1',
    },
  });
}, 180_000);

afterAll(async () => {
  for (const c of open) await c.close().catch(() => undefined);
  await cluster?.destroy();
}, 60_000);

describe('ACLs in a cluster', () => {
  it('an ACL created through one broker is in force on the other', async () => {
    const [b1, b2] = cluster.brokers;
    const one = await connect(b1!.bootstrap);
    const two = await connect(b2!.bootstrap);
    const created = await one.send(ApiKey.CreateTopics, { topics: ['open', 'locked'].map((name) => ({ name, numPartitions: 2, replicationFactor: 2, assignments: [], configs: [] })), timeoutMs: 30_000, validateOnly: false });
    expect(created.topics.map((t) => t.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    // ALL on the cluster first, so the brokers keep their rights once the cluster resource has an ACL.
    const r = await one.send(ApiKey.CreateAcls, {
      creations: [acl(4, 'kafka-cluster', 2, 3), acl(2, 'locked', 4, 2), acl(2, 'locked', 8, 3)],
    });
    expect(r.results.map((x) => x.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE]);
    await eventually(async () => (await two.send(ApiKey.DescribeAcls, describeAll)).resources.length === 2);

    const producer = new Kafka({ clientId: 'acl-cluster', brokers: [b2!.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } }).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const outcome = async (topic: string) => producer.send({ topic, messages: [{ value: 'x' }], acks: -1 }).then(() => 'NONE', (e: { type?: string; message: string }) => e.type ?? e.message);
    expect(await outcome('open')).toBe('NONE');
    expect(await outcome('locked')).toBe('TOPIC_AUTHORIZATION_FAILED');
    await producer.disconnect();

    // Removed through the other broker, the DENY is gone everywhere.
    const deleted = await two.send(ApiKey.DeleteAcls, { filters: [{ ...describeAll, resourceTypeFilter: 2, resourceNameFilter: 'locked', patternTypeFilter: 3, permissionType: 2 }] });
    expect(deleted.filterResults[0]!.matchingAcls).toHaveLength(1);
    await eventually(async () => (await one.send(ApiKey.DescribeAcls, { ...describeAll, resourceTypeFilter: 2 })).resources.flatMap((x) => x.acls).length === 1);
  }, 180_000);
});
