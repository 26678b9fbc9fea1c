// The overview: live tiles (each says what it counts, as a tooltip), charts, recent orders,
// conversations waiting for a person, failed messages, latency. Fed by GET /api/dashboard.
"use strict";
(function (OL) {
  const { $, el, td, sum, money, perChannel } = OL;
  const SVG = "http://www.w3.org/2000/svg";
  const ms = (v) => (v === null || v === undefined ? "–" : Math.round(v) + " ms");

  function tile(name, label, value, shown, sub, tip, alert) {
    return el("div", { class: "tile" + (alert ? " alert" : ""), "data-tile": name, "data-value": value, title: tip,
      tabindex: 0, "aria-label": label + ": " + shown + (sub ? " (" + sub + ")" : "") + ". " + tip },
    el("span", { class: "label" }, label), el("span", { class: "value" }, shown), el("span", { class: "sub" }, sub || ""));
  }

  // The model API refusing requests (bad key, retired model): shown with what the API said, in red
  // while the last refusal is under an hour old; absent when it never happened.
  function modelRefused(n) {
    const last = n.last_config_error;
    if (!n.config_errors || !last) return "";
    const recent = Date.now() / 1000 - last.at < 3600;
    return tile("model_config", "Model refused requests", n.config_errors, n.config_errors,
      last.status + " for " + last.model + ", " + OL.clock(last.at) + ": " + last.message,
      "The model's API refused requests (a wrong key, a retired model, a refused field): fix the settings; " +
      "meanwhile the offline parser reads every line.", recent);
  }

  function renderTiles(s) {
    const c = s.conversations, m = s.messages, o = s.orders, q = s.queues, n = s.nlu, r = o.revenue_cents;
    const f = s.feedback || { ratings: 0, average: null };
    const failed = sum(s.failed_jobs);
    const jobs = q.messages + q.outbound + q.maintenance;
    const waitingWork = q.mailboxes_waiting + q.outbound_pending + jobs;
    $("tiles").replaceChildren(
      tile("conversations", "Conversations", c.total, c.total,
        "active " + c.active + " · completed " + c.completed + " · abandoned " + c.abandoned,
        "Conversations started: a customer's first message, or one after a quiet spell. Active: a message within the " +
        "idle timeout. Completed: reached a placed order (once per conversation). Abandoned: went quiet with a cart."),
      tile("messages_in", "Messages in", sum(m.in), sum(m.in), perChannel(m.in),
        "Customer messages accepted, by channel (duplicates and the shop's own messages not counted)."),
      tile("messages_out", "Messages out", sum(m.out), sum(m.out), perChannel(m.out),
        "Messages said to customers, by channel: replies, order updates and messages the shop sent first."),
      tile("orders_today", "Orders today", o.today, o.today, "cancelled today " + (o.cancelled_today || 0) + " · all time " + o.total,
        "Orders placed since 00:00 UTC, including those cancelled or expired since. All time: every order placed."),
      tile("revenue_today", "Revenue today", r.today, money(r.today),
        "all time " + money(r.total) + " · cancelled today " + money(r.cancelled_today || 0),
        "Value of today's orders (since 00:00 UTC) that were not cancelled or expired, delivery fees included. " +
        "Cancelled and expired orders are shown apart, never in the revenue."),
      tile("ratings", "Ratings", f.ratings, f.average === null ? "–" : f.average.toFixed(1) + " ★", f.ratings + " rated",
        "Customers' ratings (1 to 5) of delivered orders, asked for when an order is marked delivered: the average and how many."),
      tile("handoffs", "Waiting for a person", s.handoffs_waiting, s.handoffs_waiting, "",
        "Conversations where the customer asked for a person and no operator has handed them back yet.", s.handoffs_waiting > 0),
      tile("queues", "Work waiting", waitingWork, waitingWork,
        "mailboxes " + q.mailboxes_waiting + " · replies " + q.outbound_pending + " · jobs " + jobs,
        "Customers with messages not yet processed, recipients with replies not yet sent, and jobs queued for the workers."),
      tile("dead_letters", "Failed messages", s.dead_letters.waiting, s.dead_letters.waiting, "failed jobs " + failed,
        "Messages that could not be processed or delivered, parked for an operator (retry them below); failed jobs: RQ's.",
        s.dead_letters.waiting > 0 || failed > 0),
      tile("duplicates", "Duplicates dropped", sum(m.duplicates_dropped), sum(m.duplicates_dropped), perChannel(m.duplicates_dropped),
        "Messages a channel delivered again (a retried webhook): recognised and dropped, answered once."),
      tile("nlu", "Model calls", n.model_calls, n.model_calls,
        "per order " + (n.calls_per_order === null ? "–" : n.calls_per_order) + " · fallbacks " + n.fallbacks +
        (n.fallbacks ? " (" + perChannel(n.fallback_causes) + ")" : ""),
        "Calls to the language model (readings and translations), and per placed order; fallbacks: lines the " +
        "offline parser read instead (timeout, error, limits...)."),
      modelRefused(n),
      tile("workers", "Workers alive", s.workers_alive, s.workers_alive, "",
        "Worker processes alive now (each says so every few seconds), the in-process worker of `make run` included.",
        s.workers_alive === 0),
      tile("uptime", "Up for", Math.round(s.uptime_seconds), OL.duration(s.uptime_seconds),
        "this process " + OL.duration(s.process_uptime_seconds),
        "Since the first process started against this Redis; and since the process answering this page started."),
    );
    $("latency").tBodies[0].replaceChildren(...Object.entries(s.latency_ms).map(([ch, l]) =>
      el("tr", { "data-channel": ch }, td("Channel", {}, ch), td("Messages", { class: "num" }, l.count),
        td("p50", { class: "num" }, ms(l.p50_ms)), td("p95", { class: "num" }, ms(l.p95_ms)))));
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
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + (H + bottom), role: "img", "aria-label": label,
      preserveAspectRatio: "none" });
    chart.append(svg("line", { x1: 0, y1: H, x2: W, y2: H, stroke: "#dde1e8" }));
    points.forEach((p, i) => {
      p.values.forEach((v, j) => {
        if (!v) return;
        const h = ((H - top) * v) / max;
        const rect = svg("rect", { x: i * slot + 1 + j * bar, y: H - h, width: bar, height: h, fill: colors[j] });
        const tip = svg("title", {});
        tip.textContent = OL.clock(p.t) + ": " + v;
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
      text(0, H + 14, OL.clock(points[0].t));
      text(W, H + 14, OL.clock(points[points.length - 1].t), "end");
    }
    target.replaceChildren(chart);
  }

  function renderCharts(series) {
    barChart($("chart-messages"), series.minutes.map((p) => ({ t: p.t, values: [sum(p.in), sum(p.out)] })),
      ["#2f6fed", "#16a37f"], "Messages per minute");
    barChart($("chart-orders"), series.hours.map((p) => ({ t: p.t, values: [p.orders] })), ["#2f6fed"], "Orders per hour");
  }

  function renderOrders(orders, refresh) {
    $("orders").tBodies[0].replaceChildren(...orders.map((o) =>
      el("tr", { "data-order": o.id, "data-number": o.number },
        td("Order", {}, el("a", { class: "order", href: "#orders/" + o.number }, "#" + o.number)), td("Placed", {}, OL.when(o.created_at)),
        td("Customer", {}, (o.customer || "(erased)") + " ", el("span", { class: "muted small" }, o.phone)),
        td("Channel", {}, o.channel), td("Total", { class: "num" }, money(o.total_cents)),
        td("Slot", { class: "slot" }, o.slot || "—"), td("Payment", { class: "payment" }, o.payment),
        td("Status", {}, OL.statusPill(o.status)),
        td("Rating", { class: "rating" }, o.rating ? el("span", { class: "stars", title: o.rating + " out of 5" }, OL.stars(o.rating)) : "—"),
        td("Move to", {}, OL.moveButtons(o, refresh)))));
  }

  function renderHandoffs(list, refresh) {
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
          el("span", { class: "muted" }, h.channel + " · waiting " + OL.duration(h.waiting_seconds))),
        el("ol", {}, h.messages.map((msg) => el("li", { class: msg.direction }, msg.text))),
        draft,
        el("div", {},
          el("button", { type: "button", "data-action": "reply", onclick: (e) => {
            if (draft.value.trim()) OL.act(e.currentTarget, path + "/reply", { text: draft.value.trim() }, refresh);
          } }, "Send reply"),
          el("button", { type: "button", class: "plain", "data-action": "handback",
            onclick: (e) => OL.act(e.currentTarget, path + "/handback", {}, refresh) }, "Hand back to the bot")));
    }));
    box.querySelectorAll("ol").forEach((ol) => { ol.scrollTop = ol.scrollHeight; }); // newest in view
  }

  function renderDeadLetters(items, waiting, refresh) {
    $("dead-count").textContent = waiting;
    $("dead-letters").tBodies[0].replaceChildren(...items.map((d) =>
      el("tr", { "data-dead-letter": d.id },
        td("When", {}, OL.when(d.at)), td("Kind", {}, d.kind), td("Channel", {}, d.channel), td("To", {}, d.to),
        td("Text", { class: "text" }, d.text), td("Reason", { class: "text" }, d.reason),
        td("", {}, el("button", { type: "button", "data-action": "retry",
          onclick: (e) => OL.act(e.currentTarget, "/api/deadletters/" + encodeURIComponent(d.id) + "/retry", {}, refresh) },
        "Retry")))));
  }

  OL.overview = {
    render(d, refresh) {
      renderTiles(d.stats);
      renderCharts(d.series);
      renderOrders(d.orders, refresh);
      renderHandoffs(d.handoffs, refresh);
      renderDeadLetters(d.dead_letters, d.stats.dead_letters.waiting, refresh);
    },
  };
})(window.OL);
