// confluent-kafka-python (librdkafka) against a broker process and a three-node cluster, through
// client.py beside this file: AdminClient create/describe/delete, Producer with each acks level,
// each codec and idempotence, Consumer by manual assignment from the beginning, offsets_for_times,
// and subscribe() in a group with the range and cooperative-sticky assignors.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { defineClientSuite, type ClientSuiteOptions } from '../harness/client-suite.ts';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import { processDriver } from '../harness/process-driver.ts';
import { pythonModuleVersion, PYTHON } from '../harness/python.ts';
import { LZ4_NEEDS } from '../kcat/librdkafka.ts';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'client.py');

const suite: ClientSuiteOptions = {
  client: 'confluent-kafka-python',
  title: 'confluent-kafka-python',
  detect: () => pythonModuleVersion('confluent_kafka', 'confluent_kafka.version()[0] + " (librdkafka " + confluent_kafka.libversion()[0] + ")"', 'python3-confluent-kafka'),
  async driver(bootstrap) {
    return processDriver(bootstrap, { command: PYTHON, args: [SCRIPT] });
  },
  explicitTimestamps: true,
  // OFFSET_BEGINNING is resolved with ListOffsets.
  consumeRequires: [ApiKey.ListOffsets],
  extraRequires: { lz4: LZ4_NEEDS },
  // The group check runs once with the eager range assignor and once with the cooperative protocol.
  groupAssignors: ['range', 'cooperative-sticky'],
};

await defineClientSuite(suite, singleBroker());
await defineClientSuite(suite, threeNodeCluster());
