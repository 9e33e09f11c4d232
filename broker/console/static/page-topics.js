// Topics: each with partitions, replication factor, under-replicated and offline partitions and
// the size stored on this node; internal topics on request. Creating a topic (name, partitions,
// replication factor, configs as key=value lines) goes through a confirmation, then CreateTopics.
import { confirmAction } from './dialogs.js';
import { bytes } from './format.js';
import { el, fill, getJson, postJson, showError, showNotice, table } from './dom.js';

const REFRESH_MS = 5000;

export function parseConfigLines(text) {
  const out = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`"${line}" is not key=value`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

export async function render(root) {
  const internal = el('input', { type: 'checkbox', id: 'show-internal' });
  const list = el('div');
  const form = el('form', { id: 'create-topic-form', class: 'inline-form' },
    el('h3', {}, 'Create a topic'),
    el('label', {}, 'name ', el('input', { id: 'new-topic-name', required: true })),
    el('label', {}, 'partitions ', el('input', { id: 'new-topic-partitions', type: 'number', min: 1, value: '1' })),
    el('label', {}, 'replication factor ', el('input', { id: 'new-topic-rf', type: 'number', min: -1, value: '-1', title: '-1: default.replication.factor' })),
    el('label', {}, 'configs (key=value lines) ', el('textarea', { id: 'new-topic-configs', rows: 2 })),
    el('button', { id: 'create-topic', type: 'submit' }, 'Create…'));
  root.append(el('section', {}, el('h2', {}, 'Topics'), el('label', {}, internal, ' internal topics'), list), el('section', {}, form));

  let rows = [];
  const draw = () => {
    fill(list, table('topics', ['topic', 'partitions', 'replication factor', 'under-replicated', 'offline', 'size on this node'], rows.filter((t) => internal.checked || !t.internal).map((t) =>
      el('tr', { 'data-topic': t.name },
        el('td', {}, el('a', { href: `#/topic/${encodeURIComponent(t.name)}` }, t.name)),
        el('td', { class: 'num' }, t.partitions),
        el('td', { class: 'num' }, t.replicationFactor),
        el('td', { class: `num ${t.underReplicated ? 'warn' : ''}` }, t.underReplicated),
        el('td', { class: `num ${t.offline ? 'bad' : ''}` }, t.offline),
        el('td', { class: 'num' }, bytes(t.size))))));
  };
  const refresh = async () => {
    rows = await getJson('/api/topics');
    draw();
  };
  internal.addEventListener('change', draw);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const body = {
        name: document.getElementById('new-topic-name').value.trim(),
        partitions: Number(document.getElementById('new-topic-partitions').value),
        replicationFactor: Number(document.getElementById('new-topic-rf').value),
        configs: parseConfigLines(document.getElementById('new-topic-configs').value),
      };
      const detail = Object.entries(body.configs).map(([k, v]) => `${k}=${v}`).join('\n');
      if (!(await confirmAction('Create topic', `Create topic "${body.name}" with ${body.partitions} partitions, replication factor ${body.replicationFactor < 0 ? 'default' : body.replicationFactor}?`, detail))) return;
      await postJson('/api/topics/create', body);
      showError('');
      showNotice(`created topic ${body.name}`);
      form.reset();
      await refresh();
    } catch (e) {
      showError(e.message);
    }
  });
  await refresh();
  const t = setInterval(() => refresh().catch((e) => showError(e.message)), REFRESH_MS);
  return () => clearInterval(t);
}
