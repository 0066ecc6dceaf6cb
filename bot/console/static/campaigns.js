/* Campaigns: each with its numbers' counts, refreshed; admins create one from a file of
   numbers, start and stop it, and download its results. */
"use strict";

(() => {
  const { el, badge } = vb;
  const admin = vb.role() === "admin";
  const body = document.querySelector("#campaigns tbody");
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  let timer = null;

  function row(c) {
    const n = c.numbers;
    const actions = [];
    if (admin) {
      const act = (label, verb) => el("button", { type: "button", onclick: () => change(c.name, verb) }, label);
      actions.push(c.state === "running" ? act("Stop", "stop") : act("Start", "start"));
      actions.push(el("a", { href: `/campaigns/${encodeURIComponent(c.name)}/results.csv` }, "Results"));
    }
    return el("tr", { "data-campaign": c.name },
      el("td", {}, c.name), el("td", {}, c.flow), el("td", {}, c.task_id),
      el("td", {}, badge(c.state, c.state === "running" ? "ok" : "")),
      el("td", {}, n.waiting), el("td", {}, n.imported), el("td", {}, n.done), el("td", {}, n.failed),
      el("td", {}, n.dnc), el("td", {}, actions));
  }

  async function load() {
    clearTimeout(timer);
    try {
      const { campaigns } = await vb.api("/campaigns");
      body.replaceChildren(...(campaigns.length ? campaigns.map(row)
        : [el("tr", {}, el("td", { colspan: 10, class: "muted" }, "No campaign yet."))]));
    } catch (error) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "error" }, error.message)));
    }
    timer = setTimeout(load, 3000);
  }

  async function change(name, verb) {
    try {
      await vb.api(`/campaigns/${encodeURIComponent(name)}/${verb}`, { method: "POST" });
      vb.toast(`${name}: ${verb === "start" ? "started" : "stopped"}`);
    } catch (error) {
      vb.toast(`${name} not ${verb === "start" ? "started" : "stopped"}: ${error.message}`, { error: true });
    }
    load();
  }

  document.getElementById("new-campaign")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const problems = document.getElementById("create-problems");
    const params = new URLSearchParams();
    for (const key of ["name", "flow", "task_id", "hours", "daily_cap", "attempts"]) {
      const value = form.elements[key].value.trim();
      if (value) params.set(key, value);
    }
    const file = form.elements.numbers.files[0];
    const response = await fetch(`/campaigns?${params}`, {
      method: "POST", credentials: "same-origin", body: file,
      headers: { "X-CSRF-Token": csrf, "Content-Type": file.name.endsWith(".xlsx")
        ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv" },
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      problems.hidden = false;
      problems.textContent = answer?.error?.message || `${response.status} ${response.statusText}`;
      return;
    }
    problems.hidden = !answer.warnings?.length;
    problems.textContent = (answer.warnings || []).join("\n");
    vb.toast(`${answer.name}: created, ${Object.values(answer.numbers).reduce((a, b) => a + b, 0)} numbers`);
    form.reset();
    load();
  });

  load();
})();
