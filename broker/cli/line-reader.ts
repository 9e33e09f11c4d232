// Kafka's LineMessageReader, as the console producer turns input lines into records. With
// parse.headers, the text before headers.delimiter is "k:v,k2:v2" (headers.separator,
// headers.key.separator; a header without key separator has a null value); with parse.key, the
// text before key.separator is the key; the rest is the value. A field equal to null.marker is
// null. A line missing a delimiter is an error unless ignore.error, which keeps the line whole.
import { CliError } from './command-io.ts';

export interface LineReaderConfig {
  parseKey: boolean;
  keySeparator: string;
  parseHeaders: boolean;
  headersDelimiter: string;
  headersSeparator: string;
  headersKeySeparator: string;
  ignoreError: boolean;
  nullMarker: string | null;
}

export interface ParsedLine {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
}

const KNOWN_PROPERTIES = new Set([
  'parse.key',
  'key.separator',
  'parse.headers',
  'headers.delimiter',
  'headers.separator',
  'headers.key.separator',
  'ignore.error',
  'null.marker',
]);

function unescape(s: string): string {
  return s.replace(/\\([tnr\\])/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[c]!);
}

export function lineReaderConfig(props: ReadonlyMap<string, string>): LineReaderConfig {
  for (const name of props.keys()) {
    if (!KNOWN_PROPERTIES.has(name)) throw new CliError(`Unknown line reader property '${name}'`);
  }
  const c: LineReaderConfig = {
    parseKey: props.get('parse.key')?.trim().toLowerCase() === 'true',
    keySeparator: unescape(props.get('key.separator') ?? '\t'),
    parseHeaders: props.get('parse.headers')?.trim().toLowerCase() === 'true',
    headersDelimiter: unescape(props.get('headers.delimiter') ?? '\t'),
    headersSeparator: unescape(props.get('headers.separator') ?? ','),
    headersKeySeparator: unescape(props.get('headers.key.separator') ?? ':'),
    ignoreError: props.get('ignore.error')?.trim().toLowerCase() === 'true',
    nullMarker: props.get('null.marker') ?? null,
  };
  for (const [name, v] of [['key.separator', c.keySeparator], ['headers.delimiter', c.headersDelimiter], ['headers.separator', c.headersSeparator], ['headers.key.separator', c.headersKeySeparator]] as const) {
    if (v === '') throw new CliError(`${name} must not be empty`);
  }
  // Kafka refuses separators that would make headers ambiguous.
  if (c.parseHeaders && c.headersSeparator === c.headersKeySeparator) {
    throw new CliError('headers.separator and headers.key.separator must differ');
  }
  if (c.nullMarker !== null && c.nullMarker === '') throw new CliError('null.marker must not be empty');
  return c;
}

function bytesOrNull(c: LineReaderConfig, text: string): Buffer | null {
  return c.nullMarker !== null && text === c.nullMarker ? null : Buffer.from(text, 'utf8');
}

/** Parses one input line (without its line terminator); lineNumber is 1-based, for errors. */
export function parseLine(c: LineReaderConfig, line: string, lineNumber: number): ParsedLine {
  let rest = line;
  const headers: ParsedLine['headers'] = [];
  if (c.parseHeaders) {
    const at = rest.indexOf(c.headersDelimiter);
    if (at < 0) {
      if (!c.ignoreError) throw new CliError(`No headers delimiter found on line number ${lineNumber}: '${line}'`);
    } else {
      const text = rest.slice(0, at);
      rest = rest.slice(at + c.headersDelimiter.length);
      if (text !== '') {
        for (const h of text.split(c.headersSeparator)) {
          const k = h.indexOf(c.headersKeySeparator);
          const hk = k < 0 ? h : h.slice(0, k);
          if (c.nullMarker !== null && hk === c.nullMarker) {
            throw new CliError(`Header keys should not be equal to the null marker '${c.nullMarker}' as they can't be null`);
          }
          headers.push({ key: hk, value: k < 0 ? null : bytesOrNull(c, h.slice(k + c.headersKeySeparator.length)) });
        }
      }
    }
  }
  let key: Buffer | null = null;
  if (c.parseKey) {
    const at = rest.indexOf(c.keySeparator);
    if (at < 0) {
      if (!c.ignoreError) throw new CliError(`No key separator found on line number ${lineNumber}: '${line}'`);
    } else {
      key = bytesOrNull(c, rest.slice(0, at));
      rest = rest.slice(at + c.keySeparator.length);
    }
  }
  return { key, value: bytesOrNull(c, rest), headers };
}
