// kafka-python against a broker process and a three-node cluster, through client.py beside this
// file: KafkaAdminClient create/describe/delete, KafkaProducer with each acks level and each codec
// it supports, KafkaConsumer by assign() and seek(), offsets_for_times, and
// KafkaConsumer(group_id=...). kafka-python 2.0.2 has no idempotent producer.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineClientSuite, type ClientSuiteOptions } from '../harness/client-suite.ts';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import { processDriver } from '../harness/process-driver.ts';
import { pythonModuleVersion, PYTHON } from '../harness/python.ts';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'client.py');

// The codecs need their Python modules; check them up front so a missing one reads as such.
const CODEC_MODULES = { snappy: ['snappy', 'python3-snappy'], lz4: ['lz4.frame', 'python3-lz4'], zstd: ['zstandard', 'python3-zstandard'] } as const;
const missingCodecs: Partial<Record<'snappy' | 'lz4' | 'zstd', string>> = {};
for (const [codec, [module, pkg]] of Object.entries(CODEC_MODULES)) {
  const found = await pythonModuleVersion(module, '1', pkg);
  if ('unavailable' in found) missingCodecs[codec as keyof typeof CODEC_MODULES] = `Python module ${module} missing (apt-get install ${pkg})`;
}

const suite: ClientSuiteOptions = {
  client: 'kafka-python',
  title: 'kafka-python',
  detect: () => pythonModuleVersion('kafka', 'kafka.__version__', 'python3-kafka'),
  async driver(bootstrap) {
    return processDriver(bootstrap, { command: PYTHON, args: [SCRIPT] });
  },
  explicitTimestamps: true,
  notApplicable: { idempotent: 'kafka-python 2.0.2 has no idempotent producer (enable_idempotence came in 2.1)' },
  pending: missingCodecs,
};

await defineClientSuite(suite, singleBroker());
await defineClientSuite(suite, threeNodeCluster());
