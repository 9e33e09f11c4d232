// A broker's configs (DescribeConfigs of the broker resource) with where each value comes from.
import { el, fill, getJson, q, showError, table } from './dom.js';

export async function render(root, _arg, params) {
  const c = await getJson('/api/cluster');
  const id = el('select', { id: 'configs-broker' }, c.brokers.map((b) => el('option', { value: b.id }, `broker ${b.id}`)));
  id.value = params.get('id') ?? String(c.nodeId);
  const filter = el('input', { id: 'configs-filter', placeholder: 'filter' });
  const box = el('div');
  let rows = [];
  const draw = () => {
    const f = filter.value.trim();
    fill(box, table('broker-configs', ['name', 'value', 'source', 'read-only'], rows.filter((r) => r.name.includes(f)).map((r) =>
      el('tr', { 'data-config': r.name }, el('td', {}, r.name), el('td', {}, r.sensitive ? '(sensitive)' : r.value ?? 'null'), el('td', { class: r.source === 'DEFAULT_CONFIG' ? 'muted' : 'ok' }, r.source), el('td', {}, r.readOnly ? 'yes' : 'no')))));
  };
  const load = async () => {
    try {
      rows = await getJson(`/api/broker-configs?${q({ id: id.value })}`);
      showError('');
      draw();
    } catch (e) {
      showError(e.message);
    }
  };
  id.addEventListener('change', load);
  filter.addEventListener('input', draw);
  root.append(el('section', {}, el('h2', {}, 'Broker configs'), el('div', { class: 'inline-form' }, id, filter), box));
  await load();
}
