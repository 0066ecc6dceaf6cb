/* The agent page of a handed-over call (console and embeddable): the call, what the robot
   collected, the conversation with the live lines of the agent's call, and the knowledge
   entries matching the last of them. Follows the call through server-sent events
   (EventSource reconnects by itself); nothing is loaded from another host. */
"use strict";

(() => {
  const root = document.getElementById("agent");
  const WHO = { caller: "Caller (robot)", bot: "Robot", customer: "Customer", agent: "Agent", system: "PBX" };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function time(iso) {
    return iso ? new Date(iso).toLocaleTimeString() : "";
  }

  function render(view) {
    const call = view.call || {};
    const item = (label, value) => el("div", {}, el("span", {}, label), value ?? "—");
    document.getElementById("agent-call").replaceChildren(
      item("Number", call.telnum), item("Flow", call.flow), item("Outcome", call.outcome),
      item("Grade", call.grade), item("Started", time(call.started_at)));
    document.getElementById("agent-slots").replaceChildren(...Object.entries(view.slots || {}).flatMap(
      ([name, value]) => [el("dt", {}, name), el("dd", {}, typeof value === "string" ? value : JSON.stringify(value))]));
    document.getElementById("agent-conversation").replaceChildren(...(view.conversation || []).map(
      (line) => el("div", { class: `msg ${line.who}` }, el("div", { class: "meta" }, WHO[line.who] || line.who, " ", time(line.at)), line.text)));
    document.getElementById("agent-query").textContent = view.query || "—";
    const list = document.getElementById("agent-suggestions");
    const items = (view.suggestions || []).map((hit) => el("li", { "data-id": hit.id },
      el("strong", { class: "title" }, hit.title), " ", el("span", { class: "muted score" }, Number(hit.score).toFixed(2)),
      el("div", { class: "answer" }, hit.answer)));
    list.replaceChildren(...(items.length ? items : [el("li", { class: "muted none" }, "nothing matches yet")]));
  }

  function state(text) {
    document.getElementById("agent-live-state").textContent = text;
  }

  fetch(root.dataset.stateUrl, { credentials: "same-origin" })
    .then((response) => response.ok ? response.json() : Promise.reject(response.status))
    .then(render)
    .catch((status) => state(`could not load the call (${status})`));

  const events = new EventSource(root.dataset.eventsUrl);
  events.addEventListener("call", (event) => { render(JSON.parse(event.data)); state("live"); });
  events.addEventListener("open", () => state("live"));
  events.addEventListener("error", () => state("reconnecting…"));
})();
