/* Dashboard: figures of the transcripts of the last hours, drawn as inline SVG. */
"use strict";

(() => {
  const { el, svg } = vb;
  const form = document.getElementById("window");

  function tile(label, value, id) {
    return el("div", { class: "tile", id }, el("div", { class: "value" }, value ?? "—"), el("div", { class: "label" }, label));
  }

  function bars(rows, labelKey, countKey) {
    if (!rows.length) return el("p", { class: "muted" }, "nothing yet");
    const max = Math.max(...rows.map((r) => r[countKey]));
    return el("div", { class: "bars" }, rows.map((r) =>
      el("div", { class: "row" }, el("span", {}, String(r[labelKey])), vb.bar(r[countKey], max), el("span", { class: "count" }, r[countKey]))));
  }

  function perHour(rows) {
    const width = 600, height = 180, bottom = 24, top = 14;
    const max = Math.max(1, ...rows.map((r) => r.calls));
    const step = width / rows.length;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
    rows.forEach((r, i) => {
      const h = ((height - bottom - top) * r.calls) / max;
      const rect = svg("rect", { x: (i * step + 1).toFixed(1), y: (height - bottom - h).toFixed(1), width: Math.max(1, step - 2).toFixed(1), height: h.toFixed(1) });
      rect.append(svg("title", {}, `${r.hour}: ${r.calls} calls`));
      chart.append(rect);
      if (r.calls) chart.append(svg("text", { x: (i * step + step / 2).toFixed(1), y: (height - bottom - h - 3).toFixed(1), "text-anchor": "middle" }, r.calls));
      const every = Math.ceil(rows.length / 12);
      if (i % every === 0) chart.append(svg("text", { x: (i * step).toFixed(1), y: height - 6 }, r.hour.slice(6)));
    });
    return chart;
  }

  async function load() {
    const params = new URLSearchParams({ hours: form.hours.value });
    if (form.test.checked) params.set("test", "1");
    try {
      const d = await vb.api("/console/api/dashboard?" + params);
      const rate = d.no_match_rate === null ? null : `${(100 * d.no_match_rate).toFixed(1)} %`;
      const transferred = d.outcomes.find((o) => o.name === "transferred")?.count || 0;
      document.getElementById("tiles").replaceChildren(
        tile("calls", d.calls, "tile-calls"),
        tile("transferred", transferred),
        tile("caller's words with no intent (no-match)", rate, "tile-no-match"),
        tile("turn latency p50", d.latency_ms.p50 === null ? null : `${d.latency_ms.p50} ms`),
        tile("turn latency p90", d.latency_ms.p90 === null ? null : `${d.latency_ms.p90} ms`),
        tile("test calls left out", d.test_calls_left_out));
      document.getElementById("per-hour").replaceChildren(perHour(d.per_hour), el("p", { class: "muted" }, `hours in ${d.timezone}`));
      document.getElementById("outcomes").replaceChildren(bars(d.outcomes, "name", "count"));
      document.getElementById("grades").replaceChildren(bars(d.grades, "name", "count"));
      document.getElementById("latency").replaceChildren(
        bars(d.latency_ms.buckets.map((b) => ({ name: b.le === "+Inf" ? "slower" : `≤ ${b.le} ms`, turns: b.turns })), "name", "turns"),
        el("p", { class: "muted" }, d.latency_ms.turns ? `${d.latency_ms.turns} turns; p99 ${d.latency_ms.p99} ms, max ${d.latency_ms.max} ms` : ""));
      document.getElementById("not-found").replaceChildren(bars(d.not_found, "question", "count"));
      document.getElementById("updated").textContent = (d.truncated ? "the newest calls only · " : "") + "updated " + new Date().toLocaleTimeString();
    } catch (error) {
      vb.toast(error.message, { error: true });
    }
  }

  form.addEventListener("change", load);
  load();
  setInterval(() => { if (!document.hidden) load(); }, 30000);
})();
