// The shape of a config definition (Kafka's ConfigDef.ConfigKey), parsing of string values into
// typed ones with Kafka's ConfigDef rules and messages, rendering back to Kafka's strings for
// DescribeConfigs, and closest-name suggestions for unknown keys.
// Representation: int/short/long/double are JS numbers. Java's Long.MAX_VALUE and anything past
// 2^53 are held as Number.MAX_SAFE_INTEGER (JAVA_LONG_MAX), as storage/ does, and rendered back
// as "9223372036854775807"; lists are string arrays; password and class values are strings.

export type ConfigTypeName = 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password';
export type Importance = 'high' | 'medium' | 'low';
/** How a broker config can change at run time (Kafka's DynamicBrokerConfig). */
export type DynamicUpdateMode = 'read-only' | 'per-broker' | 'cluster-wide';

export const JAVA_LONG_MAX = Number.MAX_SAFE_INTEGER;
export const JAVA_LONG_MIN = Number.MIN_SAFE_INTEGER;
export const JAVA_INT_MAX = 2147483647;
export const JAVA_INT_MIN = -2147483648;
export const JAVA_DOUBLE_MAX = Number.MAX_VALUE;

/** DescribeConfigs ConfigType (v3+). */
export const ConfigType = {
  UNKNOWN: 0, BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9,
} as const;

/** DescribeConfigs ConfigSource. */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
} as const;
export type ConfigSourceId = (typeof ConfigSource)[keyof typeof ConfigSource];

const TYPE_IDS: Record<ConfigTypeName, number> = {
  boolean: ConfigType.BOOLEAN, string: ConfigType.STRING, int: ConfigType.INT, short: ConfigType.SHORT,
  long: ConfigType.LONG, double: ConfigType.DOUBLE, list: ConfigType.LIST, class: ConfigType.CLASS,
  password: ConfigType.PASSWORD,
};
export const configTypeId = (t: ConfigTypeName): number => TYPE_IDS[t];

export type ConfigValue = boolean | number | string | readonly string[] | null;

/** A validator: `range` (inclusive, Kafka's Range), `in` (ValidString), `list-in` (ValidList), or a check. */
export type Validator =
  | { kind: 'range'; min?: number; max?: number }
  | { kind: 'in'; values: readonly string[]; caseInsensitive?: boolean }
  | { kind: 'list-in'; values: readonly string[] }
  | { kind: 'check'; check: (value: ConfigValue) => string | null; describe: string };

export interface ConfigDef {
  readonly name: string;
  readonly type: ConfigTypeName;
  /** Typed default; null where Kafka has a null default. */
  readonly default: ConfigValue;
  readonly validator?: Validator;
  readonly importance: Importance;
  readonly doc: string;
  readonly dynamic?: DynamicUpdateMode;
}

/** Kafka's ConfigException message shape. */
export function invalidValueMessage(name: string, value: unknown, reason?: string): string {
  return `Invalid value ${value} for configuration ${name}` + (reason ? `: ${reason}` : '');
}

export class ConfigValueError extends Error {
  readonly code = 'INVALID_CONFIG_VALUE';
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.name = 'ConfigValueError';
    this.key = key;
  }
}

const INT_RE = /^[+-]?\d+$/;
// Java's Double.parseDouble, less hex floats: optional sign, digits, fraction, exponent, d/f suffix.
const DOUBLE_RE = /^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)$/;

function parseInteger(def: ConfigDef, raw: string, s: string, min: bigint, max: bigint, typeName: string): number {
  if (!INT_RE.test(s)) throw new ConfigValueError(def.name, invalidValueMessage(def.name, raw, `Not a number of type ${typeName}`));
  const n = BigInt(s);
  if (n < min || n > max) throw new ConfigValueError(def.name, invalidValueMessage(def.name, raw, `Not a number of type ${typeName}`));
  if (n > BigInt(JAVA_LONG_MAX)) return JAVA_LONG_MAX;
  if (n < BigInt(JAVA_LONG_MIN)) return JAVA_LONG_MIN;
  return Number(n);
}

/** Parses a string as Kafka's ConfigDef.parseType does (values trimmed), then validates it. */
export function parseConfigValue(def: ConfigDef, raw: string | null): ConfigValue {
  const value = raw === null ? null : parseType(def, raw);
  validateConfigValue(def, value);
  return value;
}

function parseType(def: ConfigDef, raw: string): ConfigValue {
  const s = raw.trim();
  switch (def.type) {
    case 'boolean':
      if (s.toLowerCase() === 'true') return true;
      if (s.toLowerCase() === 'false') return false;
      throw new ConfigValueError(def.name, invalidValueMessage(def.name, raw, 'Expected value to be either true or false'));
    case 'int':
      return parseInteger(def, raw, s, -(2n ** 31n), 2n ** 31n - 1n, 'INT');
    case 'short':
      return parseInteger(def, raw, s, -(2n ** 15n), 2n ** 15n - 1n, 'SHORT');
    case 'long':
      return parseInteger(def, raw, s, -(2n ** 63n), 2n ** 63n - 1n, 'LONG');
    case 'double': {
      if (!DOUBLE_RE.test(s)) throw new ConfigValueError(def.name, invalidValueMessage(def.name, raw, 'Not a number of type DOUBLE'));
      return Number(s.replace(/[fFdD]$/, ''));
    }
    case 'list':
      return s === '' ? [] : s.split(/\s*,\s*/);
    case 'string':
    case 'password':
      // Kafka trims strings but not passwords.
      return def.type === 'string' ? s : raw;
    case 'class':
      return s;
  }
}

export function validateConfigValue(def: ConfigDef, value: ConfigValue): void {
  const v = def.validator;
  if (!v) return;
  const fail = (reason: string, shown: unknown = renderConfigValue(def.type, value)): never => {
    throw new ConfigValueError(def.name, invalidValueMessage(def.name, shown, reason));
  };
  switch (v.kind) {
    case 'range':
      if (value === null) return fail('Value must be non-null');
      if (v.min !== undefined && (value as number) < v.min) fail(`Value must be at least ${renderBound(v.min)}`);
      if (v.max !== undefined && (value as number) > v.max) fail(`Value must be no more than ${renderBound(v.max)}`);
      return;
    case 'in': {
      const s = value as string | null;
      const ok = s !== null && (v.caseInsensitive ? v.values.some((x) => x.toLowerCase() === s.toLowerCase()) : v.values.includes(s));
      if (!ok) fail(`String must be one of${v.caseInsensitive ? ' (case insensitive)' : ''}: ${v.values.join(', ')}`);
      return;
    }
    case 'list-in': {
      const list = (value ?? []) as readonly string[];
      for (const item of list) if (!v.values.includes(item)) fail(`String must be one of: ${v.values.join(', ')}`, item);
      return;
    }
    case 'check': {
      const problem = v.check(value);
      if (problem) fail(problem);
    }
  }
}

function renderBound(n: number): string {
  return n === JAVA_LONG_MAX ? '9223372036854775807' : String(n);
}

/** Java's Double.toString for finite doubles: `0.5`, `1.0`, `1.0E7`, `1.7976931348623157E308`. */
export function javaDoubleString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (!Number.isFinite(d)) return d > 0 ? 'Infinity' : '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const a = Math.abs(d);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(d);
    return s.includes('.') ? s : s + '.0';
  }
  const [mant, exp] = d.toExponential().split('e') as [string, string];
  return (mant.includes('.') ? mant : mant + '.0') + 'E' + String(Number(exp));
}

/** A typed value as Kafka's ConfigDef.convertToString renders it (what DescribeConfigs sends). */
export function renderConfigValue(type: ConfigTypeName, value: ConfigValue): string | null {
  if (value === null) return null;
  switch (type) {
    case 'list':
      return (value as readonly string[]).join(',');
    case 'double':
      return javaDoubleString(value as number);
    case 'long':
    case 'int':
    case 'short': {
      const n = value as number;
      if (n >= JAVA_LONG_MAX) return '9223372036854775807';
      if (n <= JAVA_LONG_MIN) return '-9223372036854775808';
      return String(n);
    }
    default:
      return String(value);
  }
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The known name closest to an unknown one, if it is close enough to be a plausible typo. */
export function closestName(unknown: string, knownNames: Iterable<string>): string | null {
  const known = [...knownNames];
  const u = unknown.toLowerCase();
  let best: string | null = null;
  let bestDist = Infinity;
  for (const k of known) {
    const d = editDistance(u, k.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  if (best === null) return null;
  // Typos and singular/plural slips, or the same words in another order or with a missing part.
  if (bestDist <= Math.max(2, Math.floor(u.length / 4))) return best;
  const parts = new Set(u.split('.'));
  for (const k of known) {
    const kp = k.split('.');
    if (kp.length === parts.size && kp.every((p) => parts.has(p))) return k;
  }
  return null;
}
