/* Calls: live and recent calls with masked numbers, filters, auto-refresh. */
"use strict";

(() => {
  const form = document.getElementById("filters");
  const body = document.querySelector("#calls tbody");
  const REFRESH_MS = 3000;
  let timer = null;

  const callPath = (id) => "/console/calls/" + encodeURIComponent(id).replaceAll("%2F", "/");

  function row(call) {
    const { el, badge } = vb;
    const live = call.outcome === "in_progress";
    return el("tr", { "data-callid": call.callid },
      el("td", {}, vb.time(call.started_at)),
      el("td", {}, el("a", { href: callPath(call.callid), class: "call-link" }, call.callid), " ",
        call.test ? badge("test") : null),
      el("td", {}, call.telnum),
      el("td", {}, call.flow),
      el("td", { class: "num" }, vb.duration(call.duration_seconds)),
      el("td", { class: "num" }, call.turn_count ?? ""),
      el("td", {}, live ? badge("live", "live") : badge(call.outcome)),
      el("td", { title: call.grade_reason || "" }, call.grade ? `${call.grade} (${call.score})` : ""));
  }

  async function load() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (key !== "auto" && value) params.set(key, value);
    try {
      const data = await vb.api("/console/api/calls?" + params);
      body.replaceChildren(...data.calls.map(row));
      document.getElementById("empty").hidden = data.calls.length > 0;
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (error) {
      vb.toast("Calls could not be loaded: " + error.message, { error: true });
    }
  }

  function schedule() {
    clearInterval(timer);
    if (form.elements.auto.checked) timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  }

  form.addEventListener("change", () => { load(); schedule(); });
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  form.elements.q.addEventListener("input", () => { clearTimeout(form._typing); form._typing = setTimeout(load, 300); });
  load();
  schedule();
})();
