/// `GET /status`: one self-contained page (no asset from elsewhere) that asks the same route for
/// JSON every second and draws the system: the front end, each replica with its leader marked,
/// lag, the cache, request rates and the last leader changes. Elements carry `data-` attributes
/// for tests and scripts (`data-replica`, `data-role`, `id="leader-catalog"`).
enum StatusPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bazar status</title>
<style>
  :root { --ink:#1d2330; --muted:#6b7385; --line:#d9dde6; --ok:#1f9d55; --warn:#d97706; --bad:#dc2626; --lead:#2563eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f7fb; }
  header { display: flex; align-items: baseline; gap: 1rem; padding: 1rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 1.3rem; }
  #state { color: var(--muted); }
  #state.lost { color: var(--bad); font-weight: 600; }
  main { padding: 1rem 1.5rem; display: grid; gap: 1rem; max-width: 1100px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
  h2 { margin: 0 0 .6rem; font-size: 1rem; }
  .stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: .6rem; }
  .stat { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .7rem; }
  .stat b { display: block; font-size: 1.3rem; }
  .stat span { color: var(--muted); font-size: .85rem; }
  .service { margin-bottom: .8rem; }
  .service h3 { margin: .2rem 0 .4rem; font-size: .95rem; }
  .service h3 small { color: var(--muted); font-weight: normal; }
  .replicas { display: flex; flex-wrap: wrap; gap: .6rem; }
  .replica { width: 190px; border: 2px solid var(--line); border-radius: 8px; padding: .5rem .7rem; }
  .replica[data-role="leader"] { border-color: var(--lead); box-shadow: 0 0 0 2px #dbe7ff; }
  .replica[data-role="unreachable"] { border-style: dashed; color: var(--muted); }
  .replica .name { font-weight: 600; }
  .badge { display: inline-block; font-size: .7rem; font-weight: 700; letter-spacing: .04em; border-radius: 4px; padding: 0 .35rem; margin-left: .3rem; color: #fff; background: var(--muted); }
  .badge.leader { background: var(--lead); }
  .badge.unreachable { background: var(--bad); }
  .dot { display: inline-block; width: .6rem; height: .6rem; border-radius: 50%; margin-right: .25rem; background: var(--bad); }
  .dot.on { background: var(--ok); }
  .line { color: var(--muted); font-size: .85rem; }
  .lagging { color: var(--warn); font-weight: 600; }
  .arrow { color: var(--muted); margin: .2rem 0 .6rem; }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); font-size: .9rem; }
  th { color: var(--muted); font-weight: 600; }
</style>
</head>
<body>
<header><h1>Bazar</h1><span id="state">loading…</span></header>
<main>
  <section>
    <h2>Front end <small class="line">(this one; public and admin requests)</small></h2>
    <div class="stats">
      <div class="stat"><b id="rps">–</b><span>requests / s</span></div>
      <div class="stat"><b id="eps">–</b><span>5xx / s</span></div>
      <div class="stat"><b id="p50">–</b><span>p50 latency</span></div>
      <div class="stat"><b id="p99">–</b><span>p99 latency</span></div>
      <div class="stat"><b id="cache-size">–</b><span>cache entries</span></div>
      <div class="stat"><b id="hit-ratio">–</b><span>cache hit ratio</span></div>
    </div>
    <div class="arrow">▼ reads to catalog replicas, purchases to order replicas ▼</div>
    <div id="services"></div>
  </section>
  <section>
    <h2>Leader changes</h2>
    <table><thead><tr><th>when</th><th>service</th><th>new leader</th><th>term</th></tr></thead><tbody id="changes"></tbody></table>
  </section>
</main>
<noscript>This page draws itself with JavaScript; <code>curl -H 'Accept: application/json' …/status</code> gives the same facts.</noscript>
<script>
"use strict";
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
};
const ms = v => v == null ? "–" : (v < 10 ? v.toFixed(1) : Math.round(v)) + " ms";
const rate = v => v < 10 ? v.toFixed(1) : Math.round(v).toString();
const time = iso => new Date(iso).toLocaleTimeString();

function draw(s) {
  document.getElementById("rps").textContent = rate(s.front.requests_per_second);
  document.getElementById("eps").textContent = rate(s.front.errors_per_second);
  document.getElementById("p50").textContent = ms(s.front.p50_ms);
  document.getElementById("p99").textContent = ms(s.front.p99_ms);
  document.getElementById("cache-size").textContent = s.cache.size + " / " + s.cache.capacity;
  const reads = s.cache.hits + s.cache.misses;
  document.getElementById("hit-ratio").textContent = reads ? Math.round(100 * s.cache.hits / reads) + " %" : "–";

  const services = document.getElementById("services");
  services.replaceChildren();
  for (const service of [...new Set(s.replicas.map(r => r.service))]) {
    const replicas = s.replicas.filter(r => r.service === service);
    const leaders = replicas.filter(r => r.role === "leader").sort((a, b) => b.term - a.term);
    const leader = leaders.length ? leaders[0].name : "none";
    const row = el("div", { class: "replicas" });
    for (const r of replicas) {
      const badge = r.role === "follower" ? "" : el("span", { class: "badge " + r.role }, r.role === "leader" ? "LEADER" : "DOWN");
      const lag = r.lag == null ? "lag –" : "lag " + r.lag;
      row.append(el("div", { class: "replica", "data-replica": r.name, "data-role": r.role },
        el("div", {}, el("span", { class: "name" }, r.name), badge),
        el("div", { class: "line" }, "term " + (r.term ?? "–") + " · seq " + (r.last_seq ?? "–")),
        el("div", { class: "line" + (r.lag > 0 ? " lagging" : "") }, lag),
        el("div", { class: "line" }, el("span", { class: "dot" + (r.ready ? " on" : "") }), r.ready ? "ready" : "not ready",
           " ", el("span", { class: "dot" + (r.healthy ? " on" : "") }), r.healthy ? "answers" : "no answer")));
    }
    services.append(el("div", { class: "service" },
      el("h3", {}, service + " ", el("small", {}, "leader: "), el("span", { id: "leader-" + service }, leader)), row));
  }

  const changes = document.getElementById("changes");
  changes.replaceChildren(...s.leader_changes.slice().reverse().map(c =>
    el("tr", {}, el("td", {}, time(c.at)), el("td", {}, c.service), el("td", {}, c.leader), el("td", {}, String(c.term)))));
}

async function refresh() {
  const state = document.getElementById("state");
  try {
    const answer = await fetch("/status", { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!answer.ok) throw new Error("HTTP " + answer.status);
    const status = await answer.json();
    draw(status);
    state.className = "";
    state.textContent = "as of " + time(status.taken_at) + " · refreshes every second";
  } catch (error) {
    state.className = "lost";
    state.textContent = "front end not answering (" + error.message + "), retrying…";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""#
}
