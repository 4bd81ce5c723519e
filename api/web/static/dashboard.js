// The leading group office's dashboard: rates per unit, cases over time, the 2025 targets.
"use strict";

const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });

async function draw() {
  const start = document.getElementById("start").value;
  const end = document.getElementById("end").value;
  const [stats, timeline, targets] = await Promise.all([
    api("/api/v1/statistics?" + new URLSearchParams({ start, end })),
    api("/api/v1/statistics/timeline?" + new URLSearchParams({ start, end })),
    api("/api/v1/statistics/targets"),
  ]);
  document.getElementById("total").textContent = "期间受理 " + stats.cases + " 件";
  lastStats = stats;
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
    const cell = el("td", { text: reported });
    if (mayReport) {
      const value = el("input", { type: "number", step: "0.1", min: "0", name: "reported", "aria-label": t.name + " 最新数据",
        value: t.reported === null ? "" : String(t.reported) });
      const day = el("input", { type: "date", name: "as_of", "aria-label": "数据日期", value: t.as_of || today });
      const save = el("button", { type: "button", class: "secondary", text: "保存" });
      save.addEventListener("click", async () => {
        try {
          await api("/api/v1/statistics/targets/" + encodeURIComponent(t.code), { method: "PUT",
            json: { reported: Number(value.value), as_of: day.value } });
          toast("已保存（记入审计）。", "info");
          await draw();
        } catch (e) { toast(e.message); }
      });
      cell.append(el("div", { class: "target-form" }, value, day, save));
    }
    return el("tr", { "data-target": t.code },
      el("td", { text: t.name }), el("td", { text: (t.at_least ? "≥ " : "≤ ") + t.target + t.unit }),
      cell,
      el("td", { class: t.reported === null ? "hint" : (met ? "ok" : "bad"), text: progress }));
  }));
}

let lastStats = null;
let mayReport = false;

function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return '"' + text.replace(/"/g, '""') + '"';
}

document.getElementById("export").addEventListener("click", () => {
  if (!lastStats) return;
  const pct = (r) => (r.value === null ? "" : (r.value * 100).toFixed(1) + "%");
  const lines = [["单位", "及时签收率", "签收（按时/总数）", "按时办结率", "办结（按时/总数）", "满意率", "回访（满意+基本满意/总数）",
    "满意", "基本满意", "不满意", "问题解决率", "督办", "督办逾期"],
    ...lastStats.units.map((u) => [u.name, pct(u.on_time_acceptance), u.on_time_acceptance.hits + "/" + u.on_time_acceptance.total,
      pct(u.on_time_closure), u.on_time_closure.hits + "/" + u.on_time_closure.total,
      pct(u.satisfaction), u.satisfaction.hits + "/" + u.satisfaction.total,
      ...["satisfied", "basically-satisfied", "dissatisfied"].map((k) => (u.follow_up_ratings || {})[k] || 0),
      u.problem_solved ? pct(u.problem_solved) : "", u.supervised || 0, u.supervision_overdue || 0])];
  const text = "\ufeff" + lines.map((l) => l.map(csvCell).join(",")).join("\r\n") + "\r\n";
  const a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" })),
    download: "监管统计-" + lastStats.start + "至" + lastStats.end + ".csv" });
  document.body.append(a);
  a.click();
  a.remove();
});

me.then(async (who) => {
  if (!who) return;
  mayReport = ["leading-office", "admin"].includes(who.role);
  if (who.role === "town") document.getElementById("scope").textContent = "（仅" + (who.unit_name || who.unit) + "）";
  await loadNames().catch(failed);
  document.getElementById("start").value = today.slice(0, 8) + "01";
  document.getElementById("end").value = today;
  document.getElementById("period").addEventListener("submit", (event) => {
    event.preventDefault();
    draw().catch((e) => toast(e.message));
  });
  await draw().catch((e) => toast(e.message));
});
