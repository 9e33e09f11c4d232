// ssl.principal.mapping.rules, as Kafka's SslPrincipalMapper reads and applies them: a comma- or
// newline-separated list of `RULE:pattern/replacement/[LU]` and `DEFAULT`. The first rule whose
// pattern matches the whole distinguished name gives the short name (Java replaceAll semantics:
// `$n` names a group, a backslash escapes); DEFAULT gives the name unchanged. No matching rule
// fails authentication.

export class NoMatchingRuleError extends Error {
  readonly code = 'NO_MATCHING_RULE';
}

export class InvalidMappingRuleError extends Error {
  readonly code = 'INVALID_MAPPING_RULE';
}

interface Rule {
  text: string;
  pattern: RegExp | null;
  replacement: string;
  toLowerCase: boolean;
  toUpperCase: boolean;
}

// Each rule: DEFAULT, or RULE:pattern/replacement/ with an optional L or U, where a backslash
// may escape a slash inside pattern and replacement.
const RULE_SPLITTER = /\s*(DEFAULT|RULE:((?:\\.|[^\\/])*)\/((?:\\.|[^\\/])*)\/([LU]?).*?|(.*?))\s*(?:[,\n]\s*|$)/gy;

export function parseMappingRules(rules: string): Rule[] {
  const out: Rule[] = [];
  const text = rules.trim();
  if (text === '') return [{ text: 'DEFAULT', pattern: null, replacement: '', toLowerCase: false, toUpperCase: false }];
  RULE_SPLITTER.lastIndex = 0;
  while (RULE_SPLITTER.lastIndex < text.length) {
    const before = RULE_SPLITTER.lastIndex;
    const m = RULE_SPLITTER.exec(text);
    if (!m || RULE_SPLITTER.lastIndex === before) throw new InvalidMappingRuleError(`Invalid rule: ${text.slice(before)}`);
    if (m[5] !== undefined) throw new InvalidMappingRuleError(`Invalid rule: ${m[5]}`);
    if (m[1] === 'DEFAULT') {
      out.push({ text: 'DEFAULT', pattern: null, replacement: '', toLowerCase: false, toUpperCase: false });
      continue;
    }
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${m[2]!})$`);
    } catch (err) {
      throw new InvalidMappingRuleError(`Invalid rule: ${m[1]}: ${(err as Error).message}`);
    }
    out.push({ text: m[1]!, pattern, replacement: m[3]!, toLowerCase: m[4] === 'L', toUpperCase: m[4] === 'U' });
  }
  return out;
}

/** Java Matcher.replaceAll's replacement syntax: `$n` a group, `\x` a literal x. */
function expand(replacement: string, groups: readonly (string | undefined)[]): string {
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c === '\\' && i + 1 < replacement.length) {
      out += replacement[++i];
    } else if (c === '$' && /[0-9]/.test(replacement[i + 1] ?? '')) {
      // Kafka escapes references past the pattern's group count, so they stay literal.
      const n = Number(replacement[i + 1]);
      if (n < groups.length) {
        out += groups[n] ?? '';
        i++;
      } else out += c;
    } else out += c;
  }
  return out;
}

export class SslPrincipalMapper {
  private readonly rules: Rule[];
  constructor(rules: string) {
    this.rules = parseMappingRules(rules);
  }

  /** The short name of `dn`; throws NoMatchingRuleError when no rule applies. */
  getName(dn: string): string {
    for (const r of this.rules) {
      if (r.pattern === null) return dn;
      const m = r.pattern.exec(dn);
      if (!m) continue;
      // A whole-string match: replaceAll replaces that one match.
      let result = expand(r.replacement, [...m]);
      if (r.toLowerCase) result = result.toLowerCase();
      else if (r.toUpperCase) result = result.toUpperCase();
      return result;
    }
    throw new NoMatchingRuleError(`No rules apply to ${dn}, rules [${this.rules.map((r) => r.text).join(', ')}]`);
  }
}
