// Sarama (Debian's 1.22, Go) against a broker process and a three-node cluster, through main.go
// beside this file, built in GOPATH mode: ClusterAdmin create/describe/delete, SyncProducer by
// manual partition with each acks level, each codec and idempotence, partition consumers from the
// oldest offset, and GetOffset by timestamp, and a ConsumerGroup session.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { defineClientSuite, type ClientSuiteOptions } from '../harness/client-suite.ts';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import { buildGoProgram } from '../harness/go-program.ts';
import { processDriver } from '../harness/process-driver.ts';

const built = await buildGoProgram(dirname(fileURLToPath(import.meta.url)), 'sarama-client', 'golang-github-shopify-sarama-dev');

const suite: ClientSuiteOptions = {
  client: 'sarama',
  title: 'Sarama (Go)',
  async detect() {
    return 'binary' in built ? { version: built.version } : built;
  },
  async driver(bootstrap) {
    if (!('binary' in built)) throw new Error(built.unavailable);
    return processDriver(bootstrap, { command: built.binary, args: [] });
  },
  explicitTimestamps: true,
  // OffsetOldest and the end offset are resolved with ListOffsets.
  consumeRequires: [ApiKey.ListOffsets],
  notApplicable: { zstd: 'Sarama 1.22 sends zstd in Produce v3; Kafka (and Samsa) accept zstd from v7 only (UNSUPPORTED_COMPRESSION_TYPE)' },
};

await defineClientSuite(suite, singleBroker());
await defineClientSuite(suite, threeNodeCluster());
