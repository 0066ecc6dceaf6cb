/* Knowledge: search as agents do, with scores and the clarification the question would
   get; admins edit an entry through the knowledge admin API (/kb/entries/<id>). */
"use strict";

(() => {
  const { el, svg } = vb;
  const isAdmin = vb.role() === "admin";
  const dialog = document.getElementById("editor");
  let editing = null;

  function scoreBar(score) {
    const width = Math.max(0, Math.min(1, score)) * 100;
    return svg("svg", { class: "scorebar", viewBox: "0 0 100 8", preserveAspectRatio: "none" },
      svg("rect", { class: "back", x: 0, y: 0, width: 100, height: 8, rx: 2 }),
      svg("rect", { class: "fill", x: 0, y: 0, width: width.toFixed(1), height: 8, rx: 2 }));
  }

  function replyCard(reply) {
    const kinds = { 0: "answer", 1: "clarification", 32: "FAQ answer" };
    const kind = reply.found === false ? "not found" : kinds[reply.type] || `type ${reply.type}`;
    return [
      el("div", { class: "muted" }, "A caller asking this would hear (", kind,
        reply.score !== undefined && reply.score !== null ? `, score ${Number(reply.score).toFixed(3)}` : "", "):"),
      el("p", { id: "reply-text" }, reply.clarify),
      reply.choices ? el("div", { class: "muted" }, "choices: ", reply.choices.map((c) => `${c.title} (${c.id})`).join(", ")) : null,
    ];
  }

  document.getElementById("search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = document.getElementById("q").value.trim();
    if (!q) return;
    try {
      const data = await vb.api("/console/api/kb/search?" + new URLSearchParams({ q }));
      const reply = document.getElementById("reply");
      reply.replaceChildren(...replyCard(data.reply).filter(Boolean));
      reply.hidden = false;
      const table = document.getElementById("results");
      table.querySelector("tbody").replaceChildren(...data.results.map((r) => el("tr", { "data-id": r.id },
        el("td", { class: "score" }, Number(r.score).toFixed(3), scoreBar(r.score)),
        el("td", {}, el("strong", {}, r.title), el("div", { class: "muted" }, r.id, { faq: " · FAQ", outside: " · outside: answered \"not found\"" }[r.kind] || "")),
        el("td", {}, r.answer),
        el("td", {}, isAdmin ? el("button", { type: "button", class: "edit", onclick: () => edit(r.id) }, "Edit") : null))));
      table.hidden = false;
    } catch (error) {
      vb.toast(error.message, { error: true });
    }
  });

  const lines = (list) => (list || []).join("\n");
  const unlines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

  async function edit(id) {
    try {
      editing = await vb.api("/kb/entries/" + encodeURIComponent(id));
    } catch (error) {
      vb.toast(error.message, { error: true });
      return;
    }
    document.getElementById("edit-id").textContent = id;
    document.getElementById("edit-title").value = editing.title;
    document.getElementById("edit-answer").value = editing.answer;
    document.getElementById("edit-questions").value = lines(editing.questions);
    document.getElementById("edit-keywords").value = lines(editing.keywords);
    document.getElementById("edit-error").hidden = true;
    dialog.showModal();
  }

  document.getElementById("edit-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("edit-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const entry = {
      ...editing,
      title: document.getElementById("edit-title").value.trim(),
      answer: document.getElementById("edit-answer").value.trim(),
      questions: unlines(document.getElementById("edit-questions").value),
      keywords: unlines(document.getElementById("edit-keywords").value),
    };
    try {
      await vb.api("/kb/entries/" + encodeURIComponent(entry.id), { method: "PUT", body: entry });
      dialog.close();
      vb.toast(`Saved ${entry.id}`);
      document.getElementById("search").requestSubmit();
    } catch (error) {
      const box = document.getElementById("edit-error");
      box.textContent = error.message;
      box.hidden = false;
    }
  });
})();
