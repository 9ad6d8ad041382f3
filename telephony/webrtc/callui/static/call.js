'use strict';
// The call page: one in-app call to the bot over WebRTC. See callui.go.
(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('status'), error: $('error'), start: $('start'), stop: $('stop'), level: $('level'),
    langs: $('langs'), keypad: $('keypad'), transcript: $('transcript'), partial: $('partial'),
    answer: $('answer'), handoff: $('handoff'), handoffText: $('handoff-text'), typed: $('typed'),
    text: $('text'), send: $('send'), remote: $('remote'), toChat: $('to-chat'),
  };
  let call = null; // {pc, dc, mic, token, location, ctx, timer}

  function setStatus(s) { ui.status.textContent = s; }
  function showError(s) {
    ui.error.textContent = s;
    ui.error.hidden = !s;
  }
  function setActive(on) {
    ui.start.disabled = on;
    ui.stop.disabled = !on;
    ui.toChat.disabled = !on;
    ui.langs.disabled = !on;
    ui.keypad.disabled = !on;
    ui.text.disabled = !on;
    ui.send.disabled = !on;
  }
  function addLine(who, text, cls) {
    const li = document.createElement('li');
    li.className = cls;
    const w = document.createElement('span');
    w.className = 'who';
    w.textContent = who + ': ';
    li.append(w, document.createTextNode(text));
    ui.transcript.append(li);
    li.scrollIntoView({ block: 'nearest' });
  }

  async function problemText(r) {
    try {
      const p = await r.json();
      return p.detail || p.title || `HTTP ${r.status}`;
    } catch { return `HTTP ${r.status}`; }
  }

  // token returns a call token: from the page's #token= (an app's
  // backend issued it), else from the server as the logged-in user or a
  // visitor.
  async function token() {
    const h = new URLSearchParams(location.hash.slice(1));
    if (h.get('token')) return { token: h.get('token'), ice_servers: [] };
    const headers = {};
    try {
      const me = await fetch('/api/v1/auth/me', { credentials: 'same-origin' });
      if (me.ok) headers['X-Hotline-CSRF'] = (await me.json()).csrf_token || '';
    } catch { /* a visitor */ }
    const r = await fetch('/api/v1/calls/token', { method: 'POST', headers, credentials: 'same-origin' });
    if (!r.ok) throw new Error('Could not start the call: ' + await problemText(r));
    return r.json();
  }

  function iceDone(pc, ms) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const t = setTimeout(resolve, ms);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
      });
    });
  }

  function meter(stream) {
    const ctx = new AudioContext();
    const an = ctx.createAnalyser();
    an.fftSize = 1024;
    ctx.createMediaStreamSource(stream).connect(an);
    const buf = new Float32Array(an.fftSize);
    const timer = setInterval(() => {
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      const db = 20 * Math.log10(Math.sqrt(sum / buf.length) + 1e-9); // -90..0
      const v = Math.max(0, Math.min(100, Math.round((db + 70) * 100 / 70)));
      ui.level.value = v;
      ui.level.textContent = String(v);
    }, 100);
    return { ctx, timer };
  }

  function onEvent(ev) {
    switch (ev.type) {
      case 'partial':
        ui.partial.textContent = ev.text || '';
        break;
      case 'final':
        ui.partial.textContent = '';
        addLine('You', ev.text, 'caller');
        break;
      case 'reply': {
        addLine('Hotline', ev.text, 'bot');
        const p = document.createElement('p');
        p.textContent = ev.text;
        ui.answer.replaceChildren(p);
        if (ev.article_id) {
          // The answer came from a knowledge-base article: link its page.
          const a = document.createElement('a');
          a.href = '/kb/' + encodeURIComponent(ev.lang || 'ru') + '/' + encodeURIComponent(ev.article_id);
          a.target = '_blank';
          a.rel = 'noopener';
          a.className = 'article-link';
          a.textContent = 'Read the article';
          const q = document.createElement('p');
          q.append(a);
          ui.answer.append(q);
        }
        break;
      }
      case 'handoff': {
        const min = Math.max(1, Math.round((ev.estimated_wait_seconds || 0) / 60));
        let s = `Connecting you to an operator. Estimated wait: about ${min} min.`;
        if (ev.appeal_number) s += ` Your appeal number is ${ev.appeal_number}.`;
        ui.handoffText.textContent = s;
        ui.handoff.hidden = false;
        setStatus('Connecting you to an operator…');
        break;
      }
      case 'agent':
        ui.handoff.querySelector('h2').textContent = 'You are talking to an operator';
        ui.handoffText.textContent = 'An operator has joined the call.';
        ui.handoff.hidden = false;
        ui.handoff.dataset.agent = 'yes';
        setStatus('Connected to an operator.');
        break;
      case 'end':
        if (ui.handoff.dataset.agent === 'yes') {
          ui.handoff.querySelector('h2').textContent = 'The operator has ended the call';
        } else if (!ui.handoff.hidden) {
          // No operator took the call in it (the desk cannot answer
          // in-app calls yet): the appeal stays with the operators.
          ui.handoff.querySelector('h2').textContent = 'Your appeal is with the operators';
        }
        setStatus('The call has ended.');
        finish(false);
        break;
    }
  }

  function send(obj) {
    if (call && call.dc && call.dc.readyState === 'open') call.dc.send(JSON.stringify(obj));
  }

  async function start() {
    showError('');
    ui.start.disabled = true;
    setStatus('Starting the call…');
    let mic;
    try {
      mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (e) {
      showError('The microphone is not available: ' + e.message + '. You can still use the text chat.');
      ui.start.disabled = false;
      setStatus('');
      return;
    }
    call = { mic };
    try {
      const tok = await token();
      call.token = tok.token;
      const pc = new RTCPeerConnection({ iceServers: tok.ice_servers || [] });
      call.pc = pc;
      mic.getTracks().forEach((t) => pc.addTrack(t, mic));
      call.dc = pc.createDataChannel('events');
      call.dc.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch { /* not ours */ } };
      pc.ontrack = (e) => { ui.remote.srcObject = e.streams[0] || new MediaStream([e.track]); };
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'connected') setStatus('Connected. Speak after the greeting, or choose a language.');
        if (pc.connectionState === 'failed') { showError('The connection was lost.'); finish(false); }
      };
      const m = meter(mic);
      call.ctx = m.ctx;
      call.timer = m.timer;
      await pc.setLocalDescription(await pc.createOffer());
      await iceDone(pc, 3000);
      const r = await fetch('/api/v1/calls', {
        method: 'POST', body: pc.localDescription.sdp,
        headers: { 'Content-Type': 'application/sdp', Authorization: 'Bearer ' + call.token },
      });
      if (!r.ok) {
        const why = await problemText(r);
        throw new Error(r.status === 401 ? 'Your call link has expired or is not valid (' + why + '). Reload the page and try again.'
          : 'The call could not be placed: ' + why);
      }
      call.location = r.headers.get('Location');
      await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
      setActive(true);
      setStatus('Connecting…');
    } catch (e) {
      showError(e.message);
      setStatus('');
      finish(false);
    }
  }

  function finish(hangup) {
    const c = call;
    call = null;
    setActive(false);
    ui.level.value = 0;
    ui.partial.textContent = '';
    if (!c) return;
    if (hangup && c.location) {
      fetch(c.location, { method: 'DELETE', headers: { Authorization: 'Bearer ' + c.token } }).catch(() => {});
    }
    if (c.timer) clearInterval(c.timer);
    if (c.ctx) c.ctx.close();
    if (c.pc) c.pc.close();
    if (c.mic) c.mic.getTracks().forEach((t) => t.stop());
  }

  // The server ends the call and gives a single-use token for the chat,
  // which opens with this conversation as its history.
  async function toChat() {
    const c = call;
    if (!c || !c.location) return;
    ui.toChat.disabled = true;
    setStatus('Moving the conversation to the text chat…');
    try {
      const r = await fetch(c.location + '/chat', { method: 'POST', headers: { Authorization: 'Bearer ' + c.token } });
      if (!r.ok) throw new Error(await problemText(r));
      const j = await r.json();
      finish(false);
      location.assign(j.chat_url);
    } catch (e) {
      showError('Could not switch to the chat: ' + e.message);
      if (call) ui.toChat.disabled = false;
    }
  }

  ui.start.addEventListener('click', start);
  ui.toChat.addEventListener('click', toChat);
  ui.stop.addEventListener('click', () => { finish(true); setStatus('You ended the call.'); });
  for (const b of document.querySelectorAll('[data-digit]')) {
    b.addEventListener('click', () => send({ type: 'dtmf', digit: b.dataset.digit }));
  }
  ui.typed.addEventListener('submit', (e) => {
    e.preventDefault();
    const t = ui.text.value.trim();
    if (!t) return;
    send({ type: 'text', text: t });
    ui.text.value = '';
  });
  window.addEventListener('pagehide', () => finish(true));
})();
