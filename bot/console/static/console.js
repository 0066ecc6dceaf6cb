/* Shared by every console page: the API helper (sends the session's CSRF token on every
   change), small DOM builders, formatting, the logout button. Plain browser JavaScript,
   no library, nothing loaded from elsewhere. */
"use strict";

const vb = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  /** fetch() a console or API path; JSON in and out; throws Error(message) on a non-2xx. */
  async function api(path, { method = "GET", body, raw = false } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("logged out");
    }
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try {
        const data = await response.json();
        message = data?.error?.message || data?.description || data?.message || message;
      } catch (_) { /* not JSON */ }
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    if (raw) return response;
    return response.status === 204 ? null : response.json();
  }

  /** el("td", {class: "num"}, "text", child…): an element; attributes set, children appended. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs = {}, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  function time(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const s = Math.round(seconds);
    return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  }

  function badge(text, kind) {
    return el("span", { class: `badge ${kind || text}` }, text);
  }

  let toastTimer = null;
  function toast(message, { error = false } = {}) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.className = error ? "error" : "";
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, error ? 8000 : 3000);
  }

  /** A bar as inline SVG: value out of max, for tables of counts. */
  function bar(value, max) {
    const width = max > 0 ? Math.max(0, Math.min(100, (100 * value) / max)) : 0;
    return svg("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none" },
      svg("rect", { x: 0, y: 0, width: width.toFixed(2), height: 10, rx: 1 }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("logout")?.addEventListener("click", async () => {
      try { await api("/console/logout", { method: "POST" }); } catch (_) { /* gone anyway */ }
      location.href = "/console/login";
    });
  });

  return { api, el, svg, time, duration, badge, toast, bar, role: () => document.getElementById("main")?.dataset.role };
})();
