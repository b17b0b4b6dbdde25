// incidents.js — the ranked incident queue (GET /api/v1/incidents: risk, then last seen) and
// an incident's detail (GET /api/v1/incidents/{id}: its alerts, entities, tactics) with the
// triage actions of PATCH /api/v1/incidents/{id}: assign to me, acknowledge, close with a
// verdict. j/k move through the queue, Enter opens; a / x / c act on the open incident.
// The queue has a checkbox per row (space toggles the selected row) and bulk actions on the
// checked incidents: assign to me, close with a verdict, merge into a new or an existing case
// (POST /api/v1/cases, then POST /api/v1/cases/{id}/alerts with the incidents and their
// alerts), each with its per-incident result. The detail draws the alerts on a time strip and
// a process tree from the alerts' process fields (pid / parent pid, else executable paths).

import * as api from './api.js';
import {age, fmtTime, h, mount, notice, sevBadge, svg, table} from './dom.js';

// The queue's checked incidents and the last bulk action's results survive re-renders (the
// live stream re-reads the queue).
const picked = new Set();
let lastResults = null;

const STATUSES = [['active', 'Open and acknowledged'], ['open', 'Open'], ['acknowledged', 'Acknowledged'], ['closed', 'Closed'], ['', 'All']];

// The search a click on an entity opens (its field in the normalised events).
export function entityQuery(e) {
  const roles = e.roles || [];
  const field = e.type === 'ip' ? (roles.includes('destination') ? 'destination.ip' : 'source.ip')
    : e.type === 'host' ? 'host.name' : e.type === 'user' ? 'user.name'
      : e.type === 'process' ? 'process.name' : null;
  let value = e.value;
  if (e.type === 'process' && value.includes(':')) value = value.slice(value.indexOf(':') + 1).split(/[\\/]/).pop();
  return field ? `${field}:"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"` : `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export async function render(root, route, current) {
  if (route.id) return renderDetail(root, route, current);
  const status = route.params.has('status') ? route.params.get('status') : 'active';
  const q = route.params.get('q') || '';
  const query = {limit: 200, q, status: status === 'active' ? '' : status};
  const res = await api.get('/api/v1/incidents', query);
  if (!current()) return;
  let list = res.incidents || [];
  if (status === 'active') list = list.filter((i) => i.status !== 'closed');
  const sel = h('select', {id: 'inc-status', name: 'status'},
    STATUSES.map(([v, l]) => h('option', {value: v, selected: v === status}, l)));
  const box = h('input', {id: 'inc-q', type: 'search', name: 'q', value: q, placeholder: 'title contains…'});
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter incidents'},
    h('label', {for: 'inc-status'}, 'Status'), sel,
    h('label', {for: 'inc-q'}, 'Title'), box,
    h('button', {type: 'submit'}, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams({status: sel.value, q: box.value});
    location.hash = `#/incidents?${p}`;
  });
  sel.addEventListener('change', () => form.requestSubmit());
  const ids = new Set(list.map((i) => String(i.id)));
  for (const id of [...picked]) if (!ids.has(id)) picked.delete(id);
  const bulk = bulkBar(root, route, current, list);
  const allBox = h('input', {type: 'checkbox', id: 'inc-pick-all', 'aria-label': 'Select every incident shown',
    checked: list.length && picked.size === list.length ? true : null});
  allBox.addEventListener('change', () => {
    for (const b of root.querySelectorAll('input.pick')) {
      b.checked = allBox.checked;
      if (b.checked) picked.add(b.dataset.id); else picked.delete(b.dataset.id);
    }
    bulk.update();
  });
  const rows = table([
    {label: allBox, class: 'pick', cell: (i) => {
      const b = h('input', {type: 'checkbox', class: 'pick', 'data-id': i.id, 'aria-label': `Select incident ${i.id}`,
        checked: picked.has(String(i.id)) ? true : null});
      b.addEventListener('change', () => {
        if (b.checked) picked.add(String(i.id)); else picked.delete(String(i.id));
        allBox.checked = picked.size === list.length;
        bulk.update();
      });
      return b;
    }},
    {label: '#', class: 'num', cell: (i) => String(i.rank)},
    {label: 'Risk', class: 'num', cell: (i) => String(Math.round(i.risk))},
    {label: 'Severity', cell: (i) => sevBadge(i.severity_name)},
    {label: 'Incident', cell: (i) => h('a', {href: `#/incidents/${i.id}`, class: 'inc-title'}, i.title)},
    {label: 'Status', cell: (i) => h('span', {class: `status st-${i.status}`}, i.status)},
    {label: 'Assignee', cell: (i) => i.assignee || '—'},
    {label: 'Alerts', class: 'num', cell: (i) => String(i.alert_count)},
    {label: 'Last seen', cell: (i) => h('time', {datetime: i.last_seen, title: fmtTime(i.last_seen)}, age(i.last_seen))},
  ], list.map((i, n) => ({...i, rank: n + 1})), (i) => ({
    'data-nav': '', 'data-id': i.id, tabindex: '-1', 'aria-selected': 'false',
    onopen: () => { location.hash = `#/incidents/${i.id}`; },
    ondblclick: () => { location.hash = `#/incidents/${i.id}`; },
  }));
  // space on the selected row toggles its checkbox
  rows.addEventListener('keydown', (e) => {
    const tr = e.target instanceof Element ? e.target.closest('tr[data-nav]') : null;
    if (e.key !== ' ' || !tr || e.target !== tr || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    const b = tr.querySelector('input.pick');
    b.checked = !b.checked;
    b.dispatchEvent(new Event('change'));
  });
  mount(root,
    h('h1', null, 'Incidents'),
    form,
    bulk.el,
    list.length ? rows : h('p', {class: 'muted'}, 'No incident matches.'),
    h('p', {class: 'hint'}, 'j / k to move, space to select, Enter to open, ? for every shortcut.'));
  bulk.update();
  root.dataset.loaded = 'incidents';
}

// Case severity (1 low … 4 critical) from an incident's (1-5).
const caseSeverity = (sev) => Math.max(1, Math.min(4, (Number(sev) || 2) - 1));

// The bulk actions bar: {el, update()}; update() follows the checked set.
function bulkBar(root, route, current, list) {
  const canChange = api.may('analyst');
  const why = canChange ? null : 'needs the analyst role';
  const me = api.currentUser();
  const count = h('span', {class: 'bulk-count', 'aria-live': 'polite'});
  const verdict = h('select', {id: 'bulk-verdict', name: 'verdict'},
    h('option', {value: 'true_positive'}, 'true positive'),
    h('option', {value: 'benign'}, 'benign (expected activity)'),
    h('option', {value: 'false_positive'}, 'false positive'));
  const summary = h('input', {id: 'bulk-summary', name: 'summary', placeholder: 'what was done'});
  const title = h('input', {id: 'bulk-case-title', name: 'case-title', placeholder: 'new case title (optional)'});
  const caseId = h('input', {id: 'bulk-case-id', name: 'case-id', type: 'number', min: 1, placeholder: 'case #', class: 'narrow'});
  const buttons = [];
  const btn = (kind, label, fn, cls) => {
    const b = h('button', {type: 'button', 'data-bulk': kind, class: cls, title: why, onclick: () => run(label, fn)}, label);
    buttons.push(b);
    return b;
  };
  const results = h('ul', {id: 'bulk-results', class: 'bulk-results', 'aria-label': 'Results of the last bulk action'});
  const showResults = () => {
    if (!lastResults) return results.replaceChildren();
    mount(results,
      h('li', {class: 'bulk-what'}, lastResults.what),
      lastResults.items.map((r) => h('li', {'data-id': r.id, 'data-ok': r.ok ? 'true' : 'false', class: r.ok ? 'ok' : 'error'},
        r.id ? h('a', {href: `#/incidents/${r.id}`}, `#${r.id}`) : null, r.id ? ' ' : null, r.text,
        r.href ? [' ', h('a', {href: r.href, class: 'bulk-case'}, r.link)] : null)));
  };
  const selected = () => list.filter((i) => picked.has(String(i.id)));
  let busy = false;
  const update = () => {
    const n = selected().length;
    count.textContent = n ? `${n} selected` : 'none selected';
    for (const b of buttons) b.disabled = !canChange || busy || !n;
  };
  async function run(label, fn) {
    const chosen = selected();
    if (!chosen.length) return;
    busy = true;
    update();
    let items;
    try {
      items = await fn(chosen);
    } catch (e) {
      items = [{ok: false, text: `failed: ${e.message}`}];
    }
    busy = false;
    lastResults = {what: label, items};
    const bad = items.filter((r) => !r.ok).length;
    if (!current()) return;
    await render(root, route, current);
    notice(bad ? `${label}: ${bad} of ${items.length} failed` : `${label}: done`, bad ? 'error' : null);
  }
  // one PATCH per incident; each result on its own line
  const patchEach = (body, ok) => async (chosen) => Promise.all(chosen.map(async (i) => {
    try {
      await api.patch(`/api/v1/incidents/${encodeURIComponent(i.id)}`, body);
      return {id: i.id, ok: true, text: ok};
    } catch (e) {
      return {id: i.id, ok: false, text: `failed: ${e.message}`};
    }
  }));
  // the incidents' alerts (their timelines), then one link call for all of them
  async function link(caseNo, chosen, created) {
    const details = await Promise.all(chosen.map(async (i) => {
      try {
        const r = await api.get(`/api/v1/incidents/${encodeURIComponent(i.id)}`);
        return {i, alerts: (r.timeline || []).map((a) => a.alert_id)};
      } catch (e) {
        return {i, error: e.message};
      }
    }));
    const good = details.filter((d) => !d.error);
    const items = details.filter((d) => d.error).map((d) => ({id: d.i.id, ok: false, text: `not read: ${d.error}`}));
    if (!good.length) return items;
    const href = `#/cases/${caseNo}`;
    try {
      const r = await api.post(`/api/v1/cases/${encodeURIComponent(caseNo)}/alerts`,
        {incident_ids: good.map((d) => d.i.id), alert_ids: [...new Set(good.flatMap((d) => d.alerts))]});
      for (const d of good) items.push({id: d.i.id, ok: true, text: `linked with ${d.alerts.length} alert(s) to`, href, link: `case #${caseNo}`});
      items.push({ok: true, text: `${created ? 'created ' : ''}case #${caseNo}: ${r.alerts_linked} alert(s), ${r.incidents_linked} incident(s) linked, ${r.observables_added} observable(s) added`, href, link: 'open the case'});
    } catch (e) {
      for (const d of good) items.push({id: d.i.id, ok: false, text: `not linked to case #${caseNo}: ${e.message}`});
      if (created) items.push({ok: true, text: `case #${caseNo} was created`, href, link: 'open the case'});
    }
    return items.sort((a, b) => (a.id ? 0 : 1) - (b.id ? 0 : 1));
  }
  const el = h('div', {class: 'actions bulk', id: 'inc-bulk', role: 'group', 'aria-label': 'Bulk actions on the selected incidents'},
    count,
    btn('assign', 'Assign to me', patchEach({assignee: me ? me.name : ''}, `assigned to ${me ? me.name : 'me'}`)),
    h('label', {for: 'bulk-verdict'}, 'Verdict'), verdict,
    h('label', {for: 'bulk-summary'}, 'Summary'), summary,
    btn('close', 'Close selected', (chosen) => patchEach({status: 'closed', verdict: verdict.value, summary: summary.value || undefined},
      `closed (${verdict.value})`)(chosen), 'danger'),
    h('span', {class: 'sep'}),
    h('label', {for: 'bulk-case-title'}, 'Case'), title,
    btn('merge-new', 'Merge into a new case', async (chosen) => {
      const sev = Math.max(...chosen.map((i) => Number(i.severity) || 0));
      const name = title.value.trim() || (chosen.length === 1 ? chosen[0].title
        : `Incidents ${chosen.map((i) => `#${i.id}`).join(', ')}: ${chosen[0].title}`).slice(0, 500);
      const c = await api.post('/api/v1/cases', {title: name, severity: caseSeverity(sev),
        description: `Merged from incidents ${chosen.map((i) => `#${i.id} (${i.title})`).join(', ')}.`});
      return link(c.id, chosen, true);
    }),
    h('label', {for: 'bulk-case-id'}, 'or add to case'), caseId,
    btn('merge-existing', 'Add to case', async (chosen) => {
      const n = Number(caseId.value);
      if (!Number.isInteger(n) || n < 1) return [{ok: false, text: 'give the number of an existing case'}];
      return link(n, chosen, false);
    }));
  return {el: [el, results], update: () => { update(); showResults(); }};
}

function facts(pairs) {
  return h('dl', {class: 'facts'}, pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

async function renderDetail(root, route, current) {
  const id = route.id;
  const res = await api.get(`/api/v1/incidents/${encodeURIComponent(id)}`);
  if (!current()) return;
  const i = res.incident;
  const timeline = [...(res.timeline || [])].sort((a, b) => String(a.time).localeCompare(String(b.time)));
  const me = api.currentUser();
  const canChange = api.may('analyst');
  const act = async (body, what) => {
    try {
      await api.patch(`/api/v1/incidents/${encodeURIComponent(id)}`, body);
      await renderDetail(root, route, current);
      notice(what);
    } catch (e) {
      notice(`${what} failed: ${e.message}`, 'error');
    }
  };
  const verdict = h('select', {id: 'inc-verdict', name: 'verdict'},
    h('option', {value: 'true_positive'}, 'true positive'),
    h('option', {value: 'benign'}, 'benign (expected activity)'),
    h('option', {value: 'false_positive'}, 'false positive'));
  const summary = h('input', {id: 'inc-summary', name: 'summary', placeholder: 'what was done'});
  const off = canChange ? null : true;
  const why = canChange ? null : 'needs the analyst role';
  const actions = h('div', {class: 'actions', role: 'group', 'aria-label': 'Incident actions'},
    h('button', {type: 'button', 'data-key': 'a', disabled: off, title: why,
      onclick: () => act({assignee: me ? me.name : ''}, `Assigned to ${me ? me.name : 'me'}`)}, 'Assign to me (a)'),
    h('button', {type: 'button', 'data-key': 'x', disabled: off || i.status !== 'open', title: why,
      onclick: () => act({status: 'acknowledged'}, 'Acknowledged')}, 'Acknowledge (x)'),
    h('label', {for: 'inc-verdict'}, 'Verdict'), verdict,
    h('label', {for: 'inc-summary'}, 'Summary'), summary,
    h('button', {type: 'button', 'data-key': 'c', class: 'danger', disabled: off || i.status === 'closed', title: why,
      onclick: () => act({status: 'closed', verdict: verdict.value, summary: summary.value || undefined}, 'Closed')}, 'Close (c)'));
  mount(root,
    h('p', null, h('a', {href: '#/incidents', 'data-back': ''}, '← Incidents')),
    h('h1', null, `#${i.id} `, i.title),
    h('div', {class: 'badges'}, sevBadge(i.severity_name), h('span', {class: `status st-${i.status}`}, i.status),
      h('span', {class: 'risk'}, `risk ${Math.round(i.risk)}`)),
    actions,
    h('div', {class: 'cols'},
      h('section', {class: 'panel', 'aria-labelledby': 'inc-facts'},
        h('h2', {id: 'inc-facts'}, 'Facts'),
        facts([
          ['Assignee', i.assignee || '—'],
          ['Verdict', i.verdict || '—'],
          ['Summary', i.summary || '—'],
          ['Why', i.reason_detail || i.reason],
          ['First seen', fmtTime(i.first_seen)],
          ['Last seen', fmtTime(i.last_seen)],
          ['Tactics', (i.tactics || []).join(', ') || '—'],
          ['Techniques', (i.techniques || []).join(', ') || '—'],
          ['Linked incidents', (i.linked_incidents || []).join(', ') || '—'],
        ])),
      h('section', {class: 'panel', 'aria-labelledby': 'inc-ents'},
        h('h2', {id: 'inc-ents'}, 'Entities'),
        table([
          {label: 'Type', cell: (e) => e.type},
          {label: 'Value', cell: (e) => h('a', {href: `#/search?${new URLSearchParams({q: entityQuery(e)})}`, title: 'search events'}, e.value)},
          {label: 'Roles', cell: (e) => (e.roles || []).join(', ')},
        ], i.entities || []))),
    h('section', {class: 'panel', 'aria-labelledby': 'inc-alerts'},
      h('h2', {id: 'inc-alerts'}, `Alerts (${i.alert_count})`),
      table([
        {label: 'Time', cell: (a) => fmtTime(a.time)},
        {label: 'Level', cell: (a) => sevBadge(a.level)},
        {label: 'Rule', cell: (a) => a.title || a.rule_id},
        {label: 'Risk', class: 'num', cell: (a) => String(Math.round(a.risk))},
        {label: 'Verdict', cell: (a) => a.verdict || '—'},
        {label: 'Alert', class: 'num', cell: (a) => String(a.alert_id)},
      ], timeline)),
    h('div', {class: 'cols'},
      h('section', {class: 'panel', 'aria-labelledby': 'inc-strip'},
        h('h2', {id: 'inc-strip'}, 'Timeline'),
        timeStrip(timeline)),
      h('section', {class: 'panel', 'aria-labelledby': 'inc-ptree'},
        h('h2', {id: 'inc-ptree'}, 'Process tree'),
        processTree(res.alerts || []))));
  root.dataset.loaded = 'incident';
}

// The alerts on a time axis (SVG): a dot per alert, coloured by level, with its title.
function timeStrip(timeline) {
  const pts = timeline.map((a) => ({a, t: Date.parse(a.time)})).filter((p) => !Number.isNaN(p.t));
  if (!pts.length) return h('p', {class: 'muted'}, 'No alert time.');
  const lo = Math.min(...pts.map((p) => p.t));
  const hi = Math.max(...pts.map((p) => p.t));
  const W = 600, pad = 12, span = hi - lo || 1;
  const x = (t) => (hi === lo ? W / 2 : pad + ((t - lo) / span) * (W - 2 * pad));
  const first = fmtTime(new Date(lo).toISOString());
  const last = fmtTime(new Date(hi).toISOString());
  return svg('svg', {class: 'strip', viewBox: `0 0 ${W} 64`, role: 'img',
    'aria-label': `${pts.length} alert(s) from ${first} to ${last}`},
  svg('line', {class: 'axis', x1: pad, y1: 24, x2: W - pad, y2: 24}),
  pts.map((p, n) => svg('circle', {class: `dot lvl-${Number(p.a.level) || 0}`, cx: x(p.t).toFixed(1), cy: 24 - ((n % 3) - 1) * 7, r: 6,
    'data-alert': p.a.alert_id}, svg('title', null, `${fmtTime(p.a.time)} ${p.a.title || p.a.rule_id} (alert ${p.a.alert_id})`))),
  svg('text', {class: 'tick', x: pad, y: 56}, first),
  svg('text', {class: 'tick end', x: W - pad, y: 56}, last));
}

// A field of a stored alert or of its event: flat dotted keys ("process.pid") or nested objects.
function field(alert, ...keys) {
  for (const k of keys) {
    for (const o of [alert, alert.event]) {
      if (!o || typeof o !== 'object') continue;
      if (o[k] !== undefined && o[k] !== null && o[k] !== '') return o[k];
      let v = o;
      for (const part of k.split('.')) v = v && typeof v === 'object' ? v[part] : undefined;
      if (v !== undefined && v !== null && v !== '' && typeof v !== 'object') return v;
    }
  }
  return undefined;
}

const baseName = (p) => String(p).split(/[\\/]/).pop();

// The alerts' processes as a nested list: a process is keyed by host and pid when the alert
// has process.pid (its parent by process.parent.pid), else by its executable (its parent by
// process.parent.executable) — Sysmon's ProcessId / Image fields count too.
export function processTree(alerts) {
  const nodes = new Map();
  const node = (key, name, pid) => {
    let n = nodes.get(key);
    if (!n) nodes.set(key, n = {key, name, pid, cmd: '', alerts: [], parent: null, kids: []});
    if (!n.name && name) n.name = name;
    if (n.pid === undefined && pid !== undefined) n.pid = pid;
    return n;
  };
  for (const a of alerts) {
    const host = field(a, 'host.name', 'Computer') || '';
    const pid = field(a, 'process.pid', 'ProcessId');
    const exe = field(a, 'process.executable', 'Image', 'process.name');
    const cmd = field(a, 'process.command_line', 'CommandLine');
    const ppid = field(a, 'process.parent.pid', 'ParentProcessId');
    const pexe = field(a, 'process.parent.executable', 'ParentImage', 'process.parent.name');
    if (pid === undefined && exe === undefined) continue;
    const key = pid !== undefined ? `${host}|pid:${pid}` : `${host}|exe:${String(exe).toLowerCase()}`;
    const n = node(key, exe, pid);
    if (cmd && !n.cmd) n.cmd = String(cmd);
    n.host = host;
    n.alerts.push(a);
    const pkey = ppid !== undefined ? `${host}|pid:${ppid}` : pexe !== undefined ? `${host}|exe:${String(pexe).toLowerCase()}` : null;
    if (pkey && pkey !== key && !n.parent) {
      const p = node(pkey, pexe, ppid);
      p.host = host;
      n.parent = p;
    }
  }
  if (!nodes.size) return h('p', {class: 'muted', id: 'inc-ptree-none'}, 'None: the alerts carry no process fields.');
  // no cycles: a parent chain that comes back to the node is cut
  for (const n of nodes.values()) {
    const seen = new Set([n]);
    for (let p = n.parent; p; p = p.parent) {
      if (seen.has(p)) {
        n.parent = null;
        break;
      }
      seen.add(p);
    }
    if (n.parent) n.parent.kids.push(n);
  }
  const item = (n) => h('li', {'data-key': n.key},
    h('span', {class: 'proc', title: n.name || ''}, n.name ? baseName(n.name) : 'unknown process'),
    n.pid !== undefined ? h('span', {class: 'muted'}, ` pid ${n.pid}`) : null,
    n.host ? h('span', {class: 'muted'}, ` on ${n.host}`) : null,
    n.cmd ? h('code', {class: 'cmd'}, n.cmd) : null,
    n.alerts.length ? h('span', {class: 'proc-alerts'}, n.alerts.map((a) =>
      h('span', {class: 'tag', title: fmtTime(a['@timestamp'])}, `alert ${a.id}: ${a['rule.name'] || a.rule_id || ''}`))) : null,
    n.kids.length ? h('ul', null, n.kids.map(item)) : null);
  return h('ul', {class: 'ptree', id: 'inc-ptree-list'}, [...nodes.values()].filter((n) => !n.parent).map(item));
}
