// Consumer-group scenarios with confluent-kafka-python (librdkafka) members, each a Python
// process running member.py: the range assignor for failover, cooperative-sticky for incremental
// rebalancing, and group.instance.id for static membership.
import { pythonModuleVersion } from '../harness/python.ts';
import { defineGroupSuite } from './group-suite.ts';
import { pythonCommitted, pythonMember } from './python-members.ts';

await defineGroupSuite({
  client: 'confluent-kafka-python',
  title: 'confluent-kafka-python',
  detect: () => pythonModuleVersion('confluent_kafka', 'confluent_kafka.version()[0] + " (librdkafka " + confluent_kafka.libversion()[0] + ")"', 'python3-confluent-kafka'),
  member: (config) => pythonMember('confluent', config),
  committed: (bootstrap, group, topic, partitions) => pythonCommitted('confluent', bootstrap, group, topic, partitions),
  assignor: 'range',
});
