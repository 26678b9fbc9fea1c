// Orderline operators' dashboard: polls GET /api/dashboard and renders it. No build step, no library.
// Every piece of customer text goes in with textContent, never as HTML.
"use strict";
(function () {
  const TOKEN_KEY = "orderline.operatorToken";
  const POLL_MS = 3000;
  const SVG = "http://www.w3.org/2000/svg";
  let timer = null;
  let currency = "USD";
  let actedAt = 0; // an action's result stays on the status line for a few seconds

  const $ = (id) => document.getElementById(id);
  const token = () => sessionStorage.getItem(TOKEN_KEY);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== undefined && value !== null) node.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function api(path, options) {
    options = options || {};
    const headers = { Authorization: "Bearer " + token() };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, {
      method: options.method || "GET", headers, cache: "no-store",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) {
      signOut("That token was refused.");
      throw new Error("unauthorised");
    }
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }

  const sum = (obj) => Object.values(obj || {}).reduce((a, b) => a + b, 0);
  const money = (cents) => new Intl.NumberFormat(undefined, { style: "currency", currency }).format(cents / 100);
  const clock = (t) => new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const when = (t) => new Date(t * 1000).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  const perChannel = (obj) => Object.entries(obj || {}).map(([k, v]) => k + " " + v).join(" · ");
  const ms = (v) => (v === null || v === undefined ? "–" : Math.round(v) + " ms");

  function duration(seconds) {
    const s = Math.floor(seconds);
    if (s < 120) return s + " s";
    if (s < 7200) return Math.floor(s / 60) + " min";
    if (s < 172800) return Math.floor(s / 3600) + " h";
    return Math.floor(s / 86400) + " days";
  }

  function tile(name, label, value, shown, sub, alert) {
    return el("div", { class: "tile" + (alert ? " alert" : ""), "data-tile": name, "data-value": value },
      el("span", { class: "label" }, label), el("span", { class: "value" }, shown), el("span", { class: "sub" }, sub || ""));
  }

  function renderTiles(s) {
    const c = s.conversations, m = s.messages, o = s.orders, q = s.queues, n = s.nlu;
    const failed = sum(s.failed_jobs);
    const waitingWork = q.mailboxes_waiting + q.outbound_pending + q.messages + q.outbound + q.maintenance;
    $("tiles").replaceChildren(
      tile("conversations", "Conversations", c.total, c.total,
        "active " + c.active + " · completed " + c.completed + " · abandoned " + c.abandoned),
      tile("messages_in", "Messages in", sum(m.in), sum(m.in), perChannel(m.in)),
      tile("messages_out", "Messages out", sum(m.out), sum(m.out), perChannel(m.out)),
      tile("orders_today", "Orders today", o.today, o.today, "total " + o.total + " · cancelled " + o.cancelled),
      tile("revenue_today", "Revenue today", o.revenue_cents.today, money(o.revenue_cents.today),
        "total " + money(o.revenue_cents.total)),
      tile("handoffs", "Waiting for a person", s.handoffs_waiting, s.handoffs_waiting, "", s.handoffs_waiting > 0),
      tile("queues", "Work waiting", waitingWork, waitingWork,
        "mailboxes " + q.mailboxes_waiting + " · replies " + q.outbound_pending + " · jobs " + (q.messages + q.outbound + q.maintenance)),
      tile("dead_letters", "Failed messages", s.dead_letters.waiting, s.dead_letters.waiting,
        "failed jobs " + failed, s.dead_letters.waiting > 0 || failed > 0),
      tile("duplicates", "Duplicates dropped", sum(m.duplicates_dropped), sum(m.duplicates_dropped), perChannel(m.duplicates_dropped)),
      tile("nlu", "Model calls", n.model_calls, n.model_calls,
        "per order " + (n.calls_per_order === null ? "–" : n.calls_per_order) + " · fallbacks " + n.fallbacks +
        (n.fallbacks ? " (" + perChannel(n.fallback_causes) + ")" : "")),
      modelRefused(n),
      tile("workers", "Workers alive", s.workers_alive, s.workers_alive, "", s.workers_alive === 0),
      tile("uptime", "Up for", Math.round(s.uptime_seconds), duration(s.uptime_seconds), "this process " + duration(s.process_uptime_seconds)),
    );
    $("latency").tBodies[0].replaceChildren(...Object.entries(s.latency_ms).map(([ch, l]) =>
      el("tr", { "data-channel": ch }, el("td", {}, ch), el("td", { class: "num" }, l.count),
        el("td", { class: "num" }, ms(l.p50_ms)), el("td", { class: "num" }, ms(l.p95_ms)))));
  }

  // The model API refusing requests (bad key, retired model): shown with what the API said, in red
  // while the last refusal is under an hour old; absent when it never happened.
  function modelRefused(n) {
    const last = n.last_config_error;
    if (!n.config_errors || !last) return "";
    const recent = Date.now() / 1000 - last.at < 3600;
    return tile("model_config", "Model refused requests", n.config_errors, n.config_errors,
      last.status + " for " + last.model + ", " + clock(last.at) + ": " + last.message, recent);
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  // Bars per time bucket; several series side by side. points: [{t, values: [..]}]
  function barChart(target, points, colors, label) {
    const W = 600, H = 150, top = 14, bottom = 18;
    const max = Math.max(1, ...points.flatMap((p) => p.values));
    const slot = W / points.length, bar = Math.max(1, (slot - 2) / colors.length);
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + (H + bottom), role: "img", "aria-label": label });
    chart.append(svg("line", { x1: 0, y1: H, x2: W, y2: H, stroke: "#dde1e8" }));
    points.forEach((p, i) => {
      p.values.forEach((v, j) => {
        if (!v) return;
        const h = ((H - top) * v) / max;
        const rect = svg("rect", { x: i * slot + 1 + j * bar, y: H - h, width: bar, height: h, fill: colors[j] });
        const tip = svg("title", {});
        tip.textContent = clock(p.t) + ": " + v;
        rect.append(tip);
        chart.append(rect);
      });
    });
    const text = (x, y, s, anchor) => {
      const t = svg("text", { x, y, "font-size": 11, fill: "#5b6475", "text-anchor": anchor || "start" });
      t.textContent = s;
      chart.append(t);
    };
    text(2, 11, "max " + max);
    if (points.length) {
      text(0, H + 14, clock(points[0].t));
      text(W, H + 14, clock(points[points.length - 1].t), "end");
    }
    target.replaceChildren(chart);
  }

  function renderCharts(series) {
    barChart($("chart-messages"), series.minutes.map((p) => ({ t: p.t, values: [sum(p.in), sum(p.out)] })),
      ["#2f6fed", "#16a37f"], "Messages per minute");
    barChart($("chart-orders"), series.hours.map((p) => ({ t: p.t, values: [p.orders] })), ["#2f6fed"], "Orders per hour");
  }

  async function act(button, path, body) {
    button.disabled = true;
    try {
      await api(path, { method: "POST", body });
      setStatus("Done: " + button.textContent);
    } catch (err) {
      setStatus("Failed: " + err.message, true);
    }
    actedAt = Date.now();
    refresh();
  }

  function renderOrders(orders) {
    $("orders").tBodies[0].replaceChildren(...orders.map((o) =>
      el("tr", { "data-order": o.id },
        el("td", {}, "#" + o.number), el("td", {}, when(o.created_at)),
        el("td", {}, (o.customer || "(erased)") + " ", el("span", { class: "muted small" }, o.phone)),
        el("td", {}, o.channel), el("td", { class: "num" }, money(o.total_cents)),
        el("td", { class: "slot" }, o.slot || "—"), el("td", { class: "payment" }, o.payment),
        el("td", {}, el("span", { class: "status " + o.status }, o.status.replaceAll("_", " "))),
        el("td", {}, o.next.map((next) => el("button", {
          type: "button", class: next === "cancelled" ? "danger" : "plain", "data-status": next,
          onclick: (e) => act(e.currentTarget, "/api/orders/" + encodeURIComponent(o.id) + "/status", { status: next }),
        }, next === "cancelled" ? "Cancel" : next.replaceAll("_", " "))))),
    ));
  }

  function renderHandoffs(list) {
    $("handoff-count").textContent = list.length;
    const box = $("handoffs");
    if (box.contains(document.activeElement) && document.activeElement.tagName === "TEXTAREA") return; // typing
    if (!list.length) {
      box.replaceChildren(el("p", { class: "muted" }, "Nobody is waiting."));
      return;
    }
    box.replaceChildren(...list.map((h) => {
      const path = "/api/handoffs/" + encodeURIComponent(h.key);
      const draft = el("textarea", { "aria-label": "Reply to " + (h.name || h.channel), maxlength: 1600 });
      return el("div", { class: "handoff", "data-key": h.key },
        el("div", {}, el("span", { class: "who" }, h.name || "(not registered)"), " ",
          el("span", { class: "muted" }, h.channel + " · waiting " + duration(h.waiting_seconds))),
        el("ol", {}, h.messages.map((msg) => el("li", { class: msg.direction }, msg.text))),
        draft,
        el("div", {},
          el("button", { type: "button", "data-action": "reply", onclick: (e) => {
            if (draft.value.trim()) act(e.currentTarget, path + "/reply", { text: draft.value.trim() });
          } }, "Send reply"),
          el("button", { type: "button", class: "plain", "data-action": "handback",
            onclick: (e) => act(e.currentTarget, path + "/handback", {}) }, "Hand back to the bot")));
    }));
    box.querySelectorAll("ol").forEach((ol) => { ol.scrollTop = ol.scrollHeight; }); // newest in view
  }

  function renderDeadLetters(items, waiting) {
    $("dead-count").textContent = waiting;
    $("dead-letters").tBodies[0].replaceChildren(...items.map((d) =>
      el("tr", { "data-dead-letter": d.id },
        el("td", {}, when(d.at)), el("td", {}, d.kind), el("td", {}, d.channel), el("td", {}, d.to),
        el("td", { class: "text" }, d.text), el("td", { class: "text" }, d.reason),
        el("td", {}, el("button", { type: "button", "data-action": "retry",
          onclick: (e) => act(e.currentTarget, "/api/deadletters/" + encodeURIComponent(d.id) + "/retry", {}) }, "Retry")))));
  }

  function setStatus(text, bad) {
    const s = $("status");
    s.textContent = text;
    s.className = bad ? "error" : "muted";
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const d = await api("/api/dashboard");
      currency = d.stats.orders.currency || currency;
      renderTiles(d.stats);
      renderCharts(d.series);
      renderOrders(d.orders);
      renderHandoffs(d.handoffs);
      renderDeadLetters(d.dead_letters, d.stats.dead_letters.waiting);
      document.body.dataset.loaded = String(d.stats.generated_at);
      if (Date.now() - actedAt > 4000) setStatus("Updated " + new Date().toLocaleTimeString());
    } catch (err) {
      if (err.message !== "unauthorised") setStatus("Could not refresh: " + err.message, true);
    }
    if (token()) timer = setTimeout(refresh, POLL_MS);
  }

  function signIn(value) {
    sessionStorage.setItem(TOKEN_KEY, value);
    $("login").hidden = true;
    $("board").hidden = false;
    $("sign-out").hidden = false;
    refresh();
  }

  function signOut(reason) {
    clearTimeout(timer);
    sessionStorage.removeItem(TOKEN_KEY);
    $("board").hidden = true;
    $("sign-out").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = reason || "";
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const value = $("token").value.trim();
      $("token").value = "";
      if (value) signIn(value);
    });
    $("sign-out").addEventListener("click", () => signOut(""));
    if (token()) signIn(token());
  });
})();
