// Orderline operators' console: signing in, the views (#overview, #orders, #orders/<number>,
// #products) and the 3-second poll of GET /api/dashboard that keeps the overview live and notices
// new orders. The views themselves are overview.js, orders.js and products.js.
"use strict";
(function (OL) {
  const { $ } = OL;
  const POLL_MS = 3000;
  const VIEWS = ["overview", "orders", "products"];
  let timer = null;

  async function refresh() {
    clearTimeout(timer);
    try {
      const d = await OL.api("/api/dashboard");
      OL.currency = d.stats.orders.currency || OL.currency;
      OL.overview.render(d, refresh);
      OL.orders.noticeOrders(d.orders);
      OL.orders.refreshResults();
      document.body.dataset.loaded = String(d.stats.generated_at);
      if (Date.now() - OL.actedAt > 4000) OL.setStatus("Updated " + new Date().toLocaleTimeString());
    } catch (err) {
      if (err.message !== "unauthorised") OL.setStatus("Could not refresh: " + err.message, true);
    }
    if (OL.token()) timer = setTimeout(refresh, POLL_MS);
  }

  function route() {
    const [view, ref] = (location.hash.replace(/^#/, "") || "overview").split("/");
    const shown = VIEWS.includes(view) ? view : "overview";
    for (const v of VIEWS) $("view-" + v).hidden = v !== shown;
    document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === shown));
    document.body.dataset.view = shown;
    if (shown === "orders") OL.orders.show(ref ? decodeURIComponent(ref) : null);
    if (shown === "products") OL.products.show();
  }

  function signIn(value) {
    OL.saveToken(value);
    $("login").hidden = true;
    for (const id of ["board", "nav", "alerts", "sign-out"]) $(id).hidden = false;
    route();
    refresh();
  }

  function signOut(reason) {
    clearTimeout(timer);
    OL.dropToken();
    OL.orders.reset();
    for (const id of ["board", "nav", "alerts", "sign-out"]) $(id).hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = reason || "";
  }

  OL.onUnauthorised = signOut;

  document.addEventListener("DOMContentLoaded", () => {
    OL.orders.init();
    OL.products.init();
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const value = $("token").value.trim();
      $("token").value = "";
      if (value) signIn(value);
    });
    $("sign-out").addEventListener("click", () => signOut(""));
    window.addEventListener("hashchange", () => { if (OL.token()) route(); });
    if (OL.token()) signIn(OL.token());
  });
})(window.OL);
