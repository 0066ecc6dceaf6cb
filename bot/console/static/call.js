/* One call: its turns as a chat (intent, confidence, step, latency, audio), the PBX's
   and the language model's exchanges, and for admins the numbers revealed on request and the CTI's recording
   (each reveal and each recording played is logged). */
"use strict";

(() => {
  const main = document.getElementById("main");
  const callId = main.dataset.callId;
  const apiPath = "/console/api/calls/" + encodeURIComponent(callId).replaceAll("%2F", "/");
  const recordingPath = "/calls/" + encodeURIComponent(callId).replaceAll("%2F", "/") + "/recording";
  const { el, badge } = vb;
  let revealed = false;
  let timer = null;

  function summary(call) {
    const item = (label, value) => el("div", {}, el("span", {}, label), value ?? "—");
    return [
      item("Number", call.telnum),
      item("Flow", `${call.flow ?? ""} ${call.flow_version ? "(" + call.flow_version + ")" : ""}`),
      item("Direction", call.direction),
      item("Campaign", call.campaign),
      item("Started", vb.time(call.started_at)),
      item("Ended", vb.time(call.ended_at) || "in progress"),
      item("Duration", vb.duration(call.duration_seconds)),
      item("Outcome", el("span", {}, call.outcome ? badge(call.outcome) : "", " ", call.test ? badge("test") : "")),
      item("Grade", call.grade ? `${call.grade} (${call.score}) ${call.grade_reason || ""}` : null),
      item("End reason", call.end_reason),
      item("Variables", Object.keys(call.variables || {}).length
        ? el("code", {}, JSON.stringify(call.variables)) : null),
      item("Recording", recording(call)),
    ];
  }

  function recording(call) {
    if (!call.recording_url) return null;
    if (!main.dataset.admin) return el("span", { class: "muted" }, "on the CTI (admins can play it here)");
    if (call.ended_at === null) return el("span", { class: "muted" }, "once the call has ended");
    return el("audio", { id: "recording", controls: true, preload: "none", src: recordingPath });
  }

  function meta(turn) {
    const parts = [];
    const add = (label, value) => { if (value !== null && value !== undefined && value !== "") parts.push(el("span", {}, label, " ", el("b", {}, value))); };
    add("intent", turn.intent);
    if (turn.confidence !== null && turn.confidence !== undefined) add("confidence", Number(turn.confidence).toFixed(2));
    add("step", turn.step);
    if (turn.ms) add("latency", `${Math.round(turn.ms)} ms`);
    add("tts", turn.tts);
    add("delivered", turn.delivered);
    if (turn.playing) parts.push(el("span", {}, "barge-in"));
    if (turn.continued) parts.push(el("span", {}, "prompt played on"));
    parts.push(el("span", {}, vb.time(turn.at)));
    return el("div", { class: "meta" }, parts);
  }

  function exchanges(list) {
    if (!list || !list.length) return null;
    return list.map((x) => el("pre", {}, `${x.method} ${x.url} → ${x.status ?? "no answer"} ${x.answer ?? ""} (${x.ms} ms)` +
      (x.request ? "\n" + JSON.stringify(x.request) : "") + (x.error ? "\nerror: " + x.error : "")));
  }

  function asked(list) {  // the language model's requests: use, result, time, answer
    if (!list || !list.length) return null;
    return list.map((x) => el("pre", { class: "llm" }, `model ${x.use}: ${x.result}` +
      (x.reason ? ` (${x.reason})` : "") + ` (${x.ms} ms)` + (x.answer ? "\n" + x.answer : "")));
  }

  function bubbles(turn) {
    const out = [];
    if (turn.event === "pbx") {
      out.push(el("div", { class: "msg pbx" }, el("strong", {}, "PBX: ", turn.text || ""),
        turn.error ? el("div", { class: "error" }, turn.error) : null, exchanges(turn.pbx), asked(turn.llm), meta(turn)));
      return out;
    }
    if (turn.event === "summary") {
      out.push(el("div", { class: "msg pbx" }, el("strong", {}, "Call summary (language model)"), asked(turn.llm), meta(turn)));
      return out;
    }
    if (turn.event === "text") out.push(el("div", { class: "msg caller" }, turn.text));
    else if (!turn.reply && !turn.audio_url) {
      out.push(el("div", { class: "msg event" }, turn.event === "hungup" ? "the caller hung up" : "silence (ready2speak)", meta(turn)));
      return out;
    } else out.push(el("div", { class: "msg event" }, "silence (ready2speak)"));
    if (turn.reply || turn.audio_url || turn.continued) {
      out.push(el("div", { class: "msg bot" },
        turn.reply || (turn.continued ? "(the prompt plays on)" : ""),
        turn.audio_url ? el("audio", { controls: true, preload: "none", src: turn.audio_url }) : null,
        turn.filler ? el("div", { class: "meta" }, "filler first: ", el("audio", { controls: true, preload: "none", src: turn.filler })) : null,
        exchanges(turn.pbx), asked(turn.llm), meta(turn)));
    } else {
      out.push(meta(turn));
    }
    return out;
  }

  function render(call) {
    document.getElementById("summary").replaceChildren(...summary(call));
    const pushes = (call.hangup_pushes || []).map((p) =>
      el("div", { class: "msg pbx" }, `hang-up push (${p.business}) at ${vb.time(p.received_at)}`));
    document.getElementById("turns").replaceChildren(...(call.turns || []).flatMap(bubbles), ...pushes);
  }

  async function load() {
    if (revealed) return;
    try {
      const call = await vb.api(apiPath);
      render(call);
      clearTimeout(timer);
      if (call.outcome === "in_progress" || call.ended_at === null) timer = setTimeout(load, 3000);
    } catch (error) {
      document.getElementById("turns").replaceChildren(el("p", { class: "error" }, error.message));
    }
  }

  document.getElementById("reveal")?.addEventListener("click", async (event) => {
    if (!confirm("Reveal this call's numbers? Your name is logged with the call.")) return;
    try {
      const call = await vb.api(apiPath + "/reveal", { method: "POST" });
      revealed = true;
      clearTimeout(timer);
      render(call);
      event.target.disabled = true;
      document.getElementById("masked-note").textContent = "Numbers revealed (logged).";
    } catch (error) {
      vb.toast("Not revealed: " + error.message, { error: true });
    }
  });

  load();
})();
