/* Flows: each flow's check status, and every problem as file:line:col. */
"use strict";

(async () => {
  const { el, badge } = vb;
  const box = document.getElementById("problems");
  try {
    const check = await vb.api("/console/api/flows/check");
    for (const row of document.querySelectorAll("#flows tr[data-flow]")) {
      const mine = check.problems.filter((p) => p.stem === row.dataset.flow);
      const errors = mine.filter((p) => p.severity === "error").length;
      const cell = row.querySelector(".check");
      cell.replaceChildren(errors ? badge(`${errors} errors`, "error")
        : mine.length ? badge(`${mine.length} warnings`, "warning") : badge("OK", "ok"));
    }
    box.replaceChildren(check.problems.length
      ? el("div", {}, check.problems.map(problemLine))
      : el("p", {}, badge("OK", "ok"), ` ${check.files.length} files, no problem.`));
  } catch (error) {
    box.replaceChildren(el("p", { class: "error" }, error.message));
  }

  function problemLine(p) {
    return el("div", { class: "problem" }, badge(p.severity, p.severity), " ",
      `${p.file}:${p.line}:${p.column}: ${p.message} — ${p.fix}`);
  }
})();
