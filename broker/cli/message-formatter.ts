// Kafka's DefaultMessageFormatter, as the console consumer prints records. Fields, each switched
// by a print.* property, come in Kafka's order: timestamp ("CreateTime:ms", "LogAppendTime:ms" or
// "NO_TIMESTAMP"), "Partition:n", "Offset:n", headers ("k:v" joined by headers.separator, or
// "NO_HEADERS"), key, value. Fields are separated by key.separator and the line ends with
// line.separator; a null key, value or header value prints null.literal. Keys and values are
// decoded as UTF-8 (StringDeserializer). Property values are used as given, without unescaping.
import { CliError } from './command-io.ts';

export interface FormatterConfig {
  printTimestamp: boolean;
  printPartition: boolean;
  printOffset: boolean;
  printHeaders: boolean;
  printKey: boolean;
  printValue: boolean;
  keySeparator: string;
  lineSeparator: string;
  headersSeparator: string;
  nullLiteral: string;
}

export interface FormattableRecord {
  /** 'CreateTime', 'LogAppendTime', or null when the record has no timestamp (magic 0). */
  timestampType: 'CreateTime' | 'LogAppendTime' | null;
  timestamp: bigint;
  partition: number;
  offset: bigint;
  headers: ReadonlyArray<{ key: string; value: Buffer | null }>;
  key: Buffer | null;
  value: Buffer | null;
}

function flag(props: ReadonlyMap<string, string>, name: string, fallback: boolean): boolean {
  const v = props.get(name);
  return v === undefined ? fallback : v.trim().toLowerCase() === 'true';
}

/** Reads the formatter's properties; others are ignored, as Kafka's formatter ignores them. */
export function formatterConfig(props: ReadonlyMap<string, string>): FormatterConfig {
  for (const name of ['key.deserializer', 'value.deserializer', 'headers.deserializer']) {
    const v = props.get(name);
    if (v !== undefined && !/StringDeserializer$/.test(v)) throw new CliError(`Only org.apache.kafka.common.serialization.StringDeserializer is available for ${name}`);
  }
  return {
    printTimestamp: flag(props, 'print.timestamp', false),
    printPartition: flag(props, 'print.partition', false),
    printOffset: flag(props, 'print.offset', false),
    printHeaders: flag(props, 'print.headers', false),
    printKey: flag(props, 'print.key', false),
    printValue: flag(props, 'print.value', true),
    keySeparator: props.get('key.separator') ?? '\t',
    lineSeparator: props.get('line.separator') ?? '\n',
    headersSeparator: props.get('headers.separator') ?? ',',
    nullLiteral: props.get('null.literal') ?? 'null',
  };
}

export function formatRecord(c: FormatterConfig, r: FormattableRecord): string {
  const parts: string[] = [];
  if (c.printTimestamp) parts.push(r.timestampType === null || r.timestamp < 0n ? 'NO_TIMESTAMP' : `${r.timestampType}:${r.timestamp}`);
  if (c.printPartition) parts.push(`Partition:${r.partition}`);
  if (c.printOffset) parts.push(`Offset:${r.offset}`);
  if (c.printHeaders) {
    parts.push(
      r.headers.length === 0
        ? 'NO_HEADERS'
        : r.headers.map((h) => `${h.key}:${h.value === null ? c.nullLiteral : h.value.toString('utf8')}`).join(c.headersSeparator),
    );
  }
  if (c.printKey) parts.push(r.key === null ? c.nullLiteral : r.key.toString('utf8'));
  if (c.printValue) parts.push(r.value === null ? c.nullLiteral : r.value.toString('utf8'));
  return parts.join(c.keySeparator) + c.lineSeparator;
}
