// Orders: find one (number, phone or its last digits, status, day, delivery slot), open it (what to
// pack, where, for whom; the customer's full phone is shown here only, and the server audits each
// view), note on it, move it on, print its packing slip. And the alert for a new order (a chime
// and the count in the tab's title, each optional).
"use strict";
(function (OL) {
  const { $, el, td, money } = OL;
  const ALERTS_KEY = "orderline.alerts";
  let current = null; // the order open in the detail panel
  let lastNumber = null; // the newest order number seen: anything above it is new
  let unseen = 0;
  let searches = 0; // searches started
  let audio = null;

  // -- search ---------------------------------------------------------------------------------
  function query() {
    const params = new URLSearchParams();
    let q = $("order-q").value.trim();
    const digits = q.replace(/[^\d]/g, "");
    if (/^[+\d\s().-]+$/.test(q) && digits.length > 8) q = digits.slice(-8); // a full phone never goes in a URL
    if (q) params.set("q", q);
    for (const [id, name] of [["order-status", "status"], ["order-date", "date"], ["order-slot", "slot"]]) {
      if ($(id).value) params.set(name, $(id).value);
    }
    params.set("limit", "100");
    return params;
  }

  async function search() {
    const mine = ++searches; // a slower, older search must not overwrite a newer one's results
    $("order-error").textContent = "";
    let data;
    try {
      data = await OL.api("/api/orders?" + query().toString());
    } catch (err) {
      if (mine === searches) $("order-error").textContent = err.message;
      return;
    }
    if (mine !== searches) return;
    renderResults(data.orders);
    const q = $("order-q").value.trim().replace(/^#/, "");
    if (/^\d{1,6}$/.test(q) && data.orders.length === 1 && String(data.orders[0].number) === q) open(q); // found by number
  }

  function rememberSlots(orders) {
    const select = $("order-slot");
    const known = new Set([...select.options].map((o) => o.value));
    for (const o of orders) {
      if (o.slot && o.slot.id && !known.has(o.slot.id)) {
        known.add(o.slot.id);
        select.append(el("option", { value: o.slot.id }, o.slot.label || o.slot.when || o.slot.id));
      }
    }
  }

  function renderResults(orders) {
    rememberSlots(orders);
    $("order-count").textContent = orders.length ? orders.length + " found" : "No order matches.";
    $("order-results").tBodies[0].replaceChildren(...orders.map((o) => el("tr", {
      class: "found", tabindex: 0, "data-order": o.id, "data-number": o.number,
      onclick: () => open(o.number), onkeydown: (e) => { if (e.key === "Enter") open(o.number); },
    },
    td("Order", {}, el("a", { class: "order", href: "#orders/" + o.number }, "#" + o.number)), td("Placed", {}, OL.when(o.created_at)),
    td("Customer", {}, (o.customer_name || "(erased)") + " ", el("span", { class: "muted small" }, o.phone || "")),
    td("Total", { class: "num" }, money(o.total_cents)), td("Slot", {}, (o.slot && (o.slot.label || o.slot.when)) || "—"),
    td("Status", {}, OL.statusPill(o.status)),
    td("Rating", {}, o.feedback ? el("span", { class: "stars" }, OL.stars(o.feedback.rating)) : "—"))));
  }

  // -- one order --------------------------------------------------------------------------------
  async function open(ref) {
    if (location.hash !== "#orders/" + ref) history.replaceState(null, "", "#orders/" + ref);
    const box = $("order-detail");
    try {
      current = (await OL.api("/api/orders/" + encodeURIComponent(ref))).order;
    } catch (err) {
      box.hidden = false;
      box.replaceChildren(el("p", { class: "error" }, "Order " + ref + ": " + err.message));
      return;
    }
    renderDetail(current);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  function fact(label, ...value) {
    return [el("dt", {}, label), el("dd", {}, ...value)];
  }

  function linesTable(o) {
    const rows = o.lines.map((l) => el("tr", { "data-sku": l.sku },
      td("Product", {}, l.name), td("Quantity", { class: "num" }, l.quantity + (l.unit === "each" ? "" : " " + l.unit)),
      td("Price", { class: "num" }, money(l.price_cents) + (l.unit === "each" ? "" : "/" + l.unit)),
      td("Line", { class: "num" }, money(l.total_cents))));
    const foot = (label, cents, cls) => el("tr", { class: cls }, el("td", { colspan: 3 }, label), el("td", { class: "num" }, money(cents)));
    return el("table", { class: "lines rows" },
      el("thead", {}, el("tr", {}, el("th", {}, "Product"), el("th", { class: "num" }, "Quantity"), el("th", { class: "num" }, "Price"),
        el("th", { class: "num" }, "Line"))),
      el("tbody", {}, rows),
      el("tfoot", {}, foot("Items", o.items_cents ?? o.total_cents), foot("Delivery fee", o.delivery_fee_cents || 0, "fee"),
        foot("Total", o.total_cents, "total")));
  }

  function notesBlock(o) {
    const text = el("textarea", { maxlength: 500, "aria-label": "Note on order " + o.number, placeholder: "A note for whoever packs or delivers it" });
    return el("div", { class: "notes" }, el("h3", {}, "Notes"),
      el("ul", {}, (o.notes || []).map((n) => el("li", {}, n.text, " ", el("span", { class: "muted small" }, "— " + n.by + ", " + OL.when(n.at))))),
      text, el("button", { type: "button", class: "plain", "data-action": "note", onclick: async (e) => {
        if (!text.value.trim()) return;
        await OL.act(e.currentTarget, "/api/orders/" + encodeURIComponent(o.id) + "/notes", { text: text.value.trim() });
        open(o.number);
      } }, "Add note"));
  }

  function renderDetail(o) {
    const slot = o.slot ? (o.slot.label || o.slot.when) : "no slot";
    const fb = o.feedback;
    $("order-detail").replaceChildren(
      el("div", { class: "detail-head" }, el("h2", {}, "Order #" + o.number), OL.statusPill(o.status),
        el("span", { class: "muted" }, "placed " + OL.when(o.created_at) + " on " + o.channel)),
      el("dl", { class: "facts" },
        fact("Customer", o.customer_name || "(erased)"),
        fact("Phone", o.phone ? el("a", { href: "tel:" + o.phone, class: "phone" }, o.phone) : "—"),
        fact("Deliver to", o.address || "—"),
        fact("Delivery slot", slot),
        fact("Payment", OL.paymentWords(o.payment)),
        fact("Rating", fb ? el("span", { class: "stars" }, OL.stars(fb.rating) + " " + fb.rating + "/5") : "not rated yet",
          fb && fb.comment ? el("div", { class: "muted" }, "“" + fb.comment + "”") : null)),
      el("h3", {}, "To pack"), linesTable(o),
      notesBlock(o),
      el("h3", {}, "History"),
      el("ol", { class: "history" }, (o.history || []).map((h) => el("li", {}, OL.statusPill(h.status), " ",
        OL.when(h.at), " · by ", el("b", {}, h.by || "—")))),
      el("div", { class: "actions" },
        el("button", { type: "button", "data-action": "print", onclick: () => printSlip(o) }, "Print packing slip"),
        OL.moveButtons(o, () => open(o.number))));
  }

  OL.paymentWords = function (pay) {
    if (!pay || pay.method === "on_delivery") return "on delivery" + (pay && pay.fallback ? " (link failed)" : "");
    return "online · " + ({ pending: "waiting", paid_after_release: "paid after release (refund)" }[pay.status] || pay.status);
  };

  // -- the packing slip ---------------------------------------------------------------------------
  function printSlip(o) {
    const collect = o.payment && o.payment.method === "online" && o.payment.status === "paid" ? "Paid online" : "Collect " + money(o.total_cents);
    $("slip").replaceChildren(
      el("h1", {}, "Order #" + o.number),
      el("p", {}, document.body.dataset.shop + " · placed " + OL.when(o.created_at)),
      el("div", { class: "where" }, el("b", {}, o.customer_name || ""), "\n", o.address || "", "\n", o.phone || "",
        "\nSlot: ", o.slot ? (o.slot.label || o.slot.when) : "none"),
      el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "Product"), el("th", { class: "num" }, "Quantity"))),
        el("tbody", {}, o.lines.map((l) => el("tr", {}, el("td", {}, el("span", { class: "box" })), el("td", {}, l.name),
          el("td", { class: "num" }, l.quantity + (l.unit === "each" ? "" : " " + l.unit)))))),
      (o.notes || []).length ? el("p", {}, el("b", {}, "Notes: "), o.notes.map((n) => n.text).join(" · ")) : null,
      el("p", {}, el("b", {}, collect), " · " + o.lines.length + " lines"));
    document.body.dataset.printed = String(o.number);
    window.print();
  }

  // -- a new order: a chime and the title's count (each optional) -------------------------------------
  function alerts() {
    try {
      return Object.assign({ badge: true, sound: false }, JSON.parse(localStorage.getItem(ALERTS_KEY) || "{}"));
    } catch (err) {
      return { badge: true, sound: false };
    }
  }

  function chime() {
    if (!audio) return;
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.4);
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  }

  function showUnseen() {
    const base = document.body.dataset.shop + " · Orderline operators";
    const a = alerts();
    document.title = unseen && a.badge ? "(" + unseen + ") " + base : base;
    $("new-orders").textContent = unseen;
    $("new-orders").hidden = !unseen || !a.badge;
  }

  function seen() {
    unseen = 0;
    showUnseen();
  }

  OL.orders = {
    // Every poll: the newest orders; a number above the last one seen is a new order.
    noticeOrders(orders) {
      const newest = orders.reduce((m, o) => Math.max(m, Number(o.number)), 0);
      if (lastNumber === null) {
        lastNumber = newest;
        return;
      }
      const fresh = orders.filter((o) => Number(o.number) > lastNumber).length;
      lastNumber = Math.max(lastNumber, newest);
      if (!fresh) return;
      unseen += fresh;
      if (alerts().sound) chime();
      showUnseen();
    },
    show(ref) {
      seen();
      if (ref) open(ref);
      else search();
    },
    refreshResults() {
      const typing = document.activeElement && document.activeElement.closest("#order-search, #order-detail");
      if (!$("view-orders").hidden && $("order-detail").hidden && !typing) search();
    },
    reset() {
      lastNumber = null;
      current = null;
      seen();
    },
    init() {
      $("order-search").addEventListener("submit", (e) => {
        e.preventDefault();
        history.replaceState(null, "", "#orders");
        $("order-detail").hidden = true;
        search();
      });
      const a = alerts();
      $("notify-badge").checked = a.badge;
      $("notify-sound").checked = a.sound;
      const save = () => {
        localStorage.setItem(ALERTS_KEY, JSON.stringify({ badge: $("notify-badge").checked, sound: $("notify-sound").checked }));
        if ($("notify-sound").checked && !audio && window.AudioContext) audio = new AudioContext(); // needs this click
        showUnseen();
      };
      $("notify-badge").addEventListener("change", save);
      $("notify-sound").addEventListener("change", save);
      window.addEventListener("focus", seen);
      // a browser plays sound only after a click on the page: the first one, if the chime is on
      document.addEventListener("click", () => {
        if (alerts().sound && !audio && window.AudioContext) audio = new AudioContext();
      });
    },
  };
})(window.OL);
