// One consumer group: state, members and their assignments, and per partition the committed
// offset, log end offset and lag, refreshed every 2 s with the total lag charted over the last
// minutes (sampled by this page, kept while the console is open). Offsets can be reset to the
// earliest, the latest, a time or an offset: a preview (dry run) first, then, confirmed, the
// reset itself, which the broker allows only while the group has no members.
import { lineChart } from './chart.js';
import { confirmAction } from './dialogs.js';
import { el, fill, getJson, postJson, q, showError, showNotice, table } from './dom.js';

const REFRESH_MS = 2000;
const KEEP_MS = 5 * 60 * 1000;
const lagHistory = new Map();

export async function render(root, id) {
  const head = el('div');
  const chart = el('section', {}, el('h3', {}, 'Lag over time'));
  const members = el('section');
  const offsets = el('section');
  const reset = el('section');
  root.append(head, chart, offsets, members, reset);
  const history = lagHistory.get(id) ?? [];
  lagHistory.set(id, history);

  const refresh = async () => {
    const g = await getJson(`/api/group?${q({ id })}`);
    history.push([g.sampledAt, g.totalLag]);
    while (history.length && history[0][0] < g.sampledAt - KEEP_MS) history.shift();
    fill(head, el('h2', {}, `Consumer group ${g.groupId}`),
      el('p', {}, 'state ', el('strong', { id: 'group-state' }, g.state), ` · protocol ${g.protocolType || '-'} ${g.protocol || ''} · total lag `, el('strong', { id: 'group-lag' }, g.totalLag)));
    fill(chart, el('h3', {}, 'Lag over time'), lineChart('lag-chart', [{ name: 'total lag', points: history }], { format: (v) => String(Math.round(v)) }));
    fill(offsets, el('h3', {}, 'Offsets'), table('offsets', ['topic', 'partition', 'committed', 'log end', 'lag', 'member'], g.offsets.map((o) =>
      el('tr', { 'data-tp': `${o.topic}-${o.partition}` },
        el('td', {}, o.topic), el('td', { class: 'num' }, o.partition), el('td', { class: 'num' }, o.committed ?? '-'),
        el('td', { class: 'num' }, o.end ?? '-'), el('td', { class: `num ${o.lag ? 'warn' : ''}` }, o.lag ?? '-'), el('td', {}, o.member ?? '-')))));
    fill(members, el('h3', {}, 'Members'), table('members', ['member', 'instance', 'client', 'host', 'assignment'], g.members.map((m) =>
      el('tr', {}, el('td', {}, m.memberId), el('td', {}, m.groupInstanceId ?? '-'), el('td', {}, m.clientId), el('td', {}, m.host),
        el('td', {}, Object.entries(m.assignment).map(([t, ps]) => `${t}: ${ps.join(', ')}`).join('; ') || '-')))));
    return g;
  };

  const topic = el('input', { id: 'reset-topic', placeholder: 'all committed topics' });
  const to = el('select', { id: 'reset-to' }, ['earliest', 'latest', 'timestamp', 'offset'].map((x) => el('option', { value: x }, x)));
  const offset = el('input', { id: 'reset-offset', type: 'number', min: 0, hidden: true });
  const when = el('input', { id: 'reset-time', type: 'datetime-local', step: 1, hidden: true });
  to.addEventListener('change', () => {
    offset.hidden = to.value !== 'offset';
    when.hidden = to.value !== 'timestamp';
  });
  const plan = el('div', { id: 'reset-plan' });
  const body = (dryRun) => {
    const b = { groupId: id, topic: topic.value.trim() || null, to: to.value, dryRun };
    if (to.value === 'offset') b.offset = Number(offset.value);
    if (to.value === 'timestamp') b.timestamp = new Date(when.value).getTime();
    return b;
  };
  const planTable = (rows) => table('reset-rows', ['topic', 'partition', 'current', 'new'], rows.map((r) =>
    el('tr', { 'data-tp': `${r.topic}-${r.partition}` }, el('td', {}, r.topic), el('td', { class: 'num' }, r.partition), el('td', { class: 'num' }, r.current ?? '-'), el('td', { class: 'num' }, r.next))));
  const preview = async () => {
    try {
      const r = await postJson('/api/groups/reset', body(true));
      showError('');
      fill(plan, el('p', {}, 'Preview (nothing changed yet):'), planTable(r.plan));
      return r.plan;
    } catch (e) {
      showError(e.message);
      return null;
    }
  };
  const apply = async () => {
    const rows = await preview();
    if (!rows) return;
    const text = rows.map((r) => `${r.topic}-${r.partition}: ${r.current ?? '-'} -> ${r.next}`).join('\n');
    if (!(await confirmAction('Reset offsets', `Reset the committed offsets of group ${id}?`, text))) return;
    try {
      const r = await postJson('/api/groups/reset', body(false));
      fill(plan, el('p', { class: 'ok' }, 'Applied:'), planTable(r.plan));
      showNotice(`reset offsets of ${id}`);
      await refresh();
    } catch (e) {
      showError(e.message);
    }
  };
  fill(reset, el('h3', {}, 'Reset offsets'), el('p', { class: 'muted' }, 'Only while the group is empty (no active members), as kafka-consumer-groups requires.'),
    el('div', { class: 'inline-form' }, el('label', {}, 'topic ', topic), el('label', {}, 'to ', to), offset, when,
      el('button', { id: 'reset-preview', type: 'button', onclick: preview }, 'Preview'), el('button', { id: 'reset-apply', type: 'button', class: 'danger', onclick: apply }, 'Reset…')), plan);

  await refresh();
  const t = setInterval(() => refresh().catch((e) => showError(e.message)), REFRESH_MS);
  return () => clearInterval(t);
}
