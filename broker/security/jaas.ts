// Kafka's `sasl.jaas.config` value: one JAAS login module entry,
//   <LoginModuleClass> <required|requisite|sufficient|optional> key=value key="quoted value" ... ;
// parsed as Kafka's JaasConfig does (a Java StreamTokenizer: quoted strings may hold any character,
// a backslash escapes the next one; unquoted words are letters, digits and `._-$/:@`). Errors
// carry Kafka's messages.

export class JaasConfigError extends Error {
  readonly code = 'INVALID_JAAS_CONFIG';
}

export interface JaasLoginModule {
  loginModule: string;
  flag: 'required' | 'requisite' | 'sufficient' | 'optional';
  options: ReadonlyMap<string, string>;
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);

type Token = { kind: 'word' | 'quoted'; text: string } | { kind: 'char'; text: string };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      // Java comments are allowed in JAAS text.
      if (text[i + 1] === '/') while (i < text.length && text[i] !== '\n') i++;
      else {
        const end = text.indexOf('*/', i + 2);
        i = end < 0 ? text.length : end + 2;
      }
    } else if (c === '"' || c === "'") {
      let s = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        s += text[i++];
      }
      if (i >= text.length) throw new JaasConfigError('Unterminated quoted string in JAAS config');
      i++;
      out.push({ kind: 'quoted', text: s });
    } else if (/[A-Za-z0-9_.\-$/:@]/.test(c)) {
      let s = '';
      while (i < text.length && /[A-Za-z0-9_.\-$/:@]/.test(text[i]!)) s += text[i++];
      out.push({ kind: 'word', text: s });
    } else {
      out.push({ kind: 'char', text: c });
      i++;
    }
  }
  return out;
}

/** Parses every entry of a JAAS text. */
export function parseJaasEntries(text: string): JaasLoginModule[] {
  const tokens = tokenize(text);
  const out: JaasLoginModule[] = [];
  let i = 0;
  while (i < tokens.length) {
    const module = tokens[i++]!;
    if (module.kind !== 'word') throw new JaasConfigError(`Unexpected ${module.text} in JAAS config: a login module class name was expected`);
    const flag = tokens[i++];
    if (!flag || flag.kind !== 'word' || !FLAGS.has(flag.text.toLowerCase())) throw new JaasConfigError('Login module control flag not specified in JAAS config');
    const options = new Map<string, string>();
    for (;;) {
      const t = tokens[i++];
      if (!t) throw new JaasConfigError('JAAS config entry not terminated by semi-colon');
      if (t.kind === 'char' && t.text === ';') break;
      if (t.kind === 'char') throw new JaasConfigError(`Unexpected ${t.text} in JAAS config`);
      const eq = tokens[i++];
      if (!eq || eq.kind !== 'char' || eq.text !== '=') throw new JaasConfigError(`Value not specified for key '${t.text}' in JAAS config`);
      const value = tokens[i++];
      if (!value || value.kind === 'char') throw new JaasConfigError(`Value not specified for key '${t.text}' in JAAS config`);
      options.set(t.text, value.text);
    }
    out.push({ loginModule: module.text, flag: flag.text.toLowerCase() as JaasLoginModule['flag'], options });
  }
  return out;
}

/** The one login module of a sasl.jaas.config value. */
export function parseJaasConfig(text: string): JaasLoginModule {
  const entries = parseJaasEntries(text);
  if (entries.length !== 1) throw new JaasConfigError(`JAAS config property contains ${entries.length} login modules, should be 1 module`);
  return entries[0]!;
}

/** PLAIN's user database: `user_<name>="<password>"` options of PlainLoginModule. */
export function plainUsers(module: JaasLoginModule): Map<string, string> {
  const users = new Map<string, string>();
  for (const [k, v] of module.options) if (k.startsWith('user_')) users.set(k.slice(5), v);
  return users;
}
