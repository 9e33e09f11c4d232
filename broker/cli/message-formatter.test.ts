import { describe, expect, it } from 'vitest';
import { formatRecord, formatterConfig } from './message-formatter.ts';
import type { FormattableRecord } from './message-formatter.ts';
import { lineReaderConfig, parseLine } from './line-reader.ts';

const record: FormattableRecord = {
  timestampType: 'CreateTime',
  timestamp: 1700000000000n,
  partition: 2,
  offset: 42n,
  headers: [
    { key: 'h1', value: Buffer.from('v1') },
    { key: 'h2', value: null },
  ],
  key: Buffer.from('k'),
  value: Buffer.from('hello'),
};

const props = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));

describe('DefaultMessageFormatter', () => {
  it('prints only the value by default', () => {
    expect(formatRecord(formatterConfig(props({})), record)).toBe('hello\n');
  });

  it('orders fields as Kafka: timestamp, partition, offset, headers, key, value', () => {
    const c = formatterConfig(
      props({ 'print.timestamp': 'true', 'print.partition': 'true', 'print.offset': 'true', 'print.headers': 'true', 'print.key': 'true' }),
    );
    expect(formatRecord(c, record)).toBe('CreateTime:1700000000000\tPartition:2\tOffset:42\th1:v1,h2:null\tk\thello\n');
  });

  it('uses the separators and null literal it is given', () => {
    const c = formatterConfig(props({ 'print.key': 'true', 'key.separator': ' => ', 'null.literal': 'NULL', 'print.headers': 'true', 'headers.separator': ';' }));
    expect(formatRecord(c, { ...record, key: null, value: null })).toBe('h1:v1;h2:NULL => NULL => NULL\n');
  });

  it('prints NO_HEADERS, NO_TIMESTAMP and LogAppendTime as Kafka does', () => {
    const c = formatterConfig(props({ 'print.timestamp': 'true', 'print.headers': 'true', 'print.value': 'false' }));
    expect(formatRecord(c, { ...record, headers: [] })).toBe('CreateTime:1700000000000\tNO_HEADERS\n');
    expect(formatRecord(c, { ...record, timestampType: null, timestamp: -1n, headers: [] })).toBe('NO_TIMESTAMP\tNO_HEADERS\n');
    expect(formatRecord(c, { ...record, timestampType: 'LogAppendTime', headers: [] })).toBe('LogAppendTime:1700000000000\tNO_HEADERS\n');
  });

  it('uses separators as given and ignores properties it does not know, as Kafka', () => {
    const c = formatterConfig(props({ 'print.key': 'true', 'key.separator': '\\t', 'print.kye': 'true' }));
    expect(formatRecord(c, record)).toBe('k\\thello\n');
  });
});

describe('LineMessageReader', () => {
  it('keeps the whole line as the value by default', () => {
    const p = parseLine(lineReaderConfig(props({})), 'a:b\tc', 1);
    expect(p.key).toBeNull();
    expect(p.value?.toString()).toBe('a:b\tc');
    expect(p.headers).toEqual([]);
  });

  it('splits key and value at the first key.separator', () => {
    const p = parseLine(lineReaderConfig(props({ 'parse.key': 'true', 'key.separator': ':' })), 'user:1:x', 1);
    expect(p.key?.toString()).toBe('user');
    expect(p.value?.toString()).toBe('1:x');
  });

  it('parses headers before the headers delimiter, then the key', () => {
    const c = lineReaderConfig(props({ 'parse.headers': 'true', 'headers.delimiter': '|', 'parse.key': 'true', 'key.separator': ':' }));
    const p = parseLine(c, 'h1:v1,h3:|k:v', 1);
    expect(p.headers.map((h) => [h.key, h.value?.toString() ?? null])).toEqual([
      ['h1', 'v1'],
      ['h3', ''],
    ]);
    expect(p.key?.toString()).toBe('k');
    expect(p.value?.toString()).toBe('v');
    expect(() => parseLine(c, 'h1:v1,h2|k:v', 4)).toThrow("No header key separator found in pair 'h2' on line number 4");
    const lenient = lineReaderConfig(props({ 'parse.headers': 'true', 'headers.delimiter': '|', 'ignore.error': 'true' }));
    expect(parseLine(lenient, 'h2|v', 1).headers).toEqual([{ key: 'h2', value: null }]);
  });

  it('refuses separators Kafka refuses', () => {
    expect(() => lineReaderConfig(props({ 'headers.delimiter': ',' }))).toThrow('headers.delimiter and headers.separator may not be equal');
    expect(() => lineReaderConfig(props({ 'null.marker': '-' }))).not.toThrow();
    expect(() => lineReaderConfig(props({ 'null.marker': '-', 'key.separator': '-' }))).toThrow('null.marker and key.separator may not be equal');
  });

  it('reports a missing separator with the line number unless ignore.error', () => {
    const c = lineReaderConfig(props({ 'parse.key': 'true', 'key.separator': ':' }));
    expect(() => parseLine(c, 'novalue', 3)).toThrow("No key separator found on line number 3: 'novalue'");
    const lenient = lineReaderConfig(props({ 'parse.key': 'true', 'key.separator': ':', 'ignore.error': 'true' }));
    const p = parseLine(lenient, 'novalue', 3);
    expect(p.key).toBeNull();
    expect(p.value?.toString()).toBe('novalue');
  });

  it('maps null.marker to null keys and values', () => {
    const c = lineReaderConfig(props({ 'parse.key': 'true', 'key.separator': ':', 'null.marker': '<null>' }));
    const p = parseLine(c, '<null>:<null>', 1);
    expect(p.key).toBeNull();
    expect(p.value).toBeNull();
  });
});
