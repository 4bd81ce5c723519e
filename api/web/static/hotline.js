// The hotline desk: categories and towns from the API, institution search as you type,
// Chinese messages beside the fields, and a draft that survives a reload (sessionStorage:
// this tab only, and never the caller's name or phone).
"use strict";

const form = document.getElementById("intake");
const found = new Map(); // name shown in the list -> institution
const DRAFT_KEY = "tuoyu.hotline.draft";
const TICKET_KEY = "tuoyu.hotline.ticket";
const MAX_DESCRIPTION = 5000;
const DRAFT_FIELDS = ["category", "town", "institution", "institution_id", "description"];
// The API's field paths -> the form's fields.
const FIELD_OF = { category: "category", town: "town", institution_id: "institution",
  institution_name: "institution", description: "description", complainant: "caller_phone",
  "complainant.name": "caller_name", "complainant.phone": "caller_phone", anonymous: "caller_name" };
const PROBLEMS = { missing: "必须填写。", string_too_long: "内容过长。", string_too_short: "内容过短。",
  string_pattern_mismatch: "格式不正确。", enum: "请从列表中选择。", literal_error: "请从列表中选择。",
  value_error: "内容不符合要求。", string_type: "内容不符合要求。" };
const $ = (id) => document.getElementById(id);

async function loadChoices() {
  const [categories, units] = await Promise.all([api("/api/v1/catalogue"), api("/api/v1/units")]);
  for (const c of categories) {
    if (c.code === "banned-person" || c.code === "video-alarm") continue; // not from callers
    $("category").append(el("option", { value: c.code, text: c.name }));
  }
  for (const u of units) {
    if (["town", "street", "zone"].includes(u.kind)) $("town").append(el("option", { value: u.code, text: u.name }));
  }
}

// ---- errors beside the fields: they stay until the field is changed
function fieldError(field, message) {
  const label = form.querySelector(`label[data-field="${field}"]`);
  if (!label) return false;
  const box = label.querySelector(".field-error");
  box.textContent = message || "";
  box.hidden = !message;
  label.classList.toggle("invalid", !!message);
  return true;
}
function clearErrors() {
  for (const label of form.querySelectorAll("label[data-field]")) fieldError(label.dataset.field, "");
  $("form-error").hidden = true;
}
function formError(message) { $("form-error").textContent = message; $("form-error").hidden = !message; }
form.addEventListener("input", (event) => {
  const label = event.target.closest("label[data-field]");
  if (label) fieldError(label.dataset.field, "");
  if (event.target.id === "description") updateCounter(); // the limit's message stays while over
  saveDraft();
});
form.addEventListener("change", saveDraft);

function chinese(text) { return /[\u4e00-\u9fff]/.test(text || ""); }

function showServerErrors(e) {
  const details = e.data && e.data.error && Array.isArray(e.data.error.details) ? e.data.error.details : [];
  let placed = 0;
  for (const d of details) {
    const path = String(d.field || "").replace(/^body\./, "");
    const field = FIELD_OF[path] || FIELD_OF[path.split(".")[0]];
    const message = chinese(d.problem) ? d.problem : (PROBLEMS[d.type] || "内容不符合要求。");
    if (field && fieldError(field, message)) placed += 1;
  }
  formError(e.message + (placed ? "（见标红的项目）" : ""));
}

function validate() {
  clearErrors();
  let ok = true;
  const fail = (field, message) => { fieldError(field, message); ok = false; };
  if (!$("category").value) fail("category", "请选择投诉类别。");
  if (!$("town").value) fail("town", "请选择所在镇（街道、园区）。");
  const description = $("description").value.trim();
  if (description.length < 2) fail("description", "请填写情况描述（至少2个字）。");
  if (description.length > MAX_DESCRIPTION) fail("description", `情况描述不能超过${MAX_DESCRIPTION}字，当前${description.length}字，请精简。`);
  const phone = $("caller_phone").value.normalize("NFKC").trim();  // full-width digits (an IME) as ASCII
  if (!$("anonymous").checked && phone && !/^[0-9+\- ]{3,32}$/.test(phone)) fail("caller_phone", "联系电话只能包含数字、空格、“+”和“-”，3至32位。");
  if (!ok) formError("请按标红的提示修改后再提交。");
  return ok;
}

function updateCounter() {
  const n = $("description").value.length;
  const counter = $("description-counter");
  counter.textContent = n + " / " + MAX_DESCRIPTION;
  counter.classList.toggle("over", n > MAX_DESCRIPTION);
  if (n > MAX_DESCRIPTION) fieldError("description", `已超过${MAX_DESCRIPTION}字的上限（${n}字），超出部分不会被截断，请精简后提交。`);
}

// ---- institutions: the list as you type; a full name typed or pasted is linked exactly
function link(institution) {
  $("institution_id").value = institution ? institution.id : "";
  const note = $("institution-linked");
  note.hidden = !institution;
  note.textContent = institution ? "已关联登记机构：" + institution.name + "（" + institution.town_name + "）" : "";
  if (institution) $("town").value = institution.town;
  openCases(institution ? institution.id : null);
}

let searching = null;
async function lookUp(q, exact) {
  const list = await api("/api/v1/institutions?q=" + encodeURIComponent(q));
  for (const i of list) found.set(i.name, i);
  if (!exact) {
    $("institutions").replaceChildren(...list.map((i) => el("option", { value: i.name, text: i.town_name })));
  }
  if ($("institution").value.trim() === q) link(found.get(q) || null);
}
$("institution").addEventListener("input", (event) => {
  const q = event.target.value.trim().slice(0, 50);
  link(found.get(q) || null);
  clearTimeout(searching);
  if (q.length < 1 || found.has(q)) return;
  searching = setTimeout(() => lookUp(q, false).catch((e) => toast(e.message)), 200);
});
$("institution").addEventListener("change", (event) => {
  const q = event.target.value.trim();
  if (q && !found.has(q) && q.length <= 50) lookUp(q, true).catch((e) => toast(e.message));
});

// ---- caller
function callerFields() {
  for (const id of ["caller_name", "caller_phone", "confidential"]) $(id).disabled = $("anonymous").checked;
  if ($("anonymous").checked) $("confidential").checked = false;
}

// ---- what the desk sees during the call (when the server offers it: 404 hides it)
async function callerHistory() {
  const phone = $("caller_phone").value.normalize("NFKC").trim();  // full-width digits (an IME) as ASCII
  const box = $("desk-history");
  if ($("anonymous").checked || !/^[0-9+\- ]{3,32}$/.test(phone)) { box.hidden = true; return; }
  try {
    const history = await api("/api/v1/callers/history?phone=" + encodeURIComponent(phone));
    $("history-hint").textContent = history.hint;
    $("history-cases").replaceChildren(...history.cases.slice(0, 10).map((c) => el("li", {},
      el("a", { href: "/cases/" + c.id, target: "_blank", text: c.id }),
      "　" + beijing(c.received_at) + "　" + (STATUS[c.status] || c.status) + "　" + (c.institution_name || ""))));
    box.hidden = false;
  } catch (e) { box.hidden = true; }
}
$("caller_phone").addEventListener("change", callerHistory);

async function openCases(institutionId) {
  const box = $("desk-open");
  if (!institutionId) { box.hidden = true; return; }
  try {
    const list = await api("/api/v1/institutions/" + encodeURIComponent(institutionId) + "/open-cases");
    $("open-cases").replaceChildren(...(list.length ? list.map((c) => el("li", {},
      el("a", { href: "/cases/" + c.id, target: "_blank", text: c.id }), "　" + (STATUS[c.status] || c.status) + "　" + beijing(c.received_at)))
      : [el("li", { class: "hint", text: "无在办案件" })]));
    box.hidden = false;
  } catch (e) { box.hidden = true; }
}

let directAnswer = null;
async function searchKnowledge(q) {
  const hits = await api("/api/v1/knowledge?q=" + encodeURIComponent(q));
  $("knowledge-hits").replaceChildren(...hits.map((h) => {
    const use = el("button", { type: "button", class: "secondary", text: "以此直接答复" });
    use.addEventListener("click", () => {
      directAnswer = { knowledge_id: h.id, answer: h.answer };
      $("category").value = "consultation";
      if (!$("description").value.trim()) $("description").value = h.question;
      $("direct-answer-note").textContent = "将按知识库“" + h.question + "”直接答复并办结（不派单）。";
      $("direct-answer-note").hidden = false;
      updateCounter();
    });
    return el("li", {}, el("b", { text: h.question }), el("p", { text: h.answer }),
      el("p", { class: "hint", text: "依据：" + h.source.title + " " + h.source.document_number + (h.source.section ? " " + h.source.section : "") }), use);
  }));
}
$("knowledge-search").addEventListener("click", () => {
  const q = $("knowledge-q").value.trim();
  if (q) searchKnowledge(q).catch((e) => toast(e.message));
});
$("category").addEventListener("change", () => {
  if ($("category").value !== "consultation") { directAnswer = null; $("direct-answer-note").hidden = true; }
});
$("anonymous").addEventListener("change", callerFields);

// ---- draft and confirmation across a reload
function saveDraft() {
  if (!form.hidden) {
    const draft = Object.fromEntries(DRAFT_FIELDS.map((id) => [id, $(id).value]));
    draft.anonymous = $("anonymous").checked;
    sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
  }
}
function restoreDraft() {
  const draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || "null");
  if (draft) {
    for (const id of DRAFT_FIELDS) if (draft[id] !== undefined) $(id).value = draft[id];
    $("anonymous").checked = !!draft.anonymous;
    if (draft.institution_id) { $("institution-linked").hidden = false; $("institution-linked").textContent = "已关联登记机构：" + draft.institution; }
  }
  callerFields();
  updateCounter();
}
function showTicket(ticket) {
  $("ticket-case").textContent = ticket.case_id;
  $("ticket-code").textContent = ticket.tracking_code;
  // Merged into an open case, or opened beside a done one: the operator tells the caller.
  $("ticket-relation").textContent = ticket.message || "";
  $("ticket-relation").hidden = !ticket.message;
  form.hidden = true;
  $("ticket").hidden = false;
}

// Everything back to empty: the hidden institution id (form.reset() keeps a hidden input's
// value) and the caller's fields that an anonymous call disabled.
function resetForm() {
  form.reset();
  $("institution_id").value = "";
  link(null);
  $("institutions").replaceChildren();
  clearErrors();
  callerFields();
  updateCounter();
  sessionStorage.removeItem(DRAFT_KEY);
  directAnswer = null;
  $("direct-answer-note").hidden = true;
  $("desk-history").hidden = true;
  $("knowledge-hits").replaceChildren();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!validate()) return;
  const anonymous = $("anonymous").checked;
  const name = $("caller_name").value.trim();
  const phone = $("caller_phone").value.normalize("NFKC").trim();  // full-width digits (an IME) as ASCII
  const body = {
    channel: "hotline",
    category: $("category").value,
    town: $("town").value,
    institution_id: $("institution_id").value || null,
    institution_name: $("institution").value.trim() || null,
    description: $("description").value.trim(),
    anonymous,
    ...($("confidential").checked && !anonymous ? { confidential: true } : {}),
    ...(directAnswer && $("category").value === "consultation" ? { direct_answer: directAnswer } : {}),
    complainant: anonymous || !(name || phone) ? null : { name: name || null, phone: phone || null },
  };
  const button = $("submit");
  button.disabled = true;
  try {
    const accepted = await api("/api/v1/complaints", { method: "POST", json: body });
    const ticket = { case_id: accepted.case_id, tracking_code: accepted.tracking_code,
      message: accepted.relation ? accepted.message : null };
    sessionStorage.setItem(TICKET_KEY, JSON.stringify(ticket));
    sessionStorage.removeItem(DRAFT_KEY);
    showTicket(ticket);
  } catch (e) {
    showServerErrors(e);
  } finally {
    button.disabled = false;
  }
});

$("another").addEventListener("click", () => {
  sessionStorage.removeItem(TICKET_KEY);
  resetForm();
  form.hidden = false;
  $("ticket").hidden = true;
});

me.then(async (who) => {
  if (!who) return;
  await loadChoices().catch(failed);
  // The work-order desk features, where the server has them.
  api("/api/v1/knowledge?q=" + encodeURIComponent("托育")).then(() => { $("knowledge-card").hidden = false; $("confidential-box").hidden = false; }).catch(() => {});
  const ticket = JSON.parse(sessionStorage.getItem(TICKET_KEY) || "null");
  if (ticket) showTicket(ticket); else restoreDraft();
});
