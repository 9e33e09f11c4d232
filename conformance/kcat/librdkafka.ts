// What librdkafka-based clients (kcat, confluent-kafka-python) infer from ApiVersions, where it
// changes what a check can observe.
import { ApiKey } from '../../protocol/generated/api-table.ts';

/** librdkafka infers lz4 support from FindCoordinator v0 and otherwise sends lz4 batches uncompressed. */
export const LZ4_NEEDS = { apis: [ApiKey.FindCoordinator], why: 'librdkafka sends lz4 batches uncompressed unless FindCoordinator is advertised' };
