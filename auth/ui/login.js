'use strict';
// The login page of every Hotline page: posts the credentials as JSON (the
// server refuses forms, which blocks cross-site login forgery) and goes to
// the page named by ?next=, e.g. /login?next=/desk/.
(() => {
  const APPS = { '/desk/': 'agent desk', '/editor/': 'knowledge base' };
  // safeNext keeps only a path on this site: a single leading "/", no
  // scheme, host or backslash, so the page cannot send anyone elsewhere
  // (the server applies the same rule: auth.SafeNext).
  const safeNext = (next) => typeof next === 'string' && next.startsWith('/') &&
    !next.startsWith('//') && !next.includes('\\') && !/[\u0000-\u001f\u007f]/.test(next);
  const asked = new URLSearchParams(location.search).get('next');
  const next = safeNext(asked) ? asked : '';
  document.getElementById('login-app').textContent = APPS[next] || '';
  if (APPS[next]) document.title += ' ' + APPS[next];

  const form = document.getElementById('login-form');
  const errorBox = document.getElementById('login-error');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorBox.textContent = '';
    const username = form.username.value.trim();
    const password = form.password.value;
    if (!username || !password) {
      errorBox.textContent = 'Enter your user name and password.';
      return;
    }
    const button = document.getElementById('login-submit');
    button.disabled = true;
    try {
      const r = await fetch('/api/v1/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password }),
        credentials: 'same-origin',
      });
      if (r.ok) {
        if (next) {
          location.replace(next);
        } else {
          form.hidden = true;
          document.getElementById('login-done').hidden = false;
        }
        return;
      }
      if (r.status === 429) {
        const wait = r.headers.get('Retry-After') || 'a few';
        errorBox.textContent = `Too many failed attempts. Try again in ${wait} seconds.`;
      } else if (r.status === 401) {
        errorBox.textContent = 'Wrong user name or password.';
      } else {
        errorBox.textContent = `Login failed (HTTP ${r.status}).`;
      }
    } catch (e) {
      errorBox.textContent = 'The server cannot be reached.';
    } finally {
      button.disabled = false;
    }
  });
})();
