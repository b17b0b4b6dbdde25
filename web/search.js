// search.js — the query language of docs/search.md against GET /api/v1/search: a histogram of
// the matching events over time (the same query with `| timechart count`, fetched after the
// table so it never delays it), a result table whose rows expand to the whole event, and pivots: a value's "+" adds field:"value"
// to the query, its "−" adds NOT field:"value", and the search runs again. The query lives in
// the URL (#/search?q=...), so a search is a link and the browser's back button undoes a pivot.

import * as api from './api.js';
import {barChart} from './chart.js';
import {fmtTime, h, mount} from './dom.js';

const RANGES = [['', 'all time'], ['-15m', 'last 15 minutes'], ['-1h', 'last hour'], ['-24h', 'last 24 hours'], ['-7d', 'last 7 days'], ['-30d', 'last 30 days']];
const COLUMNS = ['host.name', 'user.name', 'source.ip', 'event.action', 'event.outcome'];
const HIDDEN = new Set(['_id', 'tenant']);

function quote(v) {
  return `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// q with `[NOT ]field:"value"` added (before a pipe, if the query has one).
export function addTerm(q, field, value, exclude) {
  const term = `${exclude ? 'NOT ' : ''}${field}:${quote(value)}`;
  const s = (q || '').trim();
  const pipe = s.indexOf('|');
  if (!s) return term;
  if (pipe < 0) return `${s} ${term}`;
  const head = s.slice(0, pipe).trim();
  return `${head ? `${head} ` : ''}${term} ${s.slice(pipe)}`;
}

function go(q, from) {
  const p = new URLSearchParams({q});
  if (from) p.set('from', from);
  location.hash = `#/search?${p}`;
}

function pivots(field, value, q, from) {
  const label = `${field}=${value}`;
  return h('span', {class: 'pivots'},
    h('button', {type: 'button', class: 'pivot', 'data-pivot': 'include', 'aria-label': `Add ${label} to the query`, title: 'add to the query',
      onclick: (e) => { e.stopPropagation(); go(addTerm(q, field, value, false), from); }}, '+'),
    h('button', {type: 'button', class: 'pivot', 'data-pivot': 'exclude', 'aria-label': `Exclude ${label} from the query`, title: 'exclude from the query',
      onclick: (e) => { e.stopPropagation(); go(addTerm(q, field, value, true), from); }}, '−'));
}

// A clickable value: a click adds it to the query (include).
function valueCell(field, value, q, from) {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return h('button', {type: 'button', class: 'val', 'data-field': field, title: `add ${field}="${value}" to the query`,
    onclick: (e) => { e.stopPropagation(); go(addTerm(q, field, value, false), from); }}, String(value));
}

function eventDetail(ev, q, from) {
  const keys = Object.keys(ev).filter((k) => !HIDDEN.has(k)).sort();
  return h('dl', {class: 'event'}, keys.map((k) => {
    const v = ev[k];
    const vals = Array.isArray(v) ? v : [v];
    return [h('dt', null, k), h('dd', null, vals.map((x) => h('span', {class: 'evval'},
      h('code', null, typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)),
      typeof x !== 'object' && k !== '@timestamp' ? pivots(k, x, q, from) : null)))];
  }));
}

function eventsTable(events, q, from) {
  const body = h('tbody');
  for (const ev of events) {
    // the whole event is built when first shown: 200 rows stay light
    const cell = h('td', {colspan: COLUMNS.length + 3});
    const detail = h('tr', {class: 'detail', hidden: true}, cell);
    const toggle = h('button', {type: 'button', class: 'expand', 'aria-expanded': 'false', 'aria-label': 'show the whole event'}, '▸');
    const flip = () => {
      if (!cell.firstChild) cell.append(eventDetail(ev, q, from));
      detail.hidden = !detail.hidden;
      toggle.setAttribute('aria-expanded', detail.hidden ? 'false' : 'true');
      toggle.textContent = detail.hidden ? '▸' : '▾';
    };
    toggle.addEventListener('click', (e) => { e.stopPropagation(); flip(); });
    const msg = ev.message || ev['event.original'] || '';
    const row = h('tr', {'data-nav': '', tabindex: '-1', 'aria-selected': 'false', onopen: flip},
      h('td', null, toggle),
      h('td', {class: 'nowrap'}, fmtTime(ev['@timestamp'])),
      COLUMNS.map((c) => h('td', null, valueCell(c, ev[c], q, from))),
      h('td', {class: 'msg'}, msg));
    body.append(row, detail);
  }
  return h('table', {class: 'grid results'},
    h('thead', null, h('tr', null, h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'expand')),
      h('th', {scope: 'col'}, 'Time'), COLUMNS.map((c) => h('th', {scope: 'col'}, c)), h('th', {scope: 'col'}, 'Message'))),
    body);
}

function aggTable(res) {
  return h('table', {class: 'grid'},
    h('thead', null, h('tr', null, res.columns.map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', null, res.rows.map((r) => h('tr', null, r.map((v) => h('td', null, v === null ? '' : String(v)))))));
}

export async function render(root, route, current) {
  const q = route.params.get('q') || '';
  const from = route.params.get('from') || '';
  const box = h('input', {id: 'search-q', type: 'search', name: 'q', value: q, size: 60,
    placeholder: 'user.name:root AND event.outcome:success | stats count by source.ip', spellcheck: 'false'});
  const range = h('select', {id: 'search-from', name: 'from'}, RANGES.map(([v, l]) => h('option', {value: v, selected: v === from}, l)));
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Search events'},
    h('label', {for: 'search-q'}, 'Query'), box,
    h('label', {for: 'search-from'}, 'Time'), range,
    h('button', {type: 'submit', class: 'primary'}, 'Search'));
  const out = h('div', {id: 'results', 'data-state': q ? 'running' : 'idle', 'aria-live': 'polite'});
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (box.value === q && range.value === from) render(root, route, current); // same query: run again
    else go(box.value, range.value);
  });
  mount(root, h('h1', null, 'Search'), form, out);
  root.dataset.loaded = 'search';
  if (!q) {
    mount(out, h('p', {class: 'muted'}, 'Type a query (docs/search.md): field:value, free text, AND / OR / NOT, | stats, | top, | timechart.'));
    box.focus();
    return;
  }
  const t0 = performance.now();
  let res;
  try {
    res = await api.get('/api/v1/search', {q, from, limit: 200});
  } catch (e) {
    if (!current()) return;
    out.dataset.state = 'error';
    mount(out, h('p', {class: 'error', role: 'alert'}, e.message));
    return;
  }
  if (!current()) return;
  const ms = performance.now() - t0;
  if (res.columns) {
    mount(out, h('p', {class: 'muted'}, `${res.rows.length} rows`), aggTable(res));
  } else {
    const ev = res.events || [];
    const histo = h('section', {id: 'histogram', class: 'panel', 'aria-label': 'Matching events over time'});
    mount(out,
      h('p', {class: 'muted', id: 'search-summary'},
        `${res.matched} events${res.truncated ? ' (first ones shown)' : ''} · server ${res.took_ms} ms · page ${Math.round(ms)} ms`),
      ev.length ? histo : null,
      ev.length ? eventsTable(ev, q, from) : h('p', null, 'No event matches.'));
    if (ev.length) histogram(histo, q, from, current);
  }
  out.dataset.state = 'done';
  out.dataset.ms = String(Math.round(ms));
  performance.mark('vigie:search-rendered');
}

// The histogram over time of q's matches (docs/search.md `timechart`), drawn into el when it
// arrives; el says data-state="done" (or "error") for tests.
async function histogram(el, q, from, current) {
  let res;
  try {
    res = await api.get('/api/v1/search', {q: `${q} | timechart count`, from, limit: 500});
  } catch (e) {
    if (!current()) return;
    el.dataset.state = 'error';
    mount(el, h('p', {class: 'muted'}, `No histogram: ${e.message}`));
    return;
  }
  if (!current()) return;
  const rows = (res.rows || []).filter((r) => !Number.isNaN(Date.parse(r[0])));
  const step = rows.length > 1 ? Date.parse(rows[1][0]) - Date.parse(rows[0][0]) : 3600000;
  const buckets = rows.map((r) => ({start: Date.parse(r[0]), end: Date.parse(r[0]) + step, count: Number(r[1]) || 0}));
  mount(el, h('h2', null, 'Matching events over time'), barChart(buckets, 'Matching events over time'));
  el.dataset.state = 'done';
}
