// kafka-go (Debian's 0.2.1, Go) against a broker process and a three-node cluster, through main.go
// beside this file, built in GOPATH mode: metadata and admin on a Conn, produce per partition on
// the leader's Conn with each acks level and gzip/snappy/lz4, read batches back, ReadOffset by
// time, and a Reader with a GroupID. This release writes magic 0/1 message sets, so the broker
// converts them, and carries no headers.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { defineClientSuite, type ClientSuiteOptions } from '../harness/client-suite.ts';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import { buildGoProgram } from '../harness/go-program.ts';
import { processDriver } from '../harness/process-driver.ts';

const built = await buildGoProgram(dirname(fileURLToPath(import.meta.url)), 'kafka-go-client', 'golang-github-segmentio-kafka-go-dev');

const suite: ClientSuiteOptions = {
  client: 'kafka-go',
  title: 'kafka-go (Go)',
  async detect() {
    return 'binary' in built ? { version: built.version } : built;
  },
  async driver(bootstrap) {
    if (!('binary' in built)) throw new Error(built.unavailable);
    return processDriver(bootstrap, { command: built.binary, args: [] });
  },
  headers: false,
  explicitTimestamps: true,
  consumeRequires: [ApiKey.ListOffsets],
  notApplicable: {
    'produce-acks-0': 'kafka-go 0.2.1 Conn.SetRequiredAcks accepts only -1 and 1',
    zstd: 'kafka-go 0.2.1 has gzip, snappy and lz4 codecs only',
    idempotent: 'kafka-go 0.2.1 has no idempotent producer',
  },
};

await defineClientSuite(suite, singleBroker());
await defineClientSuite(suite, threeNodeCluster());
