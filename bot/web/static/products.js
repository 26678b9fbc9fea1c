// Products: search the catalog, change a price, the stock or whether it is on sale. Checked here
// (a price above zero, stock a whole number for what is counted) and again by the server, which
// audits each change, tells every process at once and tells customers waiting for a restock.
"use strict";
(function (OL) {
  const { $, el, td } = OL;
  const WEIGHED = ["kg", "l"]; // sold in fractions; every other unit is counted
  const MAX_PRICE_CENTS = 100000000, MAX_STOCK = 10000000;

  function problem(p, price, stock) {
    if (!Number.isFinite(price) || price <= 0) return "price must be above zero";
    if (Math.round(price * 100) > MAX_PRICE_CENTS) return "price is too high";
    if (Math.abs(price * 100 - Math.round(price * 100)) > 1e-6) return "price has more than 2 decimals";
    if (!Number.isFinite(stock) || stock < 0) return "stock must be 0 or more";
    if (stock > MAX_STOCK) return "stock is too high";
    if (!WEIGHED.includes(p.unit) && !Number.isInteger(stock)) return p.name + " is counted: stock must be a whole number";
    return null;
  }

  function row(p) {
    const price = el("input", { type: "number", min: "0.01", step: "0.01", inputmode: "decimal", value: (p.price_cents / 100).toFixed(2),
      "aria-label": "Price of " + p.name, name: "price" });
    const stock = el("input", { type: "number", min: "0", step: WEIGHED.includes(p.unit) ? "0.1" : "1", inputmode: "decimal",
      value: p.stock, "aria-label": "Stock of " + p.name, name: "stock" });
    const onSale = el("input", { type: "checkbox", checked: p.available !== false, "aria-label": p.name + " on sale", name: "available" });
    const result = el("span", { class: "row-result", role: "status" });
    const save = el("button", { type: "button", "data-action": "save", disabled: true }, "Save");
    const changed = () => {
      save.disabled = Math.round(Number(price.value) * 100) === p.price_cents && Number(stock.value) === p.stock
        && onSale.checked === (p.available !== false);
      result.textContent = "";
    };
    [price, stock].forEach((i) => i.addEventListener("input", changed));
    onSale.addEventListener("change", changed);
    save.addEventListener("click", async () => {
      const wanted = { price: Number(price.value), stock: Number(stock.value) };
      const bad = price.value === "" || stock.value === "" ? "give a price and a stock" : problem(p, wanted.price, wanted.stock);
      if (bad) {
        result.textContent = bad;
        result.className = "row-result error";
        return;
      }
      const body = {};
      if (Math.round(wanted.price * 100) !== p.price_cents) body.price_cents = Math.round(wanted.price * 100);
      if (wanted.stock !== p.stock) body.stock = wanted.stock;
      if (onSale.checked !== (p.available !== false)) body.available = onSale.checked;
      save.disabled = true;
      try {
        const res = await OL.api("/api/products/" + encodeURIComponent(p.sku), { method: "PATCH", body });
        Object.assign(p, res.product);
        result.textContent = "Saved" + (res.told_back_in_stock ? " · " + res.told_back_in_stock + " waiting customers told" : "");
        result.className = "row-result ok";
      } catch (err) {
        result.textContent = err.message;
        result.className = "row-result error";
        save.disabled = false;
      }
    });
    return el("tr", { "data-sku": p.sku },
      td("Product", {}, el("b", {}, p.name), " ", el("span", { class: "muted small" }, p.sku + (p.category ? " · " + p.category : ""))),
      td("Unit", {}, p.unit), td("Price", { class: "num" }, price), td("Stock", { class: "num" }, stock),
      td("On sale", {}, onSale), td("", {}, save, result));
  }

  let searches = 0;

  async function search() {
    const mine = ++searches; // an older, slower search must not overwrite a newer one (or an edit in progress)
    const q = $("product-q").value.trim();
    let data;
    try {
      data = await OL.api("/api/products?limit=200" + (q ? "&q=" + encodeURIComponent(q) : ""));
    } catch (err) {
      if (mine === searches) $("product-count").textContent = err.message;
      return;
    }
    if (mine !== searches) return;
    $("product-currency").textContent = data.currency;
    $("products").tBodies[0].replaceChildren(...data.products.map(row));
    $("product-count").textContent = data.products.length < data.total
      ? "Showing " + data.products.length + " of " + data.total + ": search to narrow it down."
      : data.total + " products";
  }

  OL.products = {
    show: search,
    init() {
      $("product-search").addEventListener("submit", (e) => {
        e.preventDefault();
        search();
      });
    },
  };
})(window.OL);
