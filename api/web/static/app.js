// Shared by every page: the signed-in user (a session cookie the script cannot read), calls
// to /api/v1 with the CSRF token, messages, time display.
"use strict";

const ROLE_NAMES = { operator: "热线受理员", dispatcher: "热线派单员", town: "镇（街道）",
  department: "市直部门", "leading-office": "领导小组办公室", auditor: "审计人员", admin: "系统管理员" };
const tz = { timeZone: "Asia/Shanghai", hour12: false };
// Server time minus this browser's time (ms), from the Date header of the last answer: the
// countdowns run on the server's clock even when the desk's PC is off by minutes.
let clockOffset = 0;

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const method = (options.method || "GET").toUpperCase();
  if (!["GET", "HEAD"].includes(method)) headers["X-CSRF-Token"] = cookie("tuoyu_csrf");
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, Object.assign({ credentials: "same-origin" }, options, { headers }));
  const serverTime = response.headers.get("X-Server-Time") || response.headers.get("Date");
  if (serverTime) clockOffset = new Date(serverTime) - new Date();
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!response.ok) {
    const message = (data && data.error && data.error.message) || ("请求失败（" + response.status + "）");
    const error = new Error(message);
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}

function serverNow() { return new Date(Date.now() + clockOffset); }

// A passing message; errors stay until the next message or a click on them.
function toast(message, kind) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = kind || "";
  box.hidden = false;
  clearTimeout(toast.timer);
  if (kind === "info") toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}
document.getElementById("toast").addEventListener("click", (event) => { event.currentTarget.hidden = true; });

// The page's cards replaced by one sentence: signed out, expired or not allowed.
function refuse(error) {
  const main = document.querySelector("main");
  const notice = document.getElementById("notice");
  const signIn = error.status === 401;
  notice.querySelector("p").textContent = signIn ? "请先登录。" : (error.status === 403 ? "无权查看：" + error.message : error.message);
  notice.querySelector("a").hidden = !signIn;
  notice.querySelector("a").href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
  for (const child of main.children) if (child !== notice) child.hidden = true;
  notice.hidden = false;
}

// An error of a page's loading: sign-in and permission problems replace the page, the rest
// are a message.
function failed(error) {
  if ([401, 403, 404].includes(error.status)) refuse(error); else toast(error.message);
}

function beijing(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("zh-CN", tz);
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

async function whoami() {
  if (document.body.dataset.public === "1") return null;
  const name = document.getElementById("who-name");
  const login = document.getElementById("login-link");
  const logout = document.getElementById("logout");
  try {
    const me = await api("/api/v1/me");
    name.textContent = me.name + "（" + (me.unit_name || ROLE_NAMES[me.role] || me.role) + "）";
    login.hidden = true; logout.hidden = false;
    return me;
  } catch (e) {
    name.textContent = e.status === 401 ? "未登录" : e.message;
    login.hidden = false; logout.hidden = true;
    if (document.body.dataset.needsUser === "1") refuse(e);
    return null;
  }
}

const logoutButton = document.getElementById("logout");
if (logoutButton) logoutButton.addEventListener("click", async () => {
  await api("/api/v1/session/end", { method: "POST" }).catch(() => {});
  location.href = "/login?signed_out=1";
});

const me = whoami();
