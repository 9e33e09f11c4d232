// Consumer groups with their state, protocol type and type; each links to its detail.
import { el, getJson, table } from './dom.js';

export async function render(root) {
  const groups = await getJson('/api/groups');
  root.append(el('section', {}, el('h2', {}, 'Consumer groups'),
    groups.length === 0 ? el('p', { class: 'muted' }, 'no groups') : null,
    table('groups', ['group', 'state', 'protocol type', 'type'], groups.map((g) =>
      el('tr', { 'data-group': g.groupId },
        el('td', {}, el('a', { href: `#/group/${encodeURIComponent(g.groupId)}` }, g.groupId)),
        el('td', { class: g.state === 'Stable' ? 'ok' : g.state === 'Dead' ? 'bad' : '' }, g.state),
        el('td', {}, g.protocolType || '-'),
        el('td', {}, g.type))))));
}
