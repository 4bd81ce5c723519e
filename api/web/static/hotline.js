// The hotline desk: categories and towns from the API, institution search as you type.
"use strict";

const form = document.getElementById("intake");
const found = new Map(); // name shown in the list -> institution

async function loadChoices() {
  const [categories, units] = await Promise.all([api("/api/v1/catalogue"), api("/api/v1/units")]);
  const category = document.getElementById("category");
  for (const c of categories) {
    if (c.code === "banned-person" || c.code === "video-alarm") continue; // not from callers
    category.append(el("option", { value: c.code, text: c.name }));
  }
  const town = document.getElementById("town");
  for (const u of units) {
    if (["town", "street", "zone"].includes(u.kind)) town.append(el("option", { value: u.code, text: u.name }));
  }
}

let searching = null;
document.getElementById("institution").addEventListener("input", (event) => {
  const q = event.target.value.trim();
  const chosen = found.get(q);
  document.getElementById("institution_id").value = chosen ? chosen.id : "";
  if (chosen) { document.getElementById("town").value = chosen.town; return; }
  clearTimeout(searching);
  if (q.length < 1) return;
  searching = setTimeout(async () => {
    const list = await api("/api/v1/institutions?q=" + encodeURIComponent(q));
    const datalist = document.getElementById("institutions");
    datalist.replaceChildren();
    for (const i of list) {
      found.set(i.name, i);
      datalist.append(el("option", { value: i.name, text: i.town_name }));
    }
  }, 200);
});

document.getElementById("anonymous").addEventListener("change", (event) => {
  for (const id of ["caller_name", "caller_phone"]) document.getElementById(id).disabled = event.target.checked;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const anonymous = document.getElementById("anonymous").checked;
  const name = document.getElementById("caller_name").value.trim();
  const phone = document.getElementById("caller_phone").value.trim();
  const body = {
    channel: "hotline",
    category: document.getElementById("category").value,
    town: document.getElementById("town").value,
    institution_id: document.getElementById("institution_id").value || null,
    institution_name: document.getElementById("institution").value.trim() || null,
    description: document.getElementById("description").value.trim(),
    anonymous,
    complainant: anonymous || !(name || phone) ? null : { name: name || null, phone: phone || null },
  };
  const button = document.getElementById("submit");
  button.disabled = true;
  try {
    const accepted = await api("/api/v1/complaints", { method: "POST", json: body });
    document.getElementById("ticket-case").textContent = accepted.case_id;
    document.getElementById("ticket-code").textContent = accepted.tracking_code;
    form.hidden = true;
    document.getElementById("ticket").hidden = false;
  } catch (e) {
    const details = e.data && e.data.error && Array.isArray(e.data.error.details)
      ? "：" + e.data.error.details.map((d) => d.field + " " + d.problem).join("；") : "";
    toast(e.message + details);
  } finally {
    button.disabled = false;
  }
});

document.getElementById("another").addEventListener("click", () => {
  form.reset();
  form.hidden = false;
  document.getElementById("ticket").hidden = true;
});

me.then((who) => { if (who) loadChoices().catch((e) => toast(e.message)); });
