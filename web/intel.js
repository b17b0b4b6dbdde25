// intel.js — threat intelligence (docs/intel.md): the sources of the indicator store with
// their counts and rejections (GET /api/v1/intel/stats), indicator search
// (GET /api/v1/intel/indicators?q=&type=&source=), a lookup of one value with its context
// (GET /api/v1/intel/lookup), and, for analysts of tenant default, an import of a feed file
// (POST /api/v1/intel/import?source=&format=, the file as the body) and a source removal.

import * as api from './api.js';
import {fmtTime, h, mount, table} from './dom.js';

const TYPES = ['', 'ipv4', 'ipv6', 'cidr', 'domain', 'url', 'email', 'md5', 'sha1', 'sha256', 'sha512', 'ja3', 'filename'];
let lastImport = null; // the outcome of an import, shown again once the page re-reads the store

const FORMATS = [['', 'detect'], ['stix', 'STIX 2.x'], ['misp', 'MISP'], ['csv', 'CSV / plain list'], ['warninglist', 'MISP warninglist']];

function tags(x) {
  return (x.tags || []).join(', ');
}

function related(x) {
  return (x.related || []).map((r) => `${r.ext_id || r.type}: ${r.name || r.id}`).join('; ');
}

function indicatorTable(items) {
  return table([
    {label: 'Value', cell: (x) => h('code', null, x.value)},
    {label: 'Type', cell: (x) => x.type},
    {label: 'Source', cell: (x) => x.source},
    {label: 'Confidence', class: 'num', cell: (x) => `${x.confidence_now ?? x.confidence ?? ''}`},
    {label: 'Name', cell: (x) => x.name || ''},
    {label: 'Tags', cell: tags},
    {label: 'Related', cell: related},
    {label: 'Last seen', cell: (x) => fmtTime(x.last_seen)},
    {label: 'State', cell: (x) => (x.expired ? 'expired' : x.warninglisted ? 'warninglisted' : 'live')},
  ], items, () => ({'data-nav': '', tabindex: '-1'}));
}

// The lookup form: one value, its indicator and context, or "not found".
function lookupPanel() {
  const box = h('input', {id: 'intel-lookup', type: 'search', name: 'value', size: 40, placeholder: '198.51.100.23, evil.example, a hash'});
  const out = h('div', {id: 'intel-lookup-result', 'aria-live': 'polite'});
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Look up a value'},
    h('label', {for: 'intel-lookup'}, 'Look up'), box, h('button', {type: 'submit'}, 'Look up'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    out.dataset.state = 'running';
    try {
      const r = await api.call('GET', '/api/v1/intel/lookup', {query: {value: box.value}, noRedirect: false});
      mount(out, indicatorTable([r.indicator]));
      out.dataset.state = 'found';
    } catch (err) {
      mount(out, h('p', {class: err.status === 404 ? 'muted' : 'error'},
        err.status === 404 ? `No live indicator matches ${box.value}.` : err.message));
      out.dataset.state = err.status === 404 ? 'none' : 'error';
    }
  });
  return h('section', {class: 'panel', 'aria-labelledby': 'intel-lk'}, h('h2', {id: 'intel-lk'}, 'Lookup'), form, out);
}

// The import form (analysts of tenant default; the server refuses the others anyway).
function importPanel(reload) {
  const u = api.currentUser();
  const allowed = api.may('analyst') && u && u.tenant === 'default';
  const why = allowed ? null : 'needs the analyst role in tenant default';
  const src = h('input', {id: 'intel-src', name: 'source', required: true, pattern: '[A-Za-z0-9._\\-]{1,63}', placeholder: 'feed name', disabled: !allowed, title: why});
  const fmt = h('select', {id: 'intel-fmt', name: 'format', disabled: !allowed}, FORMATS.map(([v, l]) => h('option', {value: v}, l)));
  const file = h('input', {id: 'intel-file', type: 'file', name: 'file', disabled: !allowed});
  const msg = h('p', {id: 'intel-import-result', 'aria-live': 'polite'});
  const form = h('form', {class: 'filters', 'aria-label': 'Import a feed'},
    h('label', {for: 'intel-src'}, 'Source'), src,
    h('label', {for: 'intel-fmt'}, 'Format'), fmt,
    h('label', {for: 'intel-file'}, 'File'), file,
    h('button', {type: 'submit', class: 'primary', disabled: !allowed, title: why}, 'Import'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!file.files.length) {
      mount(msg, 'Choose a file first.');
      msg.dataset.state = 'error';
      return;
    }
    msg.className = 'muted';
    mount(msg, 'Importing…');
    try {
      const text = await file.files[0].text();
      const r = await api.raw('POST', '/api/v1/intel/import', {source: src.value, format: fmt.value}, text);
      const rejected = Object.entries(r.rejected || {}).map(([k, v]) => `${v.count} ${k}`).join(', ');
      lastImport = `${r.source}: ${r.indicators} indicators (${r.duplicates} duplicates, ${r.warninglisted} warninglisted)` +
        `${rejected ? `; rejected: ${rejected}` : ''}; ${r.objects} objects, ${r.relationships} relationships in ${r.seconds}s.`;
      reload();
    } catch (err) {
      msg.className = 'error';
      mount(msg, err.message);
      msg.dataset.state = 'error';
    }
  });
  if (lastImport) {
    mount(msg, lastImport);
    msg.dataset.state = 'done';
    lastImport = null;
  }
  return h('section', {class: 'panel', 'aria-labelledby': 'intel-imp'}, h('h2', {id: 'intel-imp'}, 'Import a feed'), form, msg);
}

export async function render(root, route, current) {
  const q = route.params.get('q') || '';
  const type = route.params.get('type') || '';
  const source = route.params.get('source') || '';
  const [stats, found] = await Promise.all([
    api.get('/api/v1/intel/stats'),
    api.get('/api/v1/intel/indicators', {q, type, source, limit: 200}),
  ]);
  if (!current()) return;
  const reload = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
  const canRemove = api.may('analyst') && api.currentUser()?.tenant === 'default';
  const sources = table([
    {label: 'Source', cell: (s) => h('a', {href: `#/intel?${new URLSearchParams({source: s.name})}`}, s.name)},
    {label: 'Format', cell: (s) => s.format},
    {label: 'Indicators', class: 'num', cell: (s) => String(s.indicators)},
    {label: 'Warninglisted', class: 'num', cell: (s) => String(s.warninglisted)},
    {label: 'Objects', class: 'num', cell: (s) => String(s.objects)},
    {label: 'Rejected', cell: (s) => Object.entries(s.rejected || {}).filter(([k, v]) => k !== 'first' && v).map(([k, v]) => `${v} ${k}`).join(', ')},
    {label: 'Imported', cell: (s) => fmtTime(s.imported)},
    {label: 'Origin', cell: (s) => s.origin || ''},
    {label: '', cell: (s) => {
      const b = h('button', {type: 'button', disabled: !canRemove, title: canRemove ? `remove source ${s.name}` : 'needs the analyst role in tenant default'}, 'Remove');
      b.addEventListener('click', async () => {
        if (!window.confirm(`Remove the source ${s.name} and its indicators?`)) return;
        try {
          await api.call('DELETE', `/api/v1/intel/sources/${encodeURIComponent(s.name)}`);
          reload();
        } catch (err) {
          window.alert(err.message);
        }
      });
      return b;
    }},
  ], stats.sources || []);
  const box = h('input', {id: 'intel-q', type: 'search', name: 'q', value: q, size: 40, placeholder: 'value, name or tag'});
  const typeSel = h('select', {id: 'intel-type', name: 'type'}, TYPES.map((t) => h('option', {value: t, selected: t === type}, t || 'any type')));
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Search indicators'},
    h('label', {for: 'intel-q'}, 'Indicators'), box, h('label', {for: 'intel-type'}, 'Type'), typeSel,
    h('button', {type: 'submit'}, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams({q: box.value, type: typeSel.value});
    if (source) p.set('source', source);
    location.hash = `#/intel?${p}`;
  });
  const ind = stats.indicators || {};
  mount(root,
    h('h1', null, 'Threat intelligence'),
    h('p', {class: 'muted', id: 'intel-summary'},
      `${ind.total ?? 0} indicators (${Object.entries(ind.by_type || {}).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}), ` +
      `${stats.objects?.total ?? 0} context objects, ${stats.relationships ?? 0} relationships; ` +
      `warninglists: ${stats.warninglists?.lists ?? 0} lists, ${stats.warninglists?.entries ?? 0} entries; generation ${stats.generation ?? 0}.`),
    h('section', {class: 'panel', 'aria-labelledby': 'intel-src-h'}, h('h2', {id: 'intel-src-h'}, 'Sources'), sources),
    lookupPanel(),
    form,
    h('section', {class: 'panel', 'aria-labelledby': 'intel-ind'},
      h('h2', {id: 'intel-ind'}, `Indicators${source ? ` of ${source}` : ''} (${found.count ?? (found.items || []).length})`),
      indicatorTable(found.items || [])),
    importPanel(reload));
  root.dataset.loaded = 'intel';
}
