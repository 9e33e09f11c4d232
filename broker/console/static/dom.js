// DOM and HTTP helpers shared by the console's pages: element building, the JSON API (a 401
// opens the login dialog and retries once logged in), and the error and notice lines.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function table(id, headings, rows) {
  return el('table', { id }, el('thead', {}, el('tr', {}, headings.map((h) => el('th', {}, h)))), el('tbody', {}, rows));
}

export function fill(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

let loginHook = async () => false;
/** The app sets how a 401 is answered (the login dialog); it resolves true once logged in. */
export function onUnauthorized(hook) {
  loginHook = hook;
}

export class ApiError extends Error {
  constructor(message, status, kafkaError) {
    super(message);
    this.status = status;
    this.kafkaError = kafkaError ?? null;
  }
}

async function request(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(path, {
      method,
      cache: 'no-store',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({ error: `${path}: HTTP ${r.status}` }));
    if (r.status === 401 && attempt === 0 && (await loginHook())) continue;
    if (!r.ok) throw new ApiError(data.kafkaError ? `${data.kafkaError}: ${data.error}` : data.error ?? `HTTP ${r.status}`, r.status, data.kafkaError);
    return data;
  }
}

export const getJson = (path) => request('GET', path);
export const postJson = (path, body) => request('POST', path, body);

export function showError(message) {
  const e = document.getElementById('error');
  e.textContent = message;
  e.hidden = !message;
}

export function showNotice(message) {
  const n = document.getElementById('notice');
  n.textContent = message;
  n.hidden = !message;
}

export const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
