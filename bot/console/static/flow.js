/* One flow: its check, its conversation tests (run on demand), its diagram. */
"use strict";

(() => {
  const { el, badge } = vb;
  const name = document.getElementById("main").dataset.flow;
  const box = document.getElementById("problems");

  (async () => {
    try {
      const check = await vb.api("/console/api/flows/check");
      const mine = check.problems.filter((p) => p.stem === name);
      box.replaceChildren(mine.length
        ? el("div", {}, mine.map((p) => el("div", { class: "problem" }, badge(p.severity, p.severity), " ",
          `${p.file}:${p.line}:${p.column}: ${p.message} — ${p.fix}`)))
        : el("p", { id: "check-ok" }, badge("OK", "ok"), " no problem found."));
    } catch (error) {
      box.replaceChildren(el("p", { class: "error" }, error.message));
    }
  })();

  const diagram = document.getElementById("diagram");
  diagram.addEventListener("error", () => {
    diagram.replaceWith(el("p", { class: "error" }, "The diagram could not be drawn (is graphviz installed?)."));
  });

  const button = document.getElementById("run-tests");
  const status = document.getElementById("test-status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "running…";
    const out = document.getElementById("tests");
    try {
      const run = await vb.api(`/console/api/flows/${encodeURIComponent(name)}/test`, { method: "POST" });
      const broke = run.exit_status !== 0 && run.exit_status !== 1;
      status.textContent = !run.files.length ? ""
        : broke ? `the run failed (exit status ${run.exit_status}): see the output`
          : `${run.passed} passed, ${run.failed} failed`;
      out.replaceChildren(
        ...run.results.map((r) => el("div", { class: "test-result" }, badge(r.passed ? "PASS" : "FAIL", r.passed ? "ok" : "error"), " ", r.name)),
        ...run.invalid.map((text) => el("pre", { class: "error" }, text)),
        el("details", { open: run.failed > 0 || broke || !run.files.length }, el("summary", {}, "output"), el("pre", {}, run.output)));
    } catch (error) {
      status.textContent = "";
      vb.toast(error.message, { error: true });
    } finally {
      button.disabled = false;
    }
  });
})();
