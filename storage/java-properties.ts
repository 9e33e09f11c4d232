// Java .properties files as java.util.Properties reads and writes them, so that server.properties
// and meta.properties written by Kafka's tools and by ours are interchangeable.
// Reading follows Properties.load: natural lines end at \n, \r or \r\n; leading whitespace
// (space, \t, \f) is skipped; a line whose first non-blank character is # or ! is a comment; a line
// ending in an odd number of backslashes continues on the next line, whose leading whitespace is
// dropped; the key ends at the first unescaped '=', ':' or whitespace, and one '=' or ':' plus the
// whitespace around it separates key from value; trailing whitespace of a value is kept; escapes
// are \t \n \r \f \uXXXX, and a backslash before any other character stands for that character.
// Later duplicates win, as in Java. Writing follows Properties.store(Writer, comments): keys
// sorted (JDK 18+), separators, leading spaces and control characters escaped, UTF-8 kept as is.

export class PropertiesSyntaxError extends Error {
  readonly code = 'PROPERTIES_SYNTAX';
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = 'PropertiesSyntaxError';
    this.line = line;
  }
}

export interface PropertyEntry {
  key: string;
  value: string;
  /** 1-based number of the natural line where the logical line starts. */
  line: number;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f';

/** Every key=value of a properties text in file order, duplicates included. */
export function parsePropertyEntries(text: string): PropertyEntry[] {
  const lines = text.split(/\r\n|\r|\n/);
  const out: PropertyEntry[] = [];
  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    let first = stripLeading(lines[i++]!);
    if (first === '' || first[0] === '#' || first[0] === '!') continue;
    let logical = '';
    for (;;) {
      if (!endsWithOddBackslashes(first)) {
        logical += first;
        break;
      }
      logical += first.slice(0, -1);
      // A continuation at end of input simply ends the logical line.
      if (i >= lines.length) break;
      first = stripLeading(lines[i++]!);
    }
    out.push({ ...splitKeyValue(logical, startLine), line: startLine });
  }
  return out;
}

/** The properties of a text as a plain record (later duplicates win), with no prototype keys. */
export function parseProperties(text: string): Record<string, string> {
  const props: Record<string, string> = Object.create(null);
  for (const e of parsePropertyEntries(text)) props[e.key] = e.value;
  return props;
}

function stripLeading(s: string): string {
  let j = 0;
  while (j < s.length && isBlank(s[j]!)) j++;
  return s.slice(j);
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let j = s.length - 1; j >= 0 && s[j] === '\\'; j--) n++;
  return n % 2 === 1;
}

function splitKeyValue(s: string, line: number): { key: string; value: string } {
  let keyEnd = s.length;
  let valueStart = s.length;
  let sawSeparator = false;
  for (let j = 0; j < s.length; j++) {
    const c = s[j]!;
    if (c === '\\') {
      j++; // the escaped character belongs to the key
      continue;
    }
    if (c === '=' || c === ':') {
      keyEnd = j;
      valueStart = j + 1;
      sawSeparator = true;
      break;
    }
    if (isBlank(c)) {
      keyEnd = j;
      valueStart = j + 1;
      break;
    }
  }
  let v = valueStart;
  while (v < s.length && isBlank(s[v]!)) v++;
  if (!sawSeparator && v < s.length && (s[v] === '=' || s[v] === ':')) {
    v++;
    while (v < s.length && isBlank(s[v]!)) v++;
  }
  return { key: unescape(s.slice(0, keyEnd), line), value: unescape(s.slice(v), line) };
}

function unescape(s: string, line: number): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let j = 0; j < s.length; j++) {
    const c = s[j]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    j++;
    if (j >= s.length) break; // a lone trailing backslash stands for nothing
    const e = s[j]!;
    if (e === 'u') {
      const hex = s.slice(j + 1, j + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PropertiesSyntaxError('Malformed \\uxxxx encoding.', line);
      out += String.fromCharCode(parseInt(hex, 16));
      j += 4;
    } else if (e === 't') out += '\t';
    else if (e === 'n') out += '\n';
    else if (e === 'r') out += '\r';
    else if (e === 'f') out += '\f';
    else out += e;
  }
  return out;
}

function escape(s: string, isKey: boolean): string {
  let out = '';
  for (let j = 0; j < s.length; j++) {
    const c = s[j]!;
    switch (c) {
      case '\\': out += '\\\\'; break;
      case ' ': out += j === 0 || isKey ? '\\ ' : ' '; break;
      case '\t': out += '\\t'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\f': out += '\\f'; break;
      case '=': case ':': case '#': case '!': out += '\\' + c; break;
      default: {
        const code = c.charCodeAt(0);
        // Other control characters would not survive a round trip through a text editor.
        out += code < 0x20 || code === 0x7f ? '\\u' + code.toString(16).toUpperCase().padStart(4, '0') : c;
      }
    }
  }
  return out;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** java.util.Date.toString() in UTC: `Tue Mar 05 09:04:00 UTC 2024`. */
export function javaDateString(d: Date): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}

/**
 * Properties text as Properties.store(writer, comments) writes it: the comments (one `#` line per
 * line of comments; Kafka passes "" and so gets a lone `#`), a `#` line with the date, then the
 * entries sorted by key.
 */
export function formatProperties(
  props: Readonly<Record<string, string>>,
  opts: { comments?: string | null; date?: Date } = {},
): string {
  let out = '';
  const comments = opts.comments === undefined ? '' : opts.comments;
  if (comments !== null) for (const l of comments.split(/\r\n|\r|\n/)) out += '#' + l + '\n';
  out += '#' + javaDateString(opts.date ?? new Date()) + '\n';
  for (const key of Object.keys(props).sort()) out += `${escape(key, true)}=${escape(props[key]!, false)}\n`;
  return out;
}
