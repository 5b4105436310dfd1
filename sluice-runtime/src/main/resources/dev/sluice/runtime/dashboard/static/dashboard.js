// The Sluice dashboard: renders the JSON snapshot the head sends once a second over server-sent
// events (/api/events). Plain DOM, no framework; charts by uPlot (served from its WebJar); the
// Logs page is logs.js.
"use strict";

const RATE_POINTS = 300;
const views = ["overview", "workers", "tasks", "streams", "store", "logs"];
let snap = null;
let streamsChart = null;
let storeChart = null;
const rateHistory = [[], [], []]; // time (s), produced/s, consumed/s, over all streams

// ---- formatting -------------------------------------------------------------------------------
function bytes(n) {
  if (n == null) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(1)) + " " + units[i];
}
function num(n) { return n == null ? "" : Number(n).toLocaleString("en-US"); }
function rate(n) { return n == null ? "" : Number(n).toFixed(1); }
function shortId(id) { return id ? id.slice(0, 8) : ""; }
function amount(v) { return Number.isInteger(v) ? String(v) : Number(v).toFixed(2); }
function time(ms) { return ms ? new Date(ms).toLocaleTimeString() : ""; }
function duration(t) {
  if (!t.start) return "";
  const end = t.end || (snap ? snap.time : Date.now());
  const s = Math.max(0, end - t.start) / 1000;
  return s < 60 ? s.toFixed(1) + " s" : (s / 60).toFixed(1) + " min";
}

// ---- DOM helpers ------------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) {
    if (c == null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function td(value, cls, col) {
  const attrs = {};
  if (cls) attrs.class = cls;
  if (col) attrs["data-col"] = col;
  return el("td", attrs, value);
}
function badge(text, cls) { return el("span", { class: "badge " + (cls || text) }, text); }
function fill(tableId, rows) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.replaceChildren(...rows);
}
function usageBar(used, total) {
  const pct = total > 0 ? Math.min(100, (100 * used) / total) : 0;
  const bar = el("span", { class: "bar" }, el("span"));
  bar.firstChild.style.width = pct.toFixed(1) + "%";
  return el("span", {}, bar, bytes(used) + " / " + bytes(total));
}

// ---- views ------------------------------------------------------------------------------------
// "#name" shows a view; "#logs/NODE/worker/ID" a worker's log (logs.js reads what follows).
function route() {
  const parts = location.hash.slice(1).split("/");
  const name = views.includes(parts[0]) ? parts[0] : "overview";
  for (const v of views) document.getElementById("view-" + v).hidden = v !== name;
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", a.dataset.view === name);
  }
  logShow(name === "logs" ? parts.slice(1).map(decodeURIComponent) : null);
  if (snap) render(snap);
}

function renderCards(s) {
  const c = s.cluster;
  const cpuTotal = c.resourcesTotal.CPU || 0;
  const cpuFree = c.resourcesAvailable.CPU || 0;
  const card = (label, value, sub) =>
    el("div", { class: "card" }, el("div", { class: "label" }, label),
      el("div", { class: "value" }, value), el("div", { class: "sub" }, sub || ""));
  const states = Object.entries(c.taskStates).map(([k, v]) => k.toLowerCase() + " " + v).join(", ");
  document.getElementById("cards").replaceChildren(
    card("Nodes", c.nodesAlive, c.nodesDead ? c.nodesDead + " dead" : "all alive"),
    card("CPU in use", amount(cpuTotal - cpuFree) + " / " + amount(cpuTotal), "cluster-wide"),
    card("Object store", bytes(c.storeUsed), "of " + bytes(c.storeCapacity) +
      (c.storeSpilled ? ", " + bytes(c.storeSpilled) + " spilled" : "")),
    card("Objects", num(c.storeObjects), "in the stores"),
    card("Workers", num(c.workers), "worker JVMs"),
    card("Streams open", num(c.streamsOpen), "streaming generators"),
    card("Tasks", num(c.tasksTotal), states || "none yet"));
}

function renderNodes(s) {
  fill("nodes-table", s.nodes.map((n) => {
    const res = Object.keys(n.resourcesTotal).map((k) => {
      const total = n.resourcesTotal[k];
      const free = n.resourcesAvailable[k] ?? total;
      return k + " " + amount(total - free) + "/" + amount(total);
    }).join("  ");
    return el("tr", { "data-node-id": n.id },
      td(shortId(n.id), "mono"), td(n.head ? "head" : "node"),
      td(badge(n.alive ? "ALIVE" : "DEAD")), td(n.address, "mono"), td(res),
      td(n.workers, "num"), td(usageBar(n.storeUsed, n.storeCapacity)),
      td(num(n.storeObjects), "num"), td(bytes(n.spilled), "num"));
  }));
}

function renderWorkers(s) {
  document.getElementById("workers-empty").hidden = s.workers.length > 0;
  fill("workers-table", s.workers.map((w) => el("tr", { "data-worker-id": w.id },
    td(shortId(w.id), "mono"), td(shortId(w.node), "mono"), td(w.pid, "num"),
    td(badge(w.state)), td(w.address, "mono"), td(w.job ? shortId(w.job) : "", "mono"),
    td(el("a", { class: "log-link", href: "#logs/" + w.node + "/worker/" + w.id,
      title: "sluice logs --worker " + w.id }, "log")))));
}

function renderTasks(s) {
  const select = document.getElementById("task-state");
  const states = [...new Set(s.tasks.map((t) => t.state).filter((x) => x))].sort();
  const have = [...select.options].map((o) => o.value);
  for (const st of states) if (!have.includes(st)) select.append(el("option", { value: st }, st));
  const wantState = select.value;
  const wantFn = document.getElementById("task-function").value.trim().toLowerCase();
  const fnMatches = (fn) => !wantFn || (fn || "").toLowerCase().includes(wantFn);
  const shown = s.tasks.filter((t) =>
    (!wantState || t.state === wantState) && (fnMatches(t.function) || fnMatches(t.name)));
  document.getElementById("task-count").textContent =
    shown.length + " of " + s.tasks.length + " recent attempts shown; " +
    num(s.cluster.tasksTotal) + " attempts in all";
  document.getElementById("tasks-empty").hidden = shown.length > 0;
  const summary = Object.entries(s.taskSummary).filter(([fn, m]) =>
    fnMatches(fn) && (!wantState || m[wantState]));
  fill("task-summary", summary.map(([fn, m]) => el("tr", {},
    td(fn, "mono"), td(el("span", { class: "states" },
      ...Object.entries(m).map(([st, n]) => badge(st + " " + num(n), st)))))));
  fill("tasks-table", shown.slice(0, 300).map((t) => el("tr", { "data-task-id": t.id },
    td(shortId(t.id), "mono"), td(t.name === t.function ? t.function : t.name + " (" + t.function + ")", "mono"),
    td(badge(t.state || "?", t.state)), td(t.attempt, "num"),
    td(shortId(t.node), "mono"), td(shortId(t.worker), "mono"), td(time(t.start)),
    td(duration(t), "num"), td(t.error || "", "error-text"))));
}

function renderStreams(s) {
  document.getElementById("streams-empty").hidden = s.streams.length > 0;
  fill("streams-table", s.streams.map((x) => el("tr", { "data-stream-id": x.id },
    td(shortId(x.task), "mono"), td(x.function, "mono"), td(shortId(x.owner), "mono"),
    td(num(x.produced), "num", "produced"), td(num(x.consumed), "num", "consumed"),
    td(num(x.lag), "num", "lag"),
    td(num(x.held) + " / " + (x.window > 0 ? num(x.window) : "off"), "num", "held"),
    td(rate(x.producedPerSecond), "num", "producedPerSecond"),
    td(rate(x.consumedPerSecond), "num", "consumedPerSecond"),
    td(Number(x.stalledSeconds).toFixed(1) + " s", "num", "stalled"),
    td(x.state === "RUNNING" && x.stalledNow ? badge("STALLED", "stalled") : badge(x.state),
      null, "state"))));
}

function renderStore(s) {
  fill("store-table", s.nodes.filter((n) => n.alive).map((n) => el("tr", {},
    td(shortId(n.id) + (n.head ? " (head)" : ""), "mono"), td(bytes(n.storeUsed), "num"),
    td(bytes(n.storeCapacity), "num"),
    td(usageBar(n.storeUsed, n.storeCapacity)), td(num(n.storeObjects), "num"),
    td(bytes(n.spilled), "num"))));
}

// ---- charts -----------------------------------------------------------------------------------
function chartWidth(id) { return Math.max(300, document.getElementById(id).clientWidth - 16); }

function recordRates(s) {
  let produced = 0;
  let consumed = 0;
  for (const x of s.streams) { produced += x.producedPerSecond; consumed += x.consumedPerSecond; }
  rateHistory[0].push(s.time / 1000);
  rateHistory[1].push(produced);
  rateHistory[2].push(consumed);
  if (rateHistory[0].length > RATE_POINTS) for (const a of rateHistory) a.shift();
}

function drawStreamsChart() {
  if (typeof uPlot === "undefined") return;
  const id = "streams-chart";
  if (!streamsChart) {
    streamsChart = new uPlot({
      title: "Items per second, all streams", width: chartWidth(id), height: 240,
      series: [{}, { label: "produced/s", stroke: "#1f6feb", width: 2 },
        { label: "consumed/s", stroke: "#1a7f37", width: 2 }],
      axes: [{}, { label: "items/s" }],
    }, rateHistory, document.getElementById(id));
  } else {
    streamsChart.setData(rateHistory);
  }
}

function drawStoreChart(s) {
  if (typeof uPlot === "undefined") return;
  const mib = (v) => v / (1024 * 1024);
  const data = [s.storeHistory.map((r) => r[0] / 1000), s.storeHistory.map((r) => mib(r[1])),
    s.storeHistory.map((r) => mib(r[2])), s.storeHistory.map((r) => mib(r[3]))];
  const id = "store-chart";
  if (!storeChart) {
    storeChart = new uPlot({
      title: "Object store, all live nodes (MiB)", width: chartWidth(id), height: 240,
      series: [{}, { label: "used", stroke: "#1f6feb", fill: "rgba(31,111,235,0.12)", width: 2 },
        { label: "capacity", stroke: "#6b7385", dash: [6, 4] },
        { label: "spilled", stroke: "#cf222e" }],
      axes: [{}, { label: "MiB" }],
    }, data, document.getElementById(id));
  } else {
    storeChart.setData(data);
  }
}

// ---- live updates -----------------------------------------------------------------------------
function render(s) {
  const err = document.getElementById("error");
  err.hidden = !s.error;
  err.textContent = s.error || "";
  renderCards(s);
  renderNodes(s);
  renderWorkers(s);
  renderTasks(s);
  renderStreams(s);
  renderStore(s);
  if (!document.getElementById("view-streams").hidden) drawStreamsChart();
  if (!document.getElementById("view-store").hidden) drawStoreChart(s);
  if (!document.getElementById("view-logs").hidden) logFillPickers();
}

function setConn(text, cls) {
  const c = document.getElementById("conn");
  c.textContent = text;
  c.className = "conn " + (cls || "");
}

function connect() {
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => setConn("live", "live"));
  events.addEventListener("snapshot", (e) => {
    snap = JSON.parse(e.data);
    recordRates(snap);
    render(snap);
    setConn("live", "live");
  });
  events.addEventListener("error", () => {
    setConn("reconnecting", "down");
    fetch("/api/snapshot", { method: "GET" }).then((r) => {
      if (r.status === 401) {
        events.close();
        setConn("token required", "down");
        const err = document.getElementById("error");
        err.hidden = false;
        err.textContent = "The dashboard needs the cluster token: open the address sluice start printed.";
      }
    }).catch(() => {});
  });
}

window.addEventListener("hashchange", route);
window.addEventListener("resize", () => {
  if (streamsChart) streamsChart.setSize({ width: chartWidth("streams-chart"), height: 240 });
  if (storeChart) storeChart.setSize({ width: chartWidth("store-chart"), height: 240 });
});
document.getElementById("task-state").addEventListener("change", () => snap && renderTasks(snap));
document.getElementById("task-function").addEventListener("input", () => snap && renderTasks(snap));
route();
connect();
