// Hotline web chat: one WebSocket per page. Every text from the server is
// put on the page with textContent, never as HTML.
(function () {
  "use strict";
  var T = {
    ru: { title: "Онлайн-чат горячей линии", label: "Ваше сообщение", send: "Отправить", bot: "Бот",
          me: "Вы", agent: "Оператор", connecting: "Подключение…", online: "В сети",
          typing: "Бот печатает…", closed: "Чат завершён. Обновите страницу, чтобы начать заново.",
          lost: "Соединение потеряно. Обновите страницу.", handoff: "Передано оператору. Номер обращения: ",
          log: "Сообщения", quick: "Быстрые ответы", history: "Разговор по телефону", caller: "Вы" },
    en: { title: "Hotline online chat", label: "Your message", send: "Send", bot: "Bot",
          me: "You", agent: "Operator", connecting: "Connecting…", online: "Online",
          typing: "The bot is typing…", closed: "The chat has ended. Reload the page to start again.",
          lost: "Connection lost. Please reload the page.", handoff: "Passed to an operator. Appeal number: ",
          log: "Messages", quick: "Quick replies", history: "Your call so far", caller: "You" }
  };
  var params = new URLSearchParams(location.search);
  var lang = (params.get("lang") || "").toLowerCase();
  // ?resume=TOKEN continues an in-app call here (single use): drop it from
  // the address so a reload does not try it again.
  var resume = params.get("resume") || "";
  if (resume) { params.delete("resume"); history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : "")); }
  if (lang !== "ru" && lang !== "en") { lang = ""; }
  var ui = lang || "ru";
  var $ = function (id) { return document.getElementById(id); };
  var log = $("log"), input = $("input"), form = $("form"), status = $("status");
  var ended = false;
  var greeted = false; // the greeting speaks both languages: follow the bot only after it

  function t(key) { return T[ui][key]; }
  function localize() {
    document.documentElement.lang = ui;
    $("chat-title").textContent = t("title");
    $("input-label").textContent = t("label");
    $("send").textContent = t("send");
    log.setAttribute("aria-label", t("log"));
    document.querySelector(".quick").setAttribute("aria-label", t("quick"));
    ["ru", "en"].forEach(function (l) { $("lang-" + l).setAttribute("aria-pressed", String(l === ui)); });
  }
  function add(kind, text) {
    var li = document.createElement("li");
    li.className = kind;
    if (kind === "bot" || kind === "me" || kind === "agent" || /^history /.test(kind)) {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = t(kind.replace(/^history /, ""));
      li.appendChild(who);
    }
    var body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    li.appendChild(body);
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }
  function setStatus(text) { status.textContent = text; }
  function finish(text) {
    ended = true;
    input.disabled = true;
    document.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    setStatus(text);
  }

  var proto = location.protocol === "https:" ? "wss:" : "ws:";
  var base = location.pathname.replace(/\/chat\/?.*$/, "");
  var ws = new WebSocket(proto + "//" + location.host + base + "/api/v1/chat/ws" +
    (lang || resume ? "?" + new URLSearchParams(Object.assign(lang ? { lang: lang } : {}, resume ? { resume: resume } : {})) : ""));
  localize();
  setStatus(t("connecting"));

  function send(obj) {
    if (ws.readyState === WebSocket.OPEN && !ended) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }
  ws.onopen = function () { setStatus(t("online")); input.focus(); };
  ws.onmessage = function (e) {
    var m;
    try { m = JSON.parse(e.data); } catch (err) { return; }
    switch (m.type) {
      case "reply":
        if (greeted && (m.lang === "ru" || m.lang === "en") && m.lang !== ui) { ui = m.lang; localize(); }
        add("bot", m.text || "");
        break;
      case "history":
        if (m.lang === "ru" || m.lang === "en") { ui = m.lang; greeted = true; localize(); }
        add("system", t("history"));
        (m.turns || []).forEach(function (tr) {
          var who = tr.speaker === "caller" ? "caller" : tr.speaker === "agent" ? "agent" : "bot";
          add("history " + who, tr.text || "");
        });
        break;
      case "typing": setStatus(t("typing")); break;
      case "listening": greeted = true; setStatus(t("online")); break;
      case "agent": add("agent", m.text || ""); break;
      case "handoff":
        // grouped as the bot reads it: 123 456 789 0
        add("system", t("handoff") + (m.appeal_number || "").replace(/^(\d{3})(\d{3})(\d{3})(\d)$/, "$1 $2 $3 $4"));
        break;
      case "error": add("error", m.text || ""); setStatus(t("online")); break;
      case "end": finish(t("closed")); break;
    }
  };
  ws.onclose = function () { if (!ended) { finish(t("lost")); } };

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    if (send({ type: "text", text: text })) { add("me", text); input.value = ""; }
  });
  document.querySelectorAll("[data-digits]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (send({ type: "dtmf", digits: b.getAttribute("data-digits") })) { add("me", b.textContent); }
    });
  });
  document.querySelectorAll("[data-lang]").forEach(function (b) {
    b.addEventListener("click", function () {
      var l = b.getAttribute("data-lang");
      lang = l; ui = l; localize();
      send({ type: "language", lang: l });
    });
  });
})();
