// Kafka's LineMessageReader, as the console producer turns input lines into records. With
// parse.headers, the text before headers.delimiter holds headers split by headers.separator (a
// regular expression, as Kafka's), each "key<headers.key.separator>value"; with parse.key, the
// text before key.separator is the key; the rest is the value. A key, value or header value equal
// to null.marker is null, and headers equal to it mean none. A missing delimiter or header key
// separator is an error naming the line, unless ignore.error (then the field is absent, or the
// header's value is null). Property values are used as given, without unescaping, as Kafka does.
import { CliError } from './command-io.ts';

export interface LineReaderConfig {
  parseKey: boolean;
  keySeparator: string;
  parseHeaders: boolean;
  headersDelimiter: string;
  headersSeparator: RegExp;
  headersKeySeparator: string;
  ignoreError: boolean;
  nullMarker: string | null;
}

export interface ParsedLine {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
}

function flag(props: ReadonlyMap<string, string>, name: string): boolean {
  return props.get(name)?.trim().toLowerCase() === 'true';
}

/** Reads the reader's properties; others are ignored, as Kafka's reader ignores them. */
export function lineReaderConfig(props: ReadonlyMap<string, string>): LineReaderConfig {
  const keySeparator = props.get('key.separator') ?? '\t';
  const headersDelimiter = props.get('headers.delimiter') ?? '\t';
  const headersSeparator = props.get('headers.separator') ?? ',';
  const headersKeySeparator = props.get('headers.key.separator') ?? ':';
  const nullMarker = props.get('null.marker') ?? null;
  const mustDiffer = (a: string | null, b: string, names: string): void => {
    if (a === b) throw new CliError(`${names} may not be equal`);
  };
  mustDiffer(headersDelimiter, headersSeparator, 'headers.delimiter and headers.separator');
  mustDiffer(headersDelimiter, headersKeySeparator, 'headers.delimiter and headers.key.separator');
  mustDiffer(headersSeparator, headersKeySeparator, 'headers.separator and headers.key.separator');
  mustDiffer(nullMarker, keySeparator, 'null.marker and key.separator');
  mustDiffer(nullMarker, headersSeparator, 'null.marker and headers.separator');
  mustDiffer(nullMarker, headersDelimiter, 'null.marker and headers.delimiter');
  mustDiffer(nullMarker, headersKeySeparator, 'null.marker and headers.key.separator');
  let separator: RegExp;
  try {
    separator = new RegExp(headersSeparator);
  } catch {
    throw new CliError(`Invalid headers.separator '${headersSeparator}': not a regular expression`);
  }
  return {
    parseKey: flag(props, 'parse.key'),
    keySeparator,
    parseHeaders: flag(props, 'parse.headers'),
    headersDelimiter,
    headersSeparator: separator,
    headersKeySeparator,
    ignoreError: flag(props, 'ignore.error'),
    nullMarker,
  };
}

/** The text from `start` to the demarcation, or null when disabled or (with ignore.error) absent. */
function field(c: LineReaderConfig, enabled: boolean, line: string, start: number, demarcation: string, name: string, lineNumber: number): string | null {
  if (!enabled) return null;
  const at = line.indexOf(demarcation, start);
  if (at < 0) {
    if (c.ignoreError) return null;
    throw new CliError(`No ${name} found on line number ${lineNumber}: '${line}'`);
  }
  return line.slice(start, at);
}

/** Java's String.split: trailing empty strings are dropped. */
function javaSplit(text: string, re: RegExp): string[] {
  const parts = text.split(re);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Parses one input line (without its line terminator); lineNumber is 1-based, for errors. */
export function parseLine(c: LineReaderConfig, line: string, lineNumber: number): ParsedLine {
  const headersText = field(c, c.parseHeaders, line, 0, c.headersDelimiter, 'headers delimiter', lineNumber);
  const headerOffset = headersText === null ? 0 : headersText.length + c.headersDelimiter.length;
  const keyText = field(c, c.parseKey, line, headerOffset, c.keySeparator, 'key separator', lineNumber);
  const keyOffset = keyText === null ? 0 : keyText.length + c.keySeparator.length;
  const valueText = line.slice(headerOffset + keyOffset);
  const bytes = (text: string | null): Buffer | null => (text === null || text === c.nullMarker ? null : Buffer.from(text, 'utf8'));
  const headers: ParsedLine['headers'] = [];
  if (headersText !== null && headersText !== c.nullMarker) {
    for (const pair of javaSplit(headersText, c.headersSeparator)) {
      const at = pair.indexOf(c.headersKeySeparator);
      if (at < 0) {
        if (!c.ignoreError) throw new CliError(`No header key separator found in pair '${pair}' on line number ${lineNumber}`);
        headers.push({ key: pair, value: null });
        continue;
      }
      const key = pair.slice(0, at);
      if (key === c.nullMarker) throw new CliError(`Header keys should not be equal to the null marker '${c.nullMarker}' as they can't be null`);
      headers.push({ key, value: bytes(pair.slice(at + c.headersKeySeparator.length)) });
    }
  }
  return { key: bytes(keyText), value: bytes(valueText), headers };
}
