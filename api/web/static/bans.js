// Checking a person against the lifetime-ban registry before hiring; the registry itself for
// the units allowed to see it.
"use strict";

const BAN_STATUS = { active: "有效", corrected: "已更正" };

document.getElementById("check").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { person: { id_number: document.getElementById("id_number").value.trim(),
                           name: document.getElementById("person_name").value.trim() } };
  try {
    const result = await api("/api/v1/staff-checks", { method: "POST", json: body });
    document.getElementById("verdict-title").textContent = result.eligible ? "未发现禁入记录" : "终身禁入人员";
    document.getElementById("verdict-title").className = result.eligible ? "ok" : "bad";
    document.getElementById("verdict-text").textContent = result.message + "（" + result.person_masked + "）";
    document.getElementById("verdict").hidden = false;
  } catch (e) {
    document.getElementById("verdict").hidden = true;
    const details = e.data && e.data.error && Array.isArray(e.data.error.details)
      ? "：" + e.data.error.details.map((d) => d.problem).join("；") : "";
    toast(e.message + details);
  }
});

me.then(async (who) => {
  if (!who) return;
  try {
    const bans = await api("/api/v1/bans?limit=200");
    document.querySelector("#bans tbody").replaceChildren(...bans.map((b) => el("tr", {},
      el("td", { text: b.name }), el("td", { text: b.person_masked }), el("td", { text: b.reason }),
      el("td", { text: beijing(b.banned_at) }), el("td", { text: BAN_STATUS[b.status] || b.status }))));
    document.getElementById("registry-card").hidden = false;
  } catch (e) {
    if (e.status !== 403) toast(e.message);
  }
});
