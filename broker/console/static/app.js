// The console's shell: a hash router over the pages (#/overview, #/topics, #/topic/<name>,
// #/messages, #/groups, #/group/<id>, #/throughput, #/configs), the login when the node requires
// one, and the throughput sampler that runs for as long as the page is open. Plain DOM modules,
// nothing loaded from elsewhere.
import { login } from './dialogs.js';
import { getJson, onUnauthorized, postJson, showError, showNotice } from './dom.js';
import { startSampler } from './sampler.js';
import * as overview from './page-overview.js';
import * as topics from './page-topics.js';
import * as topic from './page-topic.js';
import * as messages from './page-messages.js';
import * as groups from './page-groups.js';
import * as group from './page-group.js';
import * as throughput from './page-throughput.js';
import * as configs from './page-configs.js';

const PAGES = { overview, topics, topic, messages, groups, group, throughput, configs };
let cleanup = null;

function parseHash() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name, ...rest] = path.split('/');
  return { name: PAGES[name] ? name : 'overview', arg: rest.length ? decodeURIComponent(rest.join('/')) : null, params: new URLSearchParams(query) };
}

async function route() {
  const { name, arg, params } = parseHash();
  cleanup?.();
  cleanup = null;
  showError('');
  showNotice('');
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name || a.dataset.page === `${name}s`);
  const root = document.getElementById('page');
  root.replaceChildren();
  root.dataset.page = name;
  delete document.body.dataset.loaded;
  try {
    cleanup = (await PAGES[name].render(root, arg, params)) ?? null;
    document.body.dataset.loaded = 'true';
  } catch (e) {
    showError(e.message);
  }
}

async function session() {
  const s = await getJson('/api/session');
  const user = document.getElementById('user');
  const out = document.getElementById('logout');
  user.textContent = s.user ? `logged in as ${s.user}` : '';
  out.hidden = !s.user;
  return s;
}

onUnauthorized(login);
document.addEventListener('console-login', () => session());
document.getElementById('logout').addEventListener('click', async () => {
  await postJson('/api/logout', {});
  await session();
  location.reload();
});
window.addEventListener('hashchange', route);

const s = await session();
if (s.required && !s.user) await login();
startSampler();
getJson('/api/cluster')
  .then((c) => (document.getElementById('cluster').textContent = `cluster ${c.clusterId} · node ${c.nodeId} · Samsa ${c.version}`))
  .catch(() => {});
route();
