// A unit's inbox: open cases by urgency with live countdowns on the server's clock, the due
// time in Beijing time, cases the unit only assists on apart, search, CSV export, and an
// alert (with a short tone) when a new urgent case arrives, pushed by the server.
"use strict";

let rows = [];
// The unit whose inbox this is (a town's or a department's own; the one chosen by those who
// see all). Its table holds what it handles; what it assists on, works alongside (a critical
// case's town) or leads is listed apart: the handler signs and reports, and the deadlines
// shown there are the handler's, not counted as this unit's overdue.
let listedUnit = "";
const ROLE_IN_CASE = { assisting: "协办", collaborator: "配合", former: "原承办" };
const PENDING = { return: "退单待审核", extension: "延期待审批" };
const RANK = { critical: 0, high: 1, ordinary: 2, consultation: 3 };

function dueOf(c) {
  if (c.due_by) return c.due_by;
  if (c.status === "dispatched") return c.accept_by;
  if (c.status === "accepted") return c.resolve_by;
  return null;
}

function matches(c) {
  const q = document.getElementById("q").value.trim().toLowerCase();
  const from = document.getElementById("from").value;
  const to = document.getElementById("to").value;
  const day = new Date(c.received_at).toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  if (q && !c.id.toLowerCase().includes(q) && !(c.institution_name || "").toLowerCase().includes(q)) return false;
  if (from && day < from) return false;
  if (to && day > to) return false;
  return true;
}

// Overdue and nearest deadlines first, then the more urgent priority.
function byUrgency(a, b) {
  const da = dueOf(a) ? new Date(dueOf(a)).getTime() : Infinity;
  const db = dueOf(b) ? new Date(dueOf(b)).getTime() : Infinity;
  return da - db || (RANK[a.priority] ?? 9) - (RANK[b.priority] ?? 9);
}

function row(c, now) {
  const due = countdown(dueOf(c), now);
  const late = due.cls.includes("overdue");
  const link = el("a", { href: "/cases/" + c.id, text: c.id });
  const priority = el("span", { class: "badge " + c.priority, text: PRIORITY[c.priority] || c.priority });
  // Work-order marks, where the server sends them: supervision orders and pending reviews.
  const marks = [];
  if (c.supervisions) {
    // An open case past its latest 督办 deadline: the order went unanswered (督办逾期).
    const overdue = c.supervised_until && new Date(c.supervised_until) < serverNow();
    marks.push(el("span", { class: "badge critical", text: (overdue ? "督办逾期 " : "督办 ") + (c.supervised_until ? beijing(c.supervised_until) : "") }));
  }
  if (c.pending) marks.push(el("span", { class: "badge high", text: PENDING[c.pending] || c.pending }));
  const tr = el("tr", { class: late ? "overdue" : "", "data-case": c.id },
    el("td", {}, link, " ", priority, ...marks.flatMap((m) => [" ", m])),
    el("td", { text: CATEGORY_NAMES[c.category] || c.category }),
    el("td", { text: c.institution_name || "—" }),
    el("td", { text: unitName(c.town) }),
    el("td", { text: unitName(c.handler) }),
    el("td", { text: STATUS[c.status] || c.status }),
    el("td", {}, el("span", { class: due.cls, text: due.text }),
      el("span", { class: "due", text: dueOf(c) ? "截止 " + beijing(dueOf(c)) : "" })));
  return { tr, late };
}

function visible() { return rows.filter(matches).sort(byUrgency); }

function render() {
  const now = serverNow();
  const own = [], assisting = [];
  let overdue = 0;
  for (const c of visible()) {
    const r = row(c, now);
    if (listedUnit && c.handler !== listedUnit) { assisting.push(r.tr); continue; }
    own.push(r.tr);
    overdue += r.late;
  }
  document.querySelector("#cases tbody").replaceChildren(...own);
  document.querySelector("#assisting tbody").replaceChildren(...assisting);
  document.getElementById("assisting").hidden = !assisting.length;
  document.getElementById("assisting-title").hidden = !assisting.length;
  document.getElementById("summary").textContent = "共 " + own.length + " 件，超时 " + overdue + " 件"
    + (assisting.length ? "；协办、配合 " + assisting.length + " 件" : "");
}

async function load() {
  const unit = document.getElementById("unit").value;
  const chosen = document.getElementById("status").value;
  const status = chosen.startsWith("pending:") ? "" : chosen;
  const query = new URLSearchParams({ limit: "500" });
  if (unit) query.set("unit", unit);
  if (status) query.set("status", status);
  if (chosen.startsWith("pending:")) query.set("pending", chosen.slice(8));
  const cases = await api("/api/v1/cases?" + query);
  const who = await me;
  listedUnit = unit || (who && ["town", "department"].includes(who.role) ? who.unit || "" : "");
  rows = status ? cases : cases.filter((c) => !["closed", "merged"].includes(c.status));
  render();
}

// A spreadsheet opens a cell that starts with = + - @ (or a tab / CR) as a formula: such
// cells get a leading apostrophe.
function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return '"' + text.replace(/"/g, '""') + '"';
}

document.getElementById("export").addEventListener("click", () => {
  const header = ["案件编号", "紧急程度", "类别", "机构", "镇（街道）", "承办单位", "本单位", "状态", "受理时间", "截止时间"];
  const lines = [header, ...visible().map((c) => [c.id, PRIORITY[c.priority] || c.priority, CATEGORY_NAMES[c.category] || c.category,
    c.institution_name || "", unitName(c.town), unitName(c.handler), !listedUnit || c.handler === listedUnit ? "承办" : (ROLE_IN_CASE[c.unit_role] || "知悉"),
    STATUS[c.status] || c.status, beijing(c.received_at), beijing(dueOf(c))])].map((l) => l.map(csvCell).join(","));
  const blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
  const a = el("a", { href: URL.createObjectURL(blob), download: "待办案件-" + serverNow().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" }) + ".csv" });
  document.body.append(a);
  a.click();
  a.remove();
});

// A short two-tone signal made in the browser (no sound file); browsers allow it after the
// user has clicked on the page once.
let audio = null;
document.addEventListener("click", () => { if (!audio && window.AudioContext) audio = new AudioContext(); }, { once: true });
function chime() {
  if (!audio) return;
  const t = audio.currentTime;
  for (const [freq, start] of [[880, 0], [660, 0.18]]) {
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.2, t + start);
    gain.gain.exponentialRampToValueAtTime(0.001, t + start + 0.16);
    osc.connect(gain).connect(audio.destination);
    osc.start(t + start);
    osc.stop(t + start + 0.17);
  }
}

function listen() {
  const source = new EventSource("/api/v1/events/stream");
  source.addEventListener("urgent-case", (event) => {
    const c = JSON.parse(event.data);
    const box = document.getElementById("alert");
    box.replaceChildren("新" + (PRIORITY[c.priority] || "") + "案件：", el("a", { href: "/cases/" + c.id, text: c.id }),
      "　" + (CATEGORY_NAMES[c.category] || c.category) + "　" + (c.institution_name || unitName(c.town)));
    box.hidden = false;
    chime();
    load().catch(() => {});
  });
  return source;
}

me.then(async (who) => {
  if (!who) return;
  const units = await loadNames().catch((e) => { failed(e); return null; });
  if (!units) return;
  const select = document.getElementById("unit");
  const seesAll = ["operator", "dispatcher", "leading-office", "auditor", "admin"].includes(who.role);
  if (seesAll) {
    for (const u of units) select.append(el("option", { value: u.code, text: u.name }));
  } else {
    select.replaceChildren(el("option", { value: who.unit, text: who.unit_name || who.unit }));
    select.disabled = true;
  }
  if (["operator", "dispatcher", "leading-office", "admin", "department"].includes(who.role)) {
    document.getElementById("status").append(el("option", { value: "pending:return", text: "退单待审核" }),
      el("option", { value: "pending:extension", text: "延期待审批" }));
  }
  for (const id of ["unit", "status"]) document.getElementById(id).addEventListener("change", () => load().catch(failed));
  for (const id of ["q", "from", "to"]) document.getElementById(id).addEventListener("input", render);
  await load().catch(failed);
  setInterval(render, 1000);
  listen();
});
