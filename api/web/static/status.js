// The caller's progress page: no account, the case number and the tracking code.
"use strict";

document.getElementById("lookup").addEventListener("submit", async (event) => {
  event.preventDefault();
  const caseId = document.getElementById("case_id").value.trim().toUpperCase();
  const code = document.getElementById("code").value.trim();
  try {
    const response = await fetch("/api/v1/public/status?case_id=" + encodeURIComponent(caseId)
      + "&code=" + encodeURIComponent(code));
    const data = await response.json();
    if (!response.ok) throw new Error(data.error ? data.error.message : "查询失败");
    document.getElementById("result-status").textContent = data.status_text;
    const times = document.getElementById("result-times");
    times.replaceChildren();
    for (const [label, key] of [["受理时间", "received_at"], ["签收时间", "accepted_at"],
                                ["处理结果时间", "resolved_at"], ["办结时间", "closed_at"]]) {
      if (data[key]) times.append(el("dt", { text: label }), el("dd", { text: beijing(data[key]) }));
    }
    if (data.handling_unit) times.append(el("dt", { text: "承办单位" }), el("dd", { text: data.handling_unit }));
    if (data.answer) times.append(el("dt", { text: "答复内容" }), el("dd", { class: "answer", text: data.answer }));
    if (data.due_at || data.resolve_by) times.append(el("dt", { text: "办理期限" }),
      el("dd", { text: beijing(data.due_at || data.resolve_by) + (data.extended ? "（已批准延期）" : "") }));
    document.getElementById("result").hidden = false;
  } catch (e) {
    document.getElementById("result").hidden = true;
    toast(e.message);
  }
});
