// The confirmation dialog every change goes through, and the login dialog.
const $ = (id) => document.getElementById(id);

/** Resolves true when the user confirms. `detail` (optional) is shown as preformatted text. */
export function confirmAction(title, text, detail = '') {
  const d = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-detail').textContent = detail;
  $('confirm-detail').hidden = detail === '';
  d.returnValue = '';
  d.showModal();
  return new Promise((resolve) => d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true }));
}

let pending = null;

/** Opens the login dialog (once, however many calls wait for it); resolves true once logged in. */
export function login() {
  if (pending) return pending;
  const d = $('login-dialog');
  const form = $('login-form');
  const err = $('login-error');
  err.hidden = true;
  pending = new Promise((resolve) => {
    const submit = async (ev) => {
      ev.preventDefault();
      const r = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: $('login-user').value, password: $('login-password').value }) });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) {
        err.textContent = body.error ?? `HTTP ${r.status}`;
        err.hidden = false;
        return;
      }
      form.removeEventListener('submit', submit);
      $('login-password').value = '';
      d.close();
      pending = null;
      document.dispatchEvent(new CustomEvent('console-login', { detail: body }));
      resolve(true);
    };
    form.addEventListener('submit', submit);
    d.addEventListener('cancel', (ev) => ev.preventDefault());
  });
  d.showModal();
  return pending;
}
