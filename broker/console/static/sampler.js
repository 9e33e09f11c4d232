// Samples this node's per-topic traffic counters every few seconds for as long as the page is
// open, keeping the last few minutes of rates (bytes in and out per second) for the charts.
import { getJson } from './dom.js';

export const SAMPLE_MS = 2000;
const KEEP_MS = 5 * 60 * 1000;
const history = []; // { at, total: {bytesIn, bytesOut, messagesIn}, topics: { name: {...} } } as rates
let last = null;
const listeners = new Set();

async function sample() {
  let now;
  try {
    now = await getJson('/api/throughput');
  } catch {
    return;
  }
  if (!now.enabled) return;
  if (last) {
    const dt = (now.at - last.at) / 1000;
    if (dt > 0) {
      const r = (a, b) => ({ bytesIn: Math.max(0, (a.bytesIn - (b?.bytesIn ?? 0)) / dt), bytesOut: Math.max(0, (a.bytesOut - (b?.bytesOut ?? 0)) / dt), messagesIn: Math.max(0, (a.messagesIn - (b?.messagesIn ?? 0)) / dt) });
      const topics = {};
      for (const [name, c] of Object.entries(now.topics)) topics[name] = r(c, last.topics[name]);
      history.push({ at: now.at, total: r(now.total, last.total), topics });
      while (history.length && history[0].at < now.at - KEEP_MS) history.shift();
    }
  }
  last = now;
  for (const l of listeners) l(history);
}

let timer = null;
export function startSampler() {
  if (timer) return;
  sample();
  timer = setInterval(sample, SAMPLE_MS);
}

/** Calls `f(history)` after every sample; returns the function that stops it. */
export function onSample(f) {
  listeners.add(f);
  f(history);
  return () => listeners.delete(f);
}
