// overview.js — the SOC's first screen: pipeline counters (GET /api/v1/stats), open incidents
// by severity (GET /api/v1/incidents), alerts over time and the latest alerts
// (GET /api/v1/alerts). When the data is on screen it sets the performance mark
// "vigie:overview-rendered" (the browser test measures navigation start → that mark).
// Below them: top entities and an ATT&CK tactic × technique heat map computed from the same
// alerts (no extra request), and ingest health (per-input counters and rates from the stats,
// the pipeline's backlog and unparsed records, agents online from GET /api/v1/agents, which
// is asked for after the mark and filled in when it answers, never delaying the main data).

import * as api from './api.js';
import {barChart, bucket} from './chart.js';
import {fmtTime, h, mount, sevBadge, table} from './dom.js';
import {listAgents} from './fleet.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'];

function tile(label, value, href) {
  const v = h('span', {class: 'tile-value'}, value === undefined || value === null ? '–' : Number(value).toLocaleString('en'));
  return h(href ? 'a' : 'div', {class: 'tile', href}, v, h('span', {class: 'tile-label'}, label));
}

// ---------------------------------------------------------------- extras (same alerts, stats)

// A stored alert's field: flat ("host.name") as the API writes alerts, else in its event.
function field(a, k) {
  const v = a[k] !== undefined ? a[k] : a.event && typeof a.event === 'object' ? a.event[k] : undefined;
  return Array.isArray(v) ? v[0] : v;
}

const searchLink = (f, v) => `#/search?${new URLSearchParams({q: `${f}:"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`})}`;

const ENTITIES = [['host.name', 'Hosts'], ['user.name', 'Users'], ['source.ip', 'Source IPs']];

// The 5 most frequent hosts, users and source addresses among the alerts.
function entitiesPanel(alerts) {
  const lists = ENTITIES.map(([f, label]) => {
    const n = new Map();
    for (const a of alerts) {
      const v = field(a, f);
      if (v !== undefined && v !== null && v !== '') n.set(String(v), (n.get(String(v)) || 0) + 1);
    }
    const top = [...n.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 5);
    return {f, label, top, max: top.length ? top[0][1] : 1};
  });
  return h('section', {class: 'panel', id: 'ov-entities', 'aria-labelledby': 'ov-ent-h'},
    h('h2', {id: 'ov-ent-h'}, `Top entities (latest ${alerts.length} alerts)`),
    h('div', {class: 'entcols'}, lists.map((l) => h('div', {class: 'entlist', 'data-field': l.f},
      h('h3', null, l.label),
      l.top.length ? h('ol', null, l.top.map(([v, c]) => h('li', null,
        h('a', {href: searchLink(l.f, v), title: `search events with ${l.f} ${v}`}, v),
        h('meter', {min: 0, max: l.max, value: c, 'aria-label': `${v}: ${c} alerts`}),
        h('span', {class: 'num'}, String(c))))) : h('p', {class: 'muted'}, 'none')))));
}

// ATT&CK tactics in matrix order (the tags' spelling: attack.credential-access).
const TACTICS = ['reconnaissance', 'resource-development', 'initial-access', 'execution', 'persistence',
  'privilege-escalation', 'defense-evasion', 'credential-access', 'discovery', 'lateral-movement',
  'collection', 'command-and-control', 'exfiltration', 'impact'];
const TACTIC_SET = new Set(TACTICS);

// (tactic, technique) pairs of one alert. Sigma tags list a tactic then its techniques
// ("attack.credential-access", "attack.t1110.001", "attack.initial-access", "attack.t1078"):
// a technique belongs to the tactic tag before it; one before any tactic (or only in
// threat.technique.id) to each tactic of the alert, or to "other" when it has none.
export function attackPairs(a) {
  const pairs = new Set();
  const tactics = [];
  const loose = [];
  let cur = null;
  for (const t of Array.isArray(a.tags) ? a.tags : []) {
    const m = /^attack\.(.+)$/i.exec(String(t));
    if (!m) continue;
    const x = m[1].toLowerCase().replace(/_/g, '-');
    if (TACTIC_SET.has(x)) {
      cur = x;
      tactics.push(x);
    } else if (/^t\d{4}(\.\d{3})?$/.test(x)) {
      if (cur) pairs.add(`${cur}|${x.toUpperCase()}`);
      else loose.push(x.toUpperCase());
    }
  }
  let ids = a['threat.technique.id'];
  ids = Array.isArray(ids) ? ids : ids ? [ids] : [];
  const seen = new Set([...pairs].map((p) => p.split('|')[1]));
  for (const id of ids) if (!seen.has(String(id).toUpperCase())) loose.push(String(id).toUpperCase());
  for (const id of new Set(loose)) {
    if (tactics.length) for (const t of tactics) pairs.add(`${t}|${id}`);
    else pairs.add(`other|${id}`);
  }
  return [...pairs];
}

function attackPanel(alerts) {
  const cells = new Map();
  const tset = new Set();
  const techs = new Map(); // technique → total
  for (const a of alerts) {
    for (const p of attackPairs(a)) {
      cells.set(p, (cells.get(p) || 0) + 1);
      const [t, id] = p.split('|');
      tset.add(t);
      techs.set(id, (techs.get(id) || 0) + 1);
    }
  }
  const cols = [...TACTICS.filter((t) => tset.has(t)), ...(tset.has('other') ? ['other'] : [])];
  const rows = [...techs.keys()].sort();
  const max = Math.max(1, ...cells.values());
  const heat = (n) => (n ? `heat heat-${Math.min(4, 1 + Math.floor((n / max) * 3.999))}` : 'heat heat-0');
  return h('section', {class: 'panel', id: 'ov-attack', 'aria-labelledby': 'ov-attack-h'},
    h('h2', {id: 'ov-attack-h'}, `ATT&CK tactics × techniques (latest ${alerts.length} alerts)`),
    rows.length ? h('table', {class: 'grid heatmap'},
      h('caption', {class: 'sr-only'}, 'Alerts per ATT&CK technique (rows) and tactic (columns); empty cells are 0'),
      h('thead', null, h('tr', null, h('th', {scope: 'col'}, 'Technique'),
        cols.map((t) => h('th', {scope: 'col', class: 'num'}, t.replace(/-/g, ' '))),
        h('th', {scope: 'col', class: 'num'}, 'alerts'))),
      h('tbody', null, rows.map((id) => h('tr', {'data-technique': id},
        h('th', {scope: 'row'}, h('a', {href: `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`, rel: 'noopener noreferrer', target: '_blank',
          title: 'the technique on attack.mitre.org'}, id)),
        cols.map((t) => {
          const n = cells.get(`${t}|${id}`) || 0;
          return h('td', {class: `num ${heat(n)}`, title: n ? `${id} under ${t}: ${n} alert${n > 1 ? 's' : ''}` : null}, n ? String(n) : '');
        }),
        h('td', {class: 'num'}, String(techs.get(id))))))) :
      h('p', {class: 'muted'}, 'No alert carries an ATT&CK tag yet.'));
}

// Per-input rates: the previous sample of each input's counters (module memory).
let lastSample = null;

function ingestPanel(stats, agentsEl) {
  const p = stats.pipeline || {};
  const inputs = stats.inputs || [];
  const now = performance.now();
  const prev = lastSample;
  lastSample = {t: now, inputs: Object.fromEntries(inputs.map((i) => [`${i.proto} ${i.address}`, i.messages]))};
  const rate = (i) => {
    const k = `${i.proto} ${i.address}`;
    if (!prev || prev.inputs[k] === undefined || now - prev.t < 500) return '–';
    return ((i.messages - prev.inputs[k]) / ((now - prev.t) / 1000)).toFixed(1);
  };
  const num = (v) => (v === undefined || v === null ? '–' : Number(v).toLocaleString('en'));
  return h('section', {class: 'panel', id: 'ov-ingest', 'aria-labelledby': 'ov-ingest-h'},
    h('h2', {id: 'ov-ingest-h'}, 'Ingest health'),
    h('dl', {class: 'facts'},
      h('dt', null, 'Pipeline backlog'), h('dd', {class: p.backlog > 0 ? 'warn' : null}, num(p.backlog)),
      h('dt', null, 'Unparsed records'), h('dd', {class: p.unparsed > 0 ? 'warn' : null}, num(p.unparsed)),
      h('dt', null, 'Records / stored / duplicates'), h('dd', null, `${num(p.records)} / ${num(p.stored)} / ${num(p.duplicates)}`),
      h('dt', null, 'Store retries'), h('dd', null, num(p.store_retries)),
      h('dt', null, 'Agents online'), h('dd', {id: 'ov-agents'}, agentsEl)),
    inputs.length ? table([
      {label: 'Input', cell: (i) => `${i.proto} ${i.address}`},
      {label: 'Messages', class: 'num', cell: (i) => num(i.messages)},
      {label: 'msg/s', class: 'num', cell: rate},
      {label: 'Bytes', class: 'num', cell: (i) => num(i.bytes)},
      {label: 'Rejected', class: 'num', cell: (i) => h('span', {class: i.rejected ? 'warn' : null}, num(i.rejected))},
      {label: 'Dropped', class: 'num', cell: (i) => h('span', {class: i.dropped ? 'warn' : null}, num(i.dropped))},
      {label: 'Connections', class: 'num', cell: (i) => num(i.connections)},
      {label: 'Stalls', class: 'num', cell: (i) => num(i.stalls)},
    ], inputs) : h('p', {class: 'muted'}, 'No network input (events arrive over HTTP or files only).'),
    h('p', {class: 'hint'}, 'msg/s: since the previous refresh of this page.'));
}

// Agents online: GET /api/v1/agents, asked once the main data is on screen and written into
// its placeholder when it answers (fleet.js first checks that the server runs a fleet at all).
function agentsPanel() {
  const el = h('span', {class: 'muted'}, '…');
  return {
    el,
    fill: async (current) => {
      const {r, e} = await listAgents().then((x) => ({r: x}), (x) => ({e: x}));
      if (!current()) return;
      if (e || !r) {
        mount(el, e ? `unavailable (${e.message})` : 'fleet not enabled');
        el.className = 'muted';
      } else {
        const all = r.agents || [];
        const on = all.filter((a) => a.status === 'online').length;
        mount(el, h('a', {href: '#/fleet'}, `${on} of ${all.length}`));
        el.className = on < all.filter((a) => a.status !== 'revoked').length ? 'warn' : '';
      }
      el.dataset.state = 'done';
    },
  };
}

// Events over the last 24 hours (`* | timechart count`, docs/search.md), asked once the main
// data is on screen: the bars, and the mean rate per second of the busiest bucket.
function eventsPanel() {
  const el = h('section', {class: 'panel', id: 'ov-events', 'aria-labelledby': 'ov-events-h'},
    h('h2', {id: 'ov-events-h'}, 'Events over the last 24 hours'), h('p', {class: 'muted'}, '…'));
  return {
    el,
    fill: async (current) => {
      let r;
      try {
        r = await api.get('/api/v1/search', {q: '* | timechart count', from: '-24h', limit: 500});
      } catch (e) {
        if (current()) mount(el, h('h2', {id: 'ov-events-h'}, 'Events over the last 24 hours'), h('p', {class: 'muted'}, e.message));
        return;
      }
      if (!current()) return;
      const rows = (r.rows || []).filter((x) => !Number.isNaN(Date.parse(x[0])));
      const span = rows.length > 1 ? Date.parse(rows[1][0]) - Date.parse(rows[0][0]) : 3600000;
      const buckets = rows.map((x) => ({start: Date.parse(x[0]), end: Date.parse(x[0]) + span, count: Number(x[1]) || 0}));
      const total = buckets.reduce((n, b) => n + b.count, 0);
      const peak = Math.max(0, ...buckets.map((b) => b.count)) / (span / 1000);
      mount(el, h('h2', {id: 'ov-events-h'}, 'Events over the last 24 hours'),
        total ? barChart(buckets, 'Events over the last 24 hours') : h('p', {class: 'muted'}, 'No event in the last 24 hours.'),
        h('p', {class: 'hint'}, `${total} events; busiest ${Math.round(span / 60000)} min: ${peak.toFixed(peak < 10 ? 2 : 0)} events/s on average`));
      el.dataset.state = 'done';
    },
  };
}

export async function render(root, route, current) {
  const [stats, inc, al] = await Promise.all([
    api.get('/api/v1/stats'),
    api.get('/api/v1/incidents', {limit: 1000}),
    api.get('/api/v1/alerts', {limit: 500}),
  ]);
  if (!current()) return;
  const agents = agentsPanel();
  const events = eventsPanel();
  const p = stats.pipeline || {};
  const open = (inc.incidents || []).filter((i) => i.status !== 'closed');
  const bySev = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  for (const i of open) bySev[i.severity_name] = (bySev[i.severity_name] || 0) + 1;
  const alerts = al.alerts || [];
  const sevMax = Math.max(1, ...Object.values(bySev));
  mount(root,
    h('h1', null, 'Overview'),
    h('section', {class: 'tiles', 'aria-label': 'Counters'},
      tile('events stored', p.stored),
      tile('alerts', p.alerts),
      tile('open incidents', open.length, '#/incidents'),
      tile('unparsed records', p.unparsed),
      tile('pipeline backlog', p.backlog),
      tile('rules in force', stats.rules ? stats.rules.rules : null)),
    h('div', {class: 'cols'},
      h('section', {class: 'panel', 'aria-labelledby': 'ov-sev'},
        h('h2', {id: 'ov-sev'}, 'Open incidents by severity'),
        h('ul', {class: 'sevbars'}, SEVERITIES.map((s) => h('li', null,
          sevBadge(s),
          h('meter', {min: 0, max: sevMax, value: bySev[s], 'aria-label': `${s} incidents`}),
          h('span', {class: 'num'}, String(bySev[s])))))),
      h('section', {class: 'panel', 'aria-labelledby': 'ov-chart'},
        h('h2', {id: 'ov-chart'}, `Alerts over time (latest ${alerts.length})`),
        alerts.length ? barChart(bucket(alerts.map((a) => a['@timestamp']), 30), 'Alerts over time')
          : h('p', {class: 'muted'}, 'No alerts yet.'))),
    h('section', {class: 'panel', 'aria-labelledby': 'ov-latest'},
      h('h2', {id: 'ov-latest'}, 'Latest alerts'),
      table([
        {label: 'Time', cell: (a) => fmtTime(a['@timestamp'])},
        {label: 'Level', cell: (a) => sevBadge(a.level)},
        {label: 'Rule', cell: (a) => a['rule.name'] || a['rule.id'] || ''},
        {label: 'Host', cell: (a) => a['host.name'] || ''},
        {label: 'User', cell: (a) => a['user.name'] || ''},
        {label: 'Source', cell: (a) => a['source.ip'] || ''},
      ], alerts.slice(0, 10))),
    events.el,
    h('div', {class: 'cols'}, entitiesPanel(alerts), ingestPanel(stats, agents.el)),
    attackPanel(alerts));
  root.dataset.loaded = 'overview';
  performance.mark('vigie:overview-rendered');
  agents.fill(current);
  events.fill(current);
}
