'use strict';
// Login page: posts the credentials as JSON (the server refuses forms,
// which blocks cross-site login forgery) and goes back to the desk.
(() => {
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
        location.replace('/desk/');
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
