// The sign-in form: name and password; the server sets the session cookie.
"use strict";

const params = new URLSearchParams(location.search);
const state = document.getElementById("signin-state");
if (params.get("signed_out")) state.textContent = "已退出登录。";
me.then((who) => { if (who) state.textContent = "当前已登录为 " + who.name + "，可直接进入或换一个账号登录。"; });

function nextPath() {
  const next = params.get("next") || "/inbox";
  // Only a path of this site: never an address elsewhere.
  return next.startsWith("/") && !next.startsWith("//") ? next : "/inbox";
}

document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("signin-error");
  const name = document.getElementById("name").value.trim();
  const password = document.getElementById("password").value;
  if (!name || !password) { error.textContent = "请输入用户名和密码。"; error.hidden = false; return; }
  try {
    await api("/api/v1/session", { method: "POST", json: { name, password } });
    location.href = nextPath();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    document.getElementById("password").value = "";
  }
});
