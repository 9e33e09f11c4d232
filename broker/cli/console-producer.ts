// `samsa console-producer`: Kafka's kafka-console-producer.sh. Reads lines from stdin until EOF,
// turns each into a record with the LineMessageReader rules (--property parse.key=true, ...),
// partitions it as the Java producer does (murmur2 of the key, sticky for null keys), batches
// (batch.size, linger.ms from --timeout) and exits once every record is acknowledged. A record
// that fails prints Kafka's ErrorLoggingCallback line and makes the exit code 1.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Command } from 'commander';
import { CliError, clientFor, collect, parseInteger, parseKeyValues, processIo, runAction } from './command-io.ts';
import type { CommandIo } from './command-io.ts';
import { lineReaderConfig, parseLine } from './line-reader.ts';
import type { LineReaderConfig } from './line-reader.ts';
import { RecordProducer, compressionByName, parseAcks } from './record-producer.ts';
import type { ProducerSettings } from './record-producer.ts';
import { producerSettingsFromProps } from './producer-props.ts';

export interface ConsoleProducerOptions {
  bootstrapServer: string;
  topic: string;
  reader: LineReaderConfig;
  producer: Partial<ProducerSettings>;
  sync: boolean;
}

interface RawConsoleProducerOptions {
  bootstrapServer?: string;
  topic?: string;
  property?: string[];
  producerProperty?: string[];
  compressionCodec?: string | true;
  requestRequiredAcks?: string;
  batchSize?: string;
  timeout?: string;
  requestTimeoutMs?: string;
  maxBlockMs?: string;
  retryBackoffMs?: string;
  sync?: boolean;
}

export function defineConsoleProducerOptions(cmd: Command): Command {
  return cmd
    .description('Read lines from standard input and produce them to a topic (kafka-console-producer).')
    .option('--bootstrap-server <server>', 'REQUIRED: the Kafka server(s) to connect to, host:port[,host:port]')
    .option('--topic <topic>', 'REQUIRED: the topic to produce messages to.')
    .option('--property <prop>', 'Line reader properties: parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, ignore.error, null.marker (repeatable).', collect)
    .option('--reader-property <prop>', 'Same as --property.', collect)
    .option('--producer-property <prop>', 'A producer property, e.g. linger.ms=5 (repeatable).', collect)
    .option('--compression-codec [codec]', "none, gzip, snappy, lz4 or zstd; 'gzip' when given without a value.")
    .option('--request-required-acks <acks>', 'The acks of produce requests: 0, 1, -1 or all.', '-1')
    .option('--batch-size <n>', 'batch.size in bytes.', '16384')
    .option('--timeout <ms>', 'linger.ms: how long a record may wait for its batch to fill.', '1000')
    .option('--request-timeout-ms <ms>', 'request.timeout.ms.', '1500')
    .option('--max-block-ms <ms>', 'max.block.ms: how long to wait for the topic\'s metadata.', '60000')
    .option('--retry-backoff-ms <ms>', 'retry.backoff.ms.', '100')
    .option('--sync', 'Send each record on its own and wait for its acknowledgement.');
}

export function toConsoleProducerOptions(raw: RawConsoleProducerOptions & { readerProperty?: string[] }): ConsoleProducerOptions {
  if (raw.bootstrapServer === undefined) throw new CliError('Missing required argument "[bootstrap-server]"');
  if (raw.topic === undefined) throw new CliError('Missing required argument "[topic]"');
  const reader = lineReaderConfig(parseKeyValues([...(raw.property ?? []), ...(raw.readerProperty ?? [])], '--property'));
  const producer = producerSettingsFromProps(parseKeyValues(raw.producerProperty ?? [], '--producer-property'));
  try {
    if (raw.compressionCodec !== undefined) producer.compression = compressionByName(raw.compressionCodec === true ? 'gzip' : raw.compressionCodec);
    producer.acks = parseAcks(raw.requestRequiredAcks ?? '-1');
  } catch (e) {
    if (e instanceof TypeError) throw new CliError(e.message);
    throw e;
  }
  producer.batchSize = parseInteger('--batch-size', raw.batchSize, 1) ?? producer.batchSize;
  producer.lingerMs = parseInteger('--timeout', raw.timeout, 0) ?? producer.lingerMs;
  producer.requestTimeoutMs = parseInteger('--request-timeout-ms', raw.requestTimeoutMs, 1) ?? producer.requestTimeoutMs;
  producer.maxBlockMs = parseInteger('--max-block-ms', raw.maxBlockMs, 0) ?? producer.maxBlockMs;
  producer.retryBackoffMs = parseInteger('--retry-backoff-ms', raw.retryBackoffMs, 0) ?? producer.retryBackoffMs;
  return { bootstrapServer: raw.bootstrapServer, topic: raw.topic, reader, producer, sync: raw.sync === true };
}

export async function runConsoleProducer(o: ConsoleProducerOptions, io: CommandIo, input: Readable): Promise<void> {
  const client = clientFor(o.bootstrapServer, 'console-producer', { requestTimeoutMs: o.producer.requestTimeoutMs });
  let producer: RecordProducer;
  try {
    producer = new RecordProducer(client, o.producer);
  } catch (e) {
    await client.close();
    if (e instanceof TypeError) throw new CliError(e.message);
    throw e;
  }
  let failed = false;
  try {
    await producer.prepare(o.topic);
    const prompt = (input as { isTTY?: boolean }).isTTY === true;
    const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
    let lineNumber = 0;
    if (prompt) io.out('>');
    for await (const line of lines) {
      lineNumber++;
      const record = parseLine(o.reader, line, lineNumber);
      const done = new Promise<void>((resolve) => {
        producer.send({ topic: o.topic, key: record.key, value: record.value, headers: record.headers }, (err) => {
          if (err) {
            failed = true;
            io.err(
              `ERROR Error when sending message to topic ${o.topic} with key: ${record.key === null ? 'null' : `${record.key.length} bytes`}, value: ${record.value === null ? 'null' : `${record.value.length} bytes`} with error: ${err.message} (org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)\n`,
            );
          }
          resolve();
        });
      });
      if (o.sync) await done;
      if (!producer.hasCapacity) await producer.waitForCapacity();
      if (prompt) io.out('>');
    }
    await producer.close();
  } finally {
    await producer.flush().catch(() => undefined);
    await client.close();
  }
  if (failed) io.fail(1);
}

export function consoleProducerCommand(io: CommandIo = processIo, input: Readable = process.stdin): Command {
  return defineConsoleProducerOptions(new Command('console-producer')).action(async (raw: RawConsoleProducerOptions) => {
    await runAction(io, 'ERROR ', async () => runConsoleProducer(toConsoleProducerOptions(raw), io, input));
  });
}
