// Shared by every page: the token (local storage), calls to /api/v1, messages, time display.
"use strict";

const TOKEN_KEY = "tuoyu.token";
const ROLE_NAMES = { operator: "热线受理员", town: "镇（街道）", department: "市直部门",
  "leading-office": "领导小组办公室", auditor: "审计人员", admin: "系统管理员" };
const tz = { timeZone: "Asia/Shanghai", hour12: false };

function token() { return localStorage.getItem(TOKEN_KEY) || ""; }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers["Authorization"] = "Bearer " + token();
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, Object.assign({}, options, { headers }));
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

function toast(message, kind) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = kind || "";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
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
  const name = document.getElementById("who-name");
  const login = document.getElementById("login");
  const logout = document.getElementById("logout");
  if (!token()) { name.textContent = "未登录"; login.hidden = false; logout.hidden = true; return null; }
  try {
    const me = await api("/api/v1/me");
    name.textContent = me.name + "（" + (me.unit_name || ROLE_NAMES[me.role] || me.role) + "）";
    login.hidden = true; logout.hidden = false;
    return me;
  } catch (e) {
    name.textContent = e.message; login.hidden = false; logout.hidden = true;
    return null;
  }
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  localStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
  location.reload();
});
document.getElementById("logout").addEventListener("click", () => {
  localStorage.removeItem(TOKEN_KEY);
  location.reload();
});

const me = whoami();
