// Consumer-group scenarios, on one broker and on a three-node cluster, with confluent-kafka-python
// (librdkafka) members, each a Python process running member.py: the range assignor for failover,
// cooperative-sticky for incremental rebalancing, and group.instance.id for static membership.
import { pythonModuleVersion } from '../harness/python.ts';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import { defineGroupSuite, type GroupSuiteOptions } from './group-suite.ts';
import { pythonCommitted, pythonMember } from './python-members.ts';

const suite: GroupSuiteOptions = {
  client: 'confluent-kafka-python',
  title: 'confluent-kafka-python',
  detect: () => pythonModuleVersion('confluent_kafka', 'confluent_kafka.version()[0] + " (librdkafka " + confluent_kafka.libversion()[0] + ")"', 'python3-confluent-kafka'),
  member: (config) => pythonMember('confluent', config),
  committed: (bootstrap, group, topic, partitions) => pythonCommitted('confluent', bootstrap, group, topic, partitions),
  assignor: 'range',
};

await defineGroupSuite(suite, singleBroker());
await defineGroupSuite(suite, threeNodeCluster());
