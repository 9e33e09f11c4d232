// Live throughput: bytes in and out per second, for all topics and per topic, from this node's
// metrics counters sampled every 2 s by the page (the last 5 minutes), drawn as SVG charts.
import { legend, lineChart } from './chart.js';
import { rate } from './format.js';
import { el, fill, table } from './dom.js';
import { onSample } from './sampler.js';

const TOP = 6;

export function render(root) {
  const box = el('div');
  root.append(el('section', {}, el('h2', {}, 'Throughput'), el('p', { class: 'muted' }, 'This node as partition leader: bytes appended (in) and returned by Fetch (out), per second, sampled every 2 s.'), box));
  const stop = onSample((history) => {
    if (history.length === 0) {
      fill(box, el('p', { id: 'throughput-wait', class: 'muted' }, 'sampling…'));
      return;
    }
    const latest = history[history.length - 1];
    const names = Object.keys(latest.topics).sort((a, b) => latest.topics[b].bytesIn + latest.topics[b].bytesOut - (latest.topics[a].bytesIn + latest.topics[a].bytesOut)).slice(0, TOP);
    const series = (field) => [
      { name: 'all topics', points: history.map((h) => [h.at, h.total[field]]) },
      ...names.map((n) => ({ name: n, points: history.map((h) => [h.at, h.topics[n]?.[field] ?? 0]) })),
    ];
    const inS = series('bytesIn');
    const outS = series('bytesOut');
    fill(box,
      el('h3', {}, 'Bytes in'), lineChart('throughput-in', inS, { format: rate }), legend(inS),
      el('h3', {}, 'Bytes out'), lineChart('throughput-out', outS, { format: rate }), legend(outS),
      table('throughput', ['topic', 'bytes in/s', 'bytes out/s', 'messages in/s'], Object.entries(latest.topics).sort((a, b) => a[0].localeCompare(b[0])).map(([n, r]) =>
        el('tr', { 'data-topic': n }, el('td', {}, n), el('td', { class: 'num' }, rate(r.bytesIn)), el('td', { class: 'num' }, rate(r.bytesOut)), el('td', { class: 'num' }, r.messagesIn.toFixed(1))))));
  });
  return stop;
}
