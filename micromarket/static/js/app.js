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

// "Use my location" on the search page: the browser's geolocation fills the hidden lat/lng
// fields (nothing leaves the page until the buyer searches); a radius of 25 km by default.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-locate]");
  if (!button) return;
  const form = button.closest("form");
  const status = form.querySelector("[data-locate-status]");
  if (!navigator.geolocation) {
    status.textContent = "Your browser cannot share its location.";
    return;
  }
  status.textContent = "Finding you…";
  navigator.geolocation.getCurrentPosition(
    (position) => {
      form.querySelector("[name=lat]").value = position.coords.latitude.toFixed(4);
      form.querySelector("[name=lng]").value = position.coords.longitude.toFixed(4);
      const radius = form.querySelector("[name=radius_km]");
      if (!radius.value) radius.value = "25";
      status.textContent = "Using your location.";
      form.requestSubmit();
    },
    () => { status.textContent = "Location not shared; results are not filtered by distance."; },
  );
});
