'use strict';
// Hotline agent desk. Plain JS, no framework, no build step. Everything a
// caller said or typed reaches the page through textContent or
// input.value, never as markup, so it is shown, never run.
//
// The WebSocket feed is the agent's presence: while it is open the agent
// can be offered handoffs; when it drops, the desk reconnects with back-off
// and the server returns the agent's handoff to the queue after a grace.

const $ = (id) => document.getElementById(id);

const STATUS_LABELS = {
  accepted: 'Accepted · Принято',
  in_progress: 'In progress · В обработке',
  under_approval: 'Under approval · На согласовании',
  done: 'Done · Выполнено',
  rejected: 'Rejected · Отклонено',
};
// The appeal status machine (appeal/status.go): only these changes are offered.
const NEXT_STATUS = {
  accepted: ['in_progress', 'rejected'],
  in_progress: ['under_approval', 'done', 'rejected'],
  under_approval: ['in_progress', 'done', 'rejected'],
  done: [],
  rejected: [],
};
// Slots holding personal numbers: masked until the agent asks to see them.
const PERSONAL_SLOTS = ['phone', 'snils', 'inn', 'passport'];
const REVOKE_TEXT = {
  timeout: 'You did not answer the offer in time: you are now away.',
  agent_away: 'The offer went to someone else because you are away.',
  canceled: 'The caller left before the conversation started.',
  reassigned: 'A supervisor reassigned the handoff.',
  agent_disconnected: 'The desk was disconnected: the handoff went back to the queue.',
};

const state = {
  csrf: '',
  me: '',
  supervisor: false,
  ws: null,
  attempt: 0,        // reconnect attempts since the last good connection
  retryTimer: 0,
  connected: false,
  everConnected: false,
  myState: 'offline',
  queues: [],
  agents: new Map(),   // id → AgentView
  live: new Map(),     // handoff id → View
  offer: null,         // {view, deadline (ms, local clock)}
  work: null,          // View of the handoff I hold
  appeal: null,        // the work handoff's appeal
  reveal: false,       // show personal data of the work handoff
  reassignId: '',
};

// ---------- HTTP ----------

// ApiError, apiFetch and toLogin come from /static/hotline.js.
function api(method, path, body) {
  return apiFetch(method, path, { csrf: state.csrf, body });
}

const enc = encodeURIComponent;

// ---------- small helpers ----------

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

let flashTimer = 0;
function flash(text, kind = 'info') {
  const f = $('flash');
  f.textContent = text;
  f.className = 'msg ' + kind;
  clearTimeout(flashTimer);
  if (text) flashTimer = setTimeout(() => { f.textContent = ''; f.className = 'msg'; }, 12000);
}

function duration(sec) {
  sec = Math.max(0, Math.round(sec));
  if (sec < 60) return `${sec} s`;
  const m = Math.floor(sec / 60), s = sec % 60;
  if (m < 60) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

// short is a duration for table cells: 45 s, 3:05, 1:02:00.
function short(sec) {
  sec = Math.max(0, Math.round(sec));
  if (sec < 60) return `${sec} s`;
  const h = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60, s = String(sec % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

const clock = (t) => new Date(t).toLocaleTimeString('en-GB');
const dateTime = (t) => new Date(t).toLocaleString('en-GB');

// mask keeps the last digits of a personal number: enough to confirm
// with the caller, not enough to copy.
function mask(value, keep) {
  const digits = String(value).replace(/\D/g, '');
  if (digits.length <= keep) return '•'.repeat(digits.length || 4);
  return '•'.repeat(digits.length - keep) + digits.slice(-keep);
}

const maskSlot = (key, value) => mask(value, key === 'phone' ? 4 : 2);

function queueTitle(name) {
  const q = state.queues.find((x) => x.name === name);
  return q && q.title ? `${q.title} (${name})` : name;
}

// A caller-wait element counts up by itself (see tick) until an agent
// accepts: the wait the server sent, plus the time since it was sent.
function waitSpan(view, eventAt) {
  const s = el('span', { class: 'wait', text: duration(view.caller_wait_seconds) });
  if (view.state !== 'accepted' && view.state !== 'finished') {
    s.dataset.base = String(view.caller_wait_seconds);
    s.dataset.since = String(Date.now() - skewMs(eventAt));
  }
  return s;
}

// skewMs is how long ago (by the local clock) an event stamped at was
// sent, bounded to [0, 5 s] so a skewed client clock cannot distort waits.
function skewMs(at) {
  if (!at) return 0;
  const d = Date.now() - new Date(at).getTime();
  return Math.min(Math.max(d, 0), 5000);
}

// ---------- the card ----------

function fact(dl, term, value) {
  if (value === undefined || value === null || value === '') return;
  dl.append(el('dt', { text: term }), el('dd', {}, value instanceof Node ? value : document.createTextNode(String(value))));
}

function renderCard(view, { eventAt, reveal, transcriptId } = {}) {
  const card = el('article', { class: 'card', 'data-handoff-id': view.id, 'aria-label': 'Handoff card' });
  const facts = el('dl', { class: 'facts' });
  fact(facts, 'Appeal', el('span', { class: 'appeal-number', text: view.appeal_spoken || view.appeal_number || '—' }));
  fact(facts, 'Channel', view.channel);
  fact(facts, 'Language', view.lang === 'en' ? 'English (en)' : view.lang === 'ru' ? 'Русский (ru)' : view.lang);
  fact(facts, 'Queue', queueTitle(view.queue) + (view.overflow_from ? ` — overflow from ${view.overflow_from}` : ''));
  fact(facts, 'Intent', view.intent);
  fact(facts, 'Topic', view.topic);
  fact(facts, 'Region', view.region);
  fact(facts, 'Caller waiting', waitSpan(view, eventAt));
  if (view.priority) fact(facts, 'Priority', view.priority >= 2 ? 'has an open appeal' : 'repeat caller');
  card.append(facts);

  const slots = Object.entries(view.slots || {});
  if (slots.length) {
    const dl = el('dl', { class: 'facts slots', 'aria-label': 'What the caller gave' });
    for (const [k, v] of slots.sort()) {
      const personal = PERSONAL_SLOTS.includes(k);
      fact(dl, k, el('span', { class: personal && !reveal ? 'masked' : null, text: personal && !reveal ? maskSlot(k, v) : v }));
    }
    card.append(el('h4', { text: 'Details' }), dl);
  }

  const attempts = view.bot_attempts || [];
  if (attempts.length) {
    const ol = el('ol', { class: 'attempts' });
    for (const a of attempts) {
      ol.append(el('li', {},
        el('q', { text: a.question }),
        a.answer ? el('p', { text: a.answer }) : el('p', { class: 'muted', text: 'no answer found' }),
        el('span', { class: 'muted small', text: [a.article_id, a.score ? `score ${a.score.toFixed(2)}` : ''].filter(Boolean).join(' · ') })));
    }
    card.append(el('h4', { text: 'What the bot tried' }), ol);
  }

  const ol = el('ol', { class: 'transcript', id: transcriptId, 'aria-label': 'Transcript' });
  for (const t of view.transcript || []) ol.append(turnItem(t));
  card.append(el('h4', { text: 'Transcript' }), ol);
  return card;
}

function turnItem(t) {
  const who = { caller: 'Caller', bot: 'Bot', agent: 'Agent' }[t.speaker] || t.speaker;
  return el('li', { class: 'turn ' + t.speaker },
    el('time', { datetime: t.at, text: clock(t.at) }), ' ',
    el('strong', { text: who + ':' }), ' ',
    el('span', { text: t.text }));
}

// ---------- the feed ----------

function connect() {
  clearTimeout(state.retryTimer);
  $('btn-reconnect').hidden = true;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/desk/ws`);
  state.ws = ws;
  ws.onopen = () => {
    state.attempt = 0;
    state.connected = true;
    state.everConnected = true;
    setConn('Connected', 'ok');
  };
  ws.onmessage = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    onEvent(ev);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    state.connected = false;
    hideOffer();
    scheduleReconnect();
  };
}

async function scheduleReconnect() {
  // A closed feed may mean the session ended: then log in again.
  try { await api('GET', '/auth/me'); } catch (e) { if (e.status === 401) return; }
  const base = Math.min(15000, 250 * 2 ** state.attempt);
  const delay = Math.round(base * (0.75 + Math.random() / 2)); // jitter: agents do not reconnect in lockstep
  state.attempt++;
  const until = Date.now() + delay;
  const held = state.work ? ' Your conversation goes back to the queue if the desk stays disconnected for more than a few seconds.' : '';
  const show = () => setConn(`Disconnected — reconnecting in ${Math.ceil((until - Date.now()) / 1000)} s.${held}`, 'bad');
  show();
  $('btn-reconnect').hidden = false;
  const countdown = setInterval(show, 1000);
  state.retryTimer = setTimeout(() => { clearInterval(countdown); connect(); }, delay);
  $('btn-reconnect').onclick = () => { clearInterval(countdown); connect(); };
}

function setConn(text, kind) {
  const c = $('conn');
  c.textContent = text;
  c.className = 'conn ' + kind;
  c.dataset.state = kind;
}

function onEvent(ev) {
  switch (ev.type) {
    case 'snapshot': onSnapshot(ev); break;
    case 'queues': state.queues = ev.queues || []; renderQueues(); break;
    case 'agent':
      for (const a of ev.agents || []) state.agents.set(a.id, a);
      renderAgents();
      break;
    case 'offer':
      if (ev.agent === state.me && ev.handoff) showOffer(ev.handoff, ev.at);
      break;
    case 'offer_revoked':
      if (ev.agent === state.me) onRevoked(ev);
      break;
    case 'handoff': onHandoff(ev.handoff); break;
    case 'message':
      if (state.work && ev.handoff_id === state.work.id && ev.turn) {
        state.work.transcript = [...(state.work.transcript || []), ev.turn];
        const ol = $('work-transcript');
        if (ol) { ol.append(turnItem(ev.turn)); ol.lastChild.scrollIntoView({ block: 'nearest' }); }
      }
      break;
  }
}

function onSnapshot(ev) {
  state.queues = ev.queues || [];
  state.agents = new Map((ev.agents || []).map((a) => [a.id, a]));
  state.live = new Map((ev.handoffs || []).map((h) => [h.id, h]));
  const mine = (ev.handoffs || []).find((h) => h.state === 'accepted' && h.agent === state.me);
  if (state.work && (!mine || mine.id !== state.work.id)) {
    flash('The desk was disconnected too long: the conversation went back to the queue.', 'error');
    closeWork();
  }
  if (mine && !state.work) openWork(mine, ev.at);
  renderQueues();
  renderAgents();
  renderLive();
}

function onHandoff(v) {
  if (!v) return;
  if (v.state === 'finished' || v.state === 'canceled') state.live.delete(v.id);
  else state.live.set(v.id, v);
  if (state.offer && state.offer.view.id === v.id && (v.state !== 'offered' || v.agent !== state.me)) hideOffer();
  renderLive();
}

function onRevoked(ev) {
  if (state.offer && state.offer.view.id === ev.handoff_id) {
    hideOffer();
    if (ev.reason !== 'declined') flash(REVOKE_TEXT[ev.reason] || 'The offer was withdrawn.', 'info');
  }
  if (state.work && state.work.id === ev.handoff_id) {
    flash(REVOKE_TEXT[ev.reason] || 'The conversation was taken from you.', 'info');
    closeWork();
  }
}

// ---------- presence ----------

function renderMyState() {
  const s = state.myState;
  const b = $('my-state');
  b.textContent = s;
  b.className = 'badge state-' + s;
  $('btn-ready').setAttribute('aria-pressed', String(s === 'ready'));
  $('btn-away').setAttribute('aria-pressed', String(s === 'away'));
}

async function setPresence(s) {
  try {
    const v = await api('PUT', '/agents/me/state', { state: s });
    state.agents.set(v.id, v);
    renderAgents();
  } catch (e) {
    flash(e.status === 409 ? 'The desk is not connected yet; try again in a moment.' : `Could not change status: ${e.message}`, 'error');
  }
}

// ---------- queues and agents ----------

function renderQueues() {
  const body = $('queues').tBodies[0];
  body.replaceChildren();
  for (const q of state.queues) {
    const name = el('th', { scope: 'row' }, el('span', { text: q.title || q.name }), el('span', { class: 'muted small', text: ` ${q.name}` }));
    if (!q.open) name.append(el('span', { class: 'badge state-away', text: q.next_open ? `closed until ${dateTime(q.next_open)}` : 'closed' }));
    const waiting = el('td', { class: 'num' }, el('span', { 'data-field': 'waiting', text: String(q.waiting) }));
    if (q.waiting) waiting.append(el('br'), el('span', { class: 'muted small', text: `longest ${short(q.oldest_wait_seconds)}` }));
    if (q.callbacks) waiting.append(el('br'), el('span', { class: 'muted small', text: `+${q.callbacks} callbacks` }));
    body.append(el('tr', { 'data-queue': q.name },
      name,
      waiting,
      el('td', { class: 'num', text: short(q.estimated_wait_seconds) }),
      el('td', { class: 'num', text: `${q.ready_agents} / ${q.busy_agents}` })));
  }
}

function renderAgents() {
  const me = state.agents.get(state.me);
  state.myState = me ? me.state : 'offline';
  renderMyState();
  const ul = $('agents');
  ul.replaceChildren();
  const list = [...state.agents.values()].sort((a, b) => a.id.localeCompare(b.id));
  for (const a of list) {
    const st = a.connected ? a.state : 'offline';
    ul.append(el('li', { 'data-agent': a.id },
      el('span', { text: a.id + (a.id === state.me ? ' (me)' : '') }), ' ',
      el('span', { class: 'badge state-' + st, text: st }),
      el('span', { class: 'muted small', text: ` since ${clock(a.since)}` })));
  }
  if (!list.length) ul.append(el('li', { class: 'muted', text: 'No agent connected.' }));
  if (state.supervisor) fillReassignAgents();
}

// ---------- offer ----------

function showOffer(view, at) {
  const left = view.offer_expires ? new Date(view.offer_expires) - new Date(at) : 20000;
  state.offer = { view, deadline: Date.now() - skewMs(at) + left };
  $('offer-card').replaceChildren(renderCard(view, { eventAt: at }));
  $('offer').hidden = false;
  $('idle').hidden = true;
  updateCountdown();
  $('btn-accept').disabled = false;
  $('btn-decline').disabled = false;
  $('btn-accept').focus();
}

function hideOffer() {
  state.offer = null;
  $('offer').hidden = true;
  $('offer-card').replaceChildren();
  $('idle').hidden = !!state.work;
}

function updateCountdown() {
  if (!state.offer) return;
  const s = Math.max(0, Math.ceil((state.offer.deadline - Date.now()) / 1000));
  $('offer-countdown').textContent = String(s);
}

async function accept() {
  if (!state.offer) return;
  const id = state.offer.view.id;
  $('btn-accept').disabled = true;
  try {
    const v = await api('POST', `/handoffs/${enc(id)}/accept`);
    hideOffer();
    openWork(v);
  } catch (e) {
    hideOffer();
    flash(`Could not accept: ${e.message}`, 'error');
  }
}

async function decline() {
  if (!state.offer) return;
  const id = state.offer.view.id;
  $('btn-decline').disabled = true;
  try {
    await api('POST', `/handoffs/${enc(id)}/decline`);
  } catch (e) {
    flash(`Could not decline: ${e.message}`, 'error');
  }
  hideOffer();
}

// ---------- the conversation ----------

function openWork(view, at) {
  state.work = view;
  state.reveal = false;
  $('btn-reveal').setAttribute('aria-pressed', 'false');
  $('btn-reveal').textContent = 'Show personal data';
  $('idle').hidden = true;
  $('work').hidden = false;
  renderWorkCard(at);
  const voice = view.channel === 'voice';
  $('voice').hidden = !voice;
  $('chat').hidden = view.channel !== 'chat';
  const t = $('transfer');
  t.replaceChildren();
  const tr = view.transfer || {};
  fact(t, 'Transfer', tr.mode);
  fact(t, 'PBX queue', tr.refer_uri);
  for (const [k, v] of Object.entries(tr.headers || {})) fact(t, k, v);
  $('wrapup-form').reset();
  loadAppeal();
  if (voice && tr.mode === 'bridge') connectVoice(view.id);
  else voiceControls(null, tr.mode === 'refer' ? 'Voice call: transferred to the PBX queue.' : 'Voice call.');
}

// ---------- the caller's audio (bridged voice handoffs) ----------

// connectVoice starts the agent's WebRTC leg: the offer goes to
// /handoffs/:id/media with the session (CSRF header); the server joins it
// to the caller who holds for this handoff.
async function connectVoice(id) {
  hangupVoice(false);
  voiceControls(null, 'Connecting to the caller…');
  let mic;
  try {
    mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
  } catch (e) {
    voiceControls(null, `Microphone unavailable: ${e.message}`, true);
    return;
  }
  const pc = new RTCPeerConnection();
  const v = { id, pc, mic, location: '' };
  state.voice = v;
  for (const t of mic.getTracks()) pc.addTrack(t, mic);
  pc.ontrack = (ev) => { $('voice-audio').srcObject = ev.streams[0] || new MediaStream([ev.track]); };
  pc.onconnectionstatechange = () => {
    if (state.voice !== v) return;
    if (pc.connectionState === 'connected') voiceControls(v, 'Connected to caller.');
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
      hangupVoice(false);
      voiceControls(null, 'The call has ended. Wrap up the conversation.');
    }
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((res) => {
      if (pc.iceGatheringState === 'complete') return res();
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') res(); };
      setTimeout(res, 2000);
    });
    const r = await fetch(`/api/v1/handoffs/${enc(id)}/media`, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/sdp', 'X-Hotline-CSRF': state.csrf || '' }, body: pc.localDescription.sdp });
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new Error(detail);
    }
    v.location = r.headers.get('Location') || '';
    await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
  } catch (e) {
    if (state.voice === v) hangupVoice(false);
    voiceControls(null, `Could not connect to the caller: ${e.message}`, true);
  }
}

function hangupVoice(tell) {
  const v = state.voice;
  state.voice = null;
  if (!v) return;
  if (tell && v.location) {
    fetch(v.location, { method: 'DELETE', credentials: 'same-origin', headers: { 'X-Hotline-CSRF': state.csrf || '' } }).catch(() => {});
  }
  v.pc.close();
  v.mic.getTracks().forEach((t) => t.stop());
  $('voice-audio').srcObject = null;
}

function voiceControls(v, text, retry) {
  $('voice-status').textContent = text;
  $('btn-voice-mute').hidden = !v;
  $('btn-voice-hangup').hidden = !v;
  $('btn-voice-connect').hidden = !retry;
  if (v) {
    const muted = !v.mic.getAudioTracks().some((t) => t.enabled);
    $('btn-voice-mute').setAttribute('aria-pressed', String(muted));
    $('btn-voice-mute').textContent = muted ? 'Unmute' : 'Mute';
  }
}

function toggleMute() {
  const v = state.voice;
  if (!v) return;
  for (const t of v.mic.getAudioTracks()) t.enabled = !t.enabled;
  voiceControls(v, v.mic.getAudioTracks().some((t) => t.enabled) ? 'Connected to caller.' : 'Connected to caller (muted).');
}

function renderWorkCard(at) {
  $('work-card').replaceChildren(renderCard(state.work, { eventAt: at, reveal: state.reveal, transcriptId: 'work-transcript' }));
}

function closeWork() {
  hangupVoice(true);
  state.work = null;
  state.appeal = null;
  $('work').hidden = true;
  $('work-card').replaceChildren();
  $('idle').hidden = !!state.offer;
}

async function loadAppeal() {
  const number = state.work && state.work.appeal_number;
  $('appeal-number').textContent = state.work ? state.work.appeal_spoken || '' : '';
  $('appeal-body').hidden = true;
  $('appeal-loading').hidden = false;
  if (!number) {
    $('appeal-loading').textContent = 'This conversation has no appeal.';
    return;
  }
  $('appeal-loading').textContent = 'Loading the appeal…';
  try {
    state.appeal = await api('GET', `/appeals/${enc(number)}`);
    renderAppeal();
  } catch (e) {
    $('appeal-loading').textContent = `Could not load the appeal: ${e.message}`;
  }
}

function renderAppeal() {
  const a = state.appeal;
  if (!a) return;
  $('appeal-loading').hidden = true;
  $('appeal-body').hidden = false;
  const st = $('appeal-status');
  st.textContent = STATUS_LABELS[a.status] || a.status;
  st.dataset.status = a.status;
  if (a.status_reason) st.append(el('span', { class: 'muted', text: ` — ${a.status_reason}` }));
  if (a.escalated_at) st.append(el('span', { class: 'badge state-busy', text: 'overdue' }));
  $('appeal-deadline').textContent = a.deadline ? dateTime(a.deadline) : '—';
  const c = a.contact || {};
  const parts = [];
  if (c.name) parts.push(state.reveal ? c.name : c.name.slice(0, 1) + '…');
  if (c.phone) parts.push(state.reveal ? c.phone : mask(c.phone, 4));
  if (c.email) parts.push(state.reveal ? c.email : '•••@' + (c.email.split('@')[1] || ''));
  $('appeal-contact').textContent = parts.join(', ') || '—';

  const next = NEXT_STATUS[a.status] || [];
  const sel = $('status-to');
  sel.replaceChildren(...next.map((s) => el('option', { value: s, text: STATUS_LABELS[s] })));
  $('status-form').hidden = next.length === 0;
  $('status-final').hidden = next.length !== 0;
  onStatusChoice();

  $('appeal-history').replaceChildren(...(a.history || []).map((h) =>
    el('li', {}, el('time', { datetime: h.at, text: dateTime(h.at) }),
      el('span', { text: ` ${h.from ? STATUS_LABELS[h.from] + ' → ' : ''}${STATUS_LABELS[h.to] || h.to} by ${h.actor}` }),
      h.reason ? el('span', { class: 'muted', text: ` — ${h.reason}` }) : null)));
  const notes = a.notes || [];
  $('appeal-notes').replaceChildren(...notes.map((n) =>
    el('li', {}, el('time', { datetime: n.at, text: dateTime(n.at) }), el('strong', { text: ` ${n.author}: ` }), el('span', { class: 'pre', text: n.text }))));
  if (!notes.length) $('appeal-notes').append(el('li', { class: 'muted', text: 'No notes yet.' }));
}

function onStatusChoice() {
  const rejected = $('status-to').value === 'rejected';
  $('status-reason-wrap').hidden = !rejected;
  $('status-reason').required = rejected;
}

async function changeStatus(ev) {
  ev.preventDefault();
  const a = state.appeal;
  const to = $('status-to').value;
  const reason = $('status-reason').value.trim();
  if (!a || !to) return;
  if (to === 'rejected' && !reason) {
    flash('A rejection needs a reason the caller will hear.', 'error');
    $('status-reason').focus();
    return;
  }
  $('status-submit').disabled = true;
  try {
    state.appeal = await api('POST', `/appeals/${enc(a.number)}/status`, { to, reason });
    $('status-reason').value = '';
    renderAppeal();
    flash(`Status changed to ${STATUS_LABELS[to]}.`, 'ok');
  } catch (e) {
    flash(`Could not change the status: ${e.message}`, 'error');
    if (e.status === 409) loadAppeal();
  } finally {
    $('status-submit').disabled = false;
  }
}

async function addNote(ev) {
  ev.preventDefault();
  const a = state.appeal;
  const text = $('note-text').value.trim();
  if (!a || !text) return;
  $('note-submit').disabled = true;
  try {
    const n = await api('POST', `/appeals/${enc(a.number)}/notes`, { text });
    a.notes = [...(a.notes || []), n];
    $('note-text').value = '';
    renderAppeal();
  } catch (e) {
    flash(`Could not add the note: ${e.message}`, 'error');
  } finally {
    $('note-submit').disabled = false;
  }
}

function toggleReveal() {
  state.reveal = !state.reveal;
  $('btn-reveal').setAttribute('aria-pressed', String(state.reveal));
  $('btn-reveal').textContent = state.reveal ? 'Hide personal data' : 'Show personal data';
  if (state.work) renderWorkCard();
  renderAppeal();
}

async function sendMessage(ev) {
  ev.preventDefault();
  const text = $('chat-text').value.trim();
  if (!state.work || !text) return;
  $('chat-send').disabled = true;
  try {
    // The turn comes back as a message event, which appends it once.
    await api('POST', `/handoffs/${enc(state.work.id)}/messages`, { text });
    $('chat-text').value = '';
  } catch (e) {
    flash(`Could not send: ${e.message}`, 'error');
  } finally {
    $('chat-send').disabled = false;
    $('chat-text').focus();
  }
}

async function wrapUp(ev) {
  ev.preventDefault();
  if (!state.work) return;
  const reason = $('wrapup-reason').value;
  if (!reason) {
    flash('Choose a wrap-up reason.', 'error');
    $('wrapup-reason').focus();
    return;
  }
  $('wrapup-submit').disabled = true;
  try {
    await api('POST', `/handoffs/${enc(state.work.id)}/wrapup`, { reason, note: $('wrapup-note').value.trim() });
    closeWork();
    flash('Conversation finished.', 'ok');
  } catch (e) {
    flash(`Could not finish: ${e.message}`, 'error');
  } finally {
    $('wrapup-submit').disabled = false;
  }
}

// ---------- supervisor ----------

function renderLive() {
  if (!state.supervisor) return;
  const body = $('live').tBodies[0];
  body.replaceChildren();
  const list = [...state.live.values()].sort((a, b) => new Date(a.enqueued_at) - new Date(b.enqueued_at));
  for (const h of list) {
    body.append(el('tr', { 'data-handoff-id': h.id },
      el('td', { class: 'appeal-number', text: h.appeal_spoken || h.appeal_number || '—' }),
      el('td', { text: h.queue }),
      el('td', { text: h.channel }),
      el('td', { 'data-field': 'state', text: h.state }),
      el('td', { 'data-field': 'agent', text: h.agent || '—' }),
      el('td', { class: 'num' }, waitSpan(h)),
      el('td', {}, el('button', { type: 'button', class: 'reassign', 'aria-label': `Reassign ${h.appeal_spoken || h.id}`, text: 'Reassign', onclick: () => openReassign(h) }))));
  }
  if (!list.length) body.append(el('tr', {}, el('td', { colspan: '7', class: 'muted', text: 'Nobody is waiting.' })));
  if (state.reassignId && !state.live.has(state.reassignId)) $('reassign-form').hidden = true;
}

function fillReassignAgents() {
  const sel = $('reassign-agent');
  const keep = sel.value;
  const opts = [el('option', { value: '', text: '— next free agent —' })];
  for (const a of [...state.agents.values()].sort((x, y) => x.id.localeCompare(y.id))) {
    if (a.connected) opts.push(el('option', { value: a.id, text: `${a.id} (${a.state})` }));
  }
  sel.replaceChildren(...opts);
  sel.value = keep;
}

function openReassign(h) {
  state.reassignId = h.id;
  $('reassign-what').textContent = h.appeal_spoken || h.id;
  fillReassignAgents();
  const qs = $('reassign-queue');
  qs.replaceChildren(el('option', { value: '', text: `— keep ${h.queue} —` }),
    ...state.queues.filter((q) => q.name !== h.queue).map((q) => el('option', { value: q.name, text: q.title || q.name })));
  $('reassign-form').hidden = false;
  $('reassign-agent').focus();
}

async function reassign(ev) {
  ev.preventDefault();
  const agent = $('reassign-agent').value;
  const queue = $('reassign-queue').value;
  if (!agent && !queue) {
    flash('Choose an agent or a queue.', 'error');
    return;
  }
  try {
    await api('POST', `/handoffs/${enc(state.reassignId)}/reassign`, { agent, queue });
    $('reassign-form').hidden = true;
    flash('Reassigned.', 'ok');
  } catch (e) {
    flash(`Could not reassign: ${e.message}`, 'error');
  }
}

// ---------- start ----------

// tick moves the clocks: offer countdown and callers' waits.
function tick() {
  updateCountdown();
  for (const s of document.querySelectorAll('.wait[data-base]')) {
    s.textContent = duration(Number(s.dataset.base) + (Date.now() - Number(s.dataset.since)) / 1000);
  }
}

async function start() {
  let me;
  try {
    me = await api('GET', '/auth/me');
  } catch (e) {
    if (e.status !== 401) setConn(`The server cannot be reached: ${e.message}`, 'bad');
    return;
  }
  state.csrf = me.csrf_token;
  state.me = me.user.username;
  const roles = me.user.roles || [];
  if (!roles.some((r) => ['agent', 'supervisor', 'admin'].includes(r))) {
    setConn('This account has no agent or supervisor role; ask an administrator.', 'bad');
    return;
  }
  state.supervisor = roles.includes('supervisor') || roles.includes('admin');
  $('who').textContent = me.user.display_name || me.user.username;
  $('supervisor').hidden = !state.supervisor;
  document.body.dataset.role = state.supervisor ? 'supervisor' : 'agent';

  $('btn-ready').addEventListener('click', () => setPresence('ready'));
  $('btn-away').addEventListener('click', () => setPresence('away'));
  $('btn-accept').addEventListener('click', accept);
  $('btn-decline').addEventListener('click', decline);
  $('btn-reveal').addEventListener('click', toggleReveal);
  $('status-to').addEventListener('change', onStatusChoice);
  $('status-form').addEventListener('submit', changeStatus);
  $('note-form').addEventListener('submit', addNote);
  $('chat-form').addEventListener('submit', sendMessage);
  $('wrapup-form').addEventListener('submit', wrapUp);
  $('btn-voice-mute').addEventListener('click', toggleMute);
  $('btn-voice-hangup').addEventListener('click', () => {
    hangupVoice(true);
    voiceControls(null, 'You hung up. Wrap up the conversation.');
  });
  $('btn-voice-connect').addEventListener('click', () => { if (state.work) connectVoice(state.work.id); });
  $('reassign-form').addEventListener('submit', reassign);
  $('reassign-cancel').addEventListener('click', () => { $('reassign-form').hidden = true; });
  $('btn-logout').addEventListener('click', async () => {
    try { await api('POST', '/auth/logout'); } catch { /* going to the login page anyway */ }
    toLogin();
  });
  setInterval(tick, 1000);
  connect();
}

start();
