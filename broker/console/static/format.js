// How values are shown: byte counts, times, and record keys, values and headers (sent as base64)
// as text, pretty-printed JSON (text where it is not JSON) or hex.
export function bytes(n) {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function rate(n) {
  return `${bytes(Math.round(n))}/s`;
}

export function time(ms) {
  if (ms === null || ms === undefined || ms < 0) return '-';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

function decode(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A base64 payload as `format` (text, json or hex); null shows as "null". */
export function payload(b64, format) {
  if (b64 === null) return 'null';
  const data = decode(b64);
  if (format === 'hex') return [...data].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
  if (format === 'json') {
    // What is not JSON shows as text.
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }
  return text;
}
