// Message browser: one partition's records from an offset, or from a time (the first record at
// or after it, found with ListOffsets by timestamp), N at a time; keys, values and headers shown
// as text, pretty JSON or hex. Below, a form produces a test record (key, value, headers as
// key=value lines) after a confirmation.
import { confirmAction } from './dialogs.js';
import { payload, time } from './format.js';
import { el, fill, getJson, postJson, q, showError, showNotice, table } from './dom.js';
import { parseConfigLines } from './page-topics.js';

export async function render(root, _arg, params) {
  const topics = await getJson('/api/topics');
  const topic = el('select', { id: 'browse-topic' }, topics.map((t) => el('option', { value: t.name }, t.name)));
  if (params.get('topic')) topic.value = params.get('topic');
  const partition = el('input', { id: 'browse-partition', type: 'number', min: 0, value: params.get('partition') ?? '0' });
  const mode = el('select', { id: 'browse-mode' }, el('option', { value: 'offset' }, 'from offset'), el('option', { value: 'timestamp' }, 'from time'));
  const offset = el('input', { id: 'browse-offset', type: 'number', min: 0, value: '0' });
  const when = el('input', { id: 'browse-time', type: 'datetime-local', step: 1, hidden: true });
  const limit = el('input', { id: 'browse-limit', type: 'number', min: 1, max: 500, value: '50' });
  const format = el('select', { id: 'browse-format' }, ['text', 'json', 'hex'].map((f) => el('option', { value: f }, f)));
  const summary = el('p', { id: 'browse-summary', class: 'muted' });
  const results = el('div', { id: 'records-box' });
  mode.addEventListener('change', () => {
    offset.hidden = mode.value !== 'offset';
    when.hidden = mode.value !== 'timestamp';
  });
  let last = null;
  const draw = () => {
    if (!last) return;
    const f = format.value;
    fill(results, table('records', ['offset', 'timestamp', 'key', 'value', 'headers'], last.records.map((r) =>
      el('tr', { 'data-offset': r.offset },
        el('td', { class: 'num' }, r.offset),
        el('td', {}, time(r.timestamp)),
        el('td', {}, el('pre', { class: 'key' }, payload(r.key, f))),
        el('td', {}, el('pre', { class: 'value' }, payload(r.value, f))),
        el('td', {}, r.headers.map((h) => el('div', { class: 'header' }, `${h.key}: ${payload(h.value, f)}`)))))));
  };
  format.addEventListener('change', draw);
  const browse = async (ev) => {
    ev?.preventDefault();
    try {
      const p = { topic: topic.value, partition: partition.value, limit: limit.value };
      if (mode.value === 'offset') p.offset = offset.value;
      else {
        if (!when.value) throw new Error('choose a time to browse from');
        // datetime-local is the browser's local time.
        p.timestamp = String(new Date(when.value).getTime());
      }
      last = await getJson(`/api/messages?${q(p)}`);
      showError('');
      summary.textContent = `${last.records.length} records of ${last.topic}-${last.partition} from offset ${last.start} (log from ${last.earliest} to ${last.latest})`;
      draw();
    } catch (e) {
      showError(e.message);
    }
  };
  const form = el('form', { id: 'browse-form', class: 'inline-form', onsubmit: browse },
    el('label', {}, 'topic ', topic), el('label', {}, 'partition ', partition), el('label', {}, mode), offset, when,
    el('label', {}, 'records ', limit), el('label', {}, 'show as ', format), el('button', { id: 'browse-go', type: 'submit' }, 'Browse'));

  const key = el('input', { id: 'produce-key' });
  const value = el('textarea', { id: 'produce-value', rows: 3 });
  const headers = el('textarea', { id: 'produce-headers', rows: 2, placeholder: 'name=value' });
  const produce = el('form', { id: 'produce-form', class: 'inline-form', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const h = Object.entries(parseConfigLines(headers.value)).map(([k, v]) => ({ key: k, value: v }));
      const body = { topic: topic.value, partition: Number(partition.value), key: key.value === '' ? null : key.value, value: value.value, headers: h };
      if (!(await confirmAction('Produce a record', `Produce one record to ${body.topic}-${body.partition}?`, `key: ${body.key}\nvalue: ${body.value}`))) return;
      const r = await postJson('/api/messages/produce', body);
      showError('');
      showNotice(`produced at offset ${r.offset} of ${body.topic}-${body.partition}`);
    } catch (e) {
      showError(e.message);
    }
  } }, el('h3', {}, 'Produce a test record'), el('label', {}, 'key ', key), el('label', {}, 'value ', value), el('label', {}, 'headers ', headers), el('button', { id: 'produce-go', type: 'submit' }, 'Produce…'));

  root.append(el('section', {}, el('h2', {}, 'Messages'), form, summary, results), el('section', {}, produce));
  if (params.get('topic') && topics.length) await browse();
}
