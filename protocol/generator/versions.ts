// Version ranges as Kafka's schemas spell them: "3", "0-5", "2+", "none".
// An empty range has min > max.

export interface Versions {
  min: number;
  max: number;
}

export const NO_VERSIONS: Versions = { min: 1, max: 0 };
const OPEN = 0x7fff;

export function parseVersions(spec: string | undefined, fallback: Versions = NO_VERSIONS): Versions {
  if (spec === undefined) return fallback;
  const s = spec.trim();
  if (s === 'none') return NO_VERSIONS;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return { min: Number(m[1]), max: OPEN };
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) return { min: Number(m[1]), max: Number(m[2]) };
  if (/^\d+$/.test(s)) return { min: Number(s), max: Number(s) };
  throw new Error(`bad version range ${JSON.stringify(spec)}`);
}

export function isEmpty(v: Versions): boolean {
  return v.min > v.max;
}

export function intersect(a: Versions, b: Versions): Versions {
  return { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
}

export function contains(outer: Versions, inner: Versions): boolean {
  return isEmpty(inner) || (outer.min <= inner.min && inner.max <= outer.max);
}

/**
 * The condition `v` must meet to be inside `want`, knowing it is already inside `within`;
 * null when always true, 'false' when never.
 */
export function versionCondition(want: Versions, within: Versions, v = 'v'): string | null {
  const w = intersect(want, within);
  if (isEmpty(w)) return 'false';
  const parts: string[] = [];
  if (w.min > within.min) parts.push(`${v} >= ${w.min}`);
  if (w.max < within.max) parts.push(`${v} <= ${w.max}`);
  return parts.length === 0 ? null : parts.join(' && ');
}
