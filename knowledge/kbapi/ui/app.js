'use strict';
// Hotline knowledge base editor. Plain JS, no framework, no build step.
// Every piece of article text reaches the page through textContent or
// input.value, never innerHTML, so whatever editors type is shown, not run.

const LANGS = [
  { code: 'ru', name: 'Русский' },
  { code: 'en', name: 'English' },
];
const QUEUES = ['general', 'tech', 'social', 'business', 'abroad'];
const PAGE_SIZE = 20;
// The voice reads about 150 words a minute; the server's lint warns past
// 45 words (~18 s) or 3 sentences, the preview turns amber a little before.
const WPM = 150;
const WORDS_WARN = 35;
const WORDS_MAX = 45;
const SENTENCES_MAX = 3;

const $ = (id) => document.getElementById(id);

const state = {
  csrf: '',
  user: null,
  offset: 0,
  total: 0,
  id: '',          // article id open in the editor ('' = none)
  cols: {},        // lang → column (see buildColumn)
  historyLang: '',
  historyRevs: [],
};

// ---------- HTTP ----------

// ApiError, apiFetch and toLogin come from /static/hotline.js.
function api(method, path, { body, version, form } = {}) {
  const headers = version ? { 'If-Match': `"${version}"` } : {};
  return apiFetch(method, path, { csrf: state.csrf, body, form, headers });
}

const enc = encodeURIComponent;
const articlePath = (lang, id) => `/kb/articles/${enc(lang)}/${enc(id)}`;

// ---------- small DOM helpers ----------

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function notice(text, kind = 'info') {
  const n = $('notice');
  n.textContent = text;
  n.className = 'notice ' + kind;
  n.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { n.hidden = true; }, 6000);
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

// ---------- list ----------

async function loadList() {
  const q = new URLSearchParams();
  const set = (k, v) => { if (v) q.set(k, v); };
  set('q', $('list-q').value.trim());
  set('lang', $('list-lang').value);
  set('status', $('list-status').value);
  set('queue', $('list-queue').value);
  if ($('list-trash').checked) q.set('deleted', 'only');
  q.set('offset', state.offset);
  q.set('limit', PAGE_SIZE);
  let data;
  try {
    data = await api('GET', '/kb/articles?' + q);
  } catch (e) {
    $('list-summary').textContent = 'Could not load the list: ' + e.message;
    return;
  }
  state.total = data.total;
  const list = $('article-list');
  list.replaceChildren();
  // Say which filter the list shows, so scripts (and tests) can wait for it.
  list.dataset.q = q.get('q') || '';
  list.dataset.status = q.get('status') || '';
  for (const a of data.items) {
    const item = el('button', { type: 'button', class: 'article-item', 'data-id': a.id, 'data-lang': a.lang,
      onclick: () => openArticle(a.id) },
    el('span', { class: 'item-title', text: a.title || '(no title)' }),
    el('span', { class: 'item-meta' },
      el('span', { class: 'badge lang', text: a.lang }),
      el('span', { class: 'badge ' + (a.deleted ? 'deleted' : a.status), text: a.deleted ? 'deleted' : a.status }),
      el('span', { class: 'muted', text: a.id })));
    if (a.id === state.id) item.classList.add('current');
    list.append(el('li', {}, item));
  }
  const from = data.total ? data.offset + 1 : 0;
  const to = data.offset + data.items.length;
  $('list-summary').textContent = data.total ? `${from}–${to} of ${data.total}` : 'No articles match.';
  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  $('page-info').textContent = `page ${Math.floor(data.offset / PAGE_SIZE) + 1} of ${pages}`;
  $('page-prev').disabled = data.offset === 0;
  $('page-next').disabled = to >= data.total;
}

const reloadListSoon = debounce(() => { state.offset = 0; loadList(); }, 250);

// ---------- editor columns ----------

function buildColumn(lang, name) {
  const frag = $('lang-column').content.cloneNode(true);
  const root = frag.querySelector('fieldset');
  root.dataset.lang = lang;
  root.id = `col-${lang}`;
  root.setAttribute('lang', lang);
  const ref = (r) => root.querySelector(`[data-ref="${r}"]`);
  const col = { lang, root, art: null, dirty: false, fields: {}, msgs: {} };
  ref('legend').textContent = `${name} (${lang})`;
  for (const label of root.querySelectorAll('label[data-for]')) {
    label.htmlFor = `${lang}-${label.dataset.for}`;
  }
  for (const f of root.querySelectorAll('[data-field]')) {
    f.id = `${lang}-${f.dataset.field}`;
    col.fields[f.dataset.field] = f;
    f.addEventListener('input', () => onEdit(col));
  }
  for (const m of root.querySelectorAll('[data-msg]')) {
    m.id = `${lang}-${m.dataset.msg}-msg`;
    col.msgs[m.dataset.msg] = m;
    const field = col.fields[m.dataset.msg];
    if (field) field.setAttribute('aria-describedby', m.id);
  }
  for (const q of QUEUES) col.fields.queue.append(el('option', { value: q, text: q }));
  col.badge = ref('badge');
  col.meta = ref('meta');
  col.absent = ref('absent');
  col.stats = ref('stats');
  col.previewText = ref('preview-text');
  col.preview = ref('preview');
  col.playButton = ref('play');
  col.playButton.id = `${lang}-play`;
  col.playButton.addEventListener('click', () => playSpoken(col));
  for (const b of root.querySelectorAll('[data-action]')) {
    b.id = `${lang}-${b.dataset.action}`;
    col[b.dataset.action + 'Button'] = b;
  }
  col.saveButton.addEventListener('click', () => save(col));
  col.publishButton.addEventListener('click', () => togglePublish(col));
  col.deleteButton.addEventListener('click', () => toggleDelete(col));
  col.historyButton.addEventListener('click', () => openHistory(col.lang));
  col.lintSoon = debounce(() => lint(col), 400);
  $('columns').append(frag);
  return col;
}

// ---------- speech ----------

// The play button speaks a column's spoken answer as it is in the box,
// saved or not, in the server's voice (POST /kb/speak returns a WAV file),
// through one <audio> element. The buttons are enabled when the server has
// speech synthesis (GET /kb/speak answers). A second click stops.
const speech = { available: false, audio: null, col: null, url: '', seq: 0 };

async function initSpeech() {
  speech.audio = el('audio', { id: 'speech-audio', preload: 'auto' });
  speech.audio.hidden = true;
  speech.audio.addEventListener('ended', () => stopSpeech());
  speech.audio.addEventListener('error', () => {
    if (speech.col) notice('The browser could not play the audio.', 'error');
    stopSpeech();
  });
  document.body.append(speech.audio);
  try {
    const info = await api('GET', '/kb/speak');
    speech.available = !!(info && info.available);
  } catch (e) {
    speech.available = false; // 404: this server has no speech synthesis
  }
  for (const col of Object.values(state.cols)) setPlay(col, 'idle');
}

function setPlay(col, st) {
  const b = col.playButton;
  b.dataset.state = st;
  b.disabled = !speech.available;
  b.setAttribute('aria-disabled', String(!speech.available));
  b.title = speech.available ? 'Listen to the spoken answer as the bot will say it (unsaved text too)'
    : 'speech synthesis is not available on this server';
  b.textContent = { idle: '▶ play', loading: '… loading', playing: '■ stop' }[st];
}

function stopSpeech() {
  const col = speech.col;
  speech.col = null;
  speech.seq++;
  if (speech.audio) speech.audio.pause();
  if (col) setPlay(col, 'idle');
}

async function playSpoken(col) {
  if (speech.col === col) { stopSpeech(); return; }
  stopSpeech();
  const text = col.fields.spoken.value.trim();
  if (!text) {
    notice(`There is no ${col.lang} spoken answer to play.`, 'error');
    return;
  }
  const seq = speech.seq;
  speech.col = col;
  setPlay(col, 'loading');
  let blob;
  try {
    const r = await fetch('/api/v1/kb/speak', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Hotline-CSRF': state.csrf },
      body: JSON.stringify({ text, lang: col.lang, id: $('art-id').value.trim() }),
    });
    if (r.status === 401) { toLogin(); return; }
    if (!r.ok) {
      const type = r.headers.get('Content-Type') || '';
      throw new ApiError(r.status, type.includes('json') ? await r.json() : null);
    }
    blob = await r.blob();
  } catch (e) {
    if (seq === speech.seq) {
      stopSpeech();
      notice('Could not play the answer: ' + e.message, 'error');
    }
    return;
  }
  if (seq !== speech.seq) return; // stopped, or another play started meanwhile
  if (speech.url) URL.revokeObjectURL(speech.url);
  speech.url = URL.createObjectURL(blob);
  speech.audio.src = speech.url;
  setPlay(col, 'playing');
  try {
    await speech.audio.play();
  } catch (e) {
    if (seq === speech.seq) {
      stopSpeech();
      notice('The browser did not play the audio: ' + e.message, 'error');
    }
  }
}

function readColumn(col) {
  const f = col.fields;
  return {
    id: $('art-id').value.trim(),
    lang: col.lang,
    title: f.title.value,
    queue: f.queue.value,
    tags: f.tags.value.split(',').map((s) => s.trim()).filter(Boolean),
    questions: f.questions.value.split('\n').map((s) => s.trim()).filter(Boolean),
    spoken: f.spoken.value,
    body: f.body.value,
  };
}

function fillColumn(col, a) {
  if (speech.col === col) stopSpeech();
  col.art = a;
  col.dirty = false;
  const f = col.fields;
  f.title.value = a ? a.title : '';
  f.queue.value = a ? a.queue : 'general';
  f.tags.value = a ? (a.tags || []).join(', ') : '';
  f.questions.value = a ? (a.questions || []).join('\n') : '';
  f.spoken.value = a ? a.spoken : '';
  f.body.value = a ? a.body : '';
  clearMessages(col);
  renderColumnState(col);
  renderPreview(col);
}

function renderColumnState(col) {
  const a = col.art;
  const deleted = !!(a && a.deleted);
  col.root.classList.toggle('is-deleted', deleted);
  col.root.classList.toggle('is-dirty', col.dirty);
  let badge = 'new';
  if (a) badge = deleted ? 'deleted' : a.status;
  col.badge.textContent = badge + (col.dirty ? ' · unsaved' : '');
  col.badge.className = 'badge ' + badge;
  col.meta.textContent = a
    ? `version ${a.version} · changed by ${a.updated_by || '?'} · ${fmtTime(a.updated_at)}`
    : '';
  col.absent.hidden = !!a;
  col.absent.textContent = a ? '' : `No ${col.lang} version yet. Fill it in and press Save to create it.`;
  for (const f of Object.values(col.fields)) f.disabled = deleted;
  col.saveButton.disabled = deleted;
  col.saveButton.textContent = a ? 'Save' : 'Create';
  col.publishButton.disabled = !a || deleted;
  col.publishButton.textContent = a && a.status === 'published' ? 'Unpublish' : 'Publish';
  col.deleteButton.disabled = !a;
  col.deleteButton.textContent = deleted ? 'Restore' : 'Delete';
  col.historyButton.disabled = !a;
}

function onEdit(col) {
  if (!col.dirty) {
    col.dirty = true;
    renderColumnState(col);
  }
  renderPreview(col);
  col.lintSoon();
}

// The spoken preview: what the caller will hear and for how long.
function renderPreview(col) {
  const text = col.fields.spoken.value.trim();
  const words = text ? text.split(/\s+/).length : 0;
  const sentences = text ? Math.max(1, (text.match(/[.!?…]+(\s|$)/g) || []).length) : 0;
  const seconds = Math.round((words * 60) / WPM);
  col.previewText.textContent = text || 'The spoken answer will appear here.';
  col.previewText.classList.toggle('muted', !text);
  col.stats.textContent = `${words} words · ${sentences} sentence${sentences === 1 ? '' : 's'} · ≈${seconds} s`;
  let level = 'ok';
  if (!text && !col.art && !col.dirty) level = 'empty'; // a translation nobody started
  else if (!text || words > WORDS_MAX || sentences > SENTENCES_MAX) level = 'bad';
  else if (words > WORDS_WARN) level = 'warn';
  col.preview.dataset.level = level;
}

function clearMessages(col) {
  for (const m of Object.values(col.msgs)) {
    m.replaceChildren();
    m.className = 'msg';
  }
  for (const f of Object.values(col.fields)) f.removeAttribute('aria-invalid');
}

// showMessages puts each problem next to its field: "questions[2]" goes
// under questions, fields without a box (id, lang, status) under "other".
function showMessages(col, problems, warnings) {
  clearMessages(col);
  const put = (list, kind) => {
    for (const p of list || []) {
      let field = (p.field || '').replace(/\[\d+\]$/, '');
      if (field === 'id' || !col.msgs[field]) field = 'other';
      const box = col.msgs[field];
      const idx = /\[(\d+)\]$/.exec(p.field || '');
      const prefix = field === 'other' && p.field ? p.field + ': ' : idx ? `line ${+idx[1] + 1}: ` : '';
      box.append(el('span', { class: kind, text: prefix + p.msg }));
      box.classList.add('has-' + kind);
      if (kind === 'error' && col.fields[field]) col.fields[field].setAttribute('aria-invalid', 'true');
    }
  };
  put(problems, 'error');
  put(warnings, 'warning');
}

async function lint(col) {
  if (col.art && col.art.deleted) return;
  const a = readColumn(col);
  if (!col.art && !col.dirty) return; // an untouched empty translation
  try {
    const r = await api('POST', '/kb/lint', { body: a });
    // Missing translation is also true of an unsaved pair; say it only
    // when the other column is really empty.
    const other = Object.values(state.cols).find((c) => c !== col);
    const warnings = r.warnings.filter((w) => !(w.field === 'id' && /translation/.test(w.msg) && other && (other.art || other.dirty)));
    showMessages(col, r.problems, warnings);
  } catch (e) {
    // Lint is advice; a failure here must not get in the way of editing.
  }
}

// ---------- banner (conflicts and other blocking messages) ----------

function banner(text, actions = []) {
  const b = $('banner');
  b.replaceChildren(el('span', { text }), ...actions.map(([label, fn]) => el('button', { type: 'button', text: label, onclick: fn })));
  b.hidden = false;
}
function hideBanner() { $('banner').hidden = true; }

// ---------- open / save / publish / delete ----------

async function openArticle(id, { isNew = false } = {}) {
  state.id = id;
  hideBanner();
  closeHistory();
  $('editor-empty').hidden = true;
  $('editor').hidden = false;
  $('art-id').value = id;
  $('art-id').readOnly = !isNew;
  await Promise.all(Object.values(state.cols).map(async (col) => {
    let a = null;
    if (!isNew) {
      try {
        a = await api('GET', articlePath(col.lang, id) + '?deleted=include');
      } catch (e) {
        if (e.status !== 404) banner(`Could not load the ${col.lang} version: ${e.message}`);
      }
    }
    fillColumn(col, a);
  }));
  for (const col of Object.values(state.cols)) if (col.art) lint(col);
  for (const item of document.querySelectorAll('.article-item')) {
    item.classList.toggle('current', item.dataset.id === id);
  }
}

async function reloadColumn(col) {
  try {
    fillColumn(col, await api('GET', articlePath(col.lang, state.id) + '?deleted=include'));
    hideBanner();
    notice(`Reloaded the latest ${col.lang} version.`);
  } catch (e) {
    banner(`Could not reload: ${e.message}`);
  }
}

function handleWriteError(col, e, what) {
  if (e.status === 409 && e.problem.current_version) {
    banner(`Conflict: the ${col.lang} version was changed by someone else while you were editing (it is now at version ${e.problem.current_version}). Your ${what} was not applied. Reload to see their changes, then apply yours again.`,
      [['Reload ' + col.lang, () => reloadColumn(col)]]);
  } else if (e.status === 422 && e.problem.problems) {
    showMessages(col, e.problem.problems, []);
    banner(`The ${col.lang} version was not saved: fix the fields marked in red.`);
  } else {
    banner(`${what[0].toUpperCase() + what.slice(1)} failed: ${e.message}`);
  }
}

async function save(col) {
  hideBanner();
  const a = readColumn(col);
  if (!a.id) {
    banner('Give the article an id first.');
    $('art-id').focus();
    return false;
  }
  try {
    const saved = col.art
      ? await api('PUT', articlePath(col.lang, col.art.id), { body: a, version: col.art.version })
      : await api('POST', '/kb/articles', { body: a });
    state.id = saved.id;
    $('art-id').readOnly = true;
    fillColumn(col, saved);
    lint(col);
    notice(`Saved ${col.lang} version ${saved.version}.`);
    loadList();
    return true;
  } catch (e) {
    handleWriteError(col, e, 'save');
    return false;
  }
}

async function togglePublish(col) {
  hideBanner();
  if (col.dirty && !(await save(col))) return; // publish what the editor sees
  const action = col.art.status === 'published' ? 'unpublish' : 'publish';
  try {
    const a = await api('POST', articlePath(col.lang, col.art.id) + '/' + action, { version: col.art.version });
    fillColumn(col, a);
    notice(action === 'publish' ? `Published the ${col.lang} version: callers get it now.` : `The ${col.lang} version is a draft again.`);
    loadList();
  } catch (e) {
    handleWriteError(col, e, action);
  }
}

async function toggleDelete(col) {
  hideBanner();
  const a = col.art;
  try {
    if (a.deleted) {
      fillColumn(col, await api('POST', articlePath(col.lang, a.id) + '/restore'));
      notice(`Restored the ${col.lang} version.`);
    } else {
      fillColumn(col, await api('DELETE', articlePath(col.lang, a.id), { version: a.version }));
      banner(`The ${col.lang} version was moved to the trash.`, [['Undo', () => toggleDelete(col)]]);
    }
    loadList();
  } catch (e) {
    handleWriteError(col, e, a.deleted ? 'restore' : 'delete');
  }
}

function newArticle() {
  state.id = '';
  openArticle('', { isNew: true });
  $('art-id').focus();
}

// ---------- history ----------

async function openHistory(lang) {
  state.historyLang = lang;
  const col = state.cols[lang];
  $('history').hidden = false;
  $('history-heading').textContent = `History of ${lang}/${col.art.id}`;
  $('diff').replaceChildren();
  const list = $('history-list');
  list.replaceChildren();
  try {
    const h = await api('GET', articlePath(lang, col.art.id) + '/history');
    state.historyRevs = h.revisions;
    for (const r of h.revisions) {
      const current = r.version === col.art.version;
      list.append(el('li', { class: current ? 'current' : '' },
        el('div', {},
          el('strong', { text: `v${r.version}` }), ' ',
          el('span', { class: 'badge', text: r.action }), ' ',
          el('span', { text: r.actor }), ' ',
          el('span', { class: 'muted small', text: fmtTime(r.at) })),
        el('div', { class: 'history-actions' },
          el('button', { type: 'button', text: 'Diff', 'data-version': r.version, onclick: () => showDiff(lang, r.version) }),
          current ? el('span', { class: 'muted small', text: 'current' })
            : el('button', { type: 'button', text: 'Revert to this', 'data-revert': r.version, onclick: () => revert(lang, r.version) }))));
    }
    if (h.revisions.length) showDiff(lang, h.revisions[0].version);
  } catch (e) {
    list.append(el('li', { text: 'Could not load history: ' + e.message }));
  }
}

function closeHistory() { $('history').hidden = true; }

async function showDiff(lang, version) {
  const box = $('diff');
  try {
    const d = await api('GET', articlePath(lang, state.cols[lang].art.id) + `/diff?from=${version - 1}&to=${version}`);
    box.replaceChildren(el('h4', { text: version === 1 ? 'Version 1 (created)' : `Changes from v${d.from} to v${d.to}` }));
    if (!d.changes.length) box.append(el('p', { class: 'muted', text: 'No content changes.' }));
    for (const ch of d.changes) {
      const block = el('div', { class: 'diff-field' }, el('div', { class: 'diff-name', text: ch.field }));
      if (ch.lines) {
        const pre = el('pre');
        for (const line of ch.lines.replace(/\n$/, '').split('\n')) {
          const kind = line[0] === '+' ? 'add' : line[0] === '-' ? 'del' : 'same';
          pre.append(el('span', { class: kind, text: line }), '\n');
        }
        block.append(pre);
      } else {
        block.append(el('div', { class: 'del', text: '− ' + ch.old }), el('div', { class: 'add', text: '+ ' + ch.new }));
      }
      box.append(block);
    }
  } catch (e) {
    box.replaceChildren(el('p', { class: 'msg error', text: 'Could not load the diff: ' + e.message }));
  }
}

async function revert(lang, version) {
  const col = state.cols[lang];
  try {
    const a = await api('POST', articlePath(lang, col.art.id) + '/revert', { body: { version }, version: col.art.version });
    fillColumn(col, a);
    notice(`Reverted ${lang} to the content of version ${version} (saved as version ${a.version}).`);
    openHistory(lang);
    loadList();
  } catch (e) {
    handleWriteError(col, e, 'revert');
  }
}

// ---------- test the bot ----------

async function askBot(ev) {
  ev.preventDefault();
  const q = $('bot-q').value.trim();
  const hitsBox = $('bot-hits');
  $('bot-error').textContent = '';
  hitsBox.replaceChildren(); // never leave the last question's answers under a new question
  if (!q) {
    $('bot-error').textContent = 'Type a question first.';
    return;
  }
  const params = new URLSearchParams({ q, lang: $('bot-lang').value, limit: 5 });
  if ($('bot-drafts').checked) params.set('drafts', 'true');
  try {
    const r = await api('GET', '/kb/search?' + params);
    hitsBox.replaceChildren();
    if (!r.hits.length) hitsBox.append(el('li', { class: 'muted', text: 'No article found: the bot would hand over to an agent.' }));
    for (const h of r.hits) {
      const conf = Math.round(h.confidence * 100);
      hitsBox.append(el('li', { class: 'hit' },
        el('button', { type: 'button', class: 'link hit-title', text: h.title, onclick: () => openArticle(h.id) }),
        el('div', { class: 'small' },
          el('span', { class: 'badge ' + h.status, text: h.status }), ' ',
          el('span', { class: 'muted', text: `${h.lang}/${h.id}` })),
        el('div', { class: 'small hit-scores' },
          el('span', { text: `score ${h.score.toFixed(2)}` }),
          el('span', { class: 'conf conf-' + (conf >= 60 ? 'high' : conf >= 30 ? 'mid' : 'low'), text: `confidence ${conf}%` })),
        h.matched ? el('div', { class: 'small' }, el('span', { class: 'muted', text: 'matched: ' }), el('q', { text: h.matched })) : null,
        el('div', { class: 'small hit-spoken', text: h.spoken })));
    }
  } catch (e) {
    hitsBox.replaceChildren();
    $('bot-error').textContent = e.message;
  }
}

// ---------- import ----------

async function importZip() {
  const input = $('import-file');
  const file = input.files[0];
  input.value = '';
  if (!file) return;
  const form = new FormData();
  form.append('file', file);
  try {
    const r = await api('POST', '/kb/import', { form });
    notice(`Imported: ${r.created.length} created, ${r.updated.length} updated, ${r.unchanged.length} unchanged.`);
    loadList();
  } catch (e) {
    const lines = (e.problem.errors || []).slice(0, 8).map((x) => `${x.file}${x.field ? ' · ' + x.field : ''}: ${x.msg}`);
    notice(`Import rejected, nothing was imported. ${e.message}${lines.length ? '\n' + lines.join('\n') : ''}`, 'error');
  }
}

// ---------- start ----------

async function start() {
  let me;
  try {
    me = await api('GET', '/auth/me');
  } catch (e) {
    return; // api() already went to the login page on 401
  }
  state.csrf = me.csrf_token;
  state.user = me.user;
  $('who').textContent = me.user.display_name || me.user.username;
  if (!me.user.roles.includes('editor')) {
    notice('Your account has no editor role: ask an administrator for it.', 'error');
  }
  for (const { code, name } of LANGS) state.cols[code] = buildColumn(code, name);
  initSpeech();
  for (const q of QUEUES) $('list-queue').append(el('option', { value: q, text: q }));

  $('list-form').addEventListener('submit', (ev) => { ev.preventDefault(); state.offset = 0; loadList(); });
  $('list-q').addEventListener('input', reloadListSoon);
  for (const id of ['list-lang', 'list-status', 'list-queue', 'list-trash']) $(id).addEventListener('change', reloadListSoon);
  $('page-prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadList(); });
  $('page-next').addEventListener('click', () => { state.offset += PAGE_SIZE; loadList(); });
  $('new-article').addEventListener('click', newArticle);
  $('history-close').addEventListener('click', closeHistory);
  $('bot-form').addEventListener('submit', askBot);
  $('import-file').addEventListener('change', importZip);
  $('art-id').addEventListener('input', () => Object.values(state.cols).forEach((c) => c.lintSoon()));
  $('logout').addEventListener('click', async () => {
    try { await api('POST', '/auth/logout'); } catch (e) { /* gone either way */ }
    toLogin();
  });
  window.addEventListener('beforeunload', (ev) => {
    if (Object.values(state.cols).some((c) => c.dirty)) ev.preventDefault();
  });
  loadList();
}

start();
