"""HTML: one self-contained report file (inline CSS, JavaScript and SVG; nothing fetched).

The access map is embedded as JSON and drawn in the browser: a summary, a findings table
that filters by severity, rule and file, and per stream a drawing made only when its
section is opened, so a report of hundreds of streams opens without drawing them all.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.engine import ScanResult


def render(result: "ScanResult", context=None) -> str:
    return "".join(chunks(result, context))


def chunks(result: "ScanResult", context=None) -> Iterator[str]:
    """The page of ``render`` in three pieces (before, the data, after), written as they are:
    the page in one string was another copy of the data (27 MB for the 1,000-template tree)."""
    from kds_iac.access_map import build

    return map_chunks(build(result), context)


def render_map(access: dict[str, Any], context=None) -> str:
    return "".join(map_chunks(access, context))


def map_chunks(access: dict[str, Any], context=None) -> Iterator[str]:
    """``render_map``'s page in pieces, as ``chunks``."""
    data = json.dumps(access, ensure_ascii=True, separators=(",", ":"))
    if "</" in data or "<!--" in data:  # inside <script>: no "</" may close the element early, no
        # "<!--" may change how it ends; both escapes are JSON's, so the page still parses the data
        data = data.replace("</", "<\\/").replace("<!--", "\\u003c!--")
    return iter((_BEFORE, data, _AFTER))


_PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kds-iac report</title>
<style>
:root { --crit:#7b1fa2; --high:#c62828; --medium:#e65100; --low:#1565c0; --info:#546e7a;
  --write:#2e7d32; --read:#1565c0; --administer:#c62828; --key_use:#8e24aa; --external:#d84315;
  --audit:#455a64; --dest:#00838f; --keyedge:#6d4c41; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1b1b1b; background: #f6f7f9; }
header { background: #1f2a37; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; }
header .scope { color: #cfd8e3; font-size: 13px; }
main { padding: 16px 24px; max-width: 1400px; }
section { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
h2 { font-size: 16px; margin: 0 0 8px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #dde2e8; border-radius: 6px; padding: 8px 12px; min-width: 110px; }
.card b { display: block; font-size: 22px; }
.sev { display: inline-block; padding: 1px 7px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.sev.critical { background: var(--crit); } .sev.high { background: var(--high); } .sev.medium { background: var(--medium); }
.sev.low { background: var(--low); } .sev.info { background: var(--info); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eceff3; vertical-align: top; overflow-wrap: break-word; }
#findings-table th:nth-child(-n+2), #findings-table td:nth-child(-n+2) { white-space: nowrap; }
#findings-table td:nth-child(3) { min-width: 16em; overflow-wrap: anywhere; }
#findings-table td:nth-child(4) { overflow-wrap: anywhere; max-width: 20em; }
th { background: #f0f3f6; font-weight: 600; }
tr.finding { cursor: pointer; } tr.finding:hover { background: #f5f9ff; } tr.finding.selected { background: #e3f0ff; }
.filters { display: flex; gap: 12px; margin-bottom: 8px; flex-wrap: wrap; }
.filters label { font-size: 13px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
#detail { margin-top: 8px; padding: 8px 10px; background: #fffbe6; border: 1px solid #f0e0a0; border-radius: 4px; display: none; }
details.stream { border-top: 1px solid #eceff3; padding: 6px 0; }
details.stream summary { cursor: pointer; font-weight: 600; }
details.stream summary .badge { font-weight: 400; margin-left: 6px; }
.drawing { overflow-x: auto; }
.drawing svg text { font: 12px system-ui, sans-serif; }
.legend span { display: inline-block; margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 18px; height: 4px; vertical-align: middle; margin-right: 4px; }
.muted { color: #5f6b7a; }
</style>
</head>
<body>
<header><h1>kds-iac: who can touch each Kinesis stream</h1><div class="scope" id="scope"></div></header>
<main>
<section id="summary"><h2>Summary</h2><div class="cards" id="cards"></div><p id="audit"></p><div id="by-rule"></div></section>
<section id="findings"><h2>Findings</h2>
<div class="filters">
<label>Severity <select id="f-severity"><option value="">all</option></select></label>
<label>Rule <select id="f-rule"><option value="">all</option></select></label>
<label>File <select id="f-file"><option value="">all</option></select></label>
<span class="muted" id="f-count"></span>
</div>
<table id="findings-table"><thead><tr><th>Severity</th><th>Rule</th><th>Location</th><th>Resource</th><th>Message</th></tr></thead><tbody></tbody></table>
<div id="detail"></div>
</section>
<section id="every-stream" style="display:none"><h2>Access to every stream</h2>
<p class="muted">Their grants take in every stream (Resource "*" or a pattern matching any stream name); each drawing shows them as one node.</p>
<table id="every-table"><thead><tr><th>Access</th><th>Who</th><th>Actions</th><th>Granted by</th><th>Credentials</th></tr></thead><tbody></tbody></table>
</section>
<section id="streams"><h2>Streams</h2>
<div class="legend" id="legend"></div>
<div id="stream-list"></div>
</section>
</main>
<script type="application/json" id="kds-data">/*DATA*/</script>
<script>
"use strict";
const MAP = JSON.parse(document.getElementById("kds-data").textContent);
const SEVERITIES = ["critical", "high", "medium", "low", "info"];
const COLORS = {write: "#2e7d32", read: "#1565c0", administer: "#c62828", key_use: "#8e24aa",
  external: "#d84315", anyone: "#b71c1c", audit: "#455a64", dest: "#00838f", key: "#6d4c41"};
const TRAILS_DRAWN = 4;
const LABELS = {write: "write", read: "read", administer: "administer", key_use: "key use"};
function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function sev(s) { return el("span", {class: "sev " + s}, s); }
function uniq(xs) { return Array.from(new Set(xs)).sort(); }

// ---- summary
document.getElementById("scope").textContent = "Scope: " + (MAP.scope.join(", ") || ".");
const cards = document.getElementById("cards");
function card(label, value, id) { const c = el("div", {class: "card", id: id}); c.append(el("b", {}, String(value)), el("span", {}, label)); cards.append(c); }
card("streams", MAP.streams.length, "count-streams");
card("findings", MAP.findings.length, "count-findings");
for (const s of SEVERITIES) { const n = MAP.findings.filter(f => f.severity === s).length; if (n) card(s, n, "count-" + s); }
document.getElementById("audit").textContent = "Audit: " + (MAP.audit || "no CloudTrail trail in scope");
const byRule = {};
for (const f of MAP.findings) byRule[f.rule_id] = (byRule[f.rule_id] || 0) + 1;
document.getElementById("by-rule").textContent = Object.keys(byRule).length
  ? "By rule: " + Object.keys(byRule).sort().map(r => r + " × " + byRule[r]).join(", ") : "No findings.";

// ---- findings table
const tbody = document.querySelector("#findings-table tbody");
const fSev = document.getElementById("f-severity"), fRule = document.getElementById("f-rule"), fFile = document.getElementById("f-file");
for (const s of SEVERITIES.filter(s => MAP.findings.some(f => f.severity === s))) fSev.append(el("option", {value: s}, s));
for (const r of uniq(MAP.findings.map(f => f.rule_id))) fRule.append(el("option", {value: r}, r));
for (const p of uniq(MAP.findings.map(f => f.file))) fFile.append(el("option", {value: p}, p));
// rows are built when first shown, PAGE at a time: a scope of thousands of findings opens at once
const PAGE = 200;
const rowCache = new Map();
let rows = [], limit = PAGE;
function row(i) {
  if (rowCache.has(i)) return rowCache.get(i);
  const f = MAP.findings[i];
  const tr = el("tr", {class: "finding", "data-index": String(i), "data-severity": f.severity, "data-rule": f.rule_id, "data-file": f.file});
  const rule = el("td"); const a = el("a", {href: f.help_uri || "#", target: "_blank", rel: "noopener"}, f.rule_id); rule.append(a);
  const loc = el("td", {class: "mono"}); loc.append(el("a", {href: f.file + "#L" + f.line, class: "loc"}, f.file + ":" + f.line));
  const s = el("td"); s.append(sev(f.severity));
  tr.append(s, rule, loc, el("td", {class: "mono"}, f.resource), el("td", {}, f.message));
  tr.addEventListener("click", (event) => { if (event.target.tagName !== "A") show(i, tr); });
  rowCache.set(i, tr);
  return tr;
}
function show(i, tr) {
  const f = MAP.findings[i];
  rowCache.forEach(r => r.classList.remove("selected")); tr.classList.add("selected");
  const d = document.getElementById("detail");
  d.textContent = "";
  d.append(el("b", {}, f.rule_id + " " + f.title), el("br"));
  d.append(el("span", {class: "mono", id: "detail-location"}, f.file + ":" + f.line), el("span", {}, " — " + f.resource), el("br"));
  d.append(el("span", {}, f.message));
  d.style.display = "block";
}
const more = el("button", {id: "f-more", type: "button"});
more.addEventListener("click", () => { limit += PAGE; render(); });
document.getElementById("findings-table").after(more);
function filter() {
  rows = [];
  MAP.findings.forEach((f, i) => {
    if ((!fSev.value || f.severity === fSev.value) && (!fRule.value || f.rule_id === fRule.value) && (!fFile.value || f.file === fFile.value)) rows.push(i);
  });
  limit = PAGE;
  render();
}
function render() {
  tbody.replaceChildren(...rows.slice(0, limit).map(row));
  const shown = Math.min(limit, rows.length);
  document.getElementById("f-count").textContent = rows.length + " of " + MAP.findings.length + " match" + (shown < rows.length ? ", " + shown + " listed" : "");
  more.textContent = "Show " + Math.min(PAGE, rows.length - shown) + " more";
  more.style.display = shown < rows.length ? "" : "none";
}
[fSev, fRule, fFile].forEach(s => s.addEventListener("change", filter));
filter();

// ---- streams: the graph of one stream, drawn when its section opens
function graph(stream) {
  const nodes = [{id: "stream", label: stream.address, kind: "stream", marked: stream.findings.length > 0}];
  const edges = [];
  const byId = {stream: nodes[0]};
  function node(id, label, kind, marked) {
    if (!byId[id]) { byId[id] = {id: id, label: label, kind: kind, marked: !!marked}; nodes.push(byId[id]); }
    else if (marked) byId[id].marked = true;
    return byId[id];
  }
  const key = stream.encryption.key;
  if (key) {
    node("key", key.address || key.reference || ("key: " + key.kind), "key", key.findings && key.findings.length);
    edges.push({from: "key", to: "stream", label: "encrypts (" + key.kind.replace("_", " ") + ")", kind: "key"});
  }
  for (const level of ["write", "read", "administer", "key_use"]) {
    for (const e of stream.access[level]) {
      node("p:" + e.principal, e.principal + " (" + e.kind + ")", "principal", e.findings.length);
      edges.push({from: "p:" + e.principal, to: level === "key_use" ? (key ? "key" : "stream") : "stream",
        label: LABELS[level] + (e.certain ? "" : "?"), kind: level});
    }
  }
  const every = MAP.every_stream || {};
  const everyCount = new Set(Object.values(every).flat().map(e => e.principal)).size;
  if (everyCount) {
    node("every", everyCount + " with access to every stream", "principal", Object.values(every).flat().some(e => e.findings.length));
    for (const level of ["write", "read", "administer", "key_use"]) {
      if ((every[level] || []).length) edges.push({from: "every", to: level === "key_use" && key ? "key" : "stream",
        label: LABELS[level] + " (" + every[level].length + ")", kind: level});
    }
  }
  for (const g of stream.external_grants) {
    for (const who of g.grantees) {
      const id = "x:" + (who.kind === "anyone" ? "*" : who.principal);
      const shown = who.kind === "anyone" ? "anyone (*)" : !who.account ? who.principal
        : who.principal === who.account || /:root$/.test(who.principal) ? (who.kind === "own_account" ? "own account " : "account ") + who.account
        : who.principal.replace(/^arn:[^:]*:iam::/, "");
      node(id, shown, "external", g.findings.length);
      edges.push({from: id, to: g.policy === "key_policy" && key ? "key" : "stream",
        label: g.policy.replace("_", " ") + (g.caller_pinned ? " (pinned)" : ""), kind: who.kind === "anyone" ? "anyone" : "external"});
    }
  }
  const trails = stream.audit.trails;
  if (trails.length > TRAILS_DRAWN) {  // a scope of many trails: one node says how many
    const data = trails.filter(t => t.data_events).length;
    node("t:*", trails.length + " trails and stores", "audit", trails.some(t => t.findings.length));
    edges.push({from: "t:*", to: "stream", label: "audit (" + data + " with data events)", kind: "audit"});
  } else {
    for (const t of trails) {
      node("t:" + t.address, t.address, "audit", t.findings.length);
      edges.push({from: "t:" + t.address, to: "stream", label: t.data_events ? "audits + data events" : "audits", kind: "audit"});
    }
  }
  if (stream.audit.organization_trail) {
    node("t:org", "organization trail", "audit", false);
    edges.push({from: "t:org", to: "stream", label: "audits", kind: "audit"});
  }
  for (const d of stream.destinations) {
    const id = "d:" + (d.address || (d.via + " " + d.role));
    node(id, (d.address || "unknown " + d.role), "dest", d.findings.length);
    edges.push({from: "stream", to: id, label: d.kind.replace("_", " ") + (d.kms ? " (KMS)" : d.kms === false ? " (no KMS)" : " (?)"), kind: "dest"});
  }
  return {nodes, edges};
}
const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const n = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}
function draw(stream, into) {
  const g = graph(stream);
  const others = g.nodes.filter(n => n.id !== "stream");
  const count = Math.max(others.length, 1);
  const radius = Math.max(170, count * 26);
  const width = 2 * 1.35 * radius + 440, height = 2 * radius + 120;  // the ellipse and the widest labels fit
  const cx = width / 2, cy = height / 2;
  const pos = {stream: [cx, cy]};
  others.forEach((n, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / count;
    pos[n.id] = [cx + radius * 1.35 * Math.cos(angle), cy + radius * Math.sin(angle)];
  });
  const root = svg("svg", {width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
    "aria-label": "access drawing of " + stream.address, class: "graph"});
  const defs = svg("defs");
  for (const [kind, color] of Object.entries(COLORS)) {
    const m = svg("marker", {id: "arrow-" + kind, viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse"});
    m.append(svg("path", {d: "M 0 0 L 10 5 L 0 10 z", fill: color})); defs.append(m);
  }
  root.append(defs);
  const totals = {}, seen = {}, labels = [];
  for (const e of g.edges) { const pair = [e.from, e.to].sort().join("|"); totals[pair] = (totals[pair] || 0) + 1; }
  for (const e of g.edges) {
    const [x1, y1] = pos[e.from], [x2, y2] = pos[e.to];
    // edges between the same two nodes fan out, their labels apart at the middle
    const pair = [e.from, e.to].sort().join("|"), n = totals[pair], k = seen[pair] = (seen[pair] || 0) + 1;
    const bend = (k - 1 - (n - 1) / 2) * 60;
    const mx = (x1 + x2) / 2, my = (y1 + y2) / 2, dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy) || 1;
    const qx = mx - dy / len * bend, qy = my + dx / len * bend;
    const color = COLORS[e.kind];
    const group = svg("g", {class: "edge", "data-kind": e.kind, "data-from": e.from, "data-to": e.to});
    // stop short of the target box
    const ex = x2 - (x2 - qx) / Math.hypot(x2 - qx, y2 - qy || 1) * 22, ey = y2 - (y2 - qy) / Math.hypot(x2 - qx, y2 - qy || 1) * 22;
    group.append(svg("path", {d: `M ${x1} ${y1} Q ${qx} ${qy} ${ex} ${ey}`, fill: "none", stroke: color, "stroke-width": "2",
      "marker-end": "url(#arrow-" + e.kind + ")"}));
    // label at t = 0.3 from the outer end: labels of edges meeting at one node stay apart
    const t = n > 1 ? 0.5 : e.from === "stream" ? 0.7 : 0.3;
    const lx = (1 - t) * (1 - t) * x1 + 2 * (1 - t) * t * qx + t * t * x2, ly = (1 - t) * (1 - t) * y1 + 2 * (1 - t) * t * qy + t * t * y2;
    const label = svg("text", {x: lx, y: ly - 4, fill: color, "text-anchor": "middle", "font-weight": "600",
      stroke: "#fff", "stroke-width": "3", "paint-order": "stroke"}, e.label);
    labels.push(label);  // drawn last, above the nodes
    root.append(group);
  }
  for (const n of g.nodes) {
    const [x, y] = pos[n.id];
    const text = n.label.length > 46 ? n.label.slice(0, 44) + "…" : n.label;
    const w = Math.max(80, text.length * 6.8 + 20), h = 30;
    const fill = n.kind === "stream" ? "#fff3e0" : n.kind === "key" ? "#efebe9" : n.kind === "external" ? "#fbe9e7"
      : n.kind === "audit" ? "#eceff1" : n.kind === "dest" ? "#e0f7fa" : "#e8f5e9";
    const group = svg("g", {class: "node", "data-id": n.id, "data-kind": n.kind, "data-marked": String(n.marked)});
    group.append(svg("title", {}, n.label));
    group.append(svg("rect", {x: x - w / 2, y: y - h / 2, width: w, height: h, rx: 6, fill: fill,
      stroke: n.marked ? "#c62828" : "#78909c", "stroke-width": n.marked ? 3 : 1.2}));
    group.append(svg("text", {x: x, y: y + 4, "text-anchor": "middle", fill: "#1b1b1b", "font-weight": n.kind === "stream" ? "700" : "400"}, text));
    if (n.marked) {
      group.append(svg("circle", {cx: x + w / 2, cy: y - h / 2, r: 8, fill: "#c62828"}));
      group.append(svg("text", {x: x + w / 2, y: y - h / 2 + 4, "text-anchor": "middle", fill: "#fff", "font-weight": "700"}, "!"));
    }
    root.append(group);
  }
  const labelLayer = svg("g", {class: "labels"});
  labels.forEach(l => labelLayer.append(l));
  root.append(labelLayer);
  into.append(root);
}
const legend = document.getElementById("legend");
for (const [kind, label] of [["write", "write"], ["read", "read"], ["administer", "administer"], ["key_use", "key use"],
    ["external", "other account"], ["anyone", "anyone"], ["audit", "audit"], ["dest", "records go to"], ["key", "key"]]) {
  const s = el("span"); const i = el("i"); i.style.background = COLORS[kind]; s.append(i, document.createTextNode(label)); legend.append(s);
}
legend.append(el("span", {class: "muted"}, "red border and ! = a finding concerns it; ? = only if a value known at deployment covers it"));
const everyBody = document.querySelector("#every-table tbody");
for (const level of ["write", "read", "administer", "key_use"]) {
  for (const e of (MAP.every_stream || {})[level] || []) {
    const tr = el("tr", {class: "every", "data-level": level});
    tr.append(el("td", {}, LABELS[level] + (e.certain ? "" : "?")), el("td", {class: "mono"}, e.principal + " (" + e.kind + ")"),
      el("td", {class: "mono"}, e.actions.join(", ")),
      el("td", {}, e.grants.map(g => g.policy + (g.statement ? " (" + g.statement + ")" : "") + " " + g.file + ":" + g.line).join("; ")),
      el("td", {}, e.credentials.map(c => c.how + " " + c.address).join(", ") || "—"));
    everyBody.append(tr);
  }
}
if (everyBody.children.length) document.getElementById("every-stream").style.display = "";
const list = document.getElementById("stream-list");
// the stream sections are added in batches between frames: the first batch is there at load,
// the rest follow without holding the page (window.kdsStreamsReady says when all are in)
function section(stream, i) {
  const d = el("details", {class: "stream", id: "stream-" + i, "data-address": stream.address});
  const s = el("summary");
  s.append(document.createTextNode(stream.address + " "));
  s.append(el("span", {class: "badge muted mono"}, stream.file + ":" + stream.line + " · " + stream.encryption.state));
  const ids = uniq(stream.findings.map(f => f.rule_id));
  if (ids.length) s.append(el("span", {class: "badge"}, "findings: " + ids.join(", ")));
  d.append(s);
  const body = el("div", {class: "drawing"});
  d.append(body);
  d.addEventListener("toggle", () => { if (d.open && !body.firstChild) draw(stream, body); });
  return d;
}
window.kdsStreamsReady = false;
function addStreams(from) {
  const to = Math.min(from + 200, MAP.streams.length);
  const batch = document.createDocumentFragment();
  for (let i = from; i < to; i++) batch.append(section(MAP.streams[i], i));
  list.append(batch);
  if (to < MAP.streams.length) setTimeout(() => addStreams(to), 0); else window.kdsStreamsReady = true;
}
addStreams(0);
if (MAP.streams.length && MAP.streams.length <= 3) document.querySelectorAll("details.stream").forEach(d => d.open = true);
window.kdsGraph = graph;
</script>
</body>
</html>
"""

_BEFORE, _, _AFTER = _PAGE.partition("/*DATA*/")
