// The console's first page: the metadata quorum, brokers and topics, from /api/quorum and
// /api/cluster, refreshed every 5 s. Plain DOM, no framework, nothing loaded from elsewhere.
const REFRESH_MS = 5000;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows);
}

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store' });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ?? `${path}: HTTP ${r.status}`);
  return body;
}

function ago(ts) {
  if (ts < 0) return '-';
  const s = Math.max(0, (Date.now() - ts) / 1000);
  return s < 1 ? 'now' : `${s.toFixed(0)} s ago`;
}

function renderQuorum(q) {
  document.getElementById('quorum-summary').textContent = `leader ${q.leaderId}, epoch ${q.epoch}, high watermark ${q.highWatermark}`;
  const row = (r, role) =>
    el('tr', { 'data-replica': r.id },
      el('td', {}, r.id),
      el('td', {}, r.id === q.leaderId ? 'leader' : role),
      el('td', { class: 'num' }, r.logEndOffset),
      el('td', { class: 'num' }, r.logEndOffset < 0 ? '-' : Math.max(0, q.highWatermark - r.logEndOffset)),
      el('td', {}, r.id === q.leaderId ? '-' : ago(r.lastCaughtUpTimestamp)));
  fill('voters', [...q.voters.map((r) => row(r, 'voter')), ...q.observers.map((r) => row(r, 'observer'))]);
}

function renderCluster(c, showInternal) {
  document.getElementById('cluster').textContent = `cluster ${c.clusterId} · served by node ${c.nodeId} · metadata offset ${c.metadataOffset}`;
  const leaders = new Map();
  for (const t of c.topics) for (const p of t.partitions) leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
  fill('brokers', c.brokers.map((b) => {
    const state = b.fenced ? el('span', { class: 'bad' }, 'fenced') : b.inControlledShutdown ? el('span', { class: 'warn' }, 'shutting down') : el('span', { class: 'ok' }, 'unfenced');
    return el('tr', { 'data-broker': b.id }, el('td', {}, b.id), el('td', {}, b.endpoints.join(', ')), el('td', {}, b.rack ?? '-'), el('td', {}, state), el('td', { class: 'num' }, leaders.get(b.id) ?? 0));
  }));
  const rows = [];
  for (const t of c.topics) {
    if (t.internal && !showInternal) continue;
    const under = t.partitions.filter((p) => p.isr.length < p.replicas.length).length;
    const offline = t.partitions.filter((p) => p.leader < 0).length;
    const details = el('details', {}, el('summary', {}, t.name));
    const parts = el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'partition'), el('th', {}, 'leader'), el('th', {}, 'replicas'), el('th', {}, 'ISR'))));
    const tbody = el('tbody');
    for (const p of t.partitions) {
      tbody.append(el('tr', { class: 'partition' }, el('td', {}, p.partition), el('td', { class: p.leader < 0 ? 'bad' : '' }, p.leader < 0 ? 'none' : p.leader), el('td', {}, p.replicas.join(', ')), el('td', { class: p.isr.length < p.replicas.length ? 'warn' : '' }, p.isr.join(', '))));
    }
    parts.append(tbody);
    details.append(parts);
    rows.push(el('tr', { 'data-topic': t.name }, el('td', {}, details), el('td', { class: 'num' }, t.partitions.length), el('td', { class: `num ${under ? 'warn' : ''}` }, under), el('td', { class: `num ${offline ? 'bad' : ''}` }, offline)));
  }
  fill('topics', rows);
}

let lastCluster = null;

async function refresh() {
  const error = document.getElementById('error');
  try {
    const [cluster, quorum] = await Promise.all([getJson('/api/cluster'), getJson('/api/quorum').catch((e) => ({ error: e.message }))]);
    lastCluster = cluster;
    renderCluster(cluster, document.getElementById('show-internal').checked);
    if ('error' in quorum) {
      error.textContent = quorum.error;
      error.hidden = false;
    } else {
      renderQuorum(quorum);
      error.hidden = true;
    }
    document.getElementById('refreshed').textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = 'true';
  } catch (e) {
    error.textContent = `cannot reach the node: ${e.message}`;
    error.hidden = false;
  }
}

document.getElementById('show-internal').addEventListener('change', (e) => {
  if (lastCluster) renderCluster(lastCluster, e.target.checked);
});
refresh();
setInterval(refresh, REFRESH_MS);
