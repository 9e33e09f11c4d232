// Kafka producer properties (as given to --producer-props / --producer-property) mapped onto the
// settings of RecordProducer. Properties that only matter to the Java client (serializers,
// client.id, idempotence, ...) are accepted and have no effect here; a wrong value is a CliError.
import { CliError } from './command-io.ts';
import { compressionByName, parseAcks } from './record-producer.ts';
import type { ProducerSettings } from './record-producer.ts';

const NUMERIC: Record<string, keyof ProducerSettings> = {
  'batch.size': 'batchSize',
  'linger.ms': 'lingerMs',
  'max.in.flight.requests.per.connection': 'maxInFlight',
  'request.timeout.ms': 'requestTimeoutMs',
  'delivery.timeout.ms': 'deliveryTimeoutMs',
  'buffer.memory': 'bufferMemory',
  'max.request.size': 'maxRequestSize',
  'max.block.ms': 'maxBlockMs',
  'retry.backoff.ms': 'retryBackoffMs',
};

export function producerSettingsFromProps(props: ReadonlyMap<string, string>): Partial<ProducerSettings> {
  const out: Partial<ProducerSettings> = {};
  for (const [key, value] of props) {
    try {
      if (key === 'acks') out.acks = parseAcks(value);
      else if (key === 'enable.idempotence') {
        const v = value.trim().toLowerCase();
        if (v !== 'true' && v !== 'false') throw new TypeError(`Invalid value ${value} for configuration enable.idempotence: Expected value to be either true or false`);
        out.enableIdempotence = v === 'true';
      }
      else if (key === 'compression.type') out.compression = compressionByName(value);
      else if (key in NUMERIC) {
        const n = Number(value.trim());
        if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new TypeError(`Invalid value ${value} for configuration ${key}: Not a number of type INT`);
        (out as Record<string, number>)[NUMERIC[key]!] = n;
      }
    } catch (e) {
      if (e instanceof TypeError) throw new CliError(e.message);
      throw e;
    }
  }
  if (out.maxInFlight === 0) throw new CliError('Invalid value 0 for configuration max.in.flight.requests.per.connection: Value must be at least 1');
  return out;
}
