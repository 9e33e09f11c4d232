// Cluster overview: the metadata quorum (leader, epoch, each voter's and observer's lag behind
// the high watermark, from the leader's DescribeQuorum), every node (brokers from the metadata
// image, fenced or not, and controllers), each with its own HTTP endpoint and figures when
// found, and the finalized feature levels. Refreshed every 5 s.
import { bytes } from './format.js';
import { el, fill, getJson, showError, table } from './dom.js';

const REFRESH_MS = 5000;

function ago(ts) {
  if (ts < 0) return '-';
  const s = Math.max(0, (Date.now() - ts) / 1000);
  return s < 1 ? 'now' : `${s.toFixed(0)} s ago`;
}

function quorumView(q) {
  const row = (r, role) =>
    el('tr', { 'data-replica': r.id },
      el('td', {}, r.id),
      el('td', {}, r.id === q.leaderId ? 'leader' : role),
      el('td', { class: 'num' }, r.logEndOffset),
      el('td', { class: 'num' }, r.logEndOffset < 0 ? '-' : Math.max(0, q.highWatermark - r.logEndOffset)),
      el('td', {}, r.id === q.leaderId ? '-' : ago(r.lastCaughtUpTimestamp)));
  return [
    el('p', { id: 'quorum-summary' }, `leader ${q.leaderId}, epoch ${q.epoch}, high watermark ${q.highWatermark}`),
    table('voters', ['replica', 'role', 'log end offset', 'lag', 'last caught up'], [...q.voters.map((r) => row(r, 'voter')), ...q.observers.map((r) => row(r, 'observer'))]),
  ];
}

function nodesView(n) {
  return table('nodes', ['id', 'roles', 'endpoints', 'rack', 'state', 'version', 'replicas', 'leaders', 'memory', 'console'], n.nodes.map((x) => {
    const state = x.fenced === null ? el('span', { class: 'muted' }, 'controller') : x.fenced ? el('span', { class: 'bad' }, 'fenced') : x.inControlledShutdown ? el('span', { class: 'warn' }, 'shutting down') : el('span', { class: 'ok' }, 'unfenced');
    const s = x.self;
    return el('tr', { 'data-node': x.id },
      el('td', {}, x.id, x.id === n.nodeId ? el('span', { class: 'muted' }, ' (this node)') : null),
      el('td', {}, x.roles.join(', ')),
      el('td', {}, x.endpoints.join(', ')),
      el('td', {}, x.rack ?? '-'),
      el('td', {}, state, s && !s.ready ? el('div', { class: 'warn' }, `not ready: ${s.reason}`) : null),
      el('td', {}, s?.version ?? '-'),
      el('td', { class: 'num' }, s?.replicas ?? '-'),
      el('td', { class: 'num' }, s?.leaders ?? '-'),
      el('td', { class: 'num' }, s ? bytes(s.rssBytes) : '-'),
      el('td', {}, x.http ? [el('a', { href: `${x.http}/` }, 'console'), ' · ', el('a', { href: `${x.http}/metrics` }, 'metrics'), ' · ', el('a', { href: `${x.http}/health/ready` }, 'ready')] : el('span', { class: 'muted' }, 'not found')));
  }));
}

export async function render(root) {
  const quorum = el('section', {}, el('h2', {}, 'Metadata quorum'));
  const nodes = el('section', {}, el('h2', {}, 'Nodes'));
  const features = el('section', {}, el('h2', {}, 'Features'));
  root.append(quorum, nodes, features);
  const refresh = async () => {
    const [c, q, n] = await Promise.all([getJson('/api/cluster'), getJson('/api/quorum').catch((e) => ({ error: e.message })), getJson('/api/nodes')]);
    fill(quorum, el('h2', {}, 'Metadata quorum'), q.error ? el('p', { class: 'error' }, q.error) : quorumView(q));
    fill(nodes, el('h2', {}, 'Nodes'), nodesView(n));
    fill(features, el('h2', {}, 'Features'),
      table('features', ['feature', 'finalized level'], Object.entries(c.features).map(([k, v]) => el('tr', { 'data-feature': k }, el('td', {}, k), el('td', { class: 'num' }, v)))),
      el('p', { class: 'muted' }, `metadata offset ${c.metadataOffset} · ${c.topics.length} topics`));
  };
  await refresh();
  const t = setInterval(() => refresh().catch((e) => showError(e.message)), REFRESH_MS);
  return () => clearInterval(t);
}
