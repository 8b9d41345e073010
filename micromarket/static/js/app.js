// micromarket's own small script (loaded after htmx; no inline scripts, the CSP forbids them).

// Keep URLs of GET forms short and shareable: leave out empty fields, and the price currency
// when no price is given.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb !== "get") return;
  const params = event.detail.parameters;
  for (const key of Array.from(params.keys ? params.keys() : Object.keys(params))) {
    const value = params.get ? params.get(key) : params[key];
    if (value === "" || value === null || value === undefined) {
      params.delete ? params.delete(key) : delete params[key];
    }
  }
  const has = (k) => (params.has ? params.has(k) : k in params);
  if (!has("price_min") && !has("price_max")) {
    params.delete ? params.delete("currency") : delete params.currency;
  }
  if (has("sort") && (params.get ? params.get("sort") : params.sort) === "best") {
    params.delete ? params.delete("sort") : delete params.sort;
  }
});
