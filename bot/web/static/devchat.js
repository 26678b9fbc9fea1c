// The dev chat page: talks to /api/chat with the dev token, greets on load, keeps the log in
// localStorage (one per customer), polls /api/notices for what the shop says later (order
// updates, an operator's words, reminders), and shows an inspector line under each message.
// Everything is written with textContent.
"use strict";
(function () {
  const TOKEN = document.body.dataset.token;
  const AUTH = { Authorization: "Bearer " + TOKEN };
  const KEEP = 300; // lines kept per customer
  const NOTICE_MS = 2500;
  const $ = (id) => document.getElementById(id);
  let user = localStorage.getItem("ol-user") || newUser();
  let history = load();
  const seenSms = new Set();

  function newUser() {
    const u = "web-" + Math.random().toString(36).slice(2, 10);
    localStorage.setItem("ol-user", u);
    return u;
  }

  function load() {
    try {
      return JSON.parse(localStorage.getItem("ol-log:" + user) || "[]");
    } catch (err) {
      return [];
    }
  }

  function save() {
    history = history.slice(-KEEP);
    localStorage.setItem("ol-log:" + user, JSON.stringify(history));
  }

  function div(cls, text) {
    const node = document.createElement("div");
    node.className = cls;
    node.textContent = text;
    return node;
  }

  function readingText(r) {
    if (!r) return "reading…";
    const items = (r.items || []).map((i) => (i.action === "add" ? "" : i.action + " ") + i.quantity
      + (i.unit && i.unit !== "each" ? " " + i.unit : "") + " " + i.name);
    const parts = ["state " + r.state + (r.after ? " → " + r.after : ""), "intent " + r.intent];
    if (items.length) parts.push("items: " + items.join(", "));
    if ((r.unknown || []).length) parts.push("unknown: " + r.unknown.join(", "));
    if ((r.ambiguous || []).length) parts.push("ambiguous: " + r.ambiguous.join(", "));
    parts.push("source " + (r.source === "gemini" ? "model (gemini)" : r.source));
    return parts.join(" · ");
  }

  // One line of the log; `entry` is kept as it is shown: {who: me|bot|notice|sms, text, reading?, id?}
  function show(entry) {
    const log = $("log");
    log.appendChild(div("msg " + entry.who, entry.text));
    if (entry.who === "me") {
      const line = div("reading", readingText(entry.reading));
      line.dataset.reading = entry.id || "";
      log.appendChild(line);
    }
    log.scrollTop = log.scrollHeight;
  }

  function add(entry) {
    history.push(entry);
    save();
    show(entry);
    return entry;
  }

  function buttons(list) {
    const quick = $("quick");
    quick.replaceChildren();
    (list || []).forEach((b) => {
      const el = document.createElement("button");
      el.type = "button";
      el.textContent = b;
      el.onclick = () => send(b);
      quick.appendChild(el);
    });
  }

  async function poll(url) {
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const res = await fetch(url, { headers: AUTH });
      if (res.status === 200) return res.json();
    }
    return { replies: ["(still working on it...)"] };
  }

  async function inspect(entry, state, line) {
    try {
      const res = await fetch("/dev/reading/" + encodeURIComponent(entry.id) + "?user_id=" + encodeURIComponent(user), { headers: AUTH });
      if (!res.ok) return;
      entry.reading = Object.assign(await res.json(), { after: state });
      save();
      line.textContent = readingText(entry.reading);
    } catch (err) { /* the inspector is a courtesy */ }
  }

  async function send(text) {
    const mine = add({ who: "me", text });
    const line = $("log").lastChild; // its inspector line, filled in when the worker has read it
    const body = { user_id: user, message: text };
    if ($("vouch").checked) body.phone = $("phone").value.trim();
    const res = await fetch("/api/chat", { method: "POST", headers: Object.assign({ "Content-Type": "application/json" }, AUTH),
      body: JSON.stringify(body) });
    let data = await res.json();
    mine.id = data.message_id;
    if (res.status === 202) data = await poll(data.poll);
    if (data.error && !data.replies) add({ who: "bot", text: "Error: " + data.error });
    (data.replies || []).forEach((r) => add({ who: "bot", text: r }));
    buttons(data.buttons);
    save();
    line.dataset.reading = mine.id || "";
    if (mine.id) inspect(mine, data.state, line);
    checkSms();
  }

  async function checkSms() {
    const data = await (await fetch("/dev/outbox")).json();
    data.messages.reverse().forEach((m) => {
      const k = m.at + m.to;
      if (!seenSms.has(k)) {
        seenSms.add(k);
        add({ who: "sms", text: "SMS to " + m.to + ": " + m.text });
      }
    });
  }

  // What the shop says outside a reply: taken once, kept in the log.
  async function notices() {
    try {
      const res = await fetch("/api/notices?user_id=" + encodeURIComponent(user), { headers: AUTH });
      if (res.ok) (await res.json()).notices.forEach((n) => add({ who: "notice", text: n.text, kind: n.kind }));
    } catch (err) { /* offline for a moment: the next poll takes them */ }
    setTimeout(notices, NOTICE_MS);
  }

  function restore() {
    $("log").replaceChildren();
    history.forEach(show);
    document.body.dataset.restored = String(history.length);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const known = await (await fetch("/dev/outbox")).json();
    known.messages.forEach((m) => seenSms.add(m.at + m.to));
    $("inspect").checked = localStorage.getItem("ol-inspect") === "1";
    $("vouch").checked = localStorage.getItem("ol-vouch") === "1";
    $("phone").value = localStorage.getItem("ol-phone") || $("phone").value;
    $("vouch").onchange = () => localStorage.setItem("ol-vouch", $("vouch").checked ? "1" : "0");
    $("phone").onchange = () => localStorage.setItem("ol-phone", $("phone").value.trim());
    document.body.classList.toggle("inspect", $("inspect").checked);
    $("inspect").onchange = () => {
      localStorage.setItem("ol-inspect", $("inspect").checked ? "1" : "0");
      document.body.classList.toggle("inspect", $("inspect").checked);
    };
    $("form").onsubmit = (e) => {
      e.preventDefault();
      const t = $("text");
      if (t.value.trim()) {
        send(t.value.trim());
        t.value = "";
      }
    };
    $("reset").onclick = () => {
      localStorage.removeItem("ol-log:" + user);
      user = newUser();
      history = [];
      restore();
      buttons([]);
      send("hi");
    };
    restore();
    if (!history.length) send("hi"); // the bot greets a new visitor
    notices();
  });
})();
