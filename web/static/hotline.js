'use strict';
// Shared by Hotline's pages (agent desk, knowledge base editor), loaded
// before the page's own script. Plain JS, no build step.

// ApiError is a failed API call: the HTTP status and the problem+json body.
class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

// toLogin goes to the login page, which comes back here after logging in.
function toLogin() {
  location.replace('/login?next=' + encodeURIComponent(location.pathname));
}

// apiFetch calls /api/v1 + path with the session cookie. Writes carry the
// CSRF token; body is sent as JSON, form (FormData) as is. It returns the
// parsed JSON answer (null for other types), goes to the login page on
// 401 and throws ApiError on any failure.
async function apiFetch(method, path, { csrf, body, form, headers: extra } = {}) {
  const headers = { ...extra };
  if (method !== 'GET') headers['X-Hotline-CSRF'] = csrf || '';
  let payload;
  if (form) {
    payload = form;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch('/api/v1' + path, { method, headers, body: payload, credentials: 'same-origin' });
  const type = r.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await r.json() : null;
  if (r.status === 401) {
    toLogin();
    throw new ApiError(401, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}
