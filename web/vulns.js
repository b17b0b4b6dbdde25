// vulns.js — the fleet's vulnerabilities (docs/vuln.md): hosts with their counts
// (GET /api/v1/vulns/hosts) and findings (GET /api/v1/vulns?host=&severity=&kev=), known
// exploited ones flagged.

import * as api from './api.js';
import {fmtTime, h, mount, sevBadge, table} from './dom.js';

const SEVS = ['', 'critical', 'high', 'medium', 'low'];

export async function render(root, route, current) {
  const host = route.params.get('host') || '';
  const severity = route.params.get('severity') || '';
  const kev = route.params.get('kev') === '1';
  const [hosts, findings] = await Promise.all([
    api.get('/api/v1/vulns/hosts', {limit: 500}),
    api.get('/api/v1/vulns', {host, severity, kev: kev ? 'true' : '', limit: 500}),
  ]);
  if (!current()) return;
  const sel = h('select', {id: 'vuln-sev', name: 'severity'}, SEVS.map((s) => h('option', {value: s, selected: s === severity}, s || 'any')));
  const kevBox = h('input', {id: 'vuln-kev', type: 'checkbox', name: 'kev', checked: kev});
  const hostBox = h('input', {id: 'vuln-host', type: 'search', name: 'host', value: host, placeholder: 'host'});
  const form = h('form', {class: 'filters', 'aria-label': 'Filter findings'},
    h('label', {for: 'vuln-host'}, 'Host'), hostBox,
    h('label', {for: 'vuln-sev'}, 'At least'), sel,
    kevBox, h('label', {for: 'vuln-kev'}, 'known exploited only'),
    h('button', {type: 'submit'}, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams({host: hostBox.value, severity: sel.value});
    if (kevBox.checked) p.set('kev', '1');
    location.hash = `#/vulns?${p}`;
  });
  const items = findings.items || [];
  mount(root,
    h('h1', null, 'Vulnerabilities'),
    h('section', {class: 'panel', 'aria-labelledby': 'vh'},
      h('h2', {id: 'vh'}, 'Hosts'),
      table([
        {label: 'Host', cell: (x) => h('a', {href: `#/vulns?${new URLSearchParams({host: x.host})}`}, x.name || x.host)},
        {label: 'OS', cell: (x) => x.os || ''},
        {label: 'Packages', class: 'num', cell: (x) => String(x.packages)},
        {label: 'Findings', class: 'num', cell: (x) => String(x.findings)},
        {label: 'Critical', class: 'num', cell: (x) => String(x.critical)},
        {label: 'High', class: 'num', cell: (x) => String(x.high)},
        {label: 'Known exploited', class: 'num', cell: (x) => String(x.kev)},
        {label: 'Scanned', cell: (x) => (x.pending ? 'pending' : fmtTime(x.scanned_at))},
      ], hosts.items || [])),
    form,
    h('section', {class: 'panel', 'aria-labelledby': 'vf'},
      h('h2', {id: 'vf'}, `Findings (${findings.total ?? items.length})`),
      table([
        {label: 'Vulnerability', cell: (f) => f.id},
        {label: 'Severity', cell: (f) => sevBadge(f.severity)},
        {label: 'KEV', cell: (f) => (f.kev ? h('span', {class: 'kev', title: 'known exploited'}, 'KEV') : '')},
        {label: 'Host', cell: (f) => f.host_name || f.host},
        {label: 'Package', cell: (f) => f.package},
        {label: 'Installed', cell: (f) => f.installed},
        {label: 'Fixed in', cell: (f) => f.fixed || '—'},
        {label: 'Summary', cell: (f) => h('span', {title: f.why || ''}, f.summary || '')},
      ], items, () => ({'data-nav': '', tabindex: '-1'}))));
  root.dataset.loaded = 'vulns';
}
