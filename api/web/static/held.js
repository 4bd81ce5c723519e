// Open311 requests held for the hotline centre (their place maps to no town): read the place
// and the description, choose the town, dispatch. The request then becomes a case under the
// number its sender already has.
"use strict";

const JURISDICTION_KINDS = ["town", "street", "zone"];

function place(r) {
  const parts = [];
  if (r.address_string) parts.push(r.address_string);
  if (r.lat !== null && r.long !== null) parts.push("坐标 " + r.lat.toFixed(5) + "，" + r.long.toFixed(5));
  return parts.join("；") || "未提供";
}

// Only web addresses become links: a client's media_url is not trusted to be one.
function photos(urls) {
  const links = urls.filter((u) => /^https?:\/\//i.test(u))
    .map((u, i) => el("a", { href: u, target: "_blank", rel: "noopener noreferrer", text: "照片" + (i + 1) }));
  return links.length ? el("span", {}, ...links.flatMap((a, i) => (i ? [" ", a] : [a]))) : "无";
}

function showEmpty() {
  const rows = document.querySelectorAll("#held tbody tr").length;
  document.getElementById("held").hidden = rows === 0;
  document.getElementById("empty").hidden = rows > 0;
}

async function dispatch(row, request, select, button) {
  if (!select.value) { toast("请先选择承办的镇（街道、园区）。"); select.focus(); return; }
  button.disabled = true;
  try {
    const path = "/api/v1/open311/held/" + encodeURIComponent(request.service_request_id) + "/dispatch";
    const answer = await api(path, { method: "POST", json: { town: select.value } });
    toast(answer.message, "info");
    row.remove();
  } catch (e) {
    button.disabled = false;
    toast(e.message);
    if (e.status === 409 || e.status === 404) row.remove(); // another operator dispatched it
  }
  showEmpty();
}

function render(held, units) {
  const towns = units.filter((u) => JURISDICTION_KINDS.includes(u.kind));
  const rows = held.map((r) => {
    const select = el("select", { "aria-label": "承办单位", "data-request": r.service_request_id },
      el("option", { value: "", text: "请选择" }), ...towns.map((u) => el("option", { value: u.code, text: u.name })));
    const button = el("button", { type: "button", "data-request": r.service_request_id, text: "分派" });
    const row = el("tr", { "data-request": r.service_request_id },
      el("td", { text: r.service_request_id }), el("td", { text: beijing(r.received_at) }),
      el("td", { text: CATEGORY_NAMES[r.category] || r.category }), el("td", { class: "description", text: r.description }),
      el("td", { text: place(r) }), el("td", {}, photos(r.media_urls)), el("td", {}, select, " ", button));
    button.addEventListener("click", () => dispatch(row, r, select, button));
    return row;
  });
  document.querySelector("#held tbody").replaceChildren(...rows);
  showEmpty();
}

me.then(async (who) => {
  if (!who) return;
  try {
    const units = await loadNames();
    render(await api("/api/v1/open311/held"), units);
  } catch (e) {
    failed(e);
  }
});
