// A small line chart drawn as inline SVG: series of [time ms, value] points over a shared time
// axis, with the largest value and the time span as labels. No library.
const NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];

function svg(tag, attrs) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** series: [{ name, points: [[t, v], ...] }]; format: value label. Returns an <svg>. */
export function lineChart(id, series, { width = 640, height = 180, format = String } = {}) {
  const root = svg('svg', { id, viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img' });
  const pad = { l: 70, r: 10, t: 10, b: 20 };
  const all = series.flatMap((s) => s.points);
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]));
  const vmax = Math.max(1, ...all.map((p) => p[1]));
  const x = (t) => pad.l + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r) : 0);
  const y = (v) => height - pad.b - (v / vmax) * (height - pad.t - pad.b);
  root.append(svg('line', { x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, class: 'axis' }));
  root.append(svg('line', { x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b, class: 'axis' }));
  const label = (text, lx, ly, anchor = 'end') => {
    const t = svg('text', { x: lx, y: ly, 'text-anchor': anchor, class: 'label' });
    t.textContent = text;
    root.append(t);
  };
  label(format(vmax), pad.l - 4, pad.t + 10);
  label(format(0), pad.l - 4, height - pad.b);
  if (all.length > 0) label(`${Math.round((t1 - t0) / 1000)} s`, width - pad.r, height - 4);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    root.append(svg('path', { d, fill: 'none', stroke: COLORS[i % COLORS.length], 'stroke-width': 2, 'data-series': s.name }));
  });
  return root;
}

export function legend(series) {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  series.forEach((s, i) => {
    const li = document.createElement('li');
    li.style.setProperty('--c', COLORS[i % COLORS.length]);
    li.textContent = s.name;
    ul.append(li);
  });
  return ul;
}
