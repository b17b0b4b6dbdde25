// incidents.js — the ranked incident queue (GET /api/v1/incidents: risk, then last seen) and
// an incident's detail (GET /api/v1/incidents/{id}: its alerts, entities, tactics) with the
// triage actions of PATCH /api/v1/incidents/{id}: assign to me, acknowledge, close with a
// verdict. j/k move through the queue, Enter opens; a / x / c act on the open incident.

import * as api from './api.js';
import {age, fmtTime, h, mount, notice, sevBadge, table} from './dom.js';

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
  const rows = table([
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
  mount(root,
    h('h1', null, 'Incidents'),
    form,
    list.length ? rows : h('p', {class: 'muted'}, 'No incident matches.'),
    h('p', {class: 'hint'}, 'j / k to move, Enter to open, ? for every shortcut.'));
  root.dataset.loaded = 'incidents';
}

function facts(pairs) {
  return h('dl', {class: 'facts'}, pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

async function renderDetail(root, route, current) {
  const id = route.id;
  const res = await api.get(`/api/v1/incidents/${encodeURIComponent(id)}`);
  if (!current()) return;
  const i = res.incident;
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
      ], res.timeline || [])));
  root.dataset.loaded = 'incident';
}
