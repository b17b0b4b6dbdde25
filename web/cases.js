// cases.js — cases (docs/cases.md): the list (GET /api/v1/cases, newest first) and a case's
// detail (GET /api/v1/cases/{id}, /observables, /timeline) with a comment box
// (POST /api/v1/cases/{id}/comments) and its report (GET /api/v1/cases/{id}/report?format=html).

import * as api from './api.js';
import {fmtTime, h, mount, notice, sevBadge, table} from './dom.js';

export async function render(root, route, current) {
  if (route.id) return renderDetail(root, route, current);
  const status = route.params.get('status') || '';
  const res = await api.get('/api/v1/cases', {status, limit: 200});
  if (!current()) return;
  const list = res.cases || [];
  mount(root,
    h('h1', null, 'Cases'),
    list.length ? table([
      {label: '#', class: 'num', cell: (c) => String(c.id)},
      {label: 'Severity', cell: (c) => sevBadge(c.severity_name)},
      {label: 'Case', cell: (c) => h('a', {href: `#/cases/${c.id}`, class: 'case-title'}, c.title)},
      {label: 'Status', cell: (c) => h('span', {class: `status st-${c.status}`}, c.status)},
      {label: 'TLP', cell: (c) => c.tlp},
      {label: 'Assignee', cell: (c) => c.assignee || '—'},
      {label: 'Tags', cell: (c) => (c.tags || []).join(', ')},
      {label: 'Updated', cell: (c) => fmtTime(c.updated)},
    ], list, (c) => ({'data-nav': '', tabindex: '-1', 'aria-selected': 'false',
      onopen: () => { location.hash = `#/cases/${c.id}`; }}))
      : h('p', {class: 'muted'}, 'No case yet.'));
  root.dataset.loaded = 'cases';
}

async function renderDetail(root, route, current) {
  const id = encodeURIComponent(route.id);
  const [c, obs, tl] = await Promise.all([
    api.get(`/api/v1/cases/${id}`),
    api.get(`/api/v1/cases/${id}/observables`),
    api.get(`/api/v1/cases/${id}/timeline`),
  ]);
  if (!current()) return;
  const text = h('textarea', {id: 'case-comment', name: 'text', rows: 3, required: true});
  const form = h('form', {class: 'comment', 'aria-label': 'Add a comment'},
    h('label', {for: 'case-comment'}, 'Comment'), text,
    h('button', {type: 'submit', disabled: api.may('analyst') ? null : true}, 'Add comment'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.post(`/api/v1/cases/${id}/comments`, {text: text.value});
      await renderDetail(root, route, current);
      notice('Comment added');
    } catch (ex) {
      notice(`Comment failed: ${ex.message}`, 'error');
    }
  });
  mount(root,
    h('p', null, h('a', {href: '#/cases', 'data-back': ''}, '← Cases')),
    h('h1', null, `Case #${c.id} `, c.title),
    h('div', {class: 'badges'}, sevBadge(c.severity_name), h('span', {class: `status st-${c.status}`}, c.status),
      h('span', null, `TLP:${String(c.tlp).toUpperCase()}`),
      h('a', {href: `/api/v1/cases/${id}/report?format=html`, target: '_blank', rel: 'noopener'}, 'Report')),
    c.description ? h('p', {class: 'description'}, c.description) : null,
    h('div', {class: 'cols'},
      h('section', {class: 'panel', 'aria-labelledby': 'case-alerts'},
        h('h2', {id: 'case-alerts'}, 'Linked alerts and incidents'),
        table([
          {label: 'Alert', class: 'num', cell: (a) => String(a.id)},
          {label: 'Time', cell: (a) => fmtTime(a.ts)},
          {label: 'Level', cell: (a) => sevBadge(a.level)},
          {label: 'Rule', cell: (a) => a.title || a.rule_id},
          {label: 'Source', cell: (a) => a.src_ip || ''},
        ], c.alerts || []),
        (c.incidents || []).length ? h('ul', null, c.incidents.map((i) => h('li', null,
          h('a', {href: `#/incidents/${i}`}, `Incident #${i}`)))) : null),
      h('section', {class: 'panel', 'aria-labelledby': 'case-obs'},
        h('h2', {id: 'case-obs'}, 'Observables'),
        table([
          {label: 'Type', cell: (o) => o.type || o.dataType || ''},
          {label: 'Value', cell: (o) => o.value || o.data || ''},
          {label: 'IOC', cell: (o) => (o.ioc ? 'yes' : '')},
          {label: 'Tags', cell: (o) => (o.tags || []).join(', ')},
        ], obs.observables || []))),
    h('section', {class: 'panel', 'aria-labelledby': 'case-tl'},
      h('h2', {id: 'case-tl'}, 'Timeline'),
      h('ol', {class: 'timeline'}, (tl.timeline || []).map((t) => h('li', null,
        h('time', {datetime: t.ts}, fmtTime(t.ts)), ' ', h('span', {class: 'actor'}, t.actor || ''), ' ',
        h('span', {class: 'kind'}, t.kind || ''), ' ', t.text || ''))),
      form));
  root.dataset.loaded = 'case';
}
