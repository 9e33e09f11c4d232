// One topic: its partitions (leader, replicas, ISR, size on this node, earliest and latest
// offsets where this node leads) and configs with their sources; add partitions, set or reset a
// config, or delete the topic, each after a confirmation.
import { confirmAction } from './dialogs.js';
import { bytes } from './format.js';
import { el, fill, getJson, postJson, q, showError, showNotice, table } from './dom.js';

export async function render(root, name) {
  const head = el('div');
  const parts = el('section');
  const cfgs = el('section');
  const actions = el('section');
  root.append(head, parts, actions, cfgs);

  const refresh = async () => {
    const t = await getJson(`/api/topic?${q({ name })}`);
    fill(head, el('h2', { id: 'topic-name' }, `Topic ${t.name}`), el('p', { class: 'muted' }, `id ${t.id}${t.internal ? ' · internal' : ''} · offsets are shown for the partitions node ${t.nodeId} leads`),
      el('a', { href: `#/messages?${q({ topic: t.name })}`, id: 'browse-link' }, 'Browse messages'));
    fill(parts, el('h3', {}, 'Partitions'), table('partitions', ['partition', 'leader', 'replicas', 'ISR', 'size', 'earliest', 'latest', 'records'], t.partitions.map((p) =>
      el('tr', { 'data-partition': p.partition },
        el('td', {}, p.partition),
        el('td', { class: p.leader < 0 ? 'bad' : '' }, p.leader < 0 ? 'none' : p.leader),
        el('td', {}, p.replicas.join(', ')),
        el('td', { class: p.isr.length < p.replicas.length ? 'warn' : '' }, p.isr.join(', ')),
        el('td', { class: 'num' }, bytes(p.size)),
        el('td', { class: 'num' }, p.earliest ?? '-'),
        el('td', { class: 'num' }, p.latest ?? '-'),
        el('td', { class: 'num' }, p.latest === null ? '-' : p.latest - p.earliest)))));
    fill(cfgs, el('h3', {}, 'Configs'), table('configs', ['name', 'value', 'source', ''], t.configs.map((c) =>
      el('tr', { 'data-config': c.name },
        el('td', {}, c.name),
        el('td', {}, c.sensitive ? '(sensitive)' : c.value ?? 'null'),
        el('td', { class: c.source === 'DYNAMIC_TOPIC_CONFIG' ? 'ok' : 'muted' }, c.source),
        el('td', {}, c.source === 'DYNAMIC_TOPIC_CONFIG' ? el('button', { type: 'button', class: 'small', onclick: () => change({ [c.name]: null }, `Reset ${c.name} of ${name} to its default?`) }, 'reset') : null)))));
    return t;
  };

  const change = async (changes, text) => {
    try {
      if (!(await confirmAction('Alter configs', text))) return;
      await postJson('/api/topics/configs', { name, changes });
      showError('');
      showNotice(`altered configs of ${name}`);
      await refresh();
    } catch (e) {
      showError(e.message);
    }
  };

  const cfgName = el('input', { id: 'config-name', placeholder: 'retention.ms', required: true });
  const cfgValue = el('input', { id: 'config-value', required: true });
  const count = el('input', { id: 'add-partitions-count', type: 'number', min: 1 });
  fill(actions, el('h3', {}, 'Change'),
    el('form', { class: 'inline-form', id: 'config-form', onsubmit: (ev) => {
      ev.preventDefault();
      change({ [cfgName.value.trim()]: cfgValue.value }, `Set ${cfgName.value.trim()}=${cfgValue.value} on topic ${name}?`);
    } }, el('label', {}, 'config ', cfgName), el('label', {}, 'value ', cfgValue), el('button', { id: 'config-set', type: 'submit' }, 'Set…')),
    el('form', { class: 'inline-form', id: 'partitions-form', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        if (!(await confirmAction('Add partitions', `Grow topic ${name} to ${count.value} partitions? Keyed records may then go to other partitions.`))) return;
        await postJson('/api/topics/partitions', { name, count: Number(count.value) });
        showError('');
        showNotice(`${name} now has ${count.value} partitions`);
        await refresh();
      } catch (e) {
        showError(e.message);
      }
    } }, el('label', {}, 'partitions ', count), el('button', { id: 'add-partitions', type: 'submit' }, 'Add partitions…')),
    el('button', { id: 'delete-topic', type: 'button', class: 'danger', onclick: async () => {
      try {
        if (!(await confirmAction('Delete topic', `Delete topic ${name} and all its records? This cannot be undone.`))) return;
        await postJson('/api/topics/delete', { name });
        showNotice(`deleted topic ${name}`);
        location.hash = '#/topics';
      } catch (e) {
        showError(e.message);
      }
    } }, 'Delete topic…'));
  const t = await refresh();
  count.value = String(t.partitions.length + 1);
}
