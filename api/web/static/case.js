// One case: its facts and the whole audited timeline.
"use strict";

const caseId = document.getElementById("case-id").textContent.trim();

async function show() {
  await loadNames();
  const [c, history] = await Promise.all([
    api("/api/v1/cases/" + encodeURIComponent(caseId)),
    api("/api/v1/cases/" + encodeURIComponent(caseId) + "/history"),
  ]);
  const facts = document.getElementById("facts");
  const rows = [
    ["状态", STATUS[c.status] || c.status], ["类别", CATEGORY_NAMES[c.category] || c.category],
    ["紧急程度", PRIORITY[c.priority] || c.priority], ["来源", CHANNEL[c.channel] || c.channel],
    ["机构", c.institution_name || "—"], ["镇（街道）", unitName(c.town)],
    ["承办单位", unitName(c.handler)], ["层级", LEVEL[c.level] || "—"],
    ["受理时间", beijing(c.received_at)], ["签收时限", beijing(c.accept_by)],
    ["办结时限", beijing(c.resolve_by)], ["情况描述", c.description],
  ];
  if (c.findings) rows.push(["处理结果", c.findings]);
  facts.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  const timeline = document.getElementById("timeline");
  timeline.replaceChildren(...history.map((r) => {
    const who = r.actor_unit ? unitName(r.actor_unit) : r.actor;
    const details = r.details && r.details.recipient ? "：" + unitName(r.details.recipient) : "";
    return el("li", { "data-action": r.action },
      el("time", { datetime: r.occurred_at, text: beijing(r.occurred_at) }),
      el("b", { text: (ACTIONS[r.action] || r.action) + details }),
      el("span", { class: "hint", text: "　" + who + (r.reason ? "　" + r.reason : "") }));
  }));
}

me.then((who) => { if (who) show().catch((e) => toast(e.message)); });
