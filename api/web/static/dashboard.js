// The leading group office's dashboard: rates per unit, cases over time, the 2025 targets.
"use strict";

const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });

async function draw() {
  const start = document.getElementById("start").value;
  const end = document.getElementById("end").value;
  const [stats, timeline, targets] = await Promise.all([
    api("/api/v1/statistics?" + new URLSearchParams({ start, end })),
    api("/api/v1/statistics/timeline?months=12"),
    api("/api/v1/statistics/targets"),
  ]);
  document.getElementById("total").textContent = "期间受理 " + stats.cases + " 件";
  const units = stats.units.filter((u) => u.rounds > 0 || u.satisfaction.total > 0);
  const bars = (key) => units.map((u) => ({ label: u.name, value: u[key].value,
    detail: "(" + u[key].hits + "/" + u[key].total + ")" }));
  rateBars(document.getElementById("chart-acceptance"), bars("on_time_acceptance"), 1.0);
  rateBars(document.getElementById("chart-closure"), bars("on_time_closure"), 1.0);
  rateBars(document.getElementById("chart-satisfaction"), bars("satisfaction"), 0.9);
  stackedColumns(document.getElementById("chart-category"), timeline.months, timeline.by_category,
    (code) => CATEGORY_NAMES[code] || code);
  stackedColumns(document.getElementById("chart-town"), timeline.months, timeline.by_town, unitName);
  const body = document.querySelector("#targets tbody");
  body.replaceChildren(...targets.map((t) => {
    const reported = t.reported === null ? "待填报" : t.reported + t.unit + (t.as_of ? "（" + t.as_of + "）" : "");
    const met = t.reported !== null && (t.at_least ? t.reported >= t.target : t.reported <= t.target);
    const progress = t.reported === null ? "—" : (met ? "已达标" : "未达标");
    return el("tr", { "data-target": t.code },
      el("td", { text: t.name }), el("td", { text: (t.at_least ? "≥ " : "≤ ") + t.target + t.unit }),
      el("td", { text: reported }),
      el("td", { class: t.reported === null ? "hint" : (met ? "ok" : "bad"), text: progress }));
  }));
}

me.then(async (who) => {
  if (!who) return;
  await loadNames();
  document.getElementById("start").value = today.slice(0, 8) + "01";
  document.getElementById("end").value = today;
  document.getElementById("period").addEventListener("submit", (event) => {
    event.preventDefault();
    draw().catch((e) => toast(e.message));
  });
  await draw().catch((e) => toast(e.message));
});
