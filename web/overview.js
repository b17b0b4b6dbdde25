// overview.js — the SOC's first screen: pipeline counters (GET /api/v1/stats), open incidents
// by severity (GET /api/v1/incidents), alerts over time and the latest alerts
// (GET /api/v1/alerts). When the data is on screen it sets the performance mark
// "vigie:overview-rendered" (the browser test measures navigation start → that mark).

import * as api from './api.js';
import {barChart, bucket} from './chart.js';
import {fmtTime, h, mount, sevBadge, table} from './dom.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'];

function tile(label, value, href) {
  const v = h('span', {class: 'tile-value'}, value === undefined || value === null ? '–' : Number(value).toLocaleString('en'));
  return h(href ? 'a' : 'div', {class: 'tile', href}, v, h('span', {class: 'tile-label'}, label));
}

export async function render(root, route, current) {
  const [stats, inc, al] = await Promise.all([
    api.get('/api/v1/stats'),
    api.get('/api/v1/incidents', {limit: 1000}),
    api.get('/api/v1/alerts', {limit: 500}),
  ]);
  if (!current()) return;
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
      ], alerts.slice(0, 10))));
  root.dataset.loaded = 'overview';
  performance.mark('vigie:overview-rendered');
}
