/* Try a flow: a test call from the browser. Each button is one callback of the CTI:
   Say (recognized text), Barge in (text while the prompt plays), Silence (ready2speak),
   Hang up (hungup). The reply's audio plays here; step and intent show under it. */
"use strict";

(() => {
  const { el, badge } = vb;
  const chat = document.getElementById("chat");
  const player = document.getElementById("player");
  const sayForm = document.getElementById("say");
  const text = document.getElementById("text");
  let callId = null;
  let shownPbx = 0;
  let pollTimer = null;

  const callPath = (id) => "/console/calls/" + encodeURIComponent(id);

  function busy(on) {
    for (const button of document.querySelectorAll("#say button, #call")) button.disabled = on;
  }

  function showState(data) {
    const item = (label, value, id) => el("span", { id }, label, " ", el("b", {}, value ?? "—"));
    document.getElementById("state").replaceChildren(...[
      item("call", data.callid), badge("test"),
      item("flow", data.active_flow ? `${data.flow} → ${data.active_flow}` : data.flow),
      item("step", data.step, "state-step"),
      item("outcome", data.outcome, "state-outcome"),
      data.grade ? item("grade", `${data.grade.grade} (${data.grade.score}) ${data.grade.reason}`) : null,
      Object.keys(data.variables || {}).length ? item("variables", JSON.stringify(data.variables)) : null,
    ].filter(Boolean));
  }

  function addTurn(data, said) {
    if (said) chat.append(said);
    const turn = data.turn || {};
    const meta = el("div", { class: "meta" },
      turn.intent ? el("span", {}, "intent ", el("b", { class: "intent" }, turn.intent)) : null,
      turn.confidence !== null && turn.confidence !== undefined ? el("span", {}, "confidence ", el("b", {}, Number(turn.confidence).toFixed(2))) : null,
      el("span", {}, "step ", el("b", {}, data.step ?? "—")),
      turn.ms ? el("span", {}, "latency ", el("b", {}, `${Math.round(turn.ms)} ms`)) : null);
    if (data.late) {
      chat.append(el("div", { class: "msg event" }, "the answer is slow: the wait words play first (VOICEBOT_KB_FILLER_MS)"));
      awaitLate(data.turns_before);
    } else if (data.keep_playing) {
      chat.append(el("div", { class: "msg event" }, "continue: the prompt plays on (barge-in ignored)", meta));
    } else if (data.audio_url || turn.reply) {
      chat.append(el("div", { class: "msg bot reply" }, turn.reply || "", meta));
    } else {
      chat.append(el("div", { class: "msg event" }, data.ended ? "(no answer: the call has ended)" : "(nothing to say)"));
    }
    if (data.action) {
      const what = data.action.action === "transfer" ? `transfer to ${data.action.target}` : "hang up";
      chat.append(el("div", { class: "msg pbx action", "data-action": data.action.action },
        `→ ${what} after the prompt (recorded only: a test call never reaches the PBX)`));
    }
    if (data.ended) chat.append(el("div", { class: "msg event ended" }, `call ended: ${data.outcome} — ${data.end_reason || ""}`));
    chat.lastElementChild?.scrollIntoView({ block: "nearest" });
    if (data.audio_url) {
      player.src = data.audio_url;
      player.play().catch(() => { /* autoplay refused: the controls are there */ });
    }
    showState(data);
    if (data.due || data.action) pollPbx();
  }

  /** A late answer is pushed when ready (recorded only): it appears as the call's next turn. */
  function awaitLate(turnsBefore, tries = 30) {
    setTimeout(async () => {
      try {
        const call = await vb.api("/console/api/calls/" + encodeURIComponent(callId));
        const said = (call.turns || []).filter((t) => t.event !== "pbx");
        if (said.length <= turnsBefore) {
          if (tries > 0) awaitLate(turnsBefore, tries - 1);
          else chat.append(el("div", { class: "msg event" }, "(no answer came: a repeated callback gets the same answer)"));
          return;
        }
        const turn = said[turnsBefore];
        chat.append(el("div", { class: "msg bot reply" }, turn.reply || "",
          el("div", { class: "meta" }, el("span", {}, "delivered ", el("b", {}, turn.delivered || "")),
            el("span", {}, "step ", el("b", {}, turn.step ?? "—")),
            turn.ms ? el("span", {}, "latency ", el("b", {}, `${Math.round(turn.ms)} ms`)) : null)));
        if (turn.audio_url) {
          const playLate = () => { player.src = turn.audio_url; player.play().catch(() => {}); };
          if (player.paused || player.ended) playLate(); else player.addEventListener("ended", playLate, { once: true });
        }
      } catch (_) { /* the next event shows the call anyway */ }
    }, 500);
  }

  /** The PBX turns (recorded transfer or hang-up) appear after the announcement plays. */
  function pollPbx(tries = 30) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(async () => {
      try {
        const call = await vb.api("/console/api/calls/" + encodeURIComponent(callId));
        const pbx = (call.turns || []).filter((t) => t.event === "pbx");
        for (const turn of pbx.slice(shownPbx)) {
          chat.append(el("div", { class: "msg pbx recorded" }, el("strong", {}, "PBX: ", turn.text),
            " — ", (turn.pbx || []).map((x) => x.answer).join("; ") || turn.error || ""));
        }
        shownPbx = pbx.length;
        if (pbx.length === 0 && tries > 0) pollPbx(tries - 1);
      } catch (_) { /* try again with the next event */ }
    }, 1000);
  }

  async function act(event, words) {
    if (!callId) return;
    busy(true);
    const said = words ? el("div", { class: "msg caller" }, words, event === "barge" ? el("div", { class: "meta" }, "barge-in") : null)
      : el("div", { class: "msg event" }, event === "hangup" ? "you hung up" : "silence");
    try {
      const data = await vb.api("/console/api/try/" + encodeURIComponent(callId), { method: "POST", body: { event, text: words || "" } });
      addTurn(data, said);
      if (event === "say" || event === "barge") text.value = "";
    } catch (error) {
      vb.toast(error.message, { error: true });
    } finally {
      busy(false);
      text.focus();
    }
  }

  document.getElementById("place").addEventListener("submit", async (event) => {
    event.preventDefault();
    busy(true);
    clearTimeout(pollTimer);
    shownPbx = 0;
    try {
      const form = event.target;
      const data = await vb.api("/console/api/try", { method: "POST", body: { flow: form.flow.value, telnum: form.telnum.value } });
      callId = data.callid;
      chat.replaceChildren(el("div", { class: "msg event" }, `call ${callId} placed on flow ${form.flow.value}`));
      document.getElementById("session").hidden = false;
      document.getElementById("open-call").href = callPath(callId);
      addTurn(data, null);
    } catch (error) {
      vb.toast("The call could not be placed: " + error.message, { error: true });
    } finally {
      busy(false);
      text.focus();
    }
  });

  sayForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (text.value.trim()) act("say", text.value.trim());
  });
  document.getElementById("barge").addEventListener("click", () => { if (text.value.trim()) act("barge", text.value.trim()); });
  document.getElementById("silence").addEventListener("click", () => act("silence"));
  document.getElementById("hangup").addEventListener("click", () => act("hangup"));
})();
