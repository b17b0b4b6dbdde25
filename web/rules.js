// rules.js — the Rules page: the rules in force (GET /api/v1/rules) with their level, ATT&CK
// techniques, hits and false-positive ratio (the triage counters), sortable and filtered;
// enable / disable (POST /api/v1/rules/{id}/enable|disable, admins of tenant "default");
// test a pasted Sigma rule against recent events (POST /api/v1/rules/test) and save it as a
// custom rule (PUT /api/v1/rules/custom/{name}); exceptions (GET /api/v1/exceptions) created
// after a backtest (POST /api/v1/exceptions/backtest) shows what they would have suppressed.

import * as api from './api.js';
import {fmtTime, h, mount, notice, sevBadge, table} from './dom.js';

const LEVEL_ORDER = {critical: 5, high: 4, medium: 3, low: 2, informational: 1};
const SORTS = [['hits', 'Hits'], ['fp', 'False-positive ratio'], ['level', 'Level'], ['title', 'Title']];

// The page's view state survives re-renders (a toggle re-reads the list, keeps the filter).
const view = {sort: 'hits', desc: true, q: '', yaml: '', test: null, backtest: null};

// "attack.t1110.001" → "T1110.001"; tactic tags ("attack.credential_access") are left out.
export function techniques(tags) {
  return (tags || []).filter((t) => /^attack\.t\d{4}(\.\d{3})?$/i.test(t)).map((t) => t.slice(7).toUpperCase());
}

const hits = (r) => (r.triage ? r.triage.alerts : 0);
const fpRatio = (r) => (r.triage ? r.triage.fp_ratio : 0);

function sorted(list) {
  const key = {
    hits: hits,
    fp: fpRatio,
    level: (r) => LEVEL_ORDER[r.level] || 0,
    title: (r) => (r.title || r.id || '').toLowerCase(),
  }[view.sort];
  const dir = view.desc ? -1 : 1;
  return [...list].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (x < y) return -dir;
    if (x > y) return dir;
    return (a.title || '').localeCompare(b.title || '');
  });
}

function matches(r, q) {
  if (!q) return true;
  const ls = r.logsource || {};
  const hay = [r.id, r.title, r.level, r.status, r.path, ls.product, ls.category, ls.service,
    ...(r.tags || []), ...techniques(r.tags)].join(' ').toLowerCase();
  return q.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
}

function logsource(r) {
  const ls = r.logsource || {};
  return [ls.product, ls.category, ls.service].filter(Boolean).join(' / ') || (r.kind === 'correlation' ? 'correlation' : '—');
}

// Rules are shared by every tenant: only admins of "default" may change them (the server checks).
function mayChangeRules() {
  const u = api.currentUser();
  return api.may('admin') && !!u && u.tenant === 'default';
}

// ---------------------------------------------------------------- the rules table

function rulesTable(list, onToggle) {
  const admin = mayChangeRules();
  const sortButton = (key, label) => h('button', {
    type: 'button', class: 'sort', 'data-sort': key,
    'aria-pressed': view.sort === key ? 'true' : 'false',
    title: `sort by ${label.toLowerCase()}`,
    onclick: () => {
      if (view.sort === key) view.desc = !view.desc;
      else {
        view.sort = key;
        view.desc = key !== 'title';
      }
      onToggle(null);
    },
  }, label, view.sort === key ? (view.desc ? ' ▼' : ' ▲') : '');
  const columns = [
    {label: sortButton('title', 'Rule'), cell: (r) => h('span', null, r.title || r.id,
      h('br'), h('code', {class: 'muted rule-id'}, r.id))},
    {label: sortButton('level', 'Level'), cell: (r) => sevBadge(r.level || 'unknown')},
    {label: 'ATT&CK', cell: (r) => techniques(r.tags).join(', ') || '—'},
    {label: 'Source', cell: logsource},
    {label: sortButton('hits', 'Hits'), class: 'num', cell: (r) => String(hits(r))},
    {label: sortButton('fp', 'FP ratio'), class: 'num', cell: (r) => (r.triage && (r.triage.true_positive + r.triage.benign + r.triage.false_positive) > 0
      ? `${Math.round(fpRatio(r) * 100)} %` : '—')},
    {label: 'State', cell: (r) => h('span', {class: r.enabled === false ? 'status st-closed' : 'status st-open'},
      r.enabled === false ? 'disabled' : 'enabled')},
    {label: h('span', {class: 'sr-only'}, 'Actions'), cell: (r) => h('button', {
      type: 'button', class: r.enabled === false ? 'rule-toggle' : 'rule-toggle danger',
      'data-rule': r.id, disabled: admin && r.id ? null : true,
      title: admin ? null : 'needs the admin role in tenant "default"',
      onclick: () => onToggle(r),
    }, r.enabled === false ? 'Enable' : 'Disable')},
  ];
  return table(columns, list, (r) => ({
    'data-nav': '', 'data-id': r.id, tabindex: '-1', 'aria-selected': 'false',
    class: r.enabled === false ? 'rule-disabled' : null,
  }));
}

// ---------------------------------------------------------------- testing a rule

function matchRow(ev) {
  const msg = ev.message || ev['event.original'] || '';
  return {
    time: fmtTime(ev['@timestamp']),
    host: ev['host.name'] || ev.host || '',
    text: String(msg).slice(0, 300),
  };
}

function testPanel(rerender) {
  const analyst = api.may('analyst');
  const admin = mayChangeRules();
  const yaml = h('textarea', {id: 'rule-yaml', name: 'rule', rows: '12', spellcheck: 'false',
    placeholder: 'title: ...\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n  ...'});
  yaml.value = view.yaml;
  yaml.addEventListener('input', () => { view.yaml = yaml.value; });
  const from = h('input', {id: 'rule-from', name: 'from', placeholder: '-24h', size: '8', title: 'empty: the newest 100,000 events'});
  const out = h('div', {id: 'rule-test-result', 'aria-live': 'polite'});
  const name = h('input', {id: 'rule-name', name: 'name', placeholder: 'my-rule', pattern: '[A-Za-z0-9._\\-]{1,64}', size: '20'});
  const saveDisabled = h('input', {id: 'rule-save-disabled', type: 'checkbox', name: 'disabled'});
  const save = h('button', {type: 'button', id: 'rule-save', disabled: true,
    title: admin ? 'test the rule first' : 'needs the admin role in tenant "default"'}, 'Save as custom rule');
  const showResult = () => {
    const t = view.test;
    if (!t) return mount(out);
    if (t.error) return mount(out, h('p', {class: 'error', role: 'alert'}, t.error));
    mount(out,
      h('p', {id: 'rule-test-summary'}, `${t.matched} of ${t.scanned} events matched`,
        t.truncated ? ' (scan bounded: the newest events only)' : '', ` · ${t.took_ms.toFixed(1)} ms`),
      t.events.length ? table([
        {label: 'Time', class: 'nowrap', cell: (e) => e.time},
        {label: 'Host', cell: (e) => e.host},
        {label: 'Event', cell: (e) => e.text},
      ], t.events.map(matchRow)) : h('p', {class: 'muted'}, 'No stored event matches.'));
    save.disabled = !admin;
    save.title = admin ? null : 'needs the admin role in tenant "default"';
  };
  const test = h('button', {type: 'submit', class: 'primary', id: 'rule-test', disabled: analyst ? null : true,
    title: analyst ? null : 'needs the analyst role'}, 'Test');
  const form = h('form', {class: 'rule-test', 'aria-label': 'Test a rule'},
    h('label', {for: 'rule-yaml'}, 'Sigma rule (YAML)'), yaml,
    h('div', {class: 'actions'},
      h('label', {for: 'rule-from'}, 'Events since'), from, test,
      h('label', {for: 'rule-name'}, 'Name'), name,
      h('label', {for: 'rule-save-disabled'}, saveDisabled, ' save disabled'), save),
    out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    test.disabled = true;
    try {
      const r = await api.post('/api/v1/rules/test', {rule: yaml.value, from: from.value || undefined, limit: 50});
      view.test = r;
    } catch (err) {
      view.test = {error: `${err.status || ''} ${err.message}`.trim()};
    } finally {
      test.disabled = !analyst;
    }
    showResult();
  });
  save.addEventListener('click', async () => {
    const n = name.value.trim();
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(n)) {
      notice('Name: 1-64 of A-Z a-z 0-9 . _ -', 'error');
      name.focus();
      return;
    }
    try {
      await api.call('PUT', `/api/v1/rules/custom/${encodeURIComponent(n)}`,
        {body: {rule: yaml.value, enabled: !saveDisabled.checked}});
      notice(`Saved custom rule ${n}${saveDisabled.checked ? ' (disabled)' : ''}.`);
      await rerender();
    } catch (err) {
      notice(`Save failed: ${err.message}`, 'error');
    }
  });
  showResult();
  return h('section', {class: 'panel', 'aria-labelledby': 'rules-test-h'},
    h('h2', {id: 'rules-test-h'}, 'Test a rule against recent events'),
    h('p', {class: 'hint'}, 'Testing compiles the rule and runs it over the newest stored events; nothing is enabled.'),
    form);
}

// ---------------------------------------------------------------- exceptions

function exceptionText(x) {
  const parts = [];
  if (x.entity) parts.push(`${x.entity.type} = ${x.entity.value}`);
  for (const [k, v] of Object.entries(x.fields || {})) parts.push(`${k} = ${v}`);
  return parts.join(', ') || 'every alert';
}

function exceptionsPanel(list, rules, rerender) {
  const analyst = api.may('analyst');
  const off = analyst ? null : true;
  const why = analyst ? null : 'needs the analyst role';
  const rule = h('input', {id: 'exc-rule', name: 'rule', list: 'exc-rules', placeholder: 'rule id or *', size: '30'});
  const ids = h('datalist', {id: 'exc-rules'}, h('option', {value: '*'}, 'every rule'),
    rules.filter((r) => r.id).map((r) => h('option', {value: r.id}, r.title)));
  const etype = h('select', {id: 'exc-etype', name: 'etype'},
    ['', 'host', 'user', 'ip', 'process'].map((t) => h('option', {value: t}, t || '(none)')));
  const evalue = h('input', {id: 'exc-evalue', name: 'evalue', placeholder: 'glob, e.g. scan-*', size: '16'});
  const expires = h('input', {id: 'exc-expires', name: 'expires', value: '7d', size: '6'});
  const reason = h('input', {id: 'exc-reason', name: 'reason', placeholder: 'why', size: '24'});
  const result = h('p', {id: 'exc-backtest', 'aria-live': 'polite'});
  const create = h('button', {type: 'button', id: 'exc-create', class: 'primary', disabled: true, title: 'backtest first'}, 'Create');
  const body = () => {
    const b = {rule: rule.value.trim(), expires: expires.value.trim(), reason: reason.value.trim()};
    if (etype.value) b.entity = {type: etype.value, value: evalue.value.trim()};
    return b;
  };
  const backtest = h('button', {type: 'submit', id: 'exc-test', disabled: off, title: why}, 'Backtest');
  const form = h('form', {class: 'actions', 'aria-label': 'New exception'},
    h('label', {for: 'exc-rule'}, 'Rule'), rule, ids,
    h('label', {for: 'exc-etype'}, 'Entity'), etype,
    h('label', {for: 'exc-evalue'}, 'Value'), evalue,
    h('label', {for: 'exc-expires'}, 'Expires'), expires,
    h('label', {for: 'exc-reason'}, 'Reason'), reason,
    backtest, create);
  let tested = '';
  const stale = () => {
    create.disabled = true;
    create.title = 'backtest first';
  };
  for (const el of [rule, etype, evalue, expires, reason]) el.addEventListener('input', stale);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const b = body();
      const r = await api.post('/api/v1/exceptions/backtest', b);
      const bt = r.backtest;
      result.textContent = `Would have suppressed ${bt.matched} of ${bt.scanned} alerts of the last ${bt.days} days` +
        (bt.samples && bt.samples.length ? ` (e.g. alerts ${bt.samples.join(', ')})` : '') + '.';
      result.className = '';
      tested = JSON.stringify(b);
      create.disabled = !analyst;
      create.title = null;
    } catch (err) {
      result.textContent = err.message;
      result.className = 'error';
      stale();
    }
  });
  create.addEventListener('click', async () => {
    const b = body();
    if (JSON.stringify(b) !== tested) return stale();
    try {
      const r = await api.post('/api/v1/exceptions', b);
      notice(`Exception ${r.id} created.`);
      await rerender();
    } catch (err) {
      notice(`Create failed: ${err.message}`, 'error');
    }
  });
  const del = async (x) => {
    try {
      await api.call('DELETE', `/api/v1/exceptions/${encodeURIComponent(x.id)}`);
      notice(`Exception ${x.id} deleted.`);
      await rerender();
    } catch (err) {
      notice(`Delete failed: ${err.message}`, 'error');
    }
  };
  return h('section', {class: 'panel', 'aria-labelledby': 'rules-exc-h'},
    h('h2', {id: 'rules-exc-h'}, `Exceptions (${list.length})`),
    list.length ? table([
      {label: '#', class: 'num', cell: (x) => String(x.id)},
      {label: 'Rule', cell: (x) => h('code', null, x.rule)},
      {label: 'Matches', cell: exceptionText},
      {label: 'Expires', cell: (x) => (x.expires === 'never' ? 'never' : fmtTime(x.expires))},
      {label: 'Reason', cell: (x) => x.reason},
      {label: 'By', cell: (x) => x.author || ''},
      {label: 'Active', cell: (x) => (x.active ? 'yes' : 'expired')},
      {label: h('span', {class: 'sr-only'}, 'Actions'), cell: (x) => h('button', {type: 'button', class: 'danger', disabled: off, title: why,
        onclick: () => del(x)}, 'Delete')},
    ], list) : h('p', {class: 'muted'}, 'No exception.'),
    h('h3', null, 'New exception'),
    form, result);
}

// ---------------------------------------------------------------- the page

export async function render(root, route, current) {
  const [res, exc] = await Promise.all([
    api.get('/api/v1/rules'),
    api.get('/api/v1/exceptions').catch(() => ({exceptions: []})),
  ]);
  if (!current()) return;
  const all = res.rules || [];
  const rerender = () => render(root, route, current);
  const listBox = h('div', {id: 'rules-list'});
  const count = h('span', {class: 'muted', id: 'rules-count'});
  const draw = () => {
    const shown = sorted(all.filter((r) => matches(r, view.q)));
    count.textContent = `${shown.length} of ${all.length} rules`;
    sortSel.value = view.sort;
    mount(listBox, shown.length ? rulesTable(shown, toggle) : h('p', {class: 'muted'}, 'No rule matches.'));
  };
  const toggle = async (r) => {
    if (!r) return draw();
    const verb = r.enabled === false ? 'enable' : 'disable';
    try {
      await api.post(`/api/v1/rules/${encodeURIComponent(r.id)}/${verb}`);
      notice(`Rule ${r.title || r.id} ${verb}d.`);
      await rerender();
    } catch (err) {
      notice(`${verb} failed: ${err.message}`, 'error');
    }
  };
  const box = h('input', {id: 'rules-q', type: 'search', name: 'q', value: view.q, placeholder: 'title, id, level, T1110, sshd…'});
  box.addEventListener('input', () => {
    view.q = box.value;
    draw();
  });
  const sortSel = h('select', {id: 'rules-sort', name: 'sort'},
    SORTS.map(([v, l]) => h('option', {value: v, selected: v === view.sort}, l)));
  sortSel.addEventListener('change', () => {
    view.sort = sortSel.value;
    view.desc = view.sort !== 'title';
    draw();
  });
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter rules'},
    h('label', {for: 'rules-q'}, 'Filter'), box,
    h('label', {for: 'rules-sort'}, 'Sort by'), sortSel, count);
  form.addEventListener('submit', (e) => e.preventDefault());
  draw();
  mount(root,
    h('h1', null, 'Rules'),
    form,
    listBox,
    testPanel(rerender),
    exceptionsPanel(exc.exceptions || [], all, rerender),
    h('p', {class: 'hint'}, 'j / k to move, / to filter. Rules are shared by every tenant: admins of "default" enable, disable and upload them.'));
  root.dataset.loaded = 'rules';
}
