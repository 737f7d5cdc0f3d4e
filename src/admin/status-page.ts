/**
 * The status page at admin `/` (SPEC §7): one self-contained HTML document, inline CSS and JS, no
 * external assets. It asks for the admin token (kept in sessionStorage, so it leaves with the tab),
 * reads /api/status every 2 s and draws clusters, routes and dials, the fleet, and the traffic split
 * per cluster as an inline SVG chart. Data is only ever inserted as text, never as markup. Built once;
 * the Content-Security-Policy allows exactly this script and style by hash.
 */
import { createHash } from 'node:crypto';

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2430;background:#f5f6f8}
header{background:#1d2430;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:baseline}
header h1{font-size:18px;margin:0}#meta{opacity:.8}main{padding:12px 20px}
section{background:#fff;border-radius:6px;padding:10px 14px;margin-bottom:12px;box-shadow:0 1px 2px #0002}
h2{font-size:15px;margin:4px 0 8px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e4e7ec;white-space:nowrap}
th{font-weight:600;color:#5a6473}.ok{color:#137333}.bad{color:#b3261e;font-weight:600}.warn{color:#a05a00}
#login{display:none}#error{color:#b3261e}.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
svg{width:100%;height:140px;background:#fafbfc}`;

const script = `
const tokenKey = 'switchyard-admin-token';
const colors = ['#1a73e8','#e8710a','#188038','#9334e6','#d93025','#12b5cb','#f9ab00','#5f6368'];
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; };
function row(cells, attrs) {
  const tr = el('tr');
  for (const [k, v] of Object.entries(attrs || {})) tr.setAttribute(k, v);
  for (const c of cells) tr.append(c instanceof Node ? c : el('td', c));
  return tr;
}
function fill(id, rows) { $(id).replaceChildren(...rows); }
const ms = (v) => v.toFixed(1) + ' ms';
const pct = (v) => (v * 100).toFixed(1) + ' %';
function health(c) {
  if (c.healthy === false) return el('td', 'unhealthy', 'bad');
  return el('td', c.healthy === null ? 'healthy (no view)' : 'healthy', 'ok');
}
function breaker(state) { return el('td', state, state === 'closed' ? 'ok' : state === 'open' ? 'bad' : 'warn'); }
function render(s) {
  $('meta').textContent = 'instance ' + s.instanceId + ' · config ' + s.version + ' · ' + (s.ready ? 'ready' : 'draining') + ' · ' + s.generatedAt;
  fill('clusters', s.clusters.map((c) => row([c.name, c.role, c.region, health(c), breaker(c.breaker), ms(c.latencyMs), ms(c.p99Ms),
    pct(c.errorRate), c.inflight, el('td', c.drained ? 'drained' : '-', c.drained ? 'warn' : '')], { 'data-cluster': c.name })));
  fill('routes', s.routes.map((r) => row([r.name, r.pathPrefix, r.pin ? 'pinned: ' + r.pin : r.candidates.join(', '), r.standby || '-',
    r.dial ? r.dial.percent + ' %' : '-', r.dial ? r.dial.source + (r.dial.expiresAt ? ' until ' + r.dial.expiresAt : '') : '-',
    r.dial && r.dial.schedule ? r.dial.schedule : '-'], { 'data-route': r.name })));
  fill('schedules', s.schedules.map((x) => row([x.name, x.from, x.to, x.active ? 'active' : '-',
    Object.entries(x.dials).map(([k, v]) => k + ' ' + v + ' %').join(', ')])));
  const f = s.fleet;
  $('store').textContent = 'store: ' + f.store.kind + ' (' + (f.store.up ? 'up' : 'DOWN') + ') · live instances: ' + f.liveInstances;
  fill('instances', f.instances.map((i) => row([i.id + (i.self ? ' (this)' : ''), new Date(i.atMs).toISOString()])));
  chart(s.traffic);
}
function chart(t) {
  const svg = $('chart'), ns = 'http://www.w3.org/2000/svg';
  const names = Object.keys(t.clusters).sort();
  const n = names.length ? t.clusters[names[0]].length : 0;
  const totals = Array.from({ length: n }, (_, i) => names.reduce((a, k) => a + t.clusters[k][i], 0));
  const max = Math.max(1, ...totals), w = 600 / Math.max(1, n);
  svg.replaceChildren();
  names.forEach((name, ci) => {
    for (let i = 0; i < n; i++) {
      const below = names.slice(0, ci).reduce((a, k) => a + t.clusters[k][i], 0), v = t.clusters[name][i];
      if (v === 0) continue;
      const r = document.createElementNS(ns, 'rect');
      r.setAttribute('x', String(i * w)); r.setAttribute('width', String(Math.max(1, w - 1)));
      r.setAttribute('y', String(120 - ((below + v) / max) * 115)); r.setAttribute('height', String((v / max) * 115));
      r.setAttribute('fill', colors[ci % colors.length]);
      const title = document.createElementNS(ns, 'title'); title.textContent = name + ': ' + v; r.append(title);
      svg.append(r);
    }
  });
  $('legend').replaceChildren(...names.map((name, ci) => {
    const sum = t.clusters[name].reduce((a, b) => a + b, 0);
    const span = el('span', name + ' ' + sum); const dot = el('i'); dot.style.background = colors[ci % colors.length]; span.prepend(dot); return span;
  }));
  $('window').textContent = 'last ' + Math.round((n * t.bucketMs) / 60000) + ' min, ' + t.bucketMs / 1000 + ' s buckets, max ' + max + ' per bucket';
}
async function poll() {
  const token = sessionStorage.getItem(tokenKey);
  if (!token) { $('login').style.display = 'block'; return; }
  try {
    const res = await fetch('/api/status', { headers: { authorization: 'Bearer ' + token }, cache: 'no-store' });
    if (res.status === 401 || res.status === 403) { sessionStorage.removeItem(tokenKey); $('login').style.display = 'block'; }
    const body = await res.json();
    if (!res.ok) { $('error').textContent = body.error + ': ' + body.message; return; }
    $('error').textContent = ''; $('login').style.display = 'none'; render(body);
  } catch (e) { $('error').textContent = 'status unavailable: ' + e.message; }
}
$('login').addEventListener('submit', (e) => { e.preventDefault(); sessionStorage.setItem(tokenKey, $('token').value); $('token').value = ''; poll(); });
poll(); setInterval(poll, 2000);`;

const body = `<header><h1>Switchyard</h1><span id="meta">loading…</span></header><main>
<form id="login"><label>Admin token <input id="token" type="password" autocomplete="off"></label> <button>Show status</button></form>
<p id="error" role="alert"></p>
<section><h2>Clusters</h2><table><thead><tr><th>cluster</th><th>role</th><th>region</th><th>fleet health</th><th>breaker</th>
<th>latency avg</th><th>p99</th><th>errors</th><th>in-flight</th><th>drain</th></tr></thead><tbody id="clusters"></tbody></table></section>
<section><h2>Traffic split</h2><div id="window"></div><svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none" role="img" aria-label="requests per cluster"></svg>
<div id="legend" class="legend"></div></section>
<section><h2>Routes and dials</h2><table><thead><tr><th>route</th><th>path</th><th>clusters</th><th>standby</th><th>dial</th>
<th>source</th><th>schedule</th></tr></thead><tbody id="routes"></tbody></table></section>
<section><h2>Schedules</h2><table><thead><tr><th>schedule</th><th>from</th><th>to</th><th>state</th><th>dials</th></tr></thead>
<tbody id="schedules"></tbody></table></section>
<section><h2>Fleet</h2><div id="store"></div><table><thead><tr><th>instance</th><th>last report</th></tr></thead>
<tbody id="instances"></tbody></table></section></main>`;

/** The page, built once. */
export const statusPageHtml = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchyard status</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,"><style>${style}</style></head>
<body>${body}<script>${script}</script></body></html>`;

const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Allows the page's own script and style and calls to this origin, nothing else; no framing. */
export const statusPageCsp = [
  "default-src 'none'", `script-src ${hashOf(script)}`, `style-src ${hashOf(style)}`, "connect-src 'self'",
  "img-src data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');
