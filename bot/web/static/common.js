// Orderline operators' console: what every view shares (DOM building, the API with the tab's
// token, money and time formats, the status line). No build step, no library. Customer text
// always goes in with textContent (el() below), never as HTML.
"use strict";
window.OL = (function () {
  const TOKEN_KEY = "orderline.operatorToken";
  const OL = { currency: "USD", actedAt: 0, onUnauthorised: null };

  OL.$ = (id) => document.getElementById(id);
  OL.token = () => sessionStorage.getItem(TOKEN_KEY);
  OL.saveToken = (value) => sessionStorage.setItem(TOKEN_KEY, value);
  OL.dropToken = () => sessionStorage.removeItem(TOKEN_KEY);

  OL.el = function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  // A table cell that says what it holds on a phone, where rows become stacked cards.
  OL.td = (label, attrs, ...children) => OL.el("td", Object.assign({ "data-label": label }, attrs || {}), ...children);

  OL.api = async function api(path, options) {
    options = options || {};
    const headers = { Authorization: "Bearer " + OL.token() };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, {
      method: options.method || "GET", headers, cache: "no-store",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) {
      if (OL.onUnauthorised) OL.onUnauthorised("That token was refused.");
      throw new Error("unauthorised");
    }
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  };

  OL.sum = (obj) => Object.values(obj || {}).reduce((a, b) => a + b, 0);
  OL.money = (cents) => new Intl.NumberFormat(undefined, { style: "currency", currency: OL.currency }).format(cents / 100);
  OL.clock = (t) => new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  OL.when = (t) => new Date(t * 1000).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  OL.perChannel = (obj) => Object.entries(obj || {}).map(([k, v]) => k + " " + v).join(" · ");
  OL.words = (status) => String(status || "").replaceAll("_", " ");
  OL.stars = (rating) => (rating ? "★".repeat(rating) + "☆".repeat(5 - rating) : "");
  OL.statusPill = (status) => OL.el("span", { class: "status " + status }, OL.words(status));

  OL.duration = function duration(seconds) {
    const s = Math.floor(seconds);
    if (s < 120) return s + " s";
    if (s < 7200) return Math.floor(s / 60) + " min";
    if (s < 172800) return Math.floor(s / 3600) + " h";
    return Math.floor(s / 86400) + " days";
  };

  OL.setStatus = function setStatus(text, bad) {
    const s = OL.$("status");
    s.textContent = text;
    s.className = bad ? "error" : "muted";
  };

  // A button's action: disable it, POST, say how it went; `after` refreshes what it changed.
  OL.act = async function act(button, path, body, after) {
    button.disabled = true;
    let result = null;
    try {
      result = await OL.api(path, { method: "POST", body });
      OL.setStatus("Done: " + button.textContent);
    } catch (err) {
      OL.setStatus("Failed: " + err.message, true);
    }
    OL.actedAt = Date.now();
    button.disabled = false;
    if (after) after(result);
    return result;
  };

  // "preparing" -> a button that moves the order there; "cancelled" -> a red Cancel.
  OL.moveButtons = (order, after) => (order.next || []).map((next) => OL.el("button", {
    type: "button", class: next === "cancelled" ? "danger" : "plain", "data-status": next,
    onclick: (e) => OL.act(e.currentTarget, "/api/orders/" + encodeURIComponent(order.id) + "/status", { status: next }, after),
  }, next === "cancelled" ? "Cancel" : OL.words(next)));

  return OL;
})();
