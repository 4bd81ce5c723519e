// One case: its facts, what this user may do now, the enforcement steps, and the whole
// audited timeline (refreshed after every action).
"use strict";

const caseId = document.getElementById("case-id").textContent.trim();
const caseUrl = "/api/v1/cases/" + encodeURIComponent(caseId);
let UNITS = [];
let context = null;

function actorText(r) {
  // "town:street-ximen:li" -> "西门街道办事处 li"; the workflow's own steps are "系统自动".
  if (r.actor_role === "system" || String(r.actor).startsWith("system:")) return "系统自动";
  const person = String(r.actor).split(":").pop();
  const unit = r.actor_unit ? unitName(r.actor_unit) : (ROLE_NAMES[r.actor_role] || "");
  return unit ? unit + " " + person : person;
}

function detailText(r) {
  const d = r.details || {};
  const parts = [];
  // A move from one unit to another reads "from → to"; each unit is named once.
  if (d.from && d.to && d.from !== d.to) parts.push(unitName(d.from) + " → " + unitName(d.to));
  else for (const key of ["recipient", "unit", "to_unit", "handler", "to"]) {
    if (d[key] && !parts.includes(unitName(d[key]))) parts.push(unitName(d[key]));
  }
  // 回访: the caller's verdict on the scale and whether the problem was solved.
  if (d.rating) parts.push(RATINGS[d.rating] || d.rating);
  else if (r.action === "case.followed-up" && typeof d.satisfied === "boolean") parts.push(d.satisfied ? "满意" : "不满意");
  if (typeof d.resolved === "boolean") parts.push(d.resolved ? "问题已解决" : "问题未解决");
  if (d.working_days) parts.push(d.working_days + " 个工作日");
  if (d.due_by) parts.push("期限 " + beijing(d.due_by));
  return parts.length ? "：" + parts.join("、") : "";
}

function renderFacts(c, s) {
  const rows = [
    ["状态", STATUS[c.status] || c.status], ["类别", CATEGORY_NAMES[c.category] || c.category],
    ["紧急程度", PRIORITY[c.priority] || c.priority], ["来源", CHANNEL[c.channel] || c.channel],
    ["机构", c.institution_name || "—"], ["镇（街道）", unitName(c.town)],
    ["承办单位", unitName(c.handler)], ["层级", LEVEL[c.level] || "—"],
    ["受理时间", beijing(c.received_at)], ["签收时限", beijing(c.accept_by)],
    ["办结时限", beijing(c.resolve_by)], ["情况描述", c.description],
  ];
  if (s && s.assisting.length) rows.push(["协办单位", s.assisting.map(unitName).join("、")]);
  if (c.findings) rows.push(["处理结果", c.findings]);
  if (s && s.return_pending) rows.push(["退单待审核", unitName(s.return_pending.unit) + "：" + s.return_pending.reason]);
  if (s && s.extension_pending) rows.push(["延期待审批", s.extension_pending.working_days + " 个工作日：" + s.extension_pending.reason]);
  if (s && s.supervisions && s.supervisions.length) rows.push(["督办", s.supervisions.map((o) => o.comments + "（期限 " + beijing(o.due_by)
    + (o.overdue_at ? "，已逾期" : o.answered_at ? "，已反馈" : "") + "）").join("；")]);
  if (c.confidential) rows.push(["来电人", "要求保密（由热线中心回访）"]);
  document.getElementById("facts").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v || "—" })]));
}

// Reasons written by the workflow name units by code ("town-lushan 逾期未签收"): names here.
function named(text) {
  if (!text) return "";
  return Object.keys(UNIT_NAMES).sort((a, b) => b.length - a.length)
    .reduce((t, code) => t.split(code).join(UNIT_NAMES[code]), String(text));
}

// The intake's own reason is the event id ("complaint http-…"): an internal code, not shown.
function shownReason(r) {
  if (!r.reason || /^complaint \S+$/.test(r.reason)) return "";
  return named(r.reason);
}

function renderTimeline(history) {
  document.getElementById("timeline").replaceChildren(...history.map((r) =>
    el("li", { "data-action": r.action },
      el("time", { datetime: r.occurred_at, text: beijing(r.occurred_at) }),
      el("b", { text: (ACTIONS[r.action] || "办理") + detailText(r) }),
      el("span", { class: "hint who-acted", text: "　" + actorText(r) + (shownReason(r) ? "　" + shownReason(r) : "") }))));
}

// The form of one action, built from its fields; errors stay beside the form until fixed.
function openForm(action, url, x, after) {
  const form = document.getElementById("action-form");
  const fields = document.getElementById("action-fields");
  document.getElementById("action-title").textContent = action.label;
  document.getElementById("action-error").hidden = true;
  const visible = action.fields.filter(([, , , opt]) => !opt.when || opt.when(x));
  fields.replaceChildren(...visible.map(([name, label, kind, opt]) => {
    let input;
    if (kind === "select") {
      input = el("select", { name });
      if (opt.optional) input.append(el("option", { value: "", text: "（不选）" }));
      for (const [value, text] of Object.entries(opt.choices(x))) input.append(el("option", { value, text }));
    } else if (kind === "textarea") {
      input = el("textarea", { name, rows: "3" });
    } else {
      input = el("input", { name, type: ["number", "datetime-local"].includes(kind) ? kind : "text" });
    }
    if (opt.max) input.setAttribute("maxlength", String(opt.max));
    if (!opt.optional) input.required = true;
    return el("label", { "data-field": name }, label, input, el("span", { class: "field-error", hidden: "" }));
  }));
  form.dataset.action = action.key;
  form.hidden = false;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    for (const [k, v] of Object.entries(values)) values[k] = typeof v === "string" ? v.trim() : v;
    const missing = visible.filter(([n, , , o]) => !o.optional && !values[n]);
    for (const label of fields.querySelectorAll("label")) label.classList.toggle("invalid", missing.some(([n]) => n === label.dataset.field));
    if (missing.length) { showError("请填写：" + missing.map(([, l]) => l).join("、")); return; }
    const body = action.body ? action.body(values) : Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
    const button = document.getElementById("action-submit");
    button.disabled = true;
    try {
      await api(url, { method: "POST", json: body });
      form.hidden = true;
      toast(action.label + "已提交。", "info");
      await after();
    } catch (e) {
      showError(e.message);
    } finally {
      button.disabled = false;
    }
  };
}

function showError(message) {
  const box = document.getElementById("action-error");
  box.textContent = message;
  box.hidden = false;
}

document.getElementById("action-cancel").addEventListener("click", () => { document.getElementById("action-form").hidden = true; });

function renderActions(x) {
  const buttons = document.getElementById("action-buttons");
  const shown = [];
  for (const action of CASE_ACTIONS) {
    if (!allowedNow(action, x)) continue;
    shown.push(el("button", { type: "button", "data-action": action.key, text: action.label }));
    shown[shown.length - 1].addEventListener("click", () => openForm(action, caseUrl + "/" + action.path, x, refresh));
  }
  if (x.credit) {
    for (const action of CREDIT_ACTIONS) {
      if (!allowedNow(action, x)) continue;
      const b = el("button", { type: "button", "data-action": action.key, text: action.label });
      b.addEventListener("click", () => openForm(action, "/api/v1/credit/" + encodeURIComponent(x.credit.entry_id) + "/" + action.path, x, refresh));
      shown.push(b);
    }
  }
  if (x.enf && allowedNow(BAN_CORRECTION, x)) {
    for (const ban of x.enf.bans) {
      const b = el("button", { type: "button", class: "secondary", "data-action": "ban_correction", text: "更正禁入决定（" + ban.name + "）" });
      b.addEventListener("click", () => openForm(BAN_CORRECTION, "/api/v1/bans/" + encodeURIComponent(ban.ban_id) + "/correction", x, refresh));
      shown.push(b);
    }
  }
  buttons.replaceChildren(...shown);
  document.getElementById("no-actions").hidden = shown.length > 0;
  document.getElementById("actions-card").hidden = x.me.role === "auditor" && shown.length === 0;
}

function renderEnforcement(x) {
  const card = document.getElementById("enforcement-card");
  if (!x.enf) { card.hidden = true; return; }
  const rows = [["处理决定", x.enf.decisions.length + " 项"],
    ["待复查整改", Object.values(x.enf.open_rectifications).map(beijing).join("、") || "无"],
    ["终身禁入", x.enf.bans.map((b) => b.name + "（" + b.person_masked + "）").join("、") || "无"]];
  if (x.credit) rows.push(["联合惩戒", CREDIT_STATUS[x.credit.status] || x.credit.status]);
  if (x.credit && x.credit.tier) rows.push(["失信等级", TIER_NAMES[x.credit.tier] + "失信信息"]);
  if (x.credit && x.credit.commitment) rows.push(["信用承诺", x.credit.commitment]);
  if (x.credit && (x.credit.lifting || []).length) rows.push(["待解除惩戒措施", x.credit.lifting.map(unitName).join("、")]);
  document.getElementById("enforcement").replaceChildren(el("dl", {}, ...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])));
  card.hidden = false;
}

function mayAskContact(x) {
  // allowed_actions lists the case's workflow actions, not this view: the rule is the
  // server's (GET /complainant), mirrored here; a confidential caller is the hotline's only.
  if (x.s.anonymous) return false;
  if (x.c && x.c.confidential && x.me.role !== "operator") return false;
  if (x.me.role === "operator") return true; // the server answers for the operator who took the call
  return ["town", "department"].includes(x.me.role) && [x.s.handler, ...x.s.collaborators, ...x.s.assisting].includes(x.me.unit);
}

document.getElementById("show-contact").addEventListener("click", async () => {
  const box = document.getElementById("contact");
  try {
    const contact = await api(caseUrl + "/complainant");
    box.replaceChildren(el("dt", { text: "来电人" }), el("dd", { text: contact.name || "未留姓名" }),
      el("dt", { text: "联系电话" }), el("dd", { text: contact.phone || "未留电话" }));
    box.hidden = false;
    document.getElementById("contact-hint").hidden = false;
    await refresh();
  } catch (e) {
    box.replaceChildren(el("dd", { class: "bad", text: e.message }));
    box.hidden = false;
  }
});

async function showAttachments(who) {
  const card = document.getElementById("attachments-card");
  let list;
  try { list = await api(caseUrl + "/attachments"); } catch (e) { card.hidden = true; return; }
  const PURPOSES = { complaint: "投诉材料", result: "办理结果", reinspection: "复查", other: "其他" };
  document.getElementById("attachments").replaceChildren(...(list.length ? list.map((a) =>
    el("li", {}, el("a", { href: a.url, text: a.filename }),
      el("span", { class: "hint", text: "　" + (PURPOSES[a.purpose] || a.purpose) + "　" + Math.ceil(a.size / 1024) + " KB　SHA-256 " + a.sha256.slice(0, 12) + "…" })))
    : [el("li", { class: "hint", text: "暂无附件" })]));
  document.getElementById("upload").hidden = who.role === "auditor";
  card.hidden = false;
}

document.getElementById("upload").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = document.getElementById("upload-file").files[0];
  if (!file) { toast("请选择要上传的文件。"); return; }
  const body = new FormData();
  body.append("file", file);
  body.append("purpose", document.getElementById("upload-purpose").value);
  try {
    await api(caseUrl + "/attachments", { method: "POST", body });
    toast("附件已上传。", "info");
    await refresh();
  } catch (e) { toast(e.message); }
});

async function refresh() {
  const who = await me;
  const [c, s, history] = await Promise.all([api(caseUrl), api(caseUrl + "/state").catch(() => null), api(caseUrl + "/history")]);
  let enf = null, credit = null;
  if (s && s.enforcement) {
    enf = await api(caseUrl + "/enforcement").catch(() => null);
    if (enf && enf.joint_punishment) credit = await api("/api/v1/credit/" + encodeURIComponent(enf.joint_punishment)).catch(() => null);
  }
  const state = s || { status: c.status, lead: [], handler: c.handler, collaborators: [], assisting: [], level: c.level, deadlines: {}, anonymous: true };
  const tiers = enf ? await api("/api/v1/credit-tiers").catch(() => null) : null;
  context = { me: who, c, s: state, enf, credit, tiers, tier_rules: tiers ? tiers.tier_rules : [] };
  renderFacts(c, s);
  renderActions(context);
  renderEnforcement(context);
  document.getElementById("show-contact").hidden = !mayAskContact(context);
  renderTimeline(history);
  await showAttachments(who);
}

me.then(async (who) => {
  if (!who) return;
  try {
    UNITS = await loadNames();
    await refresh();
  } catch (e) { failed(e); }
});
