// Consumer-group scenarios, on one broker and on a three-node cluster, with kafka-python members,
// each a Python process running member.py. kafka-python 2.0.2 has eager assignors only and no
// static membership.
import { pythonModuleVersion } from '../harness/python.ts';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import { defineGroupSuite, type GroupSuiteOptions } from './group-suite.ts';
import { pythonCommitted, pythonMember } from './python-members.ts';

const suite: GroupSuiteOptions = {
  client: 'kafka-python',
  title: 'kafka-python',
  detect: () => pythonModuleVersion('kafka', 'kafka.__version__', 'python3-kafka'),
  member: (config) => pythonMember('kafka-python', config),
  committed: (bootstrap, group, topic, partitions) => pythonCommitted('kafka-python', bootstrap, group, topic, partitions),
  notApplicable: {
    'group-cooperative': 'kafka-python 2.0.2 has no cooperative rebalancing (eager assignors only)',
    'group-static-member': 'kafka-python 2.0.2 has no static membership (group_instance_id)',
  },
};

await defineGroupSuite(suite, singleBroker());
await defineGroupSuite(suite, threeNodeCluster());
