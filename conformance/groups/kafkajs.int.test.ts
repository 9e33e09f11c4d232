// Consumer-group scenarios, on one broker and on a three-node cluster, with kafkajs members, each a
// node process running kafkajs-member.ts. kafkajs 2.2 has eager assignors only and no static
// membership.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import { defineGroupSuite, type GroupSuiteOptions } from './group-suite.ts';

const require = createRequire(import.meta.url);
const MEMBER = join(dirname(fileURLToPath(import.meta.url)), 'kafkajs-member.ts');

const suite: GroupSuiteOptions = {
  client: 'kafkajs',
  title: 'kafkajs',
  async detect() {
    return { version: (require('kafkajs/package.json') as { version: string }).version };
  },
  member: (config) => ({ command: process.execPath, args: ['--import', 'tsx', MEMBER, JSON.stringify(config)] }),
  async committed(bootstrap, group, topic, partitions) {
    const admin = new Kafka({ clientId: 'conformance-kafkajs-admin', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } }).admin();
    await admin.connect();
    try {
      const [answer] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const out = new Array<number>(partitions).fill(-1);
      for (const p of answer!.partitions) out[p.partition] = Number(p.offset);
      return out;
    } finally {
      await admin.disconnect();
    }
  },
  notApplicable: {
    'group-cooperative': 'kafkajs 2.2 has no cooperative rebalancing (eager assignors only)',
    'group-static-member': 'kafkajs 2.2 has no static membership (group.instance.id)',
  },
};

await defineGroupSuite(suite, singleBroker());
await defineGroupSuite(suite, threeNodeCluster());
