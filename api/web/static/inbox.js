// A unit's inbox: open cases with live countdowns to their acceptance or resolution deadline.
"use strict";

let rows = [];

function dueOf(c) {
  if (c.status === "dispatched") return c.accept_by;
  if (c.status === "accepted") return c.resolve_by;
  return null;
}

function render() {
  const now = new Date();
  const body = document.querySelector("#cases tbody");
  body.replaceChildren();
  let overdue = 0;
  for (const c of rows) {
    const due = countdown(dueOf(c), now);
    const late = due.cls.includes("overdue");
    overdue += late;
    const link = el("a", { href: "/cases/" + c.id, text: c.id });
    const priority = el("span", { class: "badge " + c.priority, text: PRIORITY[c.priority] || c.priority });
    body.append(el("tr", { class: late ? "overdue" : "", "data-case": c.id },
      el("td", {}, link, " ", priority),
      el("td", { text: CATEGORY_NAMES[c.category] || c.category }),
      el("td", { text: c.institution_name || "—" }),
      el("td", { text: unitName(c.town) }),
      el("td", { text: unitName(c.handler) }),
      el("td", { text: STATUS[c.status] || c.status }),
      el("td", { class: due.cls, text: due.text })));
  }
  document.getElementById("summary").textContent = "共 " + rows.length + " 件，超时 " + overdue + " 件";
}

async function load() {
  const unit = document.getElementById("unit").value;
  const status = document.getElementById("status").value;
  const query = new URLSearchParams({ limit: "200" });
  if (unit) query.set("unit", unit);
  if (status) query.set("status", status);
  const cases = await api("/api/v1/cases?" + query);
  rows = status ? cases : cases.filter((c) => !["closed", "merged"].includes(c.status));
  render();
}

me.then(async (who) => {
  if (!who) return;
  const units = await loadNames();
  const select = document.getElementById("unit");
  const seesAll = ["operator", "leading-office", "auditor", "admin"].includes(who.role);
  if (seesAll) {
    for (const u of units) select.append(el("option", { value: u.code, text: u.name }));
  } else {
    select.replaceChildren(el("option", { value: who.unit, text: who.unit_name || who.unit }));
    select.disabled = true;
  }
  for (const id of ["unit", "status"]) document.getElementById(id).addEventListener("change", () => load().catch((e) => toast(e.message)));
  await load().catch((e) => toast(e.message));
  setInterval(render, 1000);
  setInterval(() => load().catch(() => {}), 15000);
});
