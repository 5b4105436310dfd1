// The dashboard's Logs page: a node's and its workers' logs, read through the head
// (/api/log proxies to the node manager that holds the file), from the last lines on and then
// followed by polling from the offset the previous answer gave. Text goes into the page as text
// nodes only (never as markup). Uses dashboard.js's helpers (el, shortId, bytes) at call time.
"use strict";

const LOG_POLL_MS = 1000;
const LOG_RETRY_MS = 2000;
const LOG_TAIL_LINES = 1000;
const LOG_KEEP_CHARS = 2000000;

const logView = {
  sel: null,       // { node, worker, out }: worker null for the node daemon's log
  next: null,      // the offset to poll from, once the tail came
  read: 0,         // bytes shown since the selection
  name: "",        // the file's name, as the node calls it
  following: true,
  gen: 0,          // bumps on each new selection, so late answers of an old one are dropped
  timer: null,
  inFlight: null,  // the generation whose request is under way, so that no two overlap
  shown: false,
};

// "#logs/NODE/worker/ID[/out]" or "#logs/NODE/daemon[/out]" (NODE may be empty: the head).
function logRoute(parts) {
  const [node, kind, id, extra] = parts;
  if (!kind) return null;
  const out = (kind === "daemon" ? id : extra) === "out";
  return { node: node || "", worker: kind === "worker" && id ? id : null, out };
}

function logHash(sel) {
  return "#logs/" + (sel.node || "") + (sel.worker ? "/worker/" + sel.worker : "/daemon") +
    (sel.out ? "/out" : "");
}

function logSameSel(a, b) {
  return a && b && a.node === b.node && a.worker === b.worker && a.out === b.out;
}

function logUrl(sel, query) {
  const p = new URLSearchParams();
  if (sel.node) p.set("node", sel.node);
  if (sel.worker) p.set("worker", sel.worker);
  else p.set("daemon", "");
  if (sel.out) p.set("out", "");
  for (const [k, v] of Object.entries(query)) p.set(k, String(v));
  return "/api/log?" + p.toString();
}

// Called by route() when the Logs view is shown (parts: what follows "#logs/") or hidden (null).
function logShow(parts) {
  logView.shown = parts !== null;
  if (!logView.shown) {
    logStop();
    return;
  }
  let sel = logRoute(parts);
  if (!sel) {
    // no log picked yet: the head's daemon log, or the one shown before
    sel = logView.sel || { node: logHeadNode(), worker: null, out: false };
  }
  if (!logSameSel(sel, logView.sel) || logView.timer === null) logStart(sel);
  logFillPickers();
}

function logHeadNode() {
  if (!snap) return "";
  const head = snap.nodes.find((n) => n.head && n.alive);
  return head ? head.id : "";
}

function logStop() {
  if (logView.timer !== null) clearTimeout(logView.timer);
  logView.timer = null;
}

function logSchedule(ms) {
  logStop();
  logView.timer = setTimeout(logPoll, ms);
}

function logStart(sel) {
  logStop();
  logView.sel = sel;
  logView.gen++;
  logView.next = null;
  logView.read = 0;
  logView.name = "";
  document.getElementById("log-text").replaceChildren();
  document.getElementById("log-out").checked = sel.out;
  document.getElementById("log-cli").textContent = "bin/sluice logs " +
    (sel.worker ? "--worker " + sel.worker : "--daemon" + (sel.node ? " --node " + sel.node : "")) +
    (sel.out ? " --out" : "");
  logSetError(null);
  logStatus();
  logPoll();
}

function logSetError(text) {
  const e = document.getElementById("log-error");
  e.hidden = !text;
  e.textContent = text || "";
}

function logStatus() {
  const s = logView.sel;
  const what = !s ? "" : (s.worker ? "worker " + shortId(s.worker) : "node daemon") +
    (s.node ? " on node " + shortId(s.node) : "");
  document.getElementById("log-status").textContent = [what, logView.name,
    bytes(logView.read) + " shown", logView.following ? "following" : "paused"]
    .filter((x) => x).join(" · ");
  const b = document.getElementById("log-follow");
  b.textContent = logView.following ? "Pause" : "Follow";
  b.classList.toggle("following", logView.following);
}

function logAppend(text, reset) {
  const pre = document.getElementById("log-text");
  if (reset && pre.firstChild) pre.append(document.createTextNode("\n[the log was rotated: from its start]\n"));
  if (text) pre.append(document.createTextNode(text));
  if (pre.textContent.length > LOG_KEEP_CHARS) {
    pre.textContent = pre.textContent.slice(-LOG_KEEP_CHARS / 2);
  }
  if (logView.following) pre.scrollTop = pre.scrollHeight;
}

async function logPoll() {
  logView.timer = null;
  const sel = logView.sel;
  const gen = logView.gen;
  if (!sel || !logView.shown || logView.inFlight === gen) return;
  logView.inFlight = gen;
  try {
    await logFetch(sel, gen);
  } finally {
    if (logView.inFlight === gen) logView.inFlight = null;
  }
}

async function logFetch(sel, gen) {
  const asked = logView.next;
  const url = logUrl(sel, asked === null ? { tail: LOG_TAIL_LINES } : { offset: asked });
  let r;
  let body;
  try {
    r = await fetch(url, { method: "GET", cache: "no-store" });
    if (r.status === 401) {
      if (gen === logView.gen) {
        logSetError("The dashboard needs the cluster token: open the address sluice start printed.");
      }
      return;
    }
    body = await r.json();
  } catch (e) {
    if (gen !== logView.gen) return;
    logSetError("the head did not answer: " + e);
    if (logView.following) logSchedule(LOG_RETRY_MS);
    return;
  }
  if (gen !== logView.gen) return;
  if (!r.ok) {
    logSetError(body.error || "the head answered " + r.status);
    if (logView.following || asked === null) logSchedule(LOG_RETRY_MS);
    return;
  }
  logSetError(null);
  if (body.node && !sel.node) {
    sel.node = body.node; // the head's, now known: the address says so too
    if (location.hash.startsWith("#logs")) history.replaceState(null, "", logHash(sel));
  }
  logView.name = body.name;
  logAppend(body.text, asked !== null && body.offset < asked);
  logView.read += body.next - body.offset;
  logView.next = body.next;
  logStatus();
  logFillPickers();
  if (logView.following) logSchedule(body.more ? 0 : LOG_POLL_MS);
}

function logToggleFollow() {
  logView.following = !logView.following;
  logStatus();
  if (logView.following && logView.shown && logView.timer === null) logPoll();
  if (!logView.following) logStop();
}

function option(value, text, selected) {
  const o = el("option", { value }, text);
  o.selected = selected;
  return o;
}

// The node and log pickers, from the latest snapshot; redrawn only when their options change.
function logFillPickers() {
  if (!snap || !logView.sel) return;
  const sel = logView.sel;
  const nodeSelect = document.getElementById("log-node");
  const nodeOpts = snap.nodes.filter((n) => n.alive || n.id === sel.node).map((n) =>
    option(n.id, shortId(n.id) + (n.head ? " (head)" : "") + " " + n.address, n.id === sel.node));
  if (!nodeOpts.some((o) => o.selected)) nodeOpts.unshift(option(sel.node, sel.node ? shortId(sel.node) : "head", true));
  replaceOptions(nodeSelect, nodeOpts);

  const sourceSelect = document.getElementById("log-source");
  const cur = sel.worker ? "worker:" + sel.worker : "daemon";
  const opts = [option("daemon", "node daemon", cur === "daemon")];
  for (const w of snap.workers.filter((x) => x.node === sel.node)) {
    opts.push(option("worker:" + w.id, "worker " + shortId(w.id) + " · pid " + w.pid + " · " + w.state,
      cur === "worker:" + w.id));
  }
  if (!opts.some((o) => o.selected)) opts.push(option(cur, "worker " + shortId(sel.worker), true));
  replaceOptions(sourceSelect, opts);
}

function replaceOptions(select, opts) {
  if (document.activeElement === select) return; // never while the user picks
  const key = (list) => list.map((o) => o.value + "\u0000" + o.textContent + "\u0000" + o.selected).join("\n");
  if (key([...select.options]) !== key(opts)) select.replaceChildren(...opts);
}

document.getElementById("log-follow").addEventListener("click", logToggleFollow);
document.getElementById("log-node").addEventListener("change", (e) => {
  location.hash = logHash({ node: e.target.value, worker: null, out: false });
});
document.getElementById("log-source").addEventListener("change", (e) => {
  const v = e.target.value;
  const sel = logView.sel || { node: "" };
  location.hash = logHash({ node: sel.node, worker: v.startsWith("worker:") ? v.slice(7) : null,
    out: document.getElementById("log-out").checked });
});
document.getElementById("log-out").addEventListener("change", (e) => {
  const sel = logView.sel || { node: "", worker: null };
  location.hash = logHash({ node: sel.node, worker: sel.worker, out: e.target.checked });
});
