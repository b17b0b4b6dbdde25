// search.js — the query language of docs/search.md against GET /api/v1/search: a histogram of
// the matching events over time (the same query with `| timechart count`, fetched after the
// table so it never delays it), a result table whose rows expand to the whole event, and pivots: a value's "+" adds field:"value"
// to the query, its "−" adds NOT field:"value", and the search runs again. The query lives in
// the URL (#/search?q=...), so a search is a link and the browser's back button undoes a pivot.
// Extras: field-name autocompletion in the query box (an ARIA combobox: the fields of the events
// shown plus those of a sample of recent events fetched once per session, the keywords, the
// pipes), saved searches (per user, in this browser's localStorage) and CSV / JSON export of
// the results shown (a Blob downloaded through an <a download>).

import * as api from './api.js';
import {barChart} from './chart.js';
import {fmtTime, h, mount, notice} from './dom.js';

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
    placeholder: 'user.name:root AND event.outcome:success | stats count by source.ip', spellcheck: 'false', autocomplete: 'off'});
  const range = h('select', {id: 'search-from', name: 'from'}, RANGES.map(([v, l]) => h('option', {value: v, selected: v === from}, l)));
  const shown = new Set(); // the fields of the events on the page, for the autocompletion
  const combo = combobox(box, shown);
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Search events'},
    h('label', {for: 'search-q'}, 'Query'), combo,
    h('label', {for: 'search-from'}, 'Time'), range,
    h('button', {type: 'submit', class: 'primary'}, 'Search'));
  const out = h('div', {id: 'results', 'data-state': q ? 'running' : 'idle', 'aria-live': 'polite'});
  const rerun = () => render(root, route, current);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (box.value === q && range.value === from) rerun(); // same query: run again
    else go(box.value, range.value);
  });
  const saved = h('section', {id: 'saved-searches', class: 'saved', 'aria-labelledby': 'saved-h'});
  savedPanel(saved, box, range, q, from, rerun);
  mount(root, h('h1', null, 'Search'), form, saved, out);
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
    mount(out, h('div', {class: 'result-bar'}, h('p', {class: 'muted'}, `${res.rows.length} rows`), exportButtons(res, q)), aggTable(res));
  } else {
    const ev = res.events || [];
    const histo = h('section', {id: 'histogram', class: 'panel', 'aria-label': 'Matching events over time'});
    mount(out,
      h('div', {class: 'result-bar'},
        h('p', {class: 'muted', id: 'search-summary'},
          `${res.matched} events${res.truncated ? ' (first ones shown)' : ''} · server ${res.took_ms} ms · page ${Math.round(ms)} ms`),
        ev.length ? exportButtons(res, q) : null),
      ev.length ? histo : null,
      ev.length ? eventsTable(ev, q, from) : h('p', null, 'No event matches.'));
    if (ev.length) histogram(histo, q, from, current);
  }
  out.dataset.state = 'done';
  out.dataset.ms = String(Math.round(ms));
  performance.mark('vigie:search-rendered');
  // after the table: the fields shown join the completions
  for (const e of res.events || []) for (const k of Object.keys(e)) if (k !== '_id') shown.add(k);
}

// ---------------------------------------------------------------- autocompletion

const KEYWORDS = ['AND', 'OR', 'NOT'];
// what may follow a '|' (docs/search.md "Pipes"), inserted as written
const PIPES = ['stats count', 'stats count by ', 'top ', 'timechart count', 'timechart count by ', 'sort ', 'head '];
// words inside a pipe besides field names
const PIPE_WORDS = ['by', 'count', 'as', 'dc(', 'sum(', 'avg(', 'min(', 'max(', 'span=', 'limit='];

function who() {
  const u = api.currentUser() || {};
  return `${u.tenant || ''}/${u.name || ''}`;
}

// The field names of a sample of recent events (GET /api/v1/search?q=*&limit=200), fetched once
// per session (per tab, user and tenant) and kept in sessionStorage; [] while it loads.
let sample = {who: null, names: null, pending: null};
function sampledFields(onLoad) {
  const me = who();
  if (sample.who !== me) sample = {who: me, names: null, pending: null};
  if (sample.names) return sample.names;
  const key = `vigie.search-fields.${me}`;
  try {
    const cached = JSON.parse(sessionStorage.getItem(key) || 'null');
    if (Array.isArray(cached)) return (sample.names = cached);
  } catch {
    // a damaged cache: fetched again
  }
  if (!sample.pending) {
    const mine = sample;
    mine.pending = api.get('/api/v1/search', {q: '*', limit: 200}).then((res) => {
      const names = new Set();
      for (const e of res.events || []) for (const k of Object.keys(e)) if (k !== '_id') names.add(k);
      mine.names = [...names].sort();
      sessionStorage.setItem(key, JSON.stringify(mine.names));
      if (mine === sample) onLoad();
    }, () => { mine.pending = null; });
  }
  return [];
}

// Where the caret is in the query: the word being typed (from start to the caret) and whether
// it is in a pipe (inPipe) and the first word of it (pipeHead). null inside a quoted value.
export function caretContext(value, caret) {
  let quoted = false;
  let pipe = -1;
  for (let i = 0; i < caret; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '|' && !quoted) pipe = i;
  }
  if (quoted) return null;
  const before = value.slice(0, caret);
  let word = /[^\s()|,]*$/.exec(before)[0];
  let start = caret - word.length;
  if (pipe < 0 && word.startsWith('-')) {
    word = word.slice(1);
    start++;
  }
  if (/[:=<>"[\]{}*?\\]/.test(word)) return null; // a value, a range or a pattern, not a name
  const inPipe = pipe >= 0;
  const pipeHead = inPipe && !value.slice(pipe + 1, start).trim();
  return {word, start, inPipe, pipeHead};
}

// Up to 12 suggestions [{text, kind, insert}] for the query with the caret at `caret`.
export function suggest(value, caret, fields) {
  const ctx = caretContext(value, caret);
  if (!ctx) return [];
  const {word, inPipe, pipeHead} = ctx;
  if (pipeHead) {
    return PIPES.filter((p) => p.startsWith(word.toLowerCase())).map((p) => ({text: p.trim(), kind: 'pipe', insert: p}));
  }
  if (!word) return [];
  const w = word.toLowerCase();
  const rank = (f) => {
    const l = f.toLowerCase();
    if (l.startsWith(w)) return 0;
    if (l.split(/[._]/).some((part) => part.startsWith(w))) return 1;
    return w.length > 2 && l.includes(w) ? 2 : 3;
  };
  const names = [...new Set(fields)].map((f) => [rank(f), f]).filter(([r]) => r < 3)
    .sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1])).map(([, f]) => f);
  const out = [];
  if (inPipe) {
    for (const k of PIPE_WORDS) if (k.startsWith(w)) out.push({text: k, kind: 'keyword', insert: k.endsWith('(') || k.endsWith('=') ? k : `${k} `});
    for (const f of names) out.push({text: f, kind: 'field', insert: f});
  } else {
    // keywords are upper case (docs/search.md): offered first when the word is
    const kw = KEYWORDS.filter((k) => k.startsWith(word)).map((k) => ({text: k, kind: 'keyword', insert: `${k} `}));
    if (/^[A-Z]+$/.test(word)) out.push(...kw);
    for (const f of names) out.push({text: f, kind: 'field', insert: `${f}:`});
    if (!/^[A-Z]+$/.test(word)) out.push(...kw);
  }
  // nothing to offer when the word is already the only completion
  if (out.length === 1 && out[0].text === word) return [];
  return out.slice(0, 12);
}

// The query box as an ARIA combobox (list autocomplete, manual selection): the listbox under it
// offers completions of the word at the caret; Arrow Down / Up move through them, Enter accepts
// the highlighted one (without one Enter runs the search), Tab accepts the highlighted or the
// first one, Escape closes the list. Returns the wrapper to put in the form.
function combobox(box, shown) {
  const list = h('ul', {id: 'search-suggest', role: 'listbox', class: 'suggest', 'aria-label': 'Completions', hidden: true});
  box.setAttribute('role', 'combobox');
  box.setAttribute('aria-autocomplete', 'list');
  box.setAttribute('aria-expanded', 'false');
  box.setAttribute('aria-controls', 'search-suggest');
  let items = [];
  let active = -1;

  const close = () => {
    items = [];
    active = -1;
    list.hidden = true;
    list.replaceChildren();
    box.setAttribute('aria-expanded', 'false');
    box.removeAttribute('aria-activedescendant');
  };
  const highlight = (i) => {
    active = i;
    list.querySelectorAll('[role="option"]').forEach((li, j) => {
      li.setAttribute('aria-selected', j === i ? 'true' : 'false');
      if (j === i) li.scrollIntoView({block: 'nearest'});
    });
    if (i >= 0) box.setAttribute('aria-activedescendant', `search-opt-${i}`);
    else box.removeAttribute('aria-activedescendant');
  };
  const accept = (i) => {
    const s = items[i];
    const caret = box.selectionStart ?? box.value.length;
    const ctx = caretContext(box.value, caret);
    if (!s || !ctx) return close();
    const v = box.value;
    const tail = /^[^\s()|,:]*/.exec(v.slice(caret))[0];
    let ins = s.insert;
    const rest = v.slice(caret + tail.length);
    if (ins.endsWith(':') && rest.startsWith(':')) ins = ins.slice(0, -1);
    if (s.kind === 'pipe' && v[ctx.start - 1] === '|') ins = ` ${ins}`;
    box.value = v.slice(0, ctx.start) + ins + rest;
    const at = ctx.start + ins.length;
    box.setSelectionRange(at, at);
    update();
  };
  const update = () => {
    if (document.activeElement !== box) return close();
    const caret = box.selectionStart ?? box.value.length;
    const fields = [...shown, ...sampledFields(update)];
    items = suggest(box.value, caret, fields);
    active = -1;
    if (!items.length) return close();
    list.replaceChildren(...items.map((s, i) => h('li', {id: `search-opt-${i}`, role: 'option', 'aria-selected': 'false',
      'data-value': s.text, onclick: () => { accept(i); box.focus(); }},
    h('span', {class: 'opt-text'}, s.text), h('span', {class: 'opt-kind'}, s.kind))));
    list.hidden = false;
    box.setAttribute('aria-expanded', 'true');
    box.removeAttribute('aria-activedescendant');
  };
  // the list keeps the focus in the box: a click on an option is not a blur
  list.addEventListener('mousedown', (e) => e.preventDefault());
  box.addEventListener('input', update);
  box.addEventListener('blur', close);
  box.addEventListener('keydown', (e) => {
    const open = !list.hidden && items.length > 0;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!open) return update();
      const n = items.length;
      highlight(e.key === 'ArrowDown' ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1));
    } else if (e.key === 'Enter' && open && active >= 0) {
      e.preventDefault();
      accept(active);
    } else if (e.key === 'Tab' && open && !e.shiftKey) {
      e.preventDefault();
      accept(active >= 0 ? active : 0);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      e.stopPropagation(); // the list closes; the box keeps the focus
      close();
    } else if (e.key === 'Enter') {
      close();
    }
  });
  return h('span', {class: 'combo'}, box, list);
}

// ---------------------------------------------------------------- saved searches

// Saved searches live in this browser's localStorage, one list per tenant and user.
const savedKey = () => `vigie.saved-searches.${who()}`;

export function loadSaved() {
  try {
    const v = JSON.parse(localStorage.getItem(savedKey()) || '[]');
    return Array.isArray(v) ? v.filter((s) => s && typeof s.name === 'string' && typeof s.q === 'string') : [];
  } catch {
    return [];
  }
}

function storeSaved(list) {
  localStorage.setItem(savedKey(), JSON.stringify(list));
}

function rangeLabel(from) {
  const r = RANGES.find(([v]) => v === (from || ''));
  return r ? r[1] : from;
}

function savedPanel(el, box, range, q, from, rerun) {
  const list = loadSaved();
  const name = h('input', {id: 'search-save-name', type: 'text', name: 'name', maxlength: 80, placeholder: 'a name', autocomplete: 'off'});
  const saveForm = h('form', {class: 'save-search', 'aria-label': 'Save this search'},
    h('label', {for: 'search-save-name'}, 'Save as'), name,
    h('button', {type: 'submit', id: 'search-save', title: 'Save the query and time range in this browser (per user)'}, 'Save'));
  saveForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = box.value.trim();
    if (!query) {
      notice('Type a query to save first.', 'warn');
      return;
    }
    const n = name.value.trim() || query.slice(0, 60);
    const all = loadSaved().filter((s) => s.name !== n);
    const replaced = all.length < loadSaved().length;
    all.unshift({name: n, q: query, from: range.value, saved: new Date().toISOString()});
    storeSaved(all.slice(0, 100));
    notice(`${replaced ? 'Replaced' : 'Saved'} search "${n}".`);
    savedPanel(el, box, range, q, from, rerun);
  });
  const run = (s) => (e) => {
    e.preventDefault();
    if (s.q === q && (s.from || '') === from) rerun();
    else go(s.q, s.from || '');
  };
  const del = (s) => () => {
    storeSaved(loadSaved().filter((x) => x.name !== s.name));
    notice(`Deleted saved search "${s.name}".`);
    savedPanel(el, box, range, q, from, rerun);
  };
  mount(el,
    h('h2', {id: 'saved-h'}, `Saved searches (${list.length})`),
    list.length ? h('ul', {class: 'saved-list'}, list.map((s) => {
      const p = new URLSearchParams({q: s.q});
      if (s.from) p.set('from', s.from);
      return h('li', {'data-name': s.name},
        h('a', {href: `#/search?${p}`, class: 'saved-run', title: `${s.q} (${rangeLabel(s.from)})`, onclick: run(s)}, s.name),
        h('button', {type: 'button', class: 'saved-del', 'aria-label': `Delete saved search ${s.name}`, title: 'delete', onclick: del(s)}, '×'));
    })) : h('span', {class: 'muted'}, 'none yet (kept in this browser)'),
    saveForm);
}

// ---------------------------------------------------------------- export

// One CSV field (RFC 4180): quoted when it holds a quote, a comma or a line break, quotes
// doubled. A text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) and is
// not a number gets a leading ' (OWASP's advice for CSV injection): event data is untrusted.
export function csvField(v, header) {
  let s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (!header && /^[=+\-@\t\r]/.test(s) && !/^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// rows (arrays) → CSV text, CRLF line ends; with header, the first row is the column names
// (ours: @timestamp is not a formula).
export function toCsv(rows, header) {
  return rows.map((r, i) => r.map((v) => csvField(v, header && i === 0)).join(',')).join('\r\n') + '\r\n';
}

function stamp() {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], {type}));
  const a = h('a', {href: url, download: name, hidden: true});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

// Export CSV / Export JSON of what the page shows: the events fetched (at most 200, the newest)
// or an aggregation's table.
function exportButtons(res, q) {
  const agg = !!res.columns;
  const what = agg ? `the ${res.rows.length} rows of the table` : `the ${res.events.length} events shown (at most 200, the newest matches; not every match)`;
  const csv = () => {
    const rows = agg ? [res.columns, ...res.rows]
      : [['@timestamp', ...COLUMNS, 'message'],
        ...res.events.map((e) => [e['@timestamp'], ...COLUMNS.map((c) => e[c]), e.message || e['event.original'] || ''])];
    download(`vigie-search-${stamp()}.csv`, 'text/csv;charset=utf-8', toCsv(rows, true));
    notice(`Exported ${rows.length - 1} rows as CSV.`);
  };
  const json = () => {
    const body = agg ? res.rows.map((r) => Object.fromEntries(res.columns.map((c, i) => [c, r[i]]))) : res.events;
    download(`vigie-search-${stamp()}.json`, 'application/json', `${JSON.stringify(body, null, 1)}\n`);
    notice(`Exported ${body.length} ${agg ? 'rows' : 'events'} as JSON.`);
  };
  return h('div', {class: 'actions export', role: 'group', 'aria-label': `Export the results of ${q}`},
    h('button', {type: 'button', id: 'export-csv', onclick: csv,
      title: `Download ${what} as CSV${agg ? '' : ': time, the table\'s columns and the message'}`}, 'Export CSV'),
    h('button', {type: 'button', id: 'export-json', onclick: json,
      title: `Download ${what} as JSON${agg ? '' : ', every field of each event'}`}, 'Export JSON'));
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
